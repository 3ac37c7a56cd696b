"""Forms of the delivery and reminder pages (issue 6, scopes 4 and 5)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.delivery.selectors import POLICY_FIELDS
from billing.models_delivery import DeliveryChannel, DeliveryState, ReminderPolicy


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *DeliveryState.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *DeliveryChannel.choices]
    )
    kind = forms.ChoiceField(
        label=_("What"),
        required=False,
        choices=[("", _("All")), ("invoice", _("Invoices")), ("reminder", _("Reminders"))],
    )
    number = forms.IntegerField(label=_("Invoice number"), required=False, min_value=1)


class MarkPostedForm(forms.Form):
    deliveries = forms.TypedMultipleChoiceField(
        label=_("Letters"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["deliveries"].choices = choices


class ReminderPolicyForm(forms.ModelForm):
    class Meta:
        model = ReminderPolicy
        fields = list(POLICY_FIELDS)
