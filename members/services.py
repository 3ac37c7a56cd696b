"""Writes for organisations, persons, users and functions.

Every function here is one use case: keyword-only, atomic, validates with `full_clean()`,
records who made the change (django-simple-history, `_history_user`) and raises
`ValidationError` or `PermissionDenied` with a message meant for the user. Access is checked
here too, so views, API and admin cannot forget it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.no import kontonr, orgnr

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    ORGANISATION_LEVELS,
    Function,
    FunctionType,
    Organisation,
    OrganisationType,
    Person,
    User,
)

UNSET = object()
NOT_ALLOWED = _("You do not have permission to do this.")
CHILD_TYPE_NOT_BELOW_PARENT = _(
    "A %(child)s cannot be placed under a %(parent)s: the tree is federation > region > club "
    "> group > team."
)
ROOT_MUST_BE_FEDERATION = _("Only a federation can be at the top of the tree.")
PARENT_INACTIVE = _("The parent organisation is not active.")
ORGANISATION_INACTIVE = _("Functions can only be added in an active organisation (P-11).")
FUNCTION_TYPE_NOT_ALLOWED_HERE = _("A %(function_type)s function cannot be held in a %(type)s.")
FUNCTION_TYPE_INACTIVE = _("This function type is no longer in use.")
FUNCTION_ALREADY_ENDED = _("The function has already ended.")
FUNCTION_NOT_ENDED = _("The function is already active.")
IMMUTABLE_ORGANISATION_FIELDS = frozenset({"path", "depth", "numchild", "organisation_type"})
EDITABLE_ORGANISATION_FIELDS = frozenset(
    {
        "name",
        "is_active",
        "organisation_number",
        "sport",
        "street",
        "postcode",
        "city",
        "country",
        "email",
        "phone",
        "bank_account",
        "kid_algorithm",
        "kid_length",
    }
)


def _require(user: User | None, capability: str, organisation: Organisation) -> None:
    # `user=None` means the system itself (a management command, a data migration).
    if user is not None and not access.has_capability(user, capability, organisation):
        raise PermissionDenied(NOT_ALLOWED)


def _normalise_numbers(values: dict[str, Any]) -> dict[str, Any]:
    result = dict(values)
    if result.get("organisation_number"):
        result["organisation_number"] = orgnr.compact(result["organisation_number"])
    if result.get("bank_account"):
        result["bank_account"] = kontonr.compact(result["bank_account"])
    return result


def _check_placement(organisation_type: str, parent: Organisation | None) -> None:
    if parent is None:
        if organisation_type != OrganisationType.FEDERATION:
            raise ValidationError({"parent": ROOT_MUST_BE_FEDERATION})
        return
    if ORGANISATION_LEVELS[OrganisationType(organisation_type)] <= parent.level:
        raise ValidationError(
            {
                "organisation_type": CHILD_TYPE_NOT_BELOW_PARENT
                % {
                    "child": OrganisationType(organisation_type).label,
                    "parent": OrganisationType(parent.organisation_type).label,
                }
            }
        )
    if not parent.is_active:
        raise ValidationError({"parent": PARENT_INACTIVE})


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    parent: Organisation | None,
    name: str,
    organisation_type: str,
    **fields: Any,
) -> Organisation:
    """Register an organisation below `parent` (the actor needs organisations.manage there);
    a federation (no parent) only by a superuser or the system."""
    if parent is None:
        if actor is not None and not actor.is_superuser:
            raise PermissionDenied(NOT_ALLOWED)
    else:
        parent = Organisation.objects.select_for_update().get(pk=parent.pk)
        _require(actor, Capability.ORGANISATIONS_MANAGE, parent)
    unknown = set(fields) - EDITABLE_ORGANISATION_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    _check_placement(organisation_type, parent)
    organisation = Organisation(
        name=name, organisation_type=organisation_type, **_normalise_numbers(fields)
    )
    organisation._history_user = actor
    # treebeard sets path/depth; validate everything else first so nothing is half-written.
    organisation.full_clean(exclude=["path", "depth", "numchild"])
    if parent is None:
        return Organisation.objects.add_root(instance=organisation)
    return Organisation.objects.add_child(parent, instance=organisation)


@transaction.atomic
def organisation_update(
    *, actor: User | None, organisation: Organisation, **fields: Any
) -> Organisation:
    """Change an organisation's own data. Its place in the tree and its type cannot be changed
    here (no moving a record across clubs through an update)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    _require(actor, Capability.ORGANISATIONS_MANAGE, organisation)
    forbidden = set(fields) - EDITABLE_ORGANISATION_FIELDS
    if forbidden:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in sorted(forbidden)}
        )
    for name, value in _normalise_numbers(fields).items():
        setattr(organisation, name, value)
    organisation.full_clean(exclude=["path", "depth", "numchild"])
    organisation._history_user = actor
    organisation.save(update_fields=[*fields, "updated_at"])
    return organisation


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


def function_check_placement(*, organisation: Organisation, function_type: FunctionType) -> None:
    """P-11: a function is added only in an existing, active organisation, with a function
    type that may be held there."""
    if not organisation.is_active:
        raise ValidationError({"organisation": ORGANISATION_INACTIVE})
    if not function_type.is_active:
        raise ValidationError({"function_type": FUNCTION_TYPE_INACTIVE})
    if function_type.organisation_types and (
        organisation.organisation_type not in function_type.organisation_types
    ):
        raise ValidationError(
            {
                "function_type": FUNCTION_TYPE_NOT_ALLOWED_HERE
                % {
                    "function_type": function_type.name,
                    "type": OrganisationType(organisation.organisation_type).label,
                }
            }
        )


@transaction.atomic
def function_create(
    *,
    actor: User | None,
    person: Person,
    organisation: Organisation,
    function_type: FunctionType,
    from_date: datetime.date | None = None,
    to_date: datetime.date | None = None,
) -> Function:
    """P-10/P-11: add a function in an existing, active organisation; from-date defaults to
    today and to-date to open."""
    _require(actor, Capability.FUNCTIONS_MANAGE, organisation)
    function_check_placement(organisation=organisation, function_type=function_type)
    function = Function(
        person=person,
        organisation=organisation,
        function_type=function_type,
        from_date=from_date or timezone.localdate(),
        to_date=to_date,
    )
    function.full_clean()
    function._history_user = actor
    function.save()
    return function


def _lock_function(actor: User | None, function: Function) -> Function:
    function = (
        Function.objects.select_for_update().select_related("organisation").get(pk=function.pk)
    )
    _require(actor, Capability.FUNCTIONS_MANAGE, function.organisation)
    return function


@transaction.atomic
def function_update(
    *,
    actor: User | None,
    function: Function,
    from_date: datetime.date | object = UNSET,
    to_date: datetime.date | object | None = UNSET,
) -> Function:
    """Change a function's dates. Person, organisation and type never change: a function in
    another organisation is a new function (or a transfer, P-15)."""
    function = _lock_function(actor, function)
    changes = {
        name: value
        for name, value in (("from_date", from_date), ("to_date", to_date))
        if value is not UNSET
    }
    for name, value in changes.items():
        setattr(function, name, value)
    function.full_clean()
    function._history_user = actor
    function.save(update_fields=[*changes, "updated_at"])
    return function


@transaction.atomic
def function_end(*, actor: User | None, function: Function) -> Function:
    """P-10: "End function" sets to-date to today; the function is then read-only."""
    function = _lock_function(actor, function)
    today = timezone.localdate()
    if function.to_date is not None and function.to_date <= today:
        raise ValidationError(FUNCTION_ALREADY_ENDED)
    function.to_date = max(today, function.from_date)
    function._history_user = actor
    function.save(update_fields=["to_date", "updated_at"])
    return function


@transaction.atomic
def function_activate(*, actor: User | None, function: Function) -> Function:
    """P-10: "Activate" clears the to-date."""
    function = _lock_function(actor, function)
    if function.to_date is None:
        raise ValidationError(FUNCTION_NOT_ENDED)
    function.to_date = None
    function._history_user = actor
    function.save(update_fields=["to_date", "updated_at"])
    return function
