"""Writes for persons and their logins."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members import rules
from members.models import (
    ContactSet,
    Person,
    User,
)
from members.services.common import NOT_ALLOWED

CONTACT_FIELDS = frozenset(
    {"street", "postcode", "city", "country", "email", "mobile", "phone", "fax"}
)


def next_sports_id(*, birth_date: datetime.date | None, gender: str) -> str:
    """P-05: a new sports id from the register's sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('members_sports_id_serial')")
        (serial,) = cursor.fetchone()
    return rules.format_sports_id(birth_date, gender, serial)


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
    return person


PERSON_EDITABLE_FIELDS = frozenset(
    {
        "first_name",
        "middle_name",
        "last_name",
        "gender",
        "birth_date",
        "email",
        "phone",
        "street",
        "postcode",
        "city",
        "country",
    }
)


@transaction.atomic
def person_update(*, actor: User | None, person: Person, **fields: Any) -> Person:
    """Change a person's basic data (the full person card with P-05/P-06 rules is issue 3)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if actor is not None and not access.can(actor, Capability.PERSONS_EDIT, person):
        raise PermissionDenied(NOT_ALLOWED)
    forbidden = set(fields) - PERSON_EDITABLE_FIELDS
    if forbidden:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in sorted(forbidden)}
        )
    for name, value in fields.items():
        setattr(person, name, value)
    person.full_clean()
    person._history_user = actor
    person.save(update_fields=[*fields, "updated_at"])
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
