"""Writes for organisations: the tree (federation > region > club > group > team), S-04."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from stdnum.no import kontonr, orgnr

from clubadmin.capabilities import Capability
from members.models import (
    ORGANISATION_DATA_FIELDS,
    ORGANISATION_LEVELS,
    Organisation,
    OrganisationType,
    User,
)
from members.services.common import NOT_ALLOWED, require_capability

CHILD_TYPE_NOT_BELOW_PARENT = _(
    "A %(child)s cannot be placed under a %(parent)s: the tree is federation > region > club "
    "> group > team."
)

ROOT_MUST_BE_FEDERATION = _("Only a federation can be at the top of the tree.")

PARENT_INACTIVE = _("The parent organisation is not active.")

IMMUTABLE_ORGANISATION_FIELDS = frozenset({"path", "depth", "numchild", "organisation_type"})

EDITABLE_ORGANISATION_FIELDS = frozenset(ORGANISATION_DATA_FIELDS)


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
        require_capability(actor, Capability.ORGANISATIONS_MANAGE, parent)
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
    require_capability(actor, Capability.ORGANISATIONS_MANAGE, organisation)
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
