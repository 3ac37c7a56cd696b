"""Validators for Norwegian numbers (S-04), built on python-stdnum."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import kontonr, orgnr

INVALID_ORGANISATION_NUMBER = _("%(value)s is not a valid organisation number (9 digits, MOD11).")
INVALID_BANK_ACCOUNT = _("%(value)s is not a valid Norwegian bank account number (11 digits).")


def validate_organisation_number(value: str) -> None:
    """S-04: 9 digits, weights 3,2,7,6,5,4,3,2, MOD11."""
    try:
        orgnr.validate(value)
    except StdnumError as error:
        raise ValidationError(
            INVALID_ORGANISATION_NUMBER, code="invalid_organisation_number", params={"value": value}
        ) from error


def validate_bank_account(value: str) -> None:
    """S-04: 11 digits, weights 5,4,3,2,7,6,5,4,3,2, MOD11."""
    try:
        number = kontonr.validate(value)
    except StdnumError as error:
        raise ValidationError(
            INVALID_BANK_ACCOUNT, code="invalid_bank_account", params={"value": value}
        ) from error
    if len(number) != 11:
        raise ValidationError(
            INVALID_BANK_ACCOUNT, code="invalid_bank_account", params={"value": value}
        )
