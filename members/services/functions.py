"""Writes for functions (P-10, P-11, P-15)."""

from __future__ import annotations

import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clubadmin.capabilities import Capability
from members.models import (
    ContactSet,
    Function,
    FunctionContact,
    FunctionType,
    Organisation,
    OrganisationType,
    Person,
    User,
)
from members.services.common import UNSET, require_capability

ORGANISATION_INACTIVE = _("Functions can only be added in an active organisation (P-11).")

FUNCTION_TYPE_NOT_ALLOWED_HERE = _("A %(function_type)s function cannot be held in a %(type)s.")

FUNCTION_TYPE_INACTIVE = _("This function type is no longer in use.")

FUNCTION_ALREADY_ENDED = _("The function has already ended.")

FUNCTION_NOT_ENDED = _("The function is already active.")

FUNCTION_READ_ONLY = _("An ended function is read-only; activate it first to change it (P-10).")

# Same text as the model's exclusion constraint, so both share one translation.
LICENSED_FUNCTION_TAKEN = _(
    "The person already holds a licensed function of this type in that period (P-15)."
)

CONTACT_SET_REQUIRED = _("Choose which of the person's contact sets the function uses (P-10).")

CONTACT_SET_OF_ANOTHER_PERSON = _(
    "The contact set must be one of this person's own contact sets (P-10)."
)

CONTACT_SET_ONLY_WITH_CHOICE = _(
    "A contact set is only chosen when the contact is another of the person's sets (P-10)."
)

LICENSED_CONSTRAINT_NAME = "function_one_licensed_per_type"


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


def function_check_contact(*, person: Person, contact: str, contact_set: ContactSet | None) -> None:
    """P-10: the function's contact info is the person's standard set, the organisation's
    address, or another of the person's own sets."""
    if contact == FunctionContact.CONTACT_SET:
        if contact_set is None:
            raise ValidationError({"contact_set": CONTACT_SET_REQUIRED})
        if contact_set.person_id != person.pk:
            raise ValidationError({"contact_set": CONTACT_SET_OF_ANOTHER_PERSON})
    elif contact_set is not None:
        raise ValidationError({"contact_set": CONTACT_SET_ONLY_WITH_CHOICE})


def _name_p15(error: ValidationError) -> ValidationError:
    """Move the exclusion constraint's error from "all fields" to the function type, so that
    forms and the API show it next to the field the rule is about (P-15)."""
    if not hasattr(error, "error_dict"):
        return error
    taken = str(LICENSED_FUNCTION_TAKEN)
    general = error.error_dict.get(NON_FIELD_ERRORS, [])
    if not any(taken in item.messages for item in general):
        return error
    errors = {
        field: items for field, items in error.error_dict.items() if field != NON_FIELD_ERRORS
    }
    remaining = [item for item in general if taken not in item.messages]
    if remaining:
        errors[NON_FIELD_ERRORS] = remaining
    errors["function_type"] = [
        *errors.get("function_type", []),
        ValidationError(LICENSED_FUNCTION_TAKEN, code="licensed_function_taken"),
    ]
    return ValidationError(errors)


def _validate_and_save(function: Function, *, actor: User | None, **save_options: object) -> None:
    """full_clean() and save; P-15 violations (found by validation, or by the exclusion
    constraint when two requests race) become a ValidationError on the function type."""
    try:
        function.full_clean()
    except ValidationError as error:
        raise _name_p15(error) from None
    function._history_user = actor
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            function.save(**save_options)
    except IntegrityError as error:
        diagnostics = getattr(error.__cause__, "diag", None)
        if getattr(diagnostics, "constraint_name", None) == LICENSED_CONSTRAINT_NAME:
            raise ValidationError(
                {"function_type": ValidationError(LICENSED_FUNCTION_TAKEN, code="licensed")}
            ) from error
        raise


def function_insert(
    *,
    actor: User | None,
    person: Person,
    organisation: Organisation,
    function_type: FunctionType,
    from_date: datetime.date,
    to_date: datetime.date | None = None,
    contact: str = FunctionContact.PERSON_STANDARD,
    contact_set: ContactSet | None = None,
) -> Function:
    """Validate and save a new function without checking the actor's capability: for
    services that checked their own (function_create: functions.manage; a transfer's
    approval: transfers.admin). Runs inside the caller's transaction."""
    function_check_placement(organisation=organisation, function_type=function_type)
    function_check_contact(person=person, contact=contact, contact_set=contact_set)
    function = Function(
        person=person,
        organisation=organisation,
        function_type=function_type,
        from_date=from_date,
        to_date=to_date,
        contact=contact,
        contact_set=contact_set,
        # P-15: copied so that the exclusion constraint can guard licensed functions.
        is_licensed=function_type.is_licensed,
    )
    _validate_and_save(function, actor=actor)
    return function


@transaction.atomic
def function_create(
    *,
    actor: User | None,
    person: Person,
    organisation: Organisation,
    function_type: FunctionType,
    from_date: datetime.date | None = None,
    to_date: datetime.date | None = None,
    contact: str = FunctionContact.PERSON_STANDARD,
    contact_set: ContactSet | None = None,
) -> Function:
    """P-10/P-11: add a function in an existing, active organisation; from-date defaults to
    today, to-date to open and the contact to the person's standard contact set."""
    require_capability(actor, Capability.FUNCTIONS_MANAGE, organisation)
    return function_insert(
        actor=actor,
        person=person,
        organisation=organisation,
        function_type=function_type,
        from_date=from_date or timezone.localdate(),
        to_date=to_date,
        contact=contact,
        contact_set=contact_set,
    )


def _lock_function(actor: User | None, function: Function) -> Function:
    function = (
        Function.objects.select_for_update(of=("self",))
        .select_related("organisation", "person", "function_type")
        .get(pk=function.pk)
    )
    require_capability(actor, Capability.FUNCTIONS_MANAGE, function.organisation)
    return function


def function_is_ended(function: Function, today: datetime.date | None = None) -> bool:
    """P-10: a function with a to-date of today or earlier has been ended (read-only)."""
    today = today or timezone.localdate()
    return function.to_date is not None and function.to_date <= today


@transaction.atomic
def function_update(
    *,
    actor: User | None,
    function: Function,
    from_date: datetime.date | object = UNSET,
    to_date: datetime.date | object | None = UNSET,
    contact: str | object = UNSET,
    contact_set: ContactSet | object | None = UNSET,
) -> Function:
    """Change a function's dates or its contact info (P-10). Person, organisation and type
    never change: a function in another organisation is a new function (or a transfer,
    P-15). An ended function is read-only until it is activated."""
    function = _lock_function(actor, function)
    if function_is_ended(function):
        raise ValidationError(FUNCTION_READ_ONLY, code="read_only")
    changes = {
        name: value
        for name, value in (
            ("from_date", from_date),
            ("to_date", to_date),
            ("contact", contact),
            ("contact_set", contact_set),
        )
        if value is not UNSET
    }
    if "contact" in changes and "contact_set" not in changes:
        changes["contact_set"] = None  # a new choice other than "another set" drops the set
    for name, value in changes.items():
        setattr(function, name, value)
    if {"contact", "contact_set"} & set(changes):
        function_check_contact(
            person=function.person, contact=function.contact, contact_set=function.contact_set
        )
    _validate_and_save(function, actor=actor, update_fields=[*changes, "updated_at"])
    return function


@transaction.atomic
def function_end(*, actor: User | None, function: Function) -> Function:
    """P-10: "End function" sets to-date to today; the function is then read-only."""
    function = _lock_function(actor, function)
    today = timezone.localdate()
    if function_is_ended(function, today):
        raise ValidationError(FUNCTION_ALREADY_ENDED)
    function.to_date = max(today, function.from_date)
    function._history_user = actor
    function.save(update_fields=["to_date", "updated_at"])
    return function


@transaction.atomic
def function_activate(*, actor: User | None, function: Function) -> Function:
    """P-10: "Activate" clears the to-date. A licensed function is refused while the person
    holds another licensed function of the type (P-15)."""
    function = _lock_function(actor, function)
    if function.to_date is None:
        raise ValidationError(FUNCTION_NOT_ENDED)
    function.to_date = None
    _validate_and_save(function, actor=actor, update_fields=["to_date", "updated_at"])
    return function
