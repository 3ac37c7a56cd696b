"""Writes for persons and their logins."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Person,
    User,
)
from members.services.common import NOT_ALLOWED


@transaction.atomic
def person_create(*, actor: User | None, first_name: str, last_name: str, **fields: Any) -> Person:
    person = Person(first_name=first_name.strip(), last_name=last_name.strip(), **fields)
    person.full_clean()
    person._history_user = actor
    person.save()
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
