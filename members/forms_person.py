"""Forms of the person card (P-05..P-09). They only parse input; the rules live in the
services (members.services.persons, .contacts, .accounts), whose errors `add_service_errors`
puts on the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members.models import BankAccountType, Gender

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields, the rest on
    the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def error_codes(form: forms.Form, name: str) -> set[str]:
    return {error.code for error in form.errors.as_data().get(name, []) if error.code}


class PersonForm(forms.Form):
    """P-05: name, gender, birth date; changing them needs `confirm_identity_change`."""

    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_INPUT)
    confirm_identity_change = forms.BooleanField(
        label=_("Yes, give the person a new sports id"), required=False
    )

    @property
    def needs_confirmation(self) -> bool:
        return "confirmation_required" in error_codes(self, "confirm_identity_change") or bool(
            self.data.get("confirm_identity_change")
        )

    def service_values(self) -> dict[str, object]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "confirm_identity_change"
        }


class DeceasedForm(forms.Form):
    """P-06: mark deceased (with the date of death); needs a confirmation."""

    date_of_death = forms.DateField(label=_("Date of death"), widget=DATE_INPUT)
    confirm = forms.BooleanField(label=_("I confirm that the person is deceased"), required=False)


class ClearDeceasedForm(forms.Form):
    """P-06: undo a deceased registration made by mistake; needs a confirmation."""

    confirm = forms.BooleanField(
        label=_("I confirm that the person was registered as deceased by mistake"),
        required=False,
    )


class ReservationForm(forms.Form):
    """P-07: reserve against the data wash."""

    reserved = forms.BooleanField(label=_("Reserved against data wash"), required=False)


class ContactSetForm(forms.Form):
    """P-08: a contact set; `confirm_email` accepts an address that looks mistyped (M-03)."""

    label = forms.CharField(label=_("Description"), max_length=60, initial="Privat")
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    city = forms.CharField(label=_("Place"), max_length=100, required=False)
    country = forms.CharField(
        label=_("Country (two-letter code)"), max_length=2, initial="NO", required=False
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    confirm_email = forms.BooleanField(label=_("The e-mail address is right"), required=False)
    mobile = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    phone = forms.CharField(
        label=_("Other phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    fax = forms.CharField(
        label=_("Fax"), max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    hide_address = forms.BooleanField(label=_("Hide address from the public"), required=False)
    hide_email = forms.BooleanField(label=_("Hide e-mail from the public"), required=False)
    hide_phone = forms.BooleanField(label=_("Hide phone numbers from the public"), required=False)
    hide_fax = forms.BooleanField(label=_("Hide fax from the public"), required=False)

    @property
    def email_needs_confirmation(self) -> bool:
        return "email_typo" in error_codes(self, "email") or bool(self.data.get("confirm_email"))

    def service_values(self) -> dict[str, object]:
        return {name: value for name, value in self.cleaned_data.items() if name != "confirm_email"}


class BankAccountForm(forms.Form):
    """P-09: a Norwegian account number or an IBAN (with an optional BIC)."""

    account_type = forms.ChoiceField(label=_("Account type"), choices=BankAccountType.choices)
    account_number = forms.CharField(
        label=_("Norwegian account number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "1234.56.78903"}),
    )
    iban = forms.CharField(label=_("IBAN (foreign account)"), max_length=42, required=False)
    bic = forms.CharField(label=_("BIC"), max_length=14, required=False)
    owner_name = forms.CharField(
        label=_("Account owner"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for the person's own name."),
    )
