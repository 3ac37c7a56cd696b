"""The invoice status follows the money (issue 6 scope 6; S-05, S-06, D-04).

`invoices_refresh_paid_status(*, actor, invoice_ids)` recomputes, for each payable invoice
(kind invoice, status issued / partly paid / paid), what was paid against what is claimed,
moves `Invoice.status` between issued, partly paid and paid, and writes one `InvoiceEvent`
per change (who, from, to) in the same transaction (STYLE 5). Void and credited invoices are
never touched (S-05: they are closed; money on them is an overpayment for the reconciliation
list). Every service that records or moves money calls it: the OCR import (the invoices the
file touched), manual registration, assignment from the reconciliation list and the online
payment webhook. A reversal (S-02 types 18/20, a negative payment) moves a paid invoice back.

The claim and what was paid are `billing.balances`' (the one definition, S-05/S-06):
    claim = billed - credited (credit notes) + reminder fees + late interest
    paid  = payments (reversals negative) - refunds paid out
and `matching.claim_status(claim, paid)`: paid when something was paid and it covers the
claim, partly paid when something (but not all) was paid, else issued. So an invoice whose
total is paid but whose reminder fee (or interest) is not stays *partly paid*: the reminder
job keeps reminding (it selects issued/partly paid invoices that still owe, by the same
balances), the online checkout asks the same claim. The fee-independent readings stay as
they are and agree with this: eligibility (D-04) and the annual report (S-07) count a fee as
paid when the payments reach the invoice total *or* the status is paid - reminder fees do not
take eligibility away.

M-10 "activation when the payment is registered": the persons with a membership-fee charge
on an invoice that becomes paid here (an OCR, manual or assigned payment, a credit note)
have their memberships pending verification in the invoice's club activated
(`members.services.memberships.memberships_activate`, reason `ACTIVATED_BY_PAYMENT`, by the
same actor, right after the events). A partly paid invoice activates nobody (M-11: the
"pay for my membership only" of the online checkout activates the payer alone, there). The
online payment activates its persons before it refreshes the status, so they are active
here and nobody is activated twice (the service only activates pending memberships).

Set-based, for 100,000 invoices in one OCR file: one `SELECT ... FOR UPDATE` (primary-key
order; rows the caller locked already cost nothing) so that the next statement's snapshot sees
every committed payment of these invoices, one `UPDATE ... FROM (the balances) RETURNING`, and
one multi-row insert of the events (COPY above a few hundred rows), one query for the
persons to activate (grouped by club: only those with a membership waiting, usually none)
and one activation per club that has some. The status history lives
in `InvoiceEvent` (the invoice's simple-history table is not written for these bulk changes,
as for the bulk-issued invoices of a run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from billing import balances
from billing.models_invoicing import InvoiceEvent, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.payments import matching
from billing.pricing import FeeKind, LineKind
from members.models import Membership, MembershipStatus, User
from members.services import memberships as membership_services

__all__ = ["PAYMENT_EVENT_KIND", "StatusChange", "invoices_refresh_paid_status"]

# The InvoiceEvent kind of a status change made by money. Not yet among
# `InvoiceEvent.Kind`'s choices: adding it needs a (state-only) migration, which the lead
# owns; until then the invoice page shows the raw value.
PAYMENT_EVENT_KIND = "payment"

PAYABLE = [InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID]
COPY_ABOVE = 500  # events: one INSERT below, COPY above


@dataclass(frozen=True)
class StatusChange:
    invoice_id: int
    from_status: str
    to_status: str


# The ids drive the statements through `unnest` (primary-key look-ups): a filter
# `id = ANY(<100,000 ids>)` is evaluated linearly per row, quadratic in all.
_LOCK = """
SELECT invoice.id FROM unnest(%(ids)s::bigint[]) AS wanted(id)
JOIN billing_invoice AS invoice ON invoice.id = wanted.id
WHERE invoice.kind = %(kind)s AND invoice.status = ANY(%(payable)s)
ORDER BY invoice.id FOR UPDATE OF invoice
"""

# The CASE is `matching.claim_status` (tests check they agree), over `billing.balances`'
# relation `balance` of the locked invoices (hash joins for a whole file, index look-ups for
# one invoice).
_UPDATE = f"""
WITH {balances.balance_ctes()}, computed AS MATERIALIZED (
    SELECT balance.id, balance.status AS from_status,
        CASE
            WHEN {balances.PAID_SQL} > 0 AND {balances.PAID_SQL} >= {balances.CLAIM_SQL}
                THEN %(paid)s
            WHEN {balances.PAID_SQL} > 0 THEN %(partly_paid)s
            ELSE %(issued)s
        END AS to_status
    FROM balance
    WHERE balance.kind = %(kind)s AND balance.status = ANY(%(payable)s)
)
UPDATE billing_invoice AS invoice SET status = computed.to_status
FROM computed
WHERE invoice.id = computed.id AND invoice.status <> computed.to_status
RETURNING invoice.id, computed.from_status, computed.to_status
"""  # noqa: S608 (the balances' SQL: table names and constants)


def invoices_refresh_paid_status(
    *, actor: User | None, invoice_ids: Iterable[int | None], note: str = ""
) -> list[StatusChange]:
    """Make the status of these invoices follow their payments (see the module); returns
    the changes made, in invoice order. Ids of void, credited or missing invoices and None
    (an unmatched payment) are ignored."""
    ids = sorted({pk for pk in invoice_ids if pk is not None})
    if not ids:
        return []
    params = {
        "ids": ids,
        "kind": InvoiceKind.INVOICE,
        "payable": [str(status) for status in PAYABLE],
        "paid": matching.PAID,
        "partly_paid": matching.PARTLY_PAID,
        "issued": matching.ISSUED,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK, params)
        locked = [row[0] for row in cursor.fetchall()]
        if not locked:
            return []
        cursor.execute(_UPDATE, {**params, "ids": locked})
        changes = [StatusChange(*row) for row in sorted(cursor.fetchall())]
        _write_events(changes, actor, note)
        _activate_paid_memberships(changes, actor)
    return changes


# M-10: per club, the persons with a billed membership-fee charge on the invoices that became
# paid and a membership there waiting for activation (index `membership_person_club_idx`).
_PERSONS_TO_ACTIVATE = f"""
SELECT line.club_id, array_agg(DISTINCT line.person_id ORDER BY line.person_id)
FROM unnest(%(ids)s::bigint[]) AS paid(id)
JOIN {InvoiceLine._meta.db_table} AS line ON line.invoice_id = paid.id
WHERE line.fee = %(membership)s AND line.line_kind = %(charge)s AND line.is_billed
    AND EXISTS (
        SELECT 1 FROM {Membership._meta.db_table} AS membership
        WHERE membership.person_id = line.person_id AND membership.club_id = line.club_id
            AND membership.status = %(pending)s
    )
GROUP BY line.club_id
ORDER BY line.club_id
"""  # noqa: S608 (table names)


def _activate_paid_memberships(changes: list[StatusChange], actor: User | None) -> None:
    """M-10: activation when the payment is registered (see the module)."""
    paid = [change.invoice_id for change in changes if change.to_status == matching.PAID]
    if not paid:
        return
    params = {
        "ids": paid,
        "membership": FeeKind.MEMBERSHIP.value,
        "charge": LineKind.CHARGE.value,
        "pending": MembershipStatus.PENDING_VERIFICATION.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PERSONS_TO_ACTIVATE, params)
        persons_by_club = cursor.fetchall()
    for club_id, person_ids in persons_by_club:
        membership_services.memberships_activate(
            actor=actor,
            club_id=club_id,
            person_ids=person_ids,
            reason=membership_services.ACTIVATED_BY_PAYMENT,
        )


def _write_events(changes: list[StatusChange], actor: User | None, note: str) -> None:
    if not changes:
        return
    now = timezone.now()
    actor_id = actor.pk if actor else None
    if len(changes) <= COPY_ABOVE:
        InvoiceEvent.objects.bulk_create(
            InvoiceEvent(
                invoice_id=change.invoice_id,
                kind=PAYMENT_EVENT_KIND,
                from_status=change.from_status,
                to_status=change.to_status,
                actor_id=actor_id,
                note=note,
                created_at=now,
            )
            for change in changes
        )
        return
    sql = (
        "COPY billing_invoiceevent"
        " (invoice_id, kind, from_status, to_status, actor_id, note, created_at) FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for change in changes:
            copy.write_row(
                (
                    change.invoice_id,
                    PAYMENT_EVENT_KIND,
                    change.from_status,
                    change.to_status,
                    actor_id,
                    note,
                    now,
                )
            )
