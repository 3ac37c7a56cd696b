"""Licences (P-12): licence periods and types per sport; a licence goes registered -> issued
(invoiced/sent) -> paid. Every change of state writes a LicenceEvent (STYLE 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from simple_history.models import HistoricalRecords

from members.models.functions import Function, FunctionType
from members.models.organisations import Organisation
from members.models.persons import ContactSet, Person


class LicencePeriod(models.Model):
    """E.g. "Fotball 2027": the federation (or region) that issues the licences and when."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="licence_periods",
        verbose_name=_("issuing organisation"),
    )
    name = models.CharField(_("name"), max_length=100)
    sport = models.CharField(_("sport"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("licence period")
        verbose_name_plural = _("licence periods")
        ordering = ["-valid_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")), name="licence_period_to_after_from"
            ),
            models.UniqueConstraint(
                fields=["organisation", "name"], name="licence_period_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LicenceType(models.Model):
    """A kind of licence in a period; it needs a matching function (P-12)."""

    period = models.ForeignKey(
        LicencePeriod,
        on_delete=models.PROTECT,
        related_name="licence_types",
        verbose_name=_("licence period"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    function_type = models.ForeignKey(
        FunctionType,
        on_delete=models.PROTECT,
        related_name="licence_types",
        verbose_name=_("matching function type"),
    )
    price = MoneyField(_("price"), max_digits=10, decimal_places=2, default_currency="NOK")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")
        ordering = ["period", "name"]
        constraints = [
            models.UniqueConstraint(fields=["period", "code"], name="licence_type_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class LicenceStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ISSUED = "issued", _("Issued (invoiced/sent)")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class SendingMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post")


class Licence(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="licences", verbose_name=_("person")
    )
    period = models.ForeignKey(
        LicencePeriod,
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("licence period"),
    )
    licence_type = models.ForeignKey(
        LicenceType,
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("licence type"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("organisation"),
        help_text=_("The organisation the licence is registered through."),
    )
    function = models.ForeignKey(
        Function,
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("function"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=LicenceStatus.choices,
        default=LicenceStatus.REGISTERED,
    )
    sending_method = models.CharField(
        _("sending method"),
        max_length=10,
        choices=SendingMethod.choices,
        default=SendingMethod.POST,
    )
    delivery_contact_set = models.ForeignKey(
        ContactSet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery address"),
    )
    # Until the billing app charges licences, the amount due is recorded here (issue 3).
    amount_due = MoneyField(
        _("amount due"), max_digits=10, decimal_places=2, default_currency="NOK"
    )
    amount_paid = MoneyField(
        _("amount paid"), max_digits=10, decimal_places=2, default_currency="NOK", default=0
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period"],
                condition=~Q(status="cancelled"),
                name="licence_one_per_person_and_period",
                violation_error_message=_("The person already has a licence in this period."),
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="licence_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.licence_type} – {self.person}"


class LicenceEvent(models.Model):
    """Who changed a licence, when, from which status to which (STYLE 5)."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("licence event")
        verbose_name_plural = _("licence events")

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} -> {self.to_status}"
