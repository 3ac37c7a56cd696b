"""Forms of the person card's functions, licences, competences and transfers tabs. They
only shape input: every rule is checked again by the services (members.services.*)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import (
    CompetenceType,
    ContactSet,
    Function,
    FunctionContact,
    FunctionType,
    LicenceType,
    Organisation,
    SendingMethod,
    TransferStatus,
    TransferType,
)

DATE = {"type": "date"}


def _date_field(label: str, *, required: bool = False, **kwargs: object) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs=DATE), **kwargs
    )


def _comment_field(*, rows: int) -> forms.CharField:
    return forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea({"rows": rows})
    )


class _ContactChoiceMixin:
    """P-10: the function's contact is the standard set, the organisation's address or
    another of the person's sets; the set only counts with the third choice."""

    def _setup_contact(self, contact_sets: QuerySet[ContactSet]) -> None:
        self.fields["contact_set"].queryset = contact_sets.filter(is_standard=False)

    def clean(self) -> dict:
        cleaned = super().clean()  # type: ignore[misc]
        if cleaned.get("contact") != FunctionContact.CONTACT_SET:
            cleaned["contact_set"] = None
        return cleaned


class PersonFunctionForm(_ContactChoiceMixin, forms.Form):
    """P-10: a new function in a chosen organisation; from today, open-ended, contact the
    person's standard contact set unless chosen otherwise."""

    function_type = forms.ModelChoiceField(
        queryset=FunctionType.objects.none(), label=_("Function type")
    )
    from_date = _date_field(_("From date"))
    to_date = _date_field(_("To date"))
    contact = forms.ChoiceField(
        label=_("Contact information"),
        choices=FunctionContact.choices,
        initial=FunctionContact.PERSON_STANDARD,
        widget=forms.RadioSelect,
    )
    contact_set = forms.ModelChoiceField(
        queryset=ContactSet.objects.none(), label=_("Other contact set"), required=False
    )

    def __init__(
        self,
        *args: object,
        organisation: Organisation,
        contact_sets: QuerySet[ContactSet],
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("initial", {"from_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        # Function types that may be held in this kind of organisation (P-11).
        self.fields["function_type"].queryset = FunctionType.objects.filter(
            Q(organisation_types=[])
            | Q(organisation_types__contains=[organisation.organisation_type]),
            is_active=True,
        )
        self._setup_contact(contact_sets)


class FunctionEditForm(_ContactChoiceMixin, forms.ModelForm):
    contact = forms.ChoiceField(
        label=_("Contact information"), choices=FunctionContact.choices, widget=forms.RadioSelect
    )
    contact_set = forms.ModelChoiceField(
        queryset=ContactSet.objects.none(), label=_("Other contact set"), required=False
    )

    class Meta:
        model = Function
        fields = ["from_date", "to_date", "contact", "contact_set"]
        widgets = {"from_date": forms.DateInput(attrs=DATE), "to_date": forms.DateInput(attrs=DATE)}

    def __init__(self, *args: object, contact_sets: QuerySet[ContactSet], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._setup_contact(contact_sets)

    def _post_clean(self) -> None:
        """The service validates and saves; the form does not touch the instance."""


# ------------------------------------------------------------------ licences (P-12)


def sending_method_choices(*, email_allowed: bool) -> list[tuple[str, str]]:
    """P-12: e-mail is only offered when the person has an e-mail address."""
    if email_allowed:
        return list(SendingMethod.choices)
    return [(SendingMethod.POST.value, SendingMethod.POST.label)]


class LicenceRegisterForm(forms.Form):
    licence_type = forms.ModelChoiceField(
        queryset=LicenceType.objects.none(), label=_("Licence type")
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label=_("Registered through")
    )
    sending_method = forms.ChoiceField(label=_("Sending method"), initial=SendingMethod.POST)
    delivery_contact_set = forms.ModelChoiceField(
        queryset=ContactSet.objects.none(),
        label=_("Delivery address"),
        required=False,
        empty_label=_("The standard contact set"),
    )
    activate_function = forms.BooleanField(
        label=_("Activate the person's ended function"), required=False
    )

    def __init__(
        self,
        *args: object,
        licence_types: QuerySet[LicenceType],
        organisations: QuerySet[Organisation],
        contact_sets: QuerySet[ContactSet],
        email_allowed: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["licence_type"].queryset = licence_types
        self.fields["licence_type"].label_from_instance = _licence_type_label
        self.fields["organisation"].queryset = organisations
        self.fields["delivery_contact_set"].queryset = contact_sets
        self.fields["sending_method"].choices = sending_method_choices(email_allowed=email_allowed)


def _licence_type_label(licence_type: LicenceType) -> str:
    return f"{licence_type.period.name}: {licence_type.name} ({licence_type.price})"


class LicenceSendForm(forms.Form):
    """Issue or re-send: how the licence goes out."""

    sending_method = forms.ChoiceField(label=_("Sending method"))

    def __init__(self, *args: object, email_allowed: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sending_method"].choices = sending_method_choices(email_allowed=email_allowed)


class LicenceChangeTypeForm(forms.Form):
    licence_type = forms.ModelChoiceField(
        queryset=LicenceType.objects.none(), label=_("New licence type")
    )
    activate_function = forms.BooleanField(
        label=_("Activate the person's ended function"), required=False
    )

    def __init__(self, *args: object, licence_types: QuerySet[LicenceType], **kwargs: object):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["licence_type"].queryset = licence_types
        self.fields["licence_type"].label_from_instance = _licence_type_label


class LicencePaymentForm(forms.Form):
    """An amount in NOK (a Decimal, never a float)."""

    amount = forms.DecimalField(
        label=_("Amount (NOK)"), max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )


class LicenceDeliveryForm(forms.Form):
    delivery_contact_set = forms.ModelChoiceField(
        queryset=ContactSet.objects.none(),
        label=_("Delivery address"),
        required=False,
        empty_label=_("The standard contact set"),
    )
    sending_method = forms.ChoiceField(label=_("Sending method"))

    def __init__(
        self,
        *args: object,
        contact_sets: QuerySet[ContactSet],
        email_allowed: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delivery_contact_set"].queryset = contact_sets
        self.fields["sending_method"].choices = sending_method_choices(email_allowed=email_allowed)


# ------------------------------------------------------------------ competences (P-13)


class CompetenceForm(forms.Form):
    competence_type = forms.ModelChoiceField(
        queryset=CompetenceType.objects.none(), label=_("Competence type")
    )
    valid_from = _date_field(_("Valid from"), required=True)
    valid_to = _date_field(_("Valid to"))
    comment = _comment_field(rows=3)

    def __init__(
        self, *args: object, competence_types: QuerySet[CompetenceType], **kwargs: object
    ) -> None:
        kwargs.setdefault("initial", {"valid_from": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["competence_type"].queryset = competence_types


class CompetenceEditForm(forms.Form):
    valid_to = _date_field(_("Valid to"))
    comment = _comment_field(rows=3)


# ------------------------------------------------------------------ transfers (P-15)


class TransferForm(forms.Form):
    function = forms.ModelChoiceField(
        queryset=Function.objects.none(), label=_("Function"), widget=forms.RadioSelect
    )
    transfer_type = forms.ChoiceField(label=_("Transfer type"), choices=TransferType.choices)
    to_organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_active=True),
        label=_("To organisation"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Search for and choose the organisation.")},
    )
    transfer_date = _date_field(_("Transfer date"), required=True)
    loan_until = _date_field(_("Loan until"))
    comment = _comment_field(rows=2)

    def __init__(self, *args: object, functions: QuerySet[Function], **kwargs: object) -> None:
        kwargs.setdefault("initial", {"transfer_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = functions
        self.fields["function"].label_from_instance = _function_label


def _function_label(function: Function) -> str:
    return f"{function.function_type.name}, {function.organisation.name}"


class TransferEditForm(forms.Form):
    """The editable fields of a transfer; function type and from-organisation are locked."""

    transfer_type = forms.ChoiceField(label=_("Transfer type"), choices=TransferType.choices)
    to_organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_active=True),
        label=_("To organisation"),
        widget=forms.HiddenInput,
    )
    transfer_date = _date_field(_("Transfer date"), required=True)
    loan_until = _date_field(_("Loan until"))
    comment = _comment_field(rows=2)


class TransferStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=TransferStatus.choices)
    comment = _comment_field(rows=2)
