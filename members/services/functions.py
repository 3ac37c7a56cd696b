"""Writes for functions (P-10, P-11)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clubadmin.capabilities import Capability
from members.models import (
    Function,
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
    require_capability(actor, Capability.FUNCTIONS_MANAGE, organisation)
    function_check_placement(organisation=organisation, function_type=function_type)
    function = Function(
        person=person,
        organisation=organisation,
        function_type=function_type,
        from_date=from_date or timezone.localdate(),
        to_date=to_date,
        is_licensed=function_type.is_licensed,
    )
    function.full_clean()
    function._history_user = actor
    function.save()
    return function


def _lock_function(actor: User | None, function: Function) -> Function:
    function = (
        Function.objects.select_for_update().select_related("organisation").get(pk=function.pk)
    )
    require_capability(actor, Capability.FUNCTIONS_MANAGE, function.organisation)
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
