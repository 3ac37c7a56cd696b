"""The invoice status follows the money (issue 6 scope 6; S-05, S-06, D-04).

`invoices_refresh_paid_status(*, actor, invoice_ids)` recomputes, for each payable invoice
(kind invoice, status issued / partly paid / paid), what was paid against what is claimed,
moves `Invoice.status` between issued, partly paid and paid, and writes one `InvoiceEvent`
per change (who, from, to) in the same transaction (STYLE 5). Void and credited invoices are
never touched (S-05: they are closed; money on them is an overpayment for the reconciliation
list). Every service that records or moves money calls it: the OCR import (the invoices the
file touched), manual registration, assignment from the reconciliation list and the online
payment webhook. A reversal (S-02 types 18/20, a negative payment) moves a paid invoice back.

The claim (decision, S-06 "the reminder fee is part of the claim"):
    claim = invoice total + reminder fees charged on it + its credit notes (negative)
and `matching.claim_status(claim, paid)`: paid when something was paid and it covers the
claim, partly paid when something (but not all) was paid, else issued. So an invoice whose
total is paid but whose reminder fee is not stays *partly paid*: the reminder job keeps
reminding (it selects issued/partly paid invoices with `amounts_owed > 0`, which is the same
claim minus payments), the online checkout already asks total + fees. The fee-independent
readings stay as they are and agree with this: eligibility (D-04) and the annual report
(S-07) count a fee as paid when the payments reach the invoice total *or* the status is
paid - reminder fees do not take eligibility away.

Set-based, for 100,000 invoices in one OCR file: one `SELECT ... FOR UPDATE` (primary-key
order; rows the caller locked already cost nothing) so that the next statement's snapshot sees
every committed payment of these invoices, one `UPDATE ... FROM (aggregates) RETURNING`, and
one multi-row insert of the events (COPY above a few hundred rows). The status history lives
in `InvoiceEvent` (the invoice's simple-history table is not written for these bulk changes,
as for the bulk-issued invoices of a run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from billing.models_invoicing import InvoiceEvent, InvoiceKind, InvoiceStatus
from billing.payments import matching
from members.models import User

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

# The CASE is `matching.claim_status` (tests check they agree). The sums are grouped over
# the target invoices (hash joins for a whole file, index look-ups for one invoice).
_UPDATE = """
WITH target AS MATERIALIZED (
    SELECT invoice.id, invoice.status, invoice.total
    FROM unnest(%(ids)s::bigint[]) AS wanted(id)
    JOIN billing_invoice AS invoice ON invoice.id = wanted.id
    WHERE invoice.kind = %(kind)s AND invoice.status = ANY(%(payable)s)
), paid AS (
    SELECT payment.invoice_id AS id, SUM(payment.amount) AS amount
    FROM billing_payment AS payment JOIN target ON target.id = payment.invoice_id
    GROUP BY payment.invoice_id
), fees AS (
    SELECT reminder.invoice_id AS id, SUM(reminder.fee) AS amount
    FROM billing_reminder AS reminder JOIN target ON target.id = reminder.invoice_id
    GROUP BY reminder.invoice_id
), credited AS (
    SELECT note.credited_invoice_id AS id, SUM(note.total) AS amount
    FROM billing_invoice AS note JOIN target ON target.id = note.credited_invoice_id
    GROUP BY note.credited_invoice_id
), computed AS MATERIALIZED (
    SELECT target.id, target.status AS from_status,
        CASE
            WHEN COALESCE(paid.amount, 0) > 0 AND COALESCE(paid.amount, 0)
                >= target.total + COALESCE(fees.amount, 0) + COALESCE(credited.amount, 0)
                THEN %(paid)s
            WHEN COALESCE(paid.amount, 0) > 0 THEN %(partly_paid)s
            ELSE %(issued)s
        END AS to_status
    FROM target
    LEFT JOIN paid ON paid.id = target.id
    LEFT JOIN fees ON fees.id = target.id
    LEFT JOIN credited ON credited.id = target.id
)
UPDATE billing_invoice AS invoice SET status = computed.to_status
FROM computed
WHERE invoice.id = computed.id AND invoice.status <> computed.to_status
RETURNING invoice.id, computed.from_status, computed.to_status
"""


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
        if not cursor.fetchall():
            return []
        cursor.execute(_UPDATE, params)
        changes = [StatusChange(*row) for row in sorted(cursor.fetchall())]
        _write_events(changes, actor, note)
    return changes


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
