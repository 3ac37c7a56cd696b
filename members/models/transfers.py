"""Transfers (P-15): a person's function in one organisation becomes a new function in
another. Function type and source organisation are locked; every change of status writes a
TransferEvent (STYLE 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models.functions import Function, FunctionType
from members.models.organisations import Organisation
from members.models.persons import Person


class TransferType(models.TextChoices):
    STANDARD = "standard", _("Transfer (permanent)")
    LOAN = "loan", _("Loan (temporary)")
    CORRECTION = "correction", _("Correction (registered in the wrong club)")


class TransferStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    APPROVED = "approved", _("Approved")
    CORRECTION = "correction", _("Correction")
    MISSING_INFORMATION = "missing_information", _("Missing information")


class Transfer(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("person")
    )
    function = models.ForeignKey(
        Function,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("function"),
    )
    function_type = models.ForeignKey(
        FunctionType, on_delete=models.PROTECT, related_name="+", verbose_name=_("function type")
    )
    from_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("from organisation"),
    )
    to_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        verbose_name=_("to organisation"),
    )
    transfer_type = models.CharField(
        _("transfer type"), max_length=20, choices=TransferType.choices
    )
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=TransferStatus.choices,
        default=TransferStatus.REGISTERED,
    )
    transfer_date = models.DateField(_("transfer date"))
    loan_until = models.DateField(_("loan until"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    new_function = models.OneToOneField(
        Function,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_in",
        verbose_name=_("new function"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-transfer_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(transfer_type="loan")
                    & Q(loan_until__isnull=False)
                    & Q(loan_until__gte=F("transfer_date"))
                )
                | (~Q(transfer_type="loan") & Q(loan_until__isnull=True)),
                name="transfer_loan_until_for_loans",
                violation_error_message=_("A loan needs an end date after the transfer date."),
            ),
            models.CheckConstraint(
                condition=~Q(from_organisation=F("to_organisation")),
                name="transfer_to_another_organisation",
                violation_error_message=_("A transfer goes to another organisation."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.from_organisation} -> {self.to_organisation}"


class TransferEvent(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("transfer event")
        verbose_name_plural = _("transfer events")

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"
