"""Forms of the agreement pages (issue 5, scope 5): exemption agreements (D-10, D-11),
volunteer contracts (D-10), volunteer hours (M-15), trial periods (D-06) and payment
preferences (M-10). They parse and check input; billing.services_agreements applies it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from billing import pricing
from billing.forms_schedules import DATE, FEE_KIND_CHOICES, PERCENT
from billing.models import (
    CONFIDENTIAL_KINDS,
    DEFAULT_RULE_IDS,
    AgreementKind,
    ExemptionAgreement,
)
from members.models import Organisation, Person

VALID_UNTIL_BEFORE_FROM = _("The end date cannot be before the start date.")
NO_BENEFICIARY = _("An agreement is for the person, their children, or both.")
CHOOSE_PERSON = _("Choose a person of the club.")
PAYMENT_METHOD_CHOICES = [
    (pricing.PaymentMethod.ONLINE.value, _("Online: activated at once, no invoice fee")),
    (pricing.PaymentMethod.INVOICE.value, _("By invoice: the invoice fee is added (M-10)")),
]


class PersonChoiceField(forms.ModelChoiceField):
    """A person chosen with the search box of templates/billing/_person_field.html."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Person"))
        kwargs.setdefault(
            "error_messages", {"required": CHOOSE_PERSON, "invalid_choice": CHOOSE_PERSON}
        )
        super().__init__(queryset=Person.objects.none(), widget=forms.HiddenInput, **kwargs)


class PersonFormMixin:
    """Forms with a `person` chosen among `persons` (the club's persons)."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def set_persons(self, persons: QuerySet[Person]) -> None:
        self.fields["person"].queryset = persons

    def chosen_person(self) -> Person | None:
        """The person the bound form names, to show it again after an error."""
        field = self.fields["person"]
        value = self["person"].value()  # type: ignore[index]
        if not value:
            return None
        try:
            return field.queryset.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None


class VolunteerContractForm(PersonFormMixin, forms.Form):
    person = PersonChoiceField()
    signed_on = forms.DateField(label=_("Signed on"), **DATE)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, help_text=_("Empty: until further notice."), **DATE
    )

    def __init__(self, *args: Any, persons: QuerySet[Person] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if persons is None:  # editing: the person stays
            del self.fields["person"]
        else:
            self.set_persons(persons)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        signed, until = data.get("signed_on"), data.get("valid_until")
        if signed and until and until < signed:
            self.add_error("valid_until", VALID_UNTIL_BEFORE_FROM)
        return data


class AgreementForm(PersonFormMixin, forms.Form):
    """D-10 written agreements and approved applications; D-11 hardship exemptions and
    agreements to work off the fee (offered only to the general manager)."""

    person = PersonChoiceField()
    kind = forms.ChoiceField(label=_("Kind"))
    rule_id = forms.ChoiceField(label=_("Grants the rule"))
    for_self = forms.BooleanField(label=_("For the person"), required=False, initial=True)
    for_children = forms.BooleanField(label=_("For their children"), required=False)
    children = forms.ModelMultipleChoiceField(
        label=_("Only these children"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: all the person's children."),
    )
    group = forms.ModelChoiceField(
        label=_("Only in the group"), queryset=Organisation.objects.none(), required=False
    )
    team = forms.ModelChoiceField(
        label=_("Only on the team"), queryset=Organisation.objects.none(), required=False
    )
    fee_kinds = forms.MultipleChoiceField(
        label=_("Fees"),
        choices=FEE_KIND_CHOICES,
        initial=[pricing.FeeKind.ACTIVITY.value],
        widget=forms.CheckboxSelectMultiple,
    )
    percent = forms.DecimalField(
        label=_("Percentage off"),
        required=False,
        help_text=_("Empty: the rule's percentage (a full exemption)."),
        **PERCENT,
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, **DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, **DATE)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Person] | None,
        rules: list[pricing.Rule] | None,
        groups: QuerySet[Organisation],
        teams: QuerySet[Organisation],
        confidential: bool,
        children: QuerySet[Person] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if persons is None:
            del self.fields["person"]
        else:
            self.set_persons(persons)
        kinds = [
            (value, label)
            for value, label in AgreementKind.choices
            if confidential or value not in CONFIDENTIAL_KINDS
        ]
        self.fields["kind"].choices = kinds
        self.fields["rule_id"].choices = _rule_choices(rules, kinds)
        self.fields["group"].queryset = groups
        self.fields["team"].queryset = teams
        if children is None:
            del self.fields["children"]
        else:
            self.fields["children"].queryset = children

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("for_self") and not data.get("for_children"):
            self.add_error("for_self", NO_BENEFICIARY)
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", VALID_UNTIL_BEFORE_FROM)
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("person", None)
        if "children" in data:
            data["children"] = list(data["children"])
        return data

    @staticmethod
    def initial_for(agreement: ExemptionAgreement) -> dict[str, Any]:
        return {
            "kind": agreement.kind,
            "rule_id": agreement.rule_id,
            "for_self": agreement.for_self,
            "for_children": agreement.for_children,
            "children": list(agreement.children.all()),
            "group": agreement.group,
            "team": agreement.team,
            "fee_kinds": list(agreement.fee_kinds),
            "percent": agreement.percent,
            "valid_from": agreement.valid_from,
            "valid_until": agreement.valid_until,
            "notes": agreement.notes,
        }


def _rule_choices(
    rules: list[pricing.Rule] | None, kinds: list[tuple[str, Any]]
) -> list[tuple[str, str]]:
    """The season's rules that agreements grant (without a schedule: the example club's
    rule of each kind offered)."""
    if rules is None:
        ids = [DEFAULT_RULE_IDS[AgreementKind(value)] for value, _label in kinds]
        return [(rule_id, rule_id) for rule_id in dict.fromkeys(ids)]
    offered = {value for value, _label in kinds}
    confidential_allowed = bool(offered & set(CONFIDENTIAL_KINDS))
    return [
        (rule.rule_id, rule.rule_id)
        for rule in rules
        if confidential_allowed
        or not (
            isinstance(rule.params, pricing.AgreementExemptionParams) and rule.params.confidential
        )
    ]


class VolunteerHoursForm(PersonFormMixin, forms.Form):
    person = PersonChoiceField()
    hours = forms.DecimalField(
        label=_("Hours worked this season"),
        max_digits=6,
        decimal_places=2,
        min_value=Decimal(0),
        help_text=_("M-15: each hour is refunded at the schedule's rate."),
    )

    def __init__(self, *args: Any, persons: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_persons(persons)


class TrialPeriodForm(PersonFormMixin, forms.Form):
    person = PersonChoiceField()
    team = forms.ModelChoiceField(label=_("Team"), queryset=Organisation.objects.none())
    start_date = forms.DateField(label=_("Trial from"), **DATE)
    from_other_club = forms.BooleanField(label=_("Comes from another club"), required=False)
    former_club_agreed = forms.BooleanField(label=_("The former club agreed"), required=False)

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Person] | None,
        teams: QuerySet[Organisation] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if persons is None:
            del self.fields["person"]
        else:
            self.set_persons(persons)
        if teams is None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams


class PaymentPreferenceForm(PersonFormMixin, forms.Form):
    person = PersonChoiceField()
    method = forms.ChoiceField(
        label=_("Pays"), choices=PAYMENT_METHOD_CHOICES, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, persons: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_persons(persons)
