"""Display formats for Norwegian numbers (S-04)."""

from django import template
from stdnum.exceptions import ValidationError
from stdnum.no import kontonr, orgnr

register = template.Library()


@register.filter
def bank_account(value: str) -> str:
    """S-04: an account number is shown as 8601.11.17947."""
    try:
        return kontonr.format(value) if value else ""
    except ValidationError:
        return value


@register.filter
def organisation_number(value: str) -> str:
    """An organisation number is shown in groups of three: 988 077 917."""
    try:
        return orgnr.format(value) if value else ""
    except ValidationError:
        return value
