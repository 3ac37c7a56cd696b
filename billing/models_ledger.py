"""Refunds, their payout list and the annual report's age bands (issue 6, scopes 7 and 8).

Imported at the end of `billing/models.py` so that Django finds them.

- `Refund`: money the club pays back: a volunteer-work refund per hour worked (M-15), a
  moving-away refund of the activity fee (D-09), or money the club should not have received
  (`payment` set): the excess of an over-payment, or a payment whose KID no invoice has
  (`billing.ledger.overpayments`). One row is one line of the payout list; its `state` goes
  proposed -> approved -> paid (or proposed -> cancelled). The unique constraint
  `refund_once` on (club, person, season, reason, group) makes "the same refund twice"
  impossible for M-15 and D-09: proposing again creates nothing new, and a cancelled proposal
  stays decided. A payment's refunds have no member (`person` is null, so `refund_once` does
  not bind them); `refund_once_per_payment` allows one live (not cancelled) refund per
  payment, and the service checks the amount against the payment's excess under a lock.
  They have no credit note (nothing was over-invoiced: it is money back, S-05 keeps the
  invoice as it is).
- `RefundEvent`: STYLE 5, who proposed, approved, paid or cancelled a refund, from which
  state to which.
- `ReportAgeBands`: S-07's age bands of an organisation (a federation or a club); the
  nearest ancestor's bands apply, else the historic default 0-5, 6-12, 13-19, 20-25, 26+.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from simple_history.models import HistoricalRecords

from billing.models_invoicing import INVOICE_MONEY, Invoice
from billing.models_payments import Payment
from members.models import Organisation, Person

__all__ = [
    "PAYMENT_REASONS",
    "Refund",
    "RefundEvent",
    "RefundReason",
    "RefundState",
    "ReportAgeBands",
]


class RefundReason(models.TextChoices):
    VOLUNTEER_WORK = "volunteer_work", _("Volunteer work (M-15)")
    MOVING_AWAY = "moving_away", _("Moving away (D-09)")
    OVERPAYMENT = "overpayment", _("Over-payment")
    UNMATCHED_PAYMENT = "unmatched_payment", _("Payment without an invoice")


# The refunds of money received (`Refund.payment`): no member, no credit note.
PAYMENT_REASONS = (RefundReason.OVERPAYMENT, RefundReason.UNMATCHED_PAYMENT)


class RefundState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Refund(models.Model):
    """A refund of a paid invoice (`invoice`) to the person who paid it (`payee`), for the
    member `person`; or of (the excess of) a `payment`, to the invoice's payer or, for a
    payment without an invoice, to an account given by hand (`payee` null). `account_number`
    is the payee's refunds account (else the default account) when the refund was proposed or
    approved; blank means none is on file (flagged on the payout list; approving needs one)."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member"),
    )
    payee = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid to"),
    )
    season = models.PositiveSmallIntegerField(_("season"))
    reason = models.CharField(_("reason"), max_length=20, choices=RefundReason.choices)
    group = models.CharField(_("group"), max_length=50, blank=True)  # D-09: the activity group
    rule_id = models.CharField(_("rule"), max_length=50, blank=True)
    amount = MoneyField(_("amount"), **INVOICE_MONEY)
    description = models.CharField(_("description"), max_length=300)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid invoice"),
    )
    credit_note = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit note"),
    )
    # The payment whose (excess) money goes back; null for M-15 and D-09.
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("payment"),
    )
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, null=True, blank=True)
    # D-09: the register has no leaving reason, so the refund keeps what the club was told.
    left_on = models.DateField(_("left on"), null=True, blank=True)
    leave_reason = models.CharField(_("reason for leaving"), max_length=20, blank=True)
    leave_documented = models.BooleanField(_("documented"), default=False)
    account_number = models.CharField(_("account"), max_length=11, blank=True)
    account_owner = models.CharField(_("account owner"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=RefundState.choices, default=RefundState.PROPOSED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["club", "-season", "pk"]
        constraints = [
            # Issue 6 scope 7: the same refund cannot be proposed twice.
            models.UniqueConstraint(
                fields=["club", "person", "season", "reason", "group"], name="refund_once"
            ),
            # The excess of a payment is refunded once: one live refund per payment.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(payment__isnull=False) & ~Q(state=RefundState.CANCELLED),
                name="refund_once_per_payment",
            ),
            models.CheckConstraint(
                condition=(Q(payment__isnull=True) & ~Q(reason__in=PAYMENT_REASONS))
                | (Q(payment__isnull=False) & Q(reason__in=PAYMENT_REASONS)),
                name="refund_payment_reason",
            ),
            # Nothing was over-invoiced: a payment's refund credits no invoice.
            models.CheckConstraint(
                condition=Q(payment__isnull=True)
                | Q(invoice__isnull=True, credit_note__isnull=True),
                name="refund_payment_no_credit_note",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=False) | Q(person__isnull=False, payee__isnull=False),
                name="refund_fee_has_person",
            ),
            # Without a payee in the register, the account is given by hand, with its owner.
            models.CheckConstraint(
                condition=Q(payee__isnull=False) | (~Q(account_number="") & ~Q(account_owner="")),
                name="refund_account_without_payee",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
            models.CheckConstraint(
                condition=~Q(state=RefundState.PAID) | Q(paid_on__isnull=False),
                name="refund_paid_has_date",
            ),
        ]
        indexes = [models.Index(fields=["club", "state"], name="refund_club_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.season}: {self.amount}"

    @property
    def has_account(self) -> bool:
        return bool(self.account_number)

    @property
    def is_payment_refund(self) -> bool:
        return self.payment_id is not None

    @property
    def paid_to(self) -> str:
        """Who the money goes to: the payee, else the owner of the account given by hand."""
        return self.payee.full_name if self.payee is not None else self.account_owner

    @property
    def reference(self) -> str:
        """The payment reference the bank shows the payee (a payment's refund: the KID the
        payer used; select `payment` with the refund)."""
        if self.payment_id is not None:
            kid = self.payment.kid
            return f"REF-{self.pk} KID {kid}" if kid else f"REF-{self.pk} {self.season}"
        return f"REF-{self.pk} {self.rule_id} {self.season}"


class RefundEvent(models.Model):
    """STYLE 5: who proposed, approved, paid or cancelled a refund."""

    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, related_name="events", verbose_name=_("refund")
    )
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20)
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
        verbose_name = _("refund event")
        verbose_name_plural = _("refund events")
        ordering = ["refund", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.from_state}->{self.to_state}"


class ReportAgeBands(models.Model):
    """S-07: the first ages of the age bands (e.g. [0, 6, 13, 20, 26] for 0-5, 6-12, 13-19,
    20-25, 26+) an organisation reports by; its clubs inherit them."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )
    band_starts = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("band starts"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("report age bands")
        verbose_name_plural = _("report age bands")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.band_starts}"
