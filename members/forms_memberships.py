"""Forms of the membership pages (issue 5). They only parse and check input; the rules are
in members.services.memberships and members.services.verification."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.membership_rules import normalise_mobile
from members.models import (
    Family,
    Gender,
    MembershipCategory,
    MembershipType,
    PeriodKind,
    Person,
    VerificationChannel,
)

DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"})}

PERSON_OR_NEW_PERSON = _("Choose a person, or give the first and last name of a new person.")
NOT_BOTH = _("Choose an existing person or fill in a new person, not both.")
INVALID_MOBILE = _("Enter a valid mobile number, e.g. +47 912 34 567.")

NEW_PERSON_FIELDS = ("first_name", "last_name", "birth_date", "gender", "email", "mobile")


class JoinForm(forms.Form):
    """A person joins the club: an existing person the user may see, or a new person."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), required=False, widget=forms.HiddenInput
    )
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, **DATE_WIDGET)
    gender = forms.ChoiceField(
        label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN, required=False
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    mobile = forms.CharField(label=_("Mobile phone"), max_length=30, required=False)
    membership_type = forms.ModelChoiceField(
        queryset=MembershipType.objects.none(), label=_("Membership type")
    )
    start_date = forms.DateField(
        label=_("Member from"), required=False, initial=timezone.localdate, **DATE_WIDGET
    )
    family = forms.ModelChoiceField(
        queryset=Family.objects.none(), label=_("Family"), required=False
    )
    verification_channel = forms.ChoiceField(
        label=_("Send verification link"),
        choices=[
            (VerificationChannel.EMAIL, _("By e-mail")),
            (VerificationChannel.SMS, _("By SMS")),
            ("", _("Not now")),
        ],
        initial=VerificationChannel.EMAIL,
        required=False,
    )
    confirm_warnings = forms.BooleanField(
        label=_("I have checked the warnings and want to register the membership"),
        required=False,
    )
    # Issue 4: shown with the persons a new person may be (members.views.duplicates).
    confirm_new_person = forms.BooleanField(
        label=_("None of these is the person: create a new person anyway"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Person],
        membership_types: QuerySet[MembershipType],
        families: QuerySet[Family] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = persons
        self.fields["membership_type"].queryset = membership_types
        if families is None:
            del self.fields["family"]
        else:
            self.fields["family"].queryset = families

    def clean_mobile(self) -> str:
        raw = self.cleaned_data.get("mobile", "").strip()
        if not raw:
            return ""
        normalised = normalise_mobile(raw)
        if normalised is None:
            raise forms.ValidationError(INVALID_MOBILE)
        return normalised

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_new = bool(data.get("first_name") or data.get("last_name"))
        if data.get("person") and has_new:
            raise forms.ValidationError(NOT_BOTH)
        named = data.get("first_name") and data.get("last_name")
        if not data.get("person") and not named and "person" not in self.errors:
            raise forms.ValidationError(PERSON_OR_NEW_PERSON)
        return data

    def person_arguments(self) -> dict[str, Any]:
        """`person=` or `new_person=` for the join services."""
        data = self.cleaned_data
        if data.get("person"):
            return {"person": data["person"]}
        new_person = {name: data.get(name) for name in NEW_PERSON_FIELDS}
        new_person["gender"] = new_person["gender"] or Gender.UNKNOWN
        for name in ("email", "mobile"):
            new_person[name] = new_person[name] or ""
        return {"new_person": new_person}

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments = {
            **self.person_arguments(),
            "membership_type": data["membership_type"],
            "start_date": data.get("start_date"),
            "warnings_confirmed": bool(data.get("confirm_warnings")),
            "verification_channel": data.get("verification_channel") or None,
        }
        if "family" in self.fields:
            arguments["family"] = data.get("family")
        return arguments


class FamilyCreateForm(JoinForm):
    """A new family: its first registered member is the contact person (M-11)."""

    name = forms.CharField(
        label=_("Family name"),
        max_length=150,
        required=False,
        help_text=_("Leave empty to use the contact person's last name."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership_type"].queryset = self.fields["membership_type"].queryset.filter(
            category=MembershipCategory.FAMILY
        )

    def service_arguments(self) -> dict[str, Any]:
        arguments = super().service_arguments()
        arguments["name"] = self.cleaned_data.get("name", "")
        if "person" in arguments:
            arguments["contact_person"] = arguments.pop("person")
        return arguments


class ResignForm(forms.Form):
    received_on = forms.DateField(
        label=_("Resignation received on"), initial=timezone.localdate, **DATE_WIDGET
    )


class EndForm(forms.Form):
    end_date = forms.DateField(label=_("End date"), initial=timezone.localdate, **DATE_WIDGET)


class VerificationSendForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Send by"), choices=VerificationChannel.choices, initial=VerificationChannel.EMAIL
    )


class MembershipTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(label=_("Code"), max_length=50)
    category = forms.ChoiceField(label=_("Category"), choices=MembershipCategory.choices)
    period_kind = forms.ChoiceField(
        label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.CALENDAR_YEAR
    )


class GuardianForm(forms.Form):
    guardian = forms.ModelChoiceField(queryset=Person.objects.none(), label=_("Guardian"))

    def __init__(self, *args: Any, persons: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = persons
