"""Delivery of invoices and reminders (issue 6, scopes 4 and 5; D-03, S-06).

Imported at the end of `billing/models.py` so that Django finds them.

- `InvoiceDelivery`: the outbox. One row per invoice and channel (and per reminder and
  channel), created by `billing.delivery.services.deliveries_plan`; the unique constraints make
  a second plan a no-op. The sender claims rows (`SKIP LOCKED`), and records three moments:
  `claimed_at` (taken by a worker), `send_started_at` (committed just before the message goes
  to SMTP) and `handed_over_at` (committed right after SMTP accepted it). The reconciler can
  therefore tell a row that never reached SMTP (retried) from one that may have (marked
  `uncertain` for a person to check, never re-sent by itself). See `billing.delivery.services`.
- `TeamUnpaidNotice`: D-03, the list of a team's unpaid players sent to one team leader on one
  day; the same outbox columns, so it is sent exactly once too.
- `ReminderPolicy`: the club's reminder settings (D-03 default: 7 days after due).
- `Reminder`: one reminder of an invoice (its sequence number), with the fee charged (S-06:
  only 14 days past due, at most two per claim) and the new due date.
- `ReminderFeeRate`, `LateInterestRate`: S-06, dated tables, not constants.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models_invoicing import INVOICE_MONEY, Invoice
from members.models import Organisation, Person

__all__ = [
    "DeliveryChannel",
    "DeliveryState",
    "InvoiceDelivery",
    "LateInterestRate",
    "Reminder",
    "ReminderFeeRate",
    "ReminderPolicy",
    "TeamUnpaidNotice",
]


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PAPER = "paper", _("Paper")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    POSTED = "posted", _("Posted")
    FAILED = "failed", _("Failed")
    # The worker died while handing the message to SMTP: it may or may not have gone out.
    UNCERTAIN = "uncertain", _("Check: may have been sent")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxRow(models.Model):
    """The sending state shared by the outbox tables (see the module docstring)."""

    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    recipient = models.EmailField(_("recipient"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    send_started_at = models.DateTimeField(_("handing over started at"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True


class Reminder(models.Model):
    """S-06/D-03: reminder number `sequence` of an invoice. `fee` is what the reminder adds to
    the claim (zero when the law or the club's policy allows none); `due_date` the new
    deadline. Unique per invoice and sequence: the daily job may run twice."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("invoice")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    sequence = models.PositiveSmallIntegerField(_("reminder number"))
    reminded_on = models.DateField(_("reminded on"))
    fee = MoneyField(_("reminder fee"), **INVOICE_MONEY)
    # S-06: late interest accrued on the unpaid amount from the invoice's due date to
    # `reminded_on`, at the dated rate; part of the claim like `fee`.
    interest = MoneyField(_("late interest"), default=0, **INVOICE_MONEY)
    due_date = models.DateField(_("new due date"))
    rule_id = models.CharField(_("rule"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["invoice", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "sequence"], name="reminder_once"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="reminder_sequence_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="reminder_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(interest__gte=0), name="reminder_interest_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("reminded_on")), name="reminder_due_after_sent"
            ),
        ]
        indexes = [models.Index(fields=["club", "reminded_on"], name="reminder_club_day_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_id} #{self.sequence}"


class InvoiceDelivery(OutboxRow):
    """The outbox row of an invoice (`reminder` empty) or of a reminder of it, per channel."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("invoice")
    )
    reminder = models.ForeignKey(
        Reminder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("reminder"),
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    payer = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("payer")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("invoice delivery")
        verbose_name_plural = _("invoice deliveries")
        ordering = ["club", "-created_at", "-pk"]
        constraints = [
            # Issue 6 scope 4: one delivery per invoice and channel (and per reminder).
            models.UniqueConstraint(
                fields=["invoice", "channel"],
                condition=Q(reminder__isnull=True),
                name="invoice_delivery_once",
            ),
            models.UniqueConstraint(
                fields=["reminder", "channel"],
                condition=Q(reminder__isnull=False),
                name="reminder_delivery_once",
            ),
            models.CheckConstraint(
                condition=Q(channel="paper") | ~Q(recipient=""), name="email_delivery_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "channel"], name="delivery_state_idx"),
            models.Index(fields=["club", "state"], name="delivery_club_state_idx"),
            models.Index(fields=["invoice"], name="delivery_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.channel} ({self.state})"


class TeamUnpaidNotice(OutboxRow):
    """D-03: the unpaid players of `team` sent to one team leader on `notice_date`.
    `players` holds [{"person_id", "name", "invoice_numbers"}] as they were that day."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    team = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    leader = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("team leader")
    )
    notice_date = models.DateField(_("date"))
    players = models.JSONField(_("unpaid players"), default=list)
    language = models.CharField(_("language"), max_length=5, blank=True)

    class Meta:
        verbose_name = _("unpaid list for a team leader")
        verbose_name_plural = _("unpaid lists for team leaders")
        ordering = ["club", "-notice_date", "team", "leader"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "leader", "notice_date"], name="team_unpaid_notice_once"
            ),
        ]
        indexes = [models.Index(fields=["state"], name="team_notice_state_idx")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.leader_id} {self.notice_date}"


class ReminderPolicy(models.Model):
    """D-03: a club's reminder settings. Without a row the defaults apply
    (`billing.delivery.selectors.reminder_policy`)."""

    club = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="reminder_policy",
        verbose_name=_("club"),
    )
    is_enabled = models.BooleanField(_("send reminders"), default=True)
    days_after_due = models.PositiveSmallIntegerField(
        _("days after the due date"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A reminder goes out this many days after the due date."),
    )
    deadline_days = models.PositiveSmallIntegerField(
        _("new deadline in days"),
        default=14,
        validators=[MinValueValidator(14), MaxValueValidator(90)],
        help_text=_("At least 14 days."),
    )
    max_reminders = models.PositiveSmallIntegerField(
        _("reminders per invoice at most"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    charge_fee = models.BooleanField(
        _("charge a reminder fee where the law allows"),
        default=False,
        help_text=_("Only from 14 days after the due date; at most two fees."),
    )
    # S-06: late interest (the policy rate + 8 points, from the dated table) on what is unpaid
    # after the due date; the club's choice, off unless it says so.
    charge_interest = models.BooleanField(
        _("charge late interest (S-06)"),
        default=False,
        help_text=_("At the legal rate for each half-year, from the day after the due date."),
    )
    notify_team_leaders = models.BooleanField(_("send team leaders the unpaid list"), default=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(days_after_due__gte=1), name="reminder_policy_after_due"
            ),
            models.CheckConstraint(
                condition=Q(deadline_days__gte=14), name="reminder_policy_deadline_14"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.club_id}: {self.days_after_due}"


class ReminderFeeRate(models.Model):
    """S-06: the reminder fee (purregebyr) from `valid_from` until the next row."""

    valid_from = models.DateField(_("valid from"), unique=True)
    amount = MoneyField(_("reminder fee"), **INVOICE_MONEY)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reminder fee rate")
        verbose_name_plural = _("reminder fee rates")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="reminder_fee_rate_positive")
        ]

    def __str__(self) -> str:
        return f"{self.valid_from}: {self.amount}"


class LateInterestRate(models.Model):
    """S-06: the late-interest rate (policy rate + 8 points, % a year), set per half-year:
    `valid_from` is 1 January or 1 July."""

    valid_from = models.DateField(_("valid from"), unique=True)
    rate_percent = models.DecimalField(_("rate, % a year"), max_digits=5, decimal_places=2)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("late interest rate")
        verbose_name_plural = _("late interest rates")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__day=1, valid_from__month__in=[1, 7]),
                name="late_interest_half_year",
            ),
            models.CheckConstraint(
                condition=Q(rate_percent__gte=0), name="late_interest_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.valid_from}: {self.rate_percent}%"
