"""Writes for persons and their logins: the person card's general info (P-05), deceased
status (P-06) and the reservation against the data wash (P-07)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members import rules
from members.duplicates.tasks import check_person_duplicates
from members.models import (
    ContactSet,
    Person,
    SportsIdHistory,
    User,
)
from members.services.common import NOT_ALLOWED

CONTACT_FIELDS = frozenset(
    {"street", "postcode", "city", "country", "email", "mobile", "phone", "fax"}
)

# The person's own data that the person card edits; contact data lives in contact sets
# (members.services.contacts), deceased status and the reservation have their own services.
PERSON_EDITABLE_FIELDS = frozenset(
    {"first_name", "middle_name", "last_name", "gender", "birth_date"}
)

FIELD_CANNOT_BE_CHANGED = _("This field cannot be changed here.")

IDENTITY_CHANGE_NEEDS_CONFIRMATION = _(
    "Changing the name, gender or birth date gives the person a new sports id; the old id "
    "still finds the person. Confirm the change to save it (P-05)."
)

DEATH_DATE_MISSING = _("Give the date of death (P-06).")
DEATH_DATE_IN_FUTURE = _("The date of death cannot be in the future (P-06).")
DEATH_DATE_BEFORE_BIRTH = _("The date of death cannot be before the birth date (P-06).")
DEATH_DATE_ERRORS = {
    "missing": DEATH_DATE_MISSING,
    "future": DEATH_DATE_IN_FUTURE,
    "before_birth": DEATH_DATE_BEFORE_BIRTH,
}

DECEASED_CHANGE_NEEDS_CONFIRMATION = _("Confirm the change of deceased status (P-06).")

PERSON_NOT_DECEASED = _("The person is not registered as deceased.")

PERSON_IS_DECEASED = _(
    "The person is registered as deceased: contact information, bank accounts, competences "
    "and transfers can no longer be added, changed or deleted (P-06)."
)

# The reason recorded in the history for changes made by the data wash (P-07).
DATA_WASH_REASON = "data wash"


def next_sports_id(*, birth_date: datetime.date | None, gender: str) -> str:
    """P-05: a new sports id from the register's sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('members_sports_id_serial')")
        (serial,) = cursor.fetchone()
    return rules.format_sports_id(birth_date, gender, serial)


PERSON_IS_MERGED = _(
    "This record was merged into another person (P-14): change the surviving person, or undo "
    "the merge first."
)


def ensure_not_merged(person: Person) -> None:
    """P-14: a merged person's record is closed; the merge page can undo it."""
    if person.merged_into_id is not None:
        raise ValidationError(PERSON_IS_MERGED, code="person_merged")


def ensure_not_deceased(person: Person) -> None:
    """P-06: nothing about a deceased person's contact information, bank accounts,
    competences and transfers may be added, changed or deleted. Services call it on the person
    row they locked (`lock_person`), so a concurrent "mark deceased" cannot slip in between."""
    ensure_not_merged(person)
    if person.is_deceased:
        raise ValidationError(PERSON_IS_DECEASED, code="person_deceased")


def lock_person(person: Person | int) -> Person:
    """The person row, locked for the rest of the transaction (SELECT ... FOR UPDATE)."""
    pk = person if isinstance(person, int) else person.pk
    return Person.objects.select_for_update().get(pk=pk)


def may_edit_person(user: User | None, person: Person) -> bool:
    """`None` is the system itself (the data wash, a management command)."""
    return user is None or access.can(user, Capability.PERSONS_EDIT, person)


def require_person_edit(user: User | None, person: Person) -> None:
    if not may_edit_person(user, person):
        raise PermissionDenied(NOT_ALLOWED)


def _save(person: Person, actor: User | None, fields: list[str], reason: str | None) -> None:
    person.full_clean()
    person._history_user = actor
    if reason:
        person._change_reason = reason
    person.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def person_create(*, actor: User | None, first_name: str, last_name: str, **fields: Any) -> Person:
    """A new person with a sports id and a standard contact set (P-05, P-08). Contact fields
    (street, postcode, city, country, email, mobile, phone, fax) go into the standard set."""
    contact = {name: fields.pop(name) for name in list(fields) if name in CONTACT_FIELDS}
    person = Person(first_name=first_name.strip(), last_name=last_name.strip(), **fields)
    person.sports_id = next_sports_id(birth_date=person.birth_date, gender=person.gender)
    person.full_clean()
    person._history_user = actor
    person.save()
    standard = ContactSet(person=person, is_standard=True, **contact)
    standard.full_clean()
    standard._history_user = actor
    standard.save()
    check_person_duplicates.delay_on_commit(person.pk)  # P-14: the incremental check
    return person


def _changed_values(person: Person, fields: dict[str, Any]) -> dict[str, Any]:
    values = {
        name: value.strip() if isinstance(value, str) else value for name, value in fields.items()
    }
    return {name: value for name, value in values.items() if getattr(person, name) != value}


@transaction.atomic
def person_update(
    *,
    actor: User | None,
    person: Person,
    confirm_identity_change: bool = False,
    change_reason: str | None = None,
    **fields: Any,
) -> Person:
    """Change a person's name, gender or birth date (persons.edit on the person).

    P-05: such a change issues a new sports id; the caller must confirm it first, otherwise a
    ValidationError with code "confirmation_required" on `confirm_identity_change`. The old id
    goes to SportsIdHistory, where search still finds it."""
    person = lock_person(person)
    require_person_edit(actor, person)
    ensure_not_merged(person)
    forbidden = set(fields) - PERSON_EDITABLE_FIELDS
    if forbidden:
        raise ValidationError(dict.fromkeys(sorted(forbidden), FIELD_CANNOT_BE_CHANGED))
    changes = _changed_values(person, fields)
    if not changes:
        return person
    for name, value in changes.items():
        setattr(person, name, value)
    saved_fields = list(changes)
    if rules.changes_identity(set(changes)):
        person.full_clean()  # report wrong values before asking for a confirmation
        if not confirm_identity_change:
            raise ValidationError(
                {
                    "confirm_identity_change": ValidationError(
                        IDENTITY_CHANGE_NEEDS_CONFIRMATION, code="confirmation_required"
                    )
                }
            )
        SportsIdHistory.objects.create(person=person, sports_id=person.sports_id)
        person.sports_id = next_sports_id(birth_date=person.birth_date, gender=person.gender)
        saved_fields.append("sports_id")
    _save(person, actor, saved_fields, change_reason)
    check_person_duplicates.delay_on_commit(person.pk)  # P-14: the incremental check
    return person


def _require_confirmation(confirm: bool) -> None:
    if not confirm:
        raise ValidationError(
            {
                "confirm": ValidationError(
                    DECEASED_CHANGE_NEEDS_CONFIRMATION, code="confirmation_required"
                )
            }
        )


@transaction.atomic
def person_set_deceased(
    *, actor: User | None, person: Person, date_of_death: datetime.date | None, confirm: bool
) -> Person:
    """P-06: mark the person deceased (or correct the date of death). The date is after the
    birth date and not in the future; the change needs a confirmation."""
    person = lock_person(person)
    require_person_edit(actor, person)
    error = rules.death_date_error(date_of_death, person.birth_date, timezone.localdate())
    if error is not None:
        raise ValidationError(
            {"date_of_death": ValidationError(DEATH_DATE_ERRORS[error], code=error)}
        )
    if person.is_deceased and person.date_of_death == date_of_death:
        return person
    _require_confirmation(confirm)
    person.is_deceased, person.date_of_death = True, date_of_death
    _save(person, actor, ["is_deceased", "date_of_death"], None)
    return person


@transaction.atomic
def person_clear_deceased(*, actor: User | None, person: Person, confirm: bool) -> Person:
    """P-06: the person was registered as deceased by mistake; needs a confirmation."""
    person = lock_person(person)
    require_person_edit(actor, person)
    if not person.is_deceased:
        raise ValidationError(PERSON_NOT_DECEASED, code="not_deceased")
    _require_confirmation(confirm)
    person.is_deceased, person.date_of_death = False, None
    _save(person, actor, ["is_deceased", "date_of_death"], None)
    return person


@transaction.atomic
def person_set_reservation(*, actor: User | None, person: Person, reserved: bool) -> Person:
    """P-07: reserve the person against the data wash (or lift it). Whoever may edit the
    person may do it, and the person themself in the self-service portal."""
    person = lock_person(person)
    is_self = actor is not None and actor.person_id == person.pk
    if not is_self:
        require_person_edit(actor, person)
    if person.reserved_against_data_wash == reserved:
        return person
    person.reserved_against_data_wash = reserved
    _save(person, actor, ["reserved_against_data_wash"], None)
    return person


@transaction.atomic
def user_link_person(*, actor: User | None, user: User, person: Person | None) -> User:
    """A login links to at most one person (the OneToOne constraint guards it)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(NOT_ALLOWED)
    user.person = person
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user.save(update_fields=["person"])
    access.forget_grants(user)
    return user
