"""Reads for online payment (issue 6 scope 6; M-10, M-11).

`payable_invoices(person)`: the open invoices a member may pay online - those they pay, and
those with lines for them (a family's invoice goes to its contact person, M-11) - with what
each owes (`billing.balances`: billed - credit notes + reminder fees + late interest - paid)
and the member's own share (their lines net of credit notes, less what they paid of them
online before).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from billing import balances
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.models_online import CheckoutLine, CheckoutScope, CheckoutState
from members.models import Person

ZERO = Decimal("0.00")
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)


@dataclass(frozen=True)
class PayableInvoice:
    invoice: Invoice
    owed: Decimal  # what the invoice still owes (the whole family's)
    own_share: Decimal  # what the member pays for themself only (M-11)


def own_invoices(person: Person) -> QuerySet[Invoice]:
    """The invoices `person` pays, or that have lines for them."""
    for_them = InvoiceLine.objects.filter(person=person).values("invoice_id")
    return Invoice.objects.filter(Q(payer=person) | Q(pk__in=for_them))


def _own_shares(person: Person, invoice_ids: Sequence[int]) -> dict[int, Decimal]:
    """M-11: per invoice, the person's own lines net of what credit notes took off them,
    less what they paid for themselves online before. Two queries."""
    shares: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice_id, by_person in balances.person_shares(invoice_ids, [person.pk]).items():
        shares[invoice_id] += by_person.get(person.pk, ZERO)
    paid_before = (
        CheckoutLine.objects.filter(
            invoice_id__in=invoice_ids,
            session__payer=person,
            session__scope=CheckoutScope.SELF,
            session__state=CheckoutState.PAID,
        )
        .values("invoice_id")
        .annotate(amount=Sum("amount"))
    )
    for row in paid_before:
        shares[row["invoice_id"]] -= row["amount"]
    return shares


def payable_invoices(person: Person, *, club_id: int | None = None) -> list[PayableInvoice]:
    """The member's open invoices that still owe something, oldest due first. Four
    queries."""
    invoices = own_invoices(person).filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES)
    if club_id is not None:
        invoices = invoices.filter(club_id=club_id)
    rows = list(invoices.select_related("club").order_by("club_id", "due_date", "pk"))
    ids = [invoice.pk for invoice in rows]
    owed = balances.invoice_balances(ids)
    shares = _own_shares(person, ids)
    result = []
    for invoice in rows:
        balance = owed.get(invoice.pk)
        owes = balance.owed if balance is not None else ZERO
        if owes > ZERO:
            share = min(max(shares[invoice.pk], ZERO), owes)
            result.append(PayableInvoice(invoice, owes, share))
    return result
