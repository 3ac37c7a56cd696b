"""Invoices, credit notes and invoicing runs (issue 6, scopes 1 and 2; S-05).

Imported at the end of `billing/models.py` so that Django finds them.

- `InvoiceNumberSeries`: one gap-free number series per club (S-05) and the club's KID
  sequence (S-01). Numbers are taken with the series row locked (`select_for_update`) inside
  the transaction that creates the invoices: a rolled-back transaction takes no number.
- `Invoice`: an invoice or a credit note (`kind`), numbered in the club's series, with the
  seller's and buyer's data as they were when it was issued. Never edited: it is voided, or
  corrected by a credit note (S-05); its state changes are `InvoiceEvent` rows (STYLE 5).
- `InvoiceLine`: what is sold for which person, fee and period, with the rule that produced
  the amount. The partial unique index `invoice_line_once` makes "one charge per person, fee,
  group and period" impossible to violate among the lines that count (`is_billed`: lines of
  invoices that are neither void nor credited) - the idempotency of invoicing runs.
- `InvoicingRun` / `InvoicingChunk`: a run is a row the pages poll; its chunks (payers) are
  rows any worker can claim, and a reconciler re-queues the ones that stalled.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from simple_history.models import HistoricalRecords

from billing import pricing
from members.models import Organisation, Person

__all__ = [
    "Invoice",
    "InvoiceEvent",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceNumberSeries",
    "InvoiceStatus",
    "InvoicingChunk",
    "InvoicingRun",
    "InvoicingState",
]

INVOICE_MONEY = {"max_digits": 12, "decimal_places": 2, "default_currency": pricing.CURRENCY}


class InvoiceNumberSeries(models.Model):
    """S-05: the club's one gap-free series of invoice (and credit note) numbers; S-01: the
    club's KID sequence. Only the invoicing services change it, with the row locked."""

    club = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="invoice_number_series",
        verbose_name=_("club"),
    )
    next_number = models.PositiveBigIntegerField(_("next invoice number"), default=1)
    next_kid_sequence = models.PositiveBigIntegerField(_("next KID sequence number"), default=1)

    class Meta:
        verbose_name = _("invoice number series")
        verbose_name_plural = _("invoice number series")
        constraints = [
            models.CheckConstraint(condition=Q(next_number__gte=1), name="invoice_series_positive")
        ]

    def __str__(self) -> str:
        return f"{self.club_id}: {self.next_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    """S-05: an invoice is never edited or deleted: it is voided (kept, marked void) or
    credited by a credit note. Payments move it to partly paid and paid (scope 6)."""

    ISSUED = "issued", _("Issued")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    CREDITED = "credited", _("Credited")


# The states whose lines no longer count as invoiced (the person may be invoiced again).
NOT_BILLED_STATUSES = (InvoiceStatus.VOID, InvoiceStatus.CREDITED)


class InvoicingState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InvoicingRun(models.Model):
    """Issue 6 scope 1: a club's invoicing of a season's fees for a selection of members.
    `summary` holds the dry run's totals at start; the counters the result."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    season = models.PositiveSmallIntegerField(_("season"))
    fee_kinds = ArrayField(models.CharField(max_length=20), verbose_name=_("fees"))
    # {"groups": [codes], "person_ids": [ids]}: empty means everyone of the season.
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    issue_date = models.DateField(_("issue date"))
    state = models.CharField(
        _("state"), max_length=20, choices=InvoicingState.choices, default=InvoicingState.PENDING
    )
    summary = models.JSONField(_("dry-run summary"), default=dict, blank=True)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    invoices_created = models.PositiveIntegerField(_("invoices created"), default=0)
    lines_created = models.PositiveIntegerField(_("lines created"), default=0)
    skipped_existing = models.PositiveIntegerField(_("already invoiced"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoicing run")
        verbose_name_plural = _("invoicing runs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["club", "state"], name="invoicing_run_club_state")]

    def __str__(self) -> str:
        return f"{self.club_id} {self.season} ({self.state})"

    @property
    def progress_percent(self) -> int:
        if not self.chunks_total:
            return 100 if self.state == InvoicingState.DONE else 0
        return min(100, round(100 * self.chunks_done / self.chunks_total))


class InvoicingChunk(models.Model):
    """A block of payers of a run (`payer_ids`) and the persons they pay for
    (`person_ids`), fixed when the run starts; any worker may claim it. `claimed_at` lets
    the reconciler find chunks whose worker died."""

    run = models.ForeignKey(
        InvoicingRun, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("run")
    )
    position = models.PositiveIntegerField(_("position"))
    payer_ids = ArrayField(models.BigIntegerField(), verbose_name=_("payers"))
    person_ids = ArrayField(models.BigIntegerField(), verbose_name=_("persons"))
    state = models.CharField(
        _("state"), max_length=20, choices=InvoicingState.choices, default=InvoicingState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    invoices_created = models.PositiveIntegerField(_("invoices created"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("invoicing chunk")
        verbose_name_plural = _("invoicing chunks")
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="invoicing_chunk_position"),
        ]
        indexes = [models.Index(fields=["run", "state"], name="invoicing_chunk_state")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.position}"


class Invoice(models.Model):
    """S-05: an invoice (or credit note) as issued. The seller and buyer fields are copies
    taken at issue, so a later change of address does not change an issued invoice."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("club")
    )
    number = models.PositiveBigIntegerField(_("number"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    run = models.ForeignKey(
        InvoicingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("invoicing run"),
    )
    season = models.PositiveSmallIntegerField(_("season"))
    payer = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("payer")
    )
    buyer_name = models.CharField(_("buyer"), max_length=300)
    buyer_street = models.CharField(_("street address"), max_length=200, blank=True)
    buyer_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    buyer_city = models.CharField(_("place"), max_length=100, blank=True)
    buyer_country = models.CharField(_("country"), max_length=2, blank=True)
    buyer_email = models.EmailField(_("e-mail"), blank=True)
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_organisation_number = models.CharField(
        _("organisation number"), max_length=9, blank=True
    )
    seller_address = models.CharField(_("seller address"), max_length=400, blank=True)
    seller_account = models.CharField(_("bank account"), max_length=11, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    # S-01: blank on credit notes (nothing to pay); unique per club otherwise.
    kid = models.CharField(_("KID"), max_length=25, blank=True)
    total = MoneyField(_("total"), **INVOICE_MONEY)
    help_text = models.TextField(_("help text (D-11)"), blank=True)
    language = models.CharField(_("language"), max_length=5, blank=True)
    reason = models.TextField(_("reason"), blank=True)  # of a credit note
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["club", "-number"]
        constraints = [
            # S-05: one series per club; numbers never repeat.
            models.UniqueConstraint(fields=["club", "number"], name="invoice_number_once"),
            # S-01: a KID identifies one invoice of the club.
            models.UniqueConstraint(
                fields=["club", "kid"], condition=~Q(kid=""), name="invoice_kid_once"
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.CREDIT_NOTE, credited_invoice__isnull=False)
                | Q(kind=InvoiceKind.INVOICE, credited_invoice__isnull=True),
                name="invoice_credit_note_credits",
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.CREDIT_NOTE) | ~Q(kid=""), name="invoice_has_kid"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")), name="invoice_due_after_issue"
            ),
        ]
        indexes = [
            models.Index(fields=["payer"], name="invoice_payer_idx"),
            models.Index(fields=["club", "status"], name="invoice_club_status_idx"),
            models.Index(fields=["run"], name="invoice_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def buyer_address_lines(self) -> list[str]:
        place = " ".join(part for part in (self.buyer_postcode, self.buyer_city) if part)
        return [line for line in (self.buyer_street, place) if line]


class InvoiceLine(models.Model):
    """One line: a charge, or an adjustment of it (negative), for one person, fee, group and
    period, with the rule that produced it (the engine's `Line`). `key_fee` is the fee whose
    invoice the line is on (the invoice fee's `for_fee`, M-10), so the invoice fee of a
    membership invoice and the membership fee are two keys."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name=_("invoice")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="invoice_lines", verbose_name=_("person")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    fee = models.CharField(
        _("fee"), max_length=20, choices=[(kind.value, kind.value) for kind in pricing.FeeKind]
    )
    key_fee = models.CharField(_("invoiced with"), max_length=20)
    group = models.CharField(_("group"), max_length=50, blank=True)
    line_kind = models.CharField(
        _("line kind"),
        max_length=20,
        choices=[(kind.value, kind.value) for kind in pricing.LineKind],
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    description = models.CharField(_("description"), max_length=300)
    rule_id = models.CharField(_("rule"), max_length=50, blank=True)
    amount = MoneyField(_("amount"), **INVOICE_MONEY)
    # False once the invoice is void or credited (or the line is credited): the person may
    # be invoiced again for the key. Kept on the line so the unique index can use it.
    is_billed = models.BooleanField(_("billed"), default=True)
    credited_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credits line"),
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [
            # Issue 6 scope 1: one charge per person, fee, group and period among the lines
            # that count: a second run, a double click or a re-run chunk cannot bill twice.
            models.UniqueConstraint(
                fields=["club", "person", "fee", "key_fee", "group", "period_start"],
                condition=Q(is_billed=True, line_kind=pricing.LineKind.CHARGE),
                name="invoice_line_once",
            ),
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="invoice_line_period"
            ),
        ]
        indexes = [models.Index(fields=["person"], name="invoice_line_person_idx")]

    def __str__(self) -> str:
        return self.description


class InvoiceEvent(models.Model):
    """STYLE 5: who changed an invoice's state, when, from which state to which."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOIDED = "voided", _("Voided")
        CREDITED = "credited", _("Credited")
        PARTLY_CREDITED = "partly_credited", _("Partly credited")
        PAYMENT = "payment", _("Payment status changed")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="events", verbose_name=_("invoice")
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
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
        verbose_name = _("invoice event")
        verbose_name_plural = _("invoice events")
        ordering = ["invoice", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.kind}"
