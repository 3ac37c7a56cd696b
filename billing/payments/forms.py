"""Forms of the payment pages (issue 6, scope 6)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
