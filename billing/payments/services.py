"""Payments (issue 6, scope 6): every write.

- `payment_file_import`: an OCR Giro file (S-02) in one transaction. The same file twice is
  recognised by its SHA-256 (`payment_file_once`) and records nothing; each transaction is
  inserted with `ON CONFLICT DO NOTHING` on `payment_once` (club, source, transaction key),
  so a transaction that is also in another file is recorded once. Each payment is matched by
  KID to the club's invoice and gets its `MatchState` (`matching.match`), in file order, with
  the matched invoices locked (primary-key order) so two imports cannot both see an invoice
  as unpaid. What an invoice still owes before a payment is `billing.balances`' claim (S-06:
  billed - credited + reminder fees + late interest) less what was paid on it (net of
  reversals and refunds paid out): one query for the whole file, as for one invoice.
- `payment_register_manual`: a payment an administrator registers on an invoice; the form's
  idempotency token is the transaction key, so a double submit records once.
- `payment_assign`: an unmatched payment from the reconciliation list to an invoice.
- `payment_reconcile`: an administrator marks a reconciliation entry as dealt with.

Every change writes `PaymentEvent` rows in the same transaction (STYLE 5).
Invoice status: every service that records or moves money ends with
`billing.payments.status.invoices_refresh_paid_status` (issued / partly paid / paid follow
the payments, with an `InvoiceEvent` per change).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing import balances
from billing.models_invoicing import Invoice, InvoiceKind
from billing.models_ledger import Refund, RefundState
from billing.models_payments import (
    TO_RECONCILE,
    MatchState,
    Payment,
    PaymentEvent,
    PaymentFile,
    PaymentSource,
)
from billing.payments import matching, ocr, status
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, User

CURRENCY = "NOK"
ZERO = Decimal("0.00")

NOT_ALLOWED = _("You may not manage payments in this club.")
FILE_REQUIRED = _("Choose an OCR file.")
AMOUNT_NOT_POSITIVE = _("The amount must be more than zero.")
INVOICE_NOT_PAYABLE = _("Only an invoice (not a credit note) of the club can be paid.")
TOKEN_REQUIRED = _("The form has expired; open it again.")
ALREADY_ASSIGNED = _("This payment is already assigned to an invoice.")
PAYMENT_REFUNDING = _("This payment is being refunded; cancel the refund before assigning it.")
NOTHING_TO_RECONCILE = _("This payment needs no reconciliation.")


def _require_billing(actor: User | None, club: Organisation) -> None:
    if not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _nok(amount: Decimal) -> Money:
    return Money(amount, CURRENCY)


# ------------------------------------------------------------------ OCR import


@dataclass
class _Row:
    key: str
    transaction: ocr.OcrTransaction
    invoice_id: int | None
    state: str = MatchState.UNMATCHED


def _lock_invoices(club: Organisation, kids: list[str]) -> dict[str, int]:
    """The club's invoices with these KIDs, locked in primary-key order: kid -> id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kid FROM billing_invoice"
            " WHERE club_id = %s AND kind = %s AND kid = ANY(%s) ORDER BY id FOR UPDATE",
            [club.pk, InvoiceKind.INVOICE, kids],
        )
        return {kid: pk for pk, kid in cursor.fetchall()}


def _balances_before(invoice_ids: Iterable[int]) -> dict[int, matching.InvoiceBalance]:
    """S-06: each (locked) invoice as the matching sees it before the new payments: its claim
    (billed - credited + reminder fees + late interest) and what was paid on it (payments,
    reversals negative, less refunds paid out), `billing.balances`' one definition. One
    query for the whole file."""
    return {
        pk: balance.for_matching() for pk, balance in balances.invoice_balances(invoice_ids).items()
    }


def _match_in_order(
    rows: list[_Row], before: dict[int, matching.InvoiceBalance]
) -> dict[int, matching.InvoiceBalance]:
    """The match state of each row, in file order: a second payment to an invoice sees the
    first one as paid. Returns the invoices' balances after the rows."""
    after = dict(before)
    for row in rows:
        balance = after.get(row.invoice_id) if row.invoice_id else None
        row.state = matching.match(row.transaction.amount, balance)
        if balance is not None:
            after[row.invoice_id] = balance.after(row.transaction.amount)
    return after


_INSERT_PAYMENTS = """
INSERT INTO billing_payment (
    club_id, invoice_id, file_id, source, transaction_key, amount, amount_currency,
    paid_date, kid, transaction_type, payer_name, payer_account, archive_reference,
    match_state, note, recorded_by_id, created_at
)
SELECT %(club)s, row.invoice_id, %(file)s, %(source)s, row.key, row.amount, %(currency)s,
       row.paid_date, row.kid, row.type, '', row.account, row.reference, row.state, '',
       %(actor)s, %(now)s
FROM unnest(
    %(invoice_ids)s::bigint[], %(keys)s::text[], %(amounts)s::numeric[], %(dates)s::date[],
    %(kids)s::text[], %(types)s::smallint[], %(accounts)s::text[], %(references)s::text[],
    %(states)s::text[]
) AS row(invoice_id, key, amount, paid_date, kid, type, account, reference, state)
ON CONFLICT (club_id, source, transaction_key) DO NOTHING
RETURNING transaction_key
"""


def _insert(payment_file: PaymentFile, rows: list[_Row], actor: User | None) -> set[str]:
    """Insert the rows' payments; the keys actually inserted (not recorded before)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_PAYMENTS,
            {
                "club": payment_file.club_id,
                "file": payment_file.pk,
                "source": PaymentSource.OCR,
                "currency": CURRENCY,
                "actor": actor.pk if actor else None,
                "now": timezone.now(),
                "invoice_ids": [row.invoice_id for row in rows],
                "keys": [row.key for row in rows],
                "amounts": [row.transaction.amount for row in rows],
                "dates": [row.transaction.bank_date or row.transaction.nets_date for row in rows],
                "kids": [row.transaction.kid for row in rows],
                "types": [row.transaction.type for row in rows],
                "accounts": [row.transaction.payer_account for row in rows],
                "references": [row.transaction.archive_reference for row in rows],
                "states": [row.state for row in rows],
            },
        )
        return {key for (key,) in cursor.fetchall()}


def _update_states(payment_file: PaymentFile, rows: list[_Row]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_payment AS payment SET match_state = row.state"
            " FROM unnest(%s::text[], %s::text[]) AS row(key, state)"
            " WHERE payment.file_id = %s AND payment.transaction_key = row.key"
            " AND payment.match_state <> row.state",
            [[row.key for row in rows], [row.state for row in rows], payment_file.pk],
        )


def _record_events(payment_file: PaymentFile, actor: User | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_paymentevent"
            " (payment_id, kind, from_state, to_state, invoice_id, actor_id, note, created_at)"
            " SELECT id, %s, '', match_state, invoice_id, %s, '', %s FROM billing_payment"
            " WHERE file_id = %s",
            [
                PaymentEvent.Kind.RECORDED,
                actor.pk if actor else None,
                timezone.now(),
                payment_file.pk,
            ],
        )


def _settled_with_partials(
    rows: list[_Row],
    before: dict[int, matching.InvoiceBalance],
    after: dict[int, matching.InvoiceBalance],
) -> list[int]:
    """The invoices this file settled exactly that had a partial payment (before or in it)."""
    candidates = {row.invoice_id for row in rows if row.state == MatchState.PARTIAL}
    candidates |= {row.invoice_id for row in rows if row.invoice_id and before[row.invoice_id].paid}
    return sorted(pk for pk in candidates if pk and after[pk].owed == ZERO)


def _close_settled_partials(invoice_ids: list[int], actor: User | None) -> None:
    """Partial payments of an invoice that is now paid exactly need no more reconciliation."""
    if not invoice_ids:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH closed AS ("
            "  UPDATE billing_payment SET reconciled_at = %s"
            "  WHERE invoice_id = ANY(%s) AND match_state = %s AND reconciled_at IS NULL"
            "  RETURNING id, invoice_id"
            ") INSERT INTO billing_paymentevent"
            " (payment_id, kind, from_state, to_state, invoice_id, actor_id, note, created_at)"
            " SELECT id, %s, %s, %s, invoice_id, %s, %s, %s FROM closed",
            [
                now,
                invoice_ids,
                MatchState.PARTIAL,
                PaymentEvent.Kind.RECONCILED,
                MatchState.PARTIAL,
                MatchState.PARTIAL,
                actor.pk if actor else None,
                str(SETTLED_NOTE),
                now,
            ],
        )


SETTLED_NOTE = _("The invoice is paid in full.")


def _existing_file(club: Organisation, digest: str) -> PaymentFile:
    existing = PaymentFile.objects.get(club=club, sha256=digest)
    existing.already_imported = True  # type: ignore[attr-defined]
    return existing


@transaction.atomic
def payment_file_import(
    *, actor: User | None, club: Organisation, content: bytes, file_name: str
) -> PaymentFile:
    """S-02: import an OCR Giro file. A malformed file raises ValidationError naming the
    line and imports nothing; the same file again returns the first import (with
    `already_imported = True`) and records nothing."""
    _require_billing(actor, club)
    if not content:
        raise ValidationError(FILE_REQUIRED)
    digest = ocr.sha256(content)
    if PaymentFile.objects.filter(club=club, sha256=digest).exists():
        return _existing_file(club, digest)
    try:
        parsed = ocr.parse(content)
    except ocr.OcrError as error:
        raise ValidationError(str(error)) from error
    try:
        with transaction.atomic():  # a concurrent import of the same file waits, then fails
            payment_file = PaymentFile.objects.create(
                club=club,
                file_name=file_name[:255],
                sha256=digest,
                transmission_number=parsed.transmission_number,
                transactions_count=len(parsed.transactions),
                total=_nok(parsed.total),
                recorded_total=_nok(ZERO),
                uploaded_by=actor,
            )
    except IntegrityError:
        return _existing_file(club, digest)
    _record_transactions(payment_file, parsed, actor)
    payment_file.already_imported = False  # type: ignore[attr-defined]
    return payment_file


def _record_transactions(
    payment_file: PaymentFile, parsed: ocr.OcrFile, actor: User | None
) -> None:
    invoices = _lock_invoices(
        payment_file.club, sorted({t.kid for t in parsed.transactions if t.kid})
    )
    rows: dict[str, _Row] = {}
    for transaction_ in parsed.transactions:
        key = ocr.transaction_key(transaction_)
        rows.setdefault(key, _Row(key, transaction_, invoices.get(transaction_.kid)))
    before = _balances_before(invoices.values())
    ordered = list(rows.values())
    after = _match_in_order(ordered, before)
    inserted = _insert(payment_file, ordered, actor)
    if len(inserted) != len(ordered):
        # Some transactions were recorded before (another file): match the new ones alone.
        ordered = [row for row in ordered if row.key in inserted]
        after = _match_in_order(ordered, before)
        _update_states(payment_file, ordered)
    _record_events(payment_file, actor)
    _close_settled_partials(_settled_with_partials(ordered, before, after), actor)
    status.invoices_refresh_paid_status(actor=actor, invoice_ids={r.invoice_id for r in ordered})
    payment_file.recorded_count = len(ordered)
    payment_file.duplicate_count = len(parsed.transactions) - len(ordered)
    payment_file.matched_count = sum(1 for row in ordered if row.state == MatchState.MATCHED)
    payment_file.to_reconcile_count = len(ordered) - payment_file.matched_count
    payment_file.recorded_total = _nok(sum((row.transaction.amount for row in ordered), ZERO))
    payment_file.save(
        update_fields=[
            "recorded_count",
            "duplicate_count",
            "matched_count",
            "to_reconcile_count",
            "recorded_total",
            "recorded_total_currency",
        ]
    )


# ------------------------------------------------------------------ by hand


def _lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("club").get(pk=invoice.pk)


def _balance(invoice: Invoice) -> matching.InvoiceBalance:
    """S-06: the (locked) invoice as the matching sees it before a new payment: its claim
    (billed - credited + reminder fees + late interest) and what was paid on it
    (`billing.balances`, the one definition)."""
    return balances.invoice_balances([invoice.pk])[invoice.pk].for_matching()


def _event(
    payment: Payment, kind: str, from_state: str, actor: User | None, note: str = ""
) -> PaymentEvent:
    return PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        from_state=from_state,
        to_state=payment.match_state,
        invoice=payment.invoice,
        actor=actor,
        note=note,
    )


@transaction.atomic
def payment_register_manual(
    *,
    actor: User | None,
    invoice: Invoice,
    amount: Decimal,
    paid_date: datetime.date,
    idempotency_key: str,
    note: str = "",
) -> Payment:
    """A payment registered by hand on `invoice`. The same `idempotency_key` (the form's
    token) again returns the payment it recorded: a double submit records once."""
    _require_billing(actor, invoice.club)
    if not idempotency_key:
        raise ValidationError(TOKEN_REQUIRED)
    if amount is None or amount <= ZERO:
        raise ValidationError({"amount": AMOUNT_NOT_POSITIVE})
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(INVOICE_NOT_PAYABLE)
    invoice = _lock_invoice(invoice)
    key = f"manual:{idempotency_key}"[:200]
    existing = Payment.objects.filter(
        club=invoice.club, source=PaymentSource.MANUAL, transaction_key=key
    ).first()
    if existing is not None:
        return existing
    payment = Payment(
        club=invoice.club,
        invoice=invoice,
        source=PaymentSource.MANUAL,
        transaction_key=key,
        amount=_nok(amount),
        paid_date=paid_date,
        kid=invoice.kid,
        match_state=matching.match(amount, _balance(invoice)),
        note=note,
        recorded_by=actor,
    )
    payment.full_clean(exclude=["invoice", "club", "recorded_by"])
    payment.save()
    _event(payment, PaymentEvent.Kind.RECORDED, "", actor, note)
    status.invoices_refresh_paid_status(actor=actor, invoice_ids=[invoice.pk])
    return payment


@transaction.atomic
def payment_assign(*, actor: User | None, payment: Payment, invoice: Invoice) -> Payment:
    """An unmatched payment (reconciliation list) to an invoice of its club."""
    _require_billing(actor, payment.club)
    if invoice.club_id != payment.club_id or invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError({"invoice": INVOICE_NOT_PAYABLE})
    invoice = _lock_invoice(invoice)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.invoice_id is not None:
        raise ValidationError(ALREADY_ASSIGNED)
    if Refund.objects.filter(payment=payment).exclude(state=RefundState.CANCELLED).exists():
        # the money is on its way back to the payer: it cannot also pay an invoice
        raise ValidationError(PAYMENT_REFUNDING, code="payment_refunding")
    from_state = payment.match_state
    payment.invoice = invoice
    # Not on the invoice yet (nor its refunds: a live refund was refused above), so the
    # invoice's balance is what was paid before it.
    payment.match_state = matching.match(payment.amount.amount, _balance(invoice))
    if payment.match_state == MatchState.MATCHED:
        payment.reconciled_at = timezone.now()
    payment.save(update_fields=["invoice", "match_state", "reconciled_at"])
    _event(payment, PaymentEvent.Kind.ASSIGNED, from_state, actor)
    status.invoices_refresh_paid_status(actor=actor, invoice_ids=[invoice.pk])
    return payment


@transaction.atomic
def payment_reconcile(*, actor: User | None, payment: Payment, note: str = "") -> Payment:
    """The administrator has dealt with a partial, over- or unmatched payment or a reversal
    (e.g. refunded it): it leaves the reconciliation list."""
    _require_billing(actor, payment.club)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.match_state not in TO_RECONCILE or payment.reconciled_at is not None:
        raise ValidationError(NOTHING_TO_RECONCILE)
    payment.reconciled_at = timezone.now()
    payment.save(update_fields=["reconciled_at"])
    _event(payment, PaymentEvent.Kind.RECONCILED, payment.match_state, actor, note)
    return payment
