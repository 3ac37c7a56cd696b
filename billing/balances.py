"""What an invoice owes: the one definition (issue 6; S-05, S-06, M-11, M-15, D-09).

Every reading of "what is still owed / paid / claimed" on invoices goes through this module:
the reminder job and its e-mail (`billing.delivery`), online payment (`billing.online`), the
dues status (`billing.dues_status`), the paid status (`billing.payments.status`, which embeds
`balance_ctes` in its set-based UPDATE), the payment pages and the ledger
(`billing.ledger.selectors`).

For each invoice:
- `billed`: the invoice's total as issued (S-05: never edited). A void invoice bills nothing.
  (The total, not "the lines still `is_billed`": a line credited in full is no longer billed
  *and* its credit note counts under `credited`, so counting billed lines would take the
  credit off twice. A credit of part of a line leaves the line billed.)
- `credited`: what its credit notes take off (positive; credit notes store negative totals).
- `fees` and `interest`: the reminder fees and the late interest charged by its reminders
  (S-06, `Reminder.fee` and `Reminder.interest`). A closed invoice (void, or credited in full)
  claims neither: they fall with the claim.
- `received`: the payments on it, reversals (S-02 types 18/20) counting negative;
  `refunded`: refunds paid back out of it (`Refund` in state paid, M-15/D-09 and
  over-payments); `paid` = received - refunded.
- `claim` = billed - credited + fees + interest; `owed` = claim - paid, never below zero;
  `overpaid` = paid - claim when that is positive (shown separately, for the reconciliation
  and refunds); `principal_owed` = billed - credited - paid, never below zero: what late
  interest runs on (not on fees, S-06).
A credit note (kind credit_note) bills and owes nothing itself: its amount is its invoice's
`credited`.

Queries: `invoice_balances` is one statement whatever the number of invoices (the ids drive
it through `unnest`: primary-key look-ups, grouped aggregates with hash joins for big sets);
`principal_changes` and `person_shares` one each. `with_balances` annotates a queryset (a
page of the ledger) with correlated subqueries of the same SQL.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, QuerySet
from django.db.models.expressions import RawSQL

from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.models_ledger import Refund, RefundState
from billing.models_payments import Payment
from billing.payments import matching

__all__ = [
    "BALANCE_COLUMNS",
    "CLAIM_SQL",
    "PAYMENT_INVOICE_ID",
    "Balance",
    "balance_ctes",
    "correlated",
    "invoice_balances",
    "person_shares",
    "principal_changes",
    "with_balances",
]

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=12, decimal_places=2)

_INVOICE = Invoice._meta.db_table
_LINE = InvoiceLine._meta.db_table
_PAYMENT = Payment._meta.db_table
_REMINDER = Reminder._meta.db_table
_REFUND = Refund._meta.db_table

# The states and kinds are the models' constants (plain identifiers, no quotes), written into
# the SQL so that the text can be embedded in statements of any parameter style.
_IS_INVOICE = f"target.kind = '{InvoiceKind.INVOICE}'"
_BILLS = f"{_IS_INVOICE} AND target.status <> '{InvoiceStatus.VOID}'"
_CLAIMS_COSTS = (
    f"{_IS_INVOICE} AND target.status NOT IN ('{InvoiceStatus.VOID}', '{InvoiceStatus.CREDITED}')"
)


def _refunds_of_payments(targets: str, *, dated: bool = False) -> str:
    """`UNION ALL` the paid refunds of payments to the invoices of `targets` (a relation
    aliased `target` with a column `id`): (invoice id, [paid on,] amount). Refunds of (the
    excess of) a payment (`billing.ledger.overpayments`) belong to the payment's invoice."""
    day = " refund.paid_on," if dated else ""
    return f"""
    UNION ALL
    SELECT target.id,{day} refund.amount
    FROM {_REFUND} AS refund
    JOIN {_PAYMENT} AS payment ON payment.id = refund.payment_id
    JOIN {targets} ON target.id = payment.invoice_id
    WHERE refund.state = '{RefundState.PAID}' AND refund.invoice_id IS NULL"""  # noqa: S608


# The relation `balance(id, kind, status, billed, credited, fees, interest, received,
# refunded)` of the invoices `source` names: an SQL fragment giving their ids as
# `wanted(id)`, e.g. "unnest(%(ids)s::bigint[]) AS wanted(id)".
# `balance` joins the invoices themselves, not the materialised `balance_target`: the planner
# knows their ids are unique, while on a CTE it guesses 200 distinct values and for 50,000
# invoices expects 12.5 million rows (and spends seconds compiling the query with JIT).
_CTES = """
balance_target AS MATERIALIZED (
    SELECT invoice.id, invoice.kind, invoice.status, invoice.total
    FROM {source}
    JOIN {invoice} AS invoice ON invoice.id = wanted.id
), balance_received AS (
    SELECT payment.invoice_id AS id, SUM(payment.amount) AS amount
    FROM {payment} AS payment JOIN balance_target AS target ON target.id = payment.invoice_id
    GROUP BY payment.invoice_id
), balance_refunded AS (
    SELECT refunds.id, SUM(refunds.amount) AS amount FROM (
        SELECT refund.invoice_id AS id, refund.amount
        FROM {refund} AS refund JOIN balance_target AS target ON target.id = refund.invoice_id
        WHERE refund.state = '{refund_paid}'{refunds_of_payments}
    ) AS refunds
    GROUP BY refunds.id
), balance_reminded AS (
    SELECT reminder.invoice_id AS id, SUM(reminder.fee) AS fees,
        SUM(reminder.interest) AS interest
    FROM {reminder} AS reminder JOIN balance_target AS target ON target.id = reminder.invoice_id
    GROUP BY reminder.invoice_id
), balance_credited AS (
    SELECT note.credited_invoice_id AS id, -SUM(note.total) AS amount
    FROM {invoice} AS note JOIN balance_target AS target ON target.id = note.credited_invoice_id
    WHERE note.kind = '{credit_note}'
    GROUP BY note.credited_invoice_id
), balance AS MATERIALIZED (
    SELECT target.id, target.kind, target.status,
        CASE WHEN {bills} THEN target.total ELSE 0 END AS billed,
        CASE WHEN {bills} THEN COALESCE(credited.amount, 0) ELSE 0 END AS credited,
        CASE WHEN {claims_costs} THEN COALESCE(reminded.fees, 0) ELSE 0 END AS fees,
        CASE WHEN {claims_costs} THEN COALESCE(reminded.interest, 0) ELSE 0 END AS interest,
        COALESCE(received.amount, 0) AS received,
        COALESCE(refunded.amount, 0) AS refunded
    FROM {source}
    JOIN {invoice} AS target ON target.id = wanted.id
    LEFT JOIN balance_received AS received ON received.id = target.id
    LEFT JOIN balance_refunded AS refunded ON refunded.id = target.id
    LEFT JOIN balance_reminded AS reminded ON reminded.id = target.id
    LEFT JOIN balance_credited AS credited ON credited.id = target.id
)"""

BALANCE_COLUMNS = (
    "id",
    "kind",
    "status",
    "billed",
    "credited",
    "fees",
    "interest",
    "received",
    "refunded",
)

# SQL expressions over the relation `balance` (aliased `balance`).
CLAIM_SQL = "(balance.billed - balance.credited + balance.fees + balance.interest)"
PAID_SQL = "(balance.received - balance.refunded)"

IDS_SOURCE = "unnest(%(ids)s::bigint[]) AS wanted(id)"

# The invoice of a Payment queryset's rows, for `correlated`.
PAYMENT_INVOICE_ID = f'"{_PAYMENT}"."invoice_id"'


def balance_ctes(source: str = IDS_SOURCE) -> str:
    """The common table expressions (without the leading WITH) that define the relation
    `balance` for the invoices of `source` (see `_CTES`). For statements that build on it,
    like the paid-status UPDATE; its parameters are those of `source`."""
    return _CTES.format(
        source=source,
        refunds_of_payments=_refunds_of_payments("balance_target AS target"),
        invoice=_INVOICE,
        payment=_PAYMENT,
        refund=_REFUND,
        reminder=_REMINDER,
        refund_paid=RefundState.PAID,
        credit_note=InvoiceKind.CREDIT_NOTE,
        bills=_BILLS,
        claims_costs=_CLAIMS_COSTS,
    )


@dataclass(frozen=True)
class Balance:
    """One invoice's money (see the module docstring)."""

    invoice_id: int
    kind: str
    status: str
    billed: Decimal = ZERO
    credited: Decimal = ZERO
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    received: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return self.received - self.refunded

    @property
    def claim(self) -> Decimal:
        return self.billed - self.credited + self.fees + self.interest

    @property
    def balance(self) -> Decimal:
        """Claim minus paid: negative when overpaid."""
        return self.claim - self.paid

    @property
    def owed(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(-self.balance, ZERO)

    @property
    def principal_owed(self) -> Decimal:
        """S-06: what late interest runs on: billed - credited - paid, not the fees."""
        return max(self.billed - self.credited - self.paid, ZERO)

    def for_matching(self) -> matching.InvoiceBalance:
        """The invoice as `billing.payments.matching` sees it before a new payment."""
        return matching.InvoiceBalance(self.claim, self.paid, self.status)


def invoice_balances(invoice_ids: Iterable[int | None]) -> dict[int, Balance]:
    """The balance of each invoice (or credit note) of `invoice_ids` that exists; one query
    (none for no ids)."""
    ids = sorted({pk for pk in invoice_ids if pk is not None})
    if not ids:
        return {}
    columns = ", ".join(f"balance.{name}" for name in BALANCE_COLUMNS)
    sql = f"WITH {balance_ctes()} SELECT {columns} FROM balance"  # noqa: S608 (constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids})
        rows = cursor.fetchall()
    return {row[0]: Balance(*row) for row in rows}


def correlated(expression: str, invoice_id: str = "") -> RawSQL:
    """A constant SQL `expression` over the relation `balance` (e.g. "balance.fees"), as a
    correlated subquery for each row of an Invoice queryset (its table not aliased: a
    queryset of invoices filtered on their own fields). `invoice_id`: for a queryset of
    another model, the column of its (not aliased) table that holds the invoice's id, e.g.
    `PAYMENT_INVOICE_ID`; NULL there gives NULL."""
    column = invoice_id or f'"{_INVOICE}"."id"'
    source = f"(SELECT {column}) AS wanted(id)"
    sql = f"(WITH {balance_ctes(source)} SELECT {expression} FROM balance)"  # noqa: S608
    return RawSQL(sql, (), output_field=MONEY_FIELD)  # noqa: S611 (no input in the SQL)


def with_balances(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `credited`, `reminder_fees`, `late_interest`, `paid` (received: payments
    net of reversals), `refunded` and `balance` (claim - paid, negative when overpaid): for
    a page of invoices (a correlated subquery per value and row; not for big sets, use
    `invoice_balances`)."""
    return invoices.annotate(
        credited=correlated("balance.credited"),
        reminder_fees=correlated("balance.fees"),
        late_interest=correlated("balance.interest"),
        paid=correlated("balance.received"),
        refunded=correlated("balance.refunded"),
        balance=correlated(f"{CLAIM_SQL} - {PAID_SQL}"),
    )


# ------------------------------------------------------------------ what interest runs on

_CHANGES = f"""
SELECT target.id, payment.paid_date, -payment.amount
FROM unnest(%(ids)s::bigint[]) AS target(id)
JOIN {_PAYMENT} AS payment ON payment.invoice_id = target.id
UNION ALL
SELECT target.id, refund.paid_on, refund.amount
FROM unnest(%(ids)s::bigint[]) AS target(id)
JOIN {_REFUND} AS refund ON refund.invoice_id = target.id
WHERE refund.state = '{RefundState.PAID}'
{_refunds_of_payments("unnest(%(ids)s::bigint[]) AS target(id)", dated=True)}
ORDER BY 1, 2
"""  # noqa: S608 (table names and constants)


def principal_changes(
    invoice_ids: Iterable[int],
) -> dict[int, list[tuple[datetime.date, Decimal]]]:
    """S-06: per invoice, the dated changes of what was paid on it, as changes of the
    principal late interest runs on: payments take it down, reversals and refunds paid out
    put it back up. The principal on a day is `billed - credited` plus the changes dated up
    to that day (a credit note corrects the invoice: what it took off was never owed). One
    query."""
    ids = sorted(set(invoice_ids))
    changes: dict[int, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    if not ids:
        return changes
    with connection.cursor() as cursor:
        cursor.execute(_CHANGES, {"ids": ids})
        for invoice_id, day, amount in cursor.fetchall():
            changes[invoice_id].append((day, amount))
    return changes


# ------------------------------------------------------------------ per person (M-11)

_SHARES = f"""
WITH documents AS (
    SELECT target.id AS target_id, target.id AS document_id
    FROM unnest(%(ids)s::bigint[]) AS target(id)
    UNION ALL
    SELECT target.id, note.id
    FROM unnest(%(ids)s::bigint[]) AS target(id)
    JOIN {_INVOICE} AS note ON note.credited_invoice_id = target.id
    WHERE note.kind = '{InvoiceKind.CREDIT_NOTE}'
)
SELECT documents.target_id, line.person_id, SUM(line.amount)
FROM documents JOIN {_LINE} AS line ON line.invoice_id = documents.document_id
WHERE %(all_persons)s OR line.person_id = ANY(%(persons)s::bigint[])
GROUP BY documents.target_id, line.person_id
"""  # noqa: S608 (table names and constants)


def person_shares(
    invoice_ids: Iterable[int], person_ids: Iterable[int] | None = None
) -> dict[int, dict[int, Decimal]]:
    """M-11: per invoice, per person (of `person_ids`, or all), the sum of the person's
    lines net of what credit notes took off them (a child's share of the family's invoice).
    One query."""
    ids = sorted(set(invoice_ids))
    shares: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if not ids:
        return shares
    persons = None if person_ids is None else sorted(set(person_ids))
    params = {"ids": ids, "all_persons": persons is None, "persons": persons or []}
    with connection.cursor() as cursor:
        cursor.execute(_SHARES, params)
        for invoice_id, person_id, amount in cursor.fetchall():
            shares[invoice_id][person_id] = amount
    return shares
