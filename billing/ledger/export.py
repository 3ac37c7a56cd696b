"""CSV files for the accountant, the bank and the federation (issue 6, scopes 7 and 8).

The format Norwegian accountants and Excel with Norwegian settings open without a wizard:
UTF-8 with a byte order mark, `;` between fields, decimal comma and no thousands separator
(1234,50), dates as ISO 8601 (2027-03-01), one header row. Text cells are guarded against
formula injection like the members export (`members.search.spreadsheet_safe`: a text starting
with = + - @, a tab or a carriage return gets a leading apostrophe); amounts are written as
numbers and never guarded, so a negative amount stays a number.

Rows are streamed (`StreamingHttpResponse` over `QuerySet.iterator()`), so a federation-sized
export does not sit in memory.

Money out: the refunds file lists every refund (M-15, D-09, and the refunds of over-payments
and of payments without an invoice, with the payment they give back: its date, KID and
invoice); the payments file shows, per payment, what refunds paid out of it
(`refunded_paid`), so an over-payment and its refund meet on one row.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from moneyed import Money
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import kontonr

from billing.ledger import rules, selectors
from billing.models_ledger import Refund, RefundState
from members.search import spreadsheet_safe

BOM = "\ufeff"
DELIMITER = ";"
CHUNK = 2000


def number(value: Decimal | Money | int | None) -> str:
    """1234.5 -> "1234,50" (decimal comma, two decimals, no thousands separator)."""
    if value is None:
        return ""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}".replace(".", ",")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | Money):
        return number(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return str(spreadsheet_safe(str(value)))


def account(value: str) -> str:
    """S-04: 86011117947 -> 8601.11.17947."""
    try:
        return kontonr.format(value) if value else ""
    except NumberError:
        return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def rows_to_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=DELIMITER, lineterminator="\r\n")
    yield BOM + writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def response(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]):
    streamed = StreamingHttpResponse(
        rows_to_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    streamed["Content-Disposition"] = f'attachment; filename="{filename}"'
    return streamed


# ------------------------------------------------------------------ the accountant's files

INVOICE_HEADER = (
    "number", "kind", "credits_number", "status", "season", "issue_date", "due_date", "kid",
    "payer_id", "buyer", "total", "currency", "reason",
)  # fmt: skip
LINE_HEADER = (
    "invoice_number", "kind", "position", "person_id", "person", "fee", "group", "line_kind",
    "period_from", "period_until", "rule", "description", "amount",
)  # fmt: skip
PAYMENT_HEADER = (
    "paid_date", "invoice_number", "source", "kid", "amount", "match", "payer", "payer_account",
    "archive_reference", "refunded_paid",
)  # fmt: skip
REFUND_HEADER = (
    "refund_id", "season", "reason", "rule", "person", "paid_to", "account", "amount", "state",
    "credit_note_number", "paid_on", "payment_paid_date", "payment_kid", "payment_invoice_number",
)  # fmt: skip
KINDS = ("invoices", "lines", "payments", "refunds")


def accountant_rows(kind: str, club, season: int | None) -> tuple[tuple[str, ...], Iterator]:
    if kind == "invoices":
        invoices = selectors.export_invoices(club, season).select_related("credited_invoice")
        return INVOICE_HEADER, (
            (
                i.number, i.kind, i.credited_invoice.number if i.credited_invoice else None,
                i.status, i.season, i.issue_date, i.due_date, i.kid, i.payer_id, i.buyer_name,
                i.total, i.total.currency.code, i.reason,
            )
            for i in invoices.iterator(chunk_size=CHUNK)
        )  # fmt: skip
    if kind == "lines":
        return LINE_HEADER, (
            (
                line.invoice.number, line.invoice.kind, line.position, line.person_id,
                line.person.full_name, line.fee, line.group, line.line_kind, line.period_start,
                line.period_end, line.rule_id, line.description, line.amount,
            )
            for line in selectors.export_lines(club, season).iterator(chunk_size=CHUNK)
        )  # fmt: skip
    if kind == "payments":
        payments = selectors.export_payments(club, season).annotate(refunded_paid=_refunded_paid())
        return PAYMENT_HEADER, (
            (
                p.paid_date, p.invoice.number if p.invoice else None, p.source, p.kid, p.amount,
                p.match_state, p.payer_name, account(p.payer_account), p.archive_reference,
                p.refunded_paid,
            )
            for p in payments.iterator(chunk_size=CHUNK)
        )  # fmt: skip
    refunds = selectors.export_refunds(club, season).select_related("payment__invoice")
    return REFUND_HEADER, (
        (
            r.pk, r.season, r.reason, r.rule_id, r.person.full_name if r.person else None,
            r.paid_to, account(r.account_number), r.amount, r.state,
            r.credit_note.number if r.credit_note else None, r.paid_on,
            *_payment_cells(r),
        )
        for r in refunds.iterator(chunk_size=CHUNK)
    )  # fmt: skip


def _refunded_paid() -> Coalesce:
    """Per payment, the refunds paid out of it (money out)."""
    money = DecimalField(max_digits=12, decimal_places=2)
    paid = (
        Refund.objects.filter(payment=OuterRef("pk"), state=RefundState.PAID)
        .order_by()
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(paid, output_field=money), Value(Decimal(0)), output_field=money)


def _payment_cells(refund: Refund) -> tuple:
    payment = refund.payment
    if payment is None:
        return (None, None, None)
    return (payment.paid_date, payment.kid, payment.invoice.number if payment.invoice else None)


# ------------------------------------------------------------------ the bank's payout file

PAYOUT_HEADER = ("name", "account", "amount", "reference")


def payout_rows(refunds) -> Iterator[tuple]:
    for refund in refunds:
        yield (
            refund.account_owner or refund.payee.full_name,
            account(refund.account_number),
            refund.amount,
            refund.reference,
        )


# ------------------------------------------------------------------ S-07


def report_rows(report: selectors.MembershipReport) -> list[tuple]:
    table = report.table
    rows: list[tuple] = [("section", "age_band", *rules.GENDERS, "total")]
    for band, counts, total in table.rows():
        rows.append(("members", band.label, *counts, total))
    rows.append(("members", "total", *(table.gender_total(g) for g in rules.GENDERS), table.total))
    for sport, count in report.sports:
        rows.append(("active_per_sport", sport, "", "", "", count))
    return rows
