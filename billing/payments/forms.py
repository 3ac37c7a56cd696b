"""Forms of the payment pages (issue 6, scope 6)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import kontonr

from billing.ledger import overpayments

MAX_FILE_BYTES = 64 * 1024 * 1024


class OcrUploadForm(forms.Form):
    file = forms.FileField(label=_("OCR Giro file from the bank"))


class ManualPaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (NOK)"), max_digits=12, decimal_places=2)
    paid_date = forms.DateField(label=_("Paid on"), initial=timezone.localdate)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # A new token each time the form is shown: the same token posted twice records once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)


class AssignForm(forms.Form):
    invoice_number = forms.IntegerField(label=_("Invoice number"), min_value=1)


class ReconcileForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False)


class RefundExcessForm(forms.Form):
    """ "Refund the excess": the amount is the one the administrator saw (the service refuses
    when what is left differs by now)."""

    amount = forms.DecimalField(widget=forms.HiddenInput, max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class RefundToPayerForm(RefundExcessForm):
    """ "Refund to the payer" of a payment without an invoice: the account given by hand."""

    account_number = forms.CharField(label=_("Account number"), max_length=20)
    account_owner = forms.CharField(label=_("Account owner"), max_length=200)

    field_order = ["account_number", "account_owner", "note", "amount"]

    def clean_account_number(self) -> str:
        try:
            return kontonr.validate(self.cleaned_data["account_number"])  # S-04
        except NumberError as error:
            raise forms.ValidationError(overpayments.BAD_ACCOUNT) from error
