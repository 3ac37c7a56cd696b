"""Writes for contact sets (P-08): several per person, exactly one standard set, per-field
"hidden from the public", phone numbers in E.164, e-mail typo checks (M-03), Norwegian
postcode -> place. A deceased person's contact sets are locked (P-06)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from members import rules
from members.duplicates.tasks import check_person_duplicates
from members.models import ContactSet, Function, Person, User
from members.postcodes import postcode_place
from members.services.persons import (
    FIELD_CANNOT_BE_CHANGED,
    ensure_not_deceased,
    lock_person,
    require_person_edit,
)

CONTACT_SET_FIELDS = frozenset(
    {
        "label",
        "street",
        "postcode",
        "city",
        "country",
        "email",
        "mobile",
        "phone",
        "fax",
        "hide_address",
        "hide_email",
        "hide_phone",
        "hide_fax",
    }
)
PHONE_FIELDS = ("mobile", "phone", "fax")

INVALID_PHONE = _(
    "%(value)s is not a valid phone number. Give a Norwegian number (8 digits) or a number "
    "with its country code, e.g. +46 70 123 45 67 (P-08)."
)
INVALID_EMAIL = _("Enter a valid e-mail address (P-08).")
EMAIL_LOOKS_MISTYPED = _(
    "Did you mean %(suggestion)s? Check the address, or confirm that %(value)s is right (M-03)."
)
INVALID_COUNTRY = _("Give the country as a two-letter code, e.g. NO or SE.")
POSTCODE_MISSING = _("A Norwegian address needs a postcode (P-08).")
POSTCODE_FORMAT = _("A Norwegian postcode has four digits (P-08).")
POSTCODE_PLACE_MISMATCH = _("Postcode %(postcode)s belongs to %(place)s (P-08).")
STANDARD_SET_CANNOT_BE_DELETED = _(
    "The standard contact set cannot be deleted; make another set the standard first (P-08)."
)
CONTACT_SET_USED_BY_FUNCTIONS = _(
    "This contact set cannot be deleted: it is the contact information of %(functions)s. "
    "Choose other contact information for those functions first (P-10)."
)
ALREADY_STANDARD = _("This contact set is already the standard set.")


def _normalise_phones(values: dict[str, Any], errors: dict[str, list]) -> None:
    for name in PHONE_FIELDS:
        raw = (values.get(name) or "").strip()
        if name not in values or not raw:
            continue
        normalised = rules.normalise_phone(raw)
        if normalised is None:
            errors.setdefault(name, []).append(
                ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": raw})
            )
        else:
            values[name] = normalised


def _check_email(
    values: dict[str, Any], previous: str, confirm_email: bool, errors: dict[str, list]
) -> None:
    email = (values.get("email") or "").strip()
    if "email" not in values or not email:
        return
    local, _at, domain = email.rpartition("@")
    values["email"] = email = f"{local}@{domain.lower()}" if local else email
    try:
        EmailValidator(message=INVALID_EMAIL)(email)
    except ValidationError as error:
        errors.setdefault("email", []).append(error)
        return
    suggestion = rules.email_typo_suggestion(email)
    # M-03: a likely typo is a warning: the user may confirm the address as it is.
    if suggestion and email != previous and not confirm_email:
        errors.setdefault("email", []).append(
            ValidationError(
                EMAIL_LOOKS_MISTYPED,
                code="email_typo",
                params={"suggestion": suggestion, "value": email},
            )
        )


def _check_address(values: dict[str, Any], errors: dict[str, list]) -> None:
    """P-08: a Norwegian address has a 4-digit postcode; a known postcode fills the place,
    or must agree with it. Unknown (but well-formed) postcodes pass."""
    values["country"] = country = (values.get("country") or "NO").strip().upper()
    if not (len(country) == 2 and country.isalpha()):
        errors.setdefault("country", []).append(ValidationError(INVALID_COUNTRY, code="country"))
        return
    postcode = values["postcode"] = (values.get("postcode") or "").strip()
    city = values["city"] = " ".join((values.get("city") or "").split())
    has_address = bool((values.get("street") or "").strip() or city)
    error = rules.postcode_error(postcode, country, has_address=has_address)
    if error is not None:
        message = POSTCODE_MISSING if error == "missing" else POSTCODE_FORMAT
        errors.setdefault("postcode", []).append(ValidationError(message, code=error))
        return
    place = postcode_place(postcode) if country == "NO" and postcode else None
    if place is None:
        return
    if not city or rules.same_place(city, place):
        values["city"] = place
    else:
        errors.setdefault("city", []).append(
            ValidationError(
                POSTCODE_PLACE_MISMATCH,
                code="postcode_place",
                params={"postcode": postcode, "place": place},
            )
        )


def normalise_contact_values(
    values: dict[str, Any], *, previous_email: str = "", confirm_email: bool = False
) -> dict[str, Any]:
    """The values of a contact set as they are stored (E.164 phones, the place of a known
    postcode, upper-case country). `values` must hold all address fields. Raises one
    ValidationError naming every wrong field."""
    result = dict(values)
    errors: dict[str, list] = {}
    _normalise_phones(result, errors)
    _check_email(result, previous_email, confirm_email, errors)
    _check_address(result, errors)
    if errors:
        raise ValidationError(errors)
    return result


def _reject_unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - CONTACT_SET_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), FIELD_CANNOT_BE_CHANGED))


def _save(
    contact_set: ContactSet,
    actor: User | None,
    fields: list[str] | None = None,
    reason: str | None = None,
) -> None:
    contact_set.full_clean()
    contact_set._history_user = actor
    if reason:
        contact_set._change_reason = reason
    if fields is None:
        contact_set.save()
    else:
        contact_set.save(update_fields=[*fields, "updated_at"])


def _locked_for_change(actor: User | None, person: Person | int) -> Person:
    """The person locked, the actor's right checked, and P-06: not deceased."""
    person = lock_person(person)
    require_person_edit(actor, person)
    ensure_not_deceased(person)
    return person


@transaction.atomic
def contact_set_create(
    *, actor: User | None, person: Person, confirm_email: bool = False, **fields: Any
) -> ContactSet:
    """P-08: a new contact set. The person's first set becomes the standard set; another set
    becomes the standard one through `contact_set_set_standard`."""
    _reject_unknown(fields)
    person = _locked_for_change(actor, person)
    address = {name: fields.get(name, "") for name in ("street", "postcode", "city", "country")}
    values = normalise_contact_values({**fields, **address}, confirm_email=confirm_email)
    has_standard = ContactSet.objects.filter(person=person, is_standard=True).exists()
    contact_set = ContactSet(person=person, is_standard=not has_standard, **values)
    _save(contact_set, actor)
    return contact_set


@transaction.atomic
def contact_set_update(
    *,
    actor: User | None,
    contact_set: ContactSet,
    confirm_email: bool = False,
    change_reason: str | None = None,
    **fields: Any,
) -> ContactSet:
    """P-08: change a contact set's data or hidden flags. It stays with its person."""
    _reject_unknown(fields)
    _locked_for_change(actor, contact_set.person_id)
    contact_set = ContactSet.objects.select_for_update().get(pk=contact_set.pk)
    current = {name: getattr(contact_set, name) for name in CONTACT_SET_FIELDS}
    values = normalise_contact_values(
        {**current, **fields}, previous_email=contact_set.email, confirm_email=confirm_email
    )
    changed = [name for name in sorted(CONTACT_SET_FIELDS) if values[name] != current[name]]
    if not changed:
        return contact_set
    for name in changed:
        setattr(contact_set, name, values[name])
    _save(contact_set, actor, changed, change_reason)
    if contact_set.is_standard and {"email", "mobile"} & set(changed):
        check_person_duplicates.delay_on_commit(contact_set.person_id)  # P-14
    return contact_set


def _functions_using(contact_set: ContactSet) -> list[Function]:
    return list(
        Function.objects.filter(contact_set=contact_set)
        .select_related("function_type", "organisation")
        .order_by("pk")
    )


@transaction.atomic
def contact_set_delete(*, actor: User | None, contact_set: ContactSet) -> None:
    """P-08: delete a contact set that is not the standard set and no function uses."""
    _locked_for_change(actor, contact_set.person_id)
    contact_set = ContactSet.objects.select_for_update().get(pk=contact_set.pk)
    if contact_set.is_standard:
        raise ValidationError(STANDARD_SET_CANNOT_BE_DELETED, code="standard_set")
    functions = _functions_using(contact_set)
    if functions:
        names = ", ".join(str(function) for function in functions)
        raise ValidationError(
            CONTACT_SET_USED_BY_FUNCTIONS, code="used_by_function", params={"functions": names}
        )
    contact_set._history_user = actor
    contact_set.delete()


@transaction.atomic
def contact_set_set_standard(*, actor: User | None, contact_set: ContactSet) -> ContactSet:
    """P-08: make this set the person's standard set; the flag moves in one transaction (the
    person row is locked, so two concurrent moves cannot both win)."""
    _locked_for_change(actor, contact_set.person_id)
    contact_set = ContactSet.objects.select_for_update().get(pk=contact_set.pk)
    if contact_set.is_standard:
        raise ValidationError(ALREADY_STANDARD, code="already_standard")
    # The partial unique constraint is checked per row: take the flag off the old set first.
    for previous in ContactSet.objects.filter(person_id=contact_set.person_id, is_standard=True):
        previous.is_standard = False
        _save(previous, actor, ["is_standard"])
    contact_set.is_standard = True
    _save(contact_set, actor, ["is_standard"])
    return contact_set
