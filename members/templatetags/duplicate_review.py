"""Template tags of the duplicate review (P-14): whether to offer it, and how to show the
engine's evidence (field names, for or against)."""

from django import template
from django.utils.translation import gettext_lazy as _

from members.duplicates import candidates

register = template.Library()

FIELD_LABELS = {
    "national_person_id": _("National person id"),
    "name": _("Name"),
    "first_name": _("First name"),
    "middle_name": _("Middle name"),
    "last_name": _("Last name"),
    "full_name": _("Full name"),
    "gender": _("Gender"),
    "birth_date": _("Birth date"),
    "email": _("E-mail"),
    "mobile": _("Mobile phone"),
    "phone": _("Phone"),
    "street": _("Street address"),
    "address": _("Address"),
    "postcode": _("Postcode"),
    "city": _("Place"),
    "source_id": _("Source id"),
}

# The comparison levels of members.duplicates.scoring, in words.
LEVEL_LABELS = {
    "exact": _("exact"),
    "same": _("same"),
    "swapped": _("first and last name swapped"),
    "variant": _("variant or nickname"),
    "contains": _("one contains the other"),
    "typo": _("typo"),
    "jw_high": _("very similar"),
    "jw_medium": _("similar"),
    "similar": _("similar"),
    "similar_names": _("similar, both names of their own"),
    "shares_token": _("shares a name"),
    "swapped_day_month": _("day and month swapped"),
    "one_digit": _("one digit differs"),
    "same_day_month": _("same day and month"),
    "within_days": _("within a few days"),
    "same_other_name": _("shared, other name (household)"),
    "same_postcode": _("same postcode"),
    "different": _("different"),
    "missing": _("missing"),
    "unknown": _("unknown"),
}


@register.simple_tag(takes_context=True)
def may_review_duplicates(context: template.Context) -> bool:
    """The queue is for users who hold duplicates.merge somewhere (it 404s otherwise)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated) and candidates.may_review_anywhere(user)


@register.filter
def evidence_label(field: str) -> str:
    label = FIELD_LABELS.get(field)
    return str(label) if label else str(field).replace("_", " ").capitalize()


@register.filter
def evidence_level(level: str) -> str:
    label = LEVEL_LABELS.get(level)
    return str(label) if label else str(level).replace("_", " ")


@register.filter
def evidence_class(weight: object) -> str:
    """ "for" (green) when the field speaks for the same person, "against" (red) otherwise."""
    try:
        value = float(weight)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "neutral"
    if value > 0:
        return "for"
    return "against" if value < 0 else "neutral"
