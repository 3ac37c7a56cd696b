"""Billing's answer to `members.dues_status` (registered in `billing.apps`): who owes dues,
from the invoices and what is still owed on them (issue 5 scope 1).

A person owes a club on an invoice of that club (not a credit note, neither void nor
credited nor marked paid) that is past its due date and on which something is still owed
(`billing.balances`: billed - credit notes + reminder fees + late interest - paid; the status
is not trusted alone, so an invoice whose payments cover it counts as paid even before its
status follows):
- as its payer: what the invoice still owes;
- as a person one of its lines is for (a child on the family's invoice, M-11): their own
  lines' sum net of credit notes, at most what the invoice still owes.
Per club, the amounts are added up and the oldest due date kept.

Queries: three (invoices, their balances, the persons' shares), whatever the number of
persons.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, QuerySet

from billing import balances
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from members.dues_status import OwedDues
from members.models import Organisation

ZERO = Decimal("0.00")
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)


def _owed_by_person(
    invoices: QuerySet[Invoice], person_ids: set[int] | None
) -> dict[int, list[OwedDues]]:
    """Per person (all persons of the invoices when `person_ids` is None), per club."""
    rows = list(invoices.values_list("pk", "club_id", "club__name", "payer_id", "due_date"))
    owed = {pk: b.owed for pk, b in balances.invoice_balances(row[0] for row in rows).items()}
    open_rows = [row for row in rows if owed.get(row[0], ZERO) > ZERO]
    shares = balances.person_shares([row[0] for row in open_rows], person_ids)
    per_club: dict[tuple[int, int], list] = {}  # (person, club) -> [name, amount, oldest]
    for invoice_id, club_id, club_name, payer_id, due_date in open_rows:
        still_owed = owed[invoice_id]
        debts = {
            person_id: min(max(share, ZERO), still_owed)
            for person_id, share in shares[invoice_id].items()
        }
        if person_ids is None or payer_id in person_ids:
            debts[payer_id] = still_owed
        for person_id, amount in debts.items():
            if amount <= ZERO:
                continue
            entry = per_club.setdefault((person_id, club_id), [club_name, ZERO, due_date])
            entry[1] += amount
            entry[2] = min(entry[2], due_date)
    result: dict[int, list[OwedDues]] = defaultdict(list)
    for (person_id, club_id), (club_name, amount, oldest) in per_club.items():
        result[person_id].append(OwedDues(club_id, club_name, amount, oldest))
    for debts_of_person in result.values():
        debts_of_person.sort(key=lambda debt: (debt.oldest_due_date, debt.club_id))
    return dict(result)


def _overdue(on: datetime.date) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=on
    )


class InvoiceDuesProvider:
    """`members.dues_status.DuesProvider` from the invoices (see the module)."""

    def outstanding_dues(
        self, person_ids: Iterable[int], *, exclude_club: Organisation | None, on: datetime.date
    ) -> dict[int, list[OwedDues]]:
        ids = set(person_ids)
        if not ids:
            return {}
        with_lines = InvoiceLine.objects.filter(person_id__in=ids).values("invoice_id")
        invoices = _overdue(on).filter(Q(payer_id__in=ids) | Q(pk__in=with_lines))
        if exclude_club is not None:
            invoices = invoices.exclude(club=exclude_club)
        return _owed_by_person(invoices, ids)

    def owing_since(
        self, club: Organisation, *, due_before: datetime.date, on: datetime.date
    ) -> dict[int, OwedDues]:
        invoices = _overdue(on).filter(club=club, due_date__lt=due_before)
        return {person_id: debts[0] for person_id, debts in _owed_by_person(invoices, None).items()}


provider = InvoiceDuesProvider()
