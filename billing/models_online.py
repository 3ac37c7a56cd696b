"""Online card payments (issue 6, scope 6; M-10, M-11).

Imported at the end of `billing/models.py` so that Django finds them.

- `CheckoutSession`: a member's checkout at the payment provider (Stripe Checkout, or the
  local sandbox) for one or more invoices of one club, with what it pays on each invoice
  (`CheckoutLine`) and whose memberships it activates (`person_ids`, M-10). "The whole
  family" pays what the invoices owe; "only myself" pays the member's own lines (M-11).
- `ProviderEvent`: every webhook event the provider sent, once: the unique constraint
  `provider_event_once` on (provider, event id) makes a redelivered event change nothing.
  It also records what the event did (`outcome`): the session's history (STYLE 5).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models_invoicing import INVOICE_MONEY, Invoice
from members.models import Organisation, Person

__all__ = [
    "CheckoutLine",
    "CheckoutScope",
    "CheckoutSession",
    "CheckoutState",
    "EventOutcome",
    "ProviderEvent",
]


class CheckoutScope(models.TextChoices):
    """M-11: pay for the whole family, or only for myself (the others get reminders)."""

    FAMILY = "family", _("The whole family")
    SELF = "self", _("Only myself")


class CheckoutState(models.TextChoices):
    OPEN = "open", _("Waiting for payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    EXPIRED = "expired", _("Expired")


class CheckoutSession(models.Model):
    provider = models.CharField(_("provider"), max_length=20)
    # The provider's id of the checkout (Stripe: "cs_..."); set when the provider made it.
    provider_session_id = models.CharField(_("provider's session id"), max_length=200, blank=True)
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    payer = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("paid by")
    )
    scope = models.CharField(_("pays for"), max_length=10, choices=CheckoutScope.choices)
    # M-10: the persons whose pending memberships become active when the payment arrives.
    person_ids = ArrayField(models.BigIntegerField(), default=list, verbose_name=_("persons"))
    total = MoneyField(_("total"), **INVOICE_MONEY)
    state = models.CharField(
        _("state"), max_length=10, choices=CheckoutState.choices, default=CheckoutState.OPEN
    )
    redirect_url = models.URLField(_("payment page"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("online checkout")
        verbose_name_plural = _("online checkouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="checkout_session_once",
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="checkout_total_positive"),
        ]
        indexes = [models.Index(fields=["payer", "state"], name="checkout_payer_state_idx")]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_session_id or self.pk}"


class CheckoutLine(models.Model):
    """What a checkout pays on one invoice."""

    session = models.ForeignKey(
        CheckoutSession, on_delete=models.CASCADE, related_name="lines", verbose_name=_("checkout")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="+", verbose_name=_("invoice")
    )
    amount = MoneyField(_("amount"), **INVOICE_MONEY)

    class Meta:
        verbose_name = _("online checkout line")
        verbose_name_plural = _("online checkout lines")
        ordering = ["session", "invoice"]
        constraints = [
            models.UniqueConstraint(fields=["session", "invoice"], name="checkout_line_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount}"


class EventOutcome(models.TextChoices):
    RECORDED = "recorded", _("Payment recorded")
    ALREADY_PAID = "already_paid", _("Checkout already paid")
    CLOSED = "closed", _("Checkout closed")
    IGNORED = "ignored", _("Ignored")
    REJECTED = "rejected", _("Rejected")


class ProviderEvent(models.Model):
    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=100)
    session = models.ForeignKey(
        CheckoutSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("checkout"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=EventOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment provider event")
        verbose_name_plural = _("payment provider events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Idempotent on the provider's event id: a redelivered event changes nothing.
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
