"""Payments (issue 6, scope 6; S-02): bank OCR files, manual registrations, reconciliation.

Imported at the end of `billing/models.py` so that Django finds them.

- `PaymentFile`: an imported OCR Giro file. Its content's SHA-256 is unique per club, so the
  same file imported twice is recognised and records nothing.
- `Payment`: money received for (or taken back from) an invoice of the club. "One payment per
  bank transaction" is the unique constraint `payment_once` on (club, source,
  transaction_key): an OCR transaction's key is derived from the transaction's own fields
  (`billing.payments.ocr.transaction_key`), so a transaction that appears in two files is
  recorded once; a manual payment's key is the form's idempotency token, so a double submit
  records once. Reversals (S-02 types 18 and 20) are negative amounts.
- `match_state` says how the payment met its invoice (`billing.payments.matching`); the
  payments not matched exactly and not yet `reconciled_at` form the reconciliation list.
- `PaymentEvent`: STYLE 5, who recorded, assigned or reconciled a payment, from which state
  to which. (Payments have no simple-history table: an OCR import writes its rows in bulk,
  and a payment's only changes are these events.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models_invoicing import INVOICE_MONEY, Invoice
from members.models import Organisation

__all__ = [
    "MatchState",
    "Payment",
    "PaymentEvent",
    "PaymentFile",
    "PaymentSource",
]


class PaymentFile(models.Model):
    """S-02: one imported OCR Giro file (a transmission) with what the import found."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the content"), max_length=64)
    transmission_number = models.CharField(_("transmission number"), max_length=7, blank=True)
    transactions_count = models.PositiveIntegerField(_("transactions"), default=0)
    recorded_count = models.PositiveIntegerField(_("payments recorded"), default=0)
    duplicate_count = models.PositiveIntegerField(_("already recorded"), default=0)
    matched_count = models.PositiveIntegerField(_("matched"), default=0)
    to_reconcile_count = models.PositiveIntegerField(_("to reconcile"), default=0)
    total = MoneyField(_("total of the file"), **INVOICE_MONEY)
    recorded_total = MoneyField(_("total recorded"), **INVOICE_MONEY)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment file")
        verbose_name_plural = _("payment files")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            # S-02: the same file imported twice is recognised.
            models.UniqueConstraint(fields=["club", "sha256"], name="payment_file_once"),
        ]

    def __str__(self) -> str:
        return self.file_name


class PaymentSource(models.TextChoices):
    OCR = "ocr", _("OCR Giro file")
    MANUAL = "manual", _("Registered by hand")
    ONLINE = "online", _("Online")


class MatchState(models.TextChoices):
    """How a payment met its invoice (`billing.payments.matching.match`)."""

    MATCHED = "matched", _("Matched")
    PARTIAL = "partial", _("Partly paid")
    OVER = "over", _("Overpaid")
    UNMATCHED = "unmatched", _("Unmatched")
    REVERSAL = "reversal", _("Reversal")


# The states that need an administrator's look (the reconciliation list).
TO_RECONCILE = (MatchState.PARTIAL, MatchState.OVER, MatchState.UNMATCHED, MatchState.REVERSAL)


class Payment(models.Model):
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("invoice"),
    )
    file = models.ForeignKey(
        PaymentFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("file"),
    )
    source = models.CharField(_("source"), max_length=10, choices=PaymentSource.choices)
    # OCR: derived from the bank transaction; manual: the form's token; online: the
    # provider's id. With club and source: one payment per transaction (ARCHITECTURE).
    transaction_key = models.CharField(_("transaction key"), max_length=200)
    amount = MoneyField(_("amount"), **INVOICE_MONEY)  # negative for reversals (S-02)
    paid_date = models.DateField(_("paid on"))
    kid = models.CharField(_("KID as paid"), max_length=25, blank=True)
    transaction_type = models.PositiveSmallIntegerField(
        _("transaction type"), null=True, blank=True
    )
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer's account"), max_length=11, blank=True)
    archive_reference = models.CharField(_("archive reference"), max_length=20, blank=True)
    match_state = models.CharField(_("match"), max_length=20, choices=MatchState.choices)
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_date", "-pk"]
        constraints = [
            # One payment per bank transaction (and per manual form, per provider event).
            models.UniqueConstraint(
                fields=["club", "source", "transaction_key"], name="payment_once"
            ),
            models.CheckConstraint(
                # A reversal whose KID no invoice has stays without one, like a payment.
                condition=Q(match_state__in=[MatchState.UNMATCHED, MatchState.REVERSAL])
                | Q(invoice__isnull=False),
                name="payment_matched_has_invoice",
            ),
        ]
        indexes = [
            models.Index(fields=["invoice"], name="payment_invoice_idx"),
            models.Index(
                fields=["club", "match_state"],
                condition=Q(reconciled_at__isnull=True) & ~Q(match_state=MatchState.MATCHED),
                name="payment_to_reconcile_idx",
            ),
            models.Index(fields=["file"], name="payment_file_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.paid_date}"

    @property
    def needs_reconciliation(self) -> bool:
        return self.match_state in TO_RECONCILE and self.reconciled_at is None


class PaymentEvent(models.Model):
    """STYLE 5: who recorded, assigned or reconciled a payment, from which state to which."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        ASSIGNED = "assigned", _("Assigned to an invoice")
        RECONCILED = "reconciled", _("Reconciled")
        REFUND = "refund", _("Refund")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="events", verbose_name=_("payment")
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["payment", "created_at", "pk"]
        indexes = [models.Index(fields=["payment"], name="payment_event_payment_idx")]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.kind}"
