"""Forms of the invoicing pages (issue 6 scopes 1-3): the run form (what
`invoicing_run_preview` / `invoicing_run_start` accept), the invoice filters, void and
credit note."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import pricing
from billing.invoicing.pdf import FEE_LABELS
from billing.models import ActivityGroup
from billing.models_invoicing import InvoiceStatus
from members.models import Organisation

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
INVOICED_FEES = [
    pricing.FeeKind.MEMBERSHIP,
    pricing.FeeKind.ACTIVITY,
    pricing.FeeKind.VOLUNTEER_WORK,
]  # the invoice fee (M-10) comes with the fee it is charged on


class RunForm(forms.Form):
    season = forms.IntegerField(label=_("Season"), min_value=2000, max_value=2100)
    fee_kinds = forms.MultipleChoiceField(
        label=_("Fees to invoice"),
        choices=[(kind.value, FEE_LABELS[kind.value]) for kind in INVOICED_FEES],
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.MultipleChoiceField(
        label=_("Only these activity groups"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every group. Applies to the activity fee."),
    )
    issue_date = forms.DateField(label=_("Invoice date"), required=False, **DATE)

    def __init__(self, *args, club: Organisation, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        groups = (
            ActivityGroup.objects.filter(fee_schedule__club=club)
            .order_by("code", "-fee_schedule__season")
            .values_list("code", "name")
        )
        choices: dict[str, str] = {}
        for code, name in groups:
            choices.setdefault(code, name)
        self.fields["groups"].choices = sorted(choices.items(), key=lambda item: item[1])
        self.fields["season"].initial = timezone.localdate().year
        self.fields["fee_kinds"].initial = [pricing.FeeKind.MEMBERSHIP.value]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        selection = {"groups": sorted(data["groups"])} if data["groups"] else {}
        return {
            "season": data["season"],
            "fee_kinds": data["fee_kinds"],
            "selection": selection,
            "issue_date": data["issue_date"] or timezone.localdate(),
        }


class InvoiceFilterForm(forms.Form):
    season = forms.IntegerField(label=_("Season"), required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *InvoiceStatus.choices],
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Invoice number, KID or name"),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,  # the service says why a reason is needed (REASON_REQUIRED)
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
