"""Writes for competences (P-13): type, comment, valid from/to, temporarily inactive.

Access: `persons.edit` on the person changes competences, `persons.view` sees them. A deceased
person's competences cannot be added or changed (P-06): checked here, under a lock on the
person row, so that no form or API can bypass it.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Competence, CompetenceType, Person, User
from members.services.common import NOT_ALLOWED, UNSET
from members.services.persons import PERSON_IS_DECEASED, ensure_not_deceased, lock_person

# P-06: the person card's guard and its message (members.services.persons).
PERSON_DECEASED = PERSON_IS_DECEASED
COMPETENCE_TYPE_INACTIVE = _("This competence type is no longer in use (P-13).")
ALREADY_INACTIVE = _("The competence is already temporarily inactive (P-13).")
ALREADY_ACTIVE = _("The competence is already active (P-13).")
VALID_TO_BEFORE_FROM = _("Valid to cannot be before valid from (P-13).")


def lock_living_person(
    *, actor: User | None, person: Person, capability: str | None = None
) -> Person:
    """Lock the person row, check `capability` on the person (when given) and refuse a
    deceased person (P-06). The lock makes a concurrent "mark deceased" wait for this change,
    or this change see it."""
    person = lock_person(person)
    if capability and actor is not None and not access.can(actor, capability, person):
        raise PermissionDenied(NOT_ALLOWED)
    ensure_not_deceased(person)
    return person


def _save(competence: Competence, *, actor: User | None, **save_options: object) -> None:
    if competence.valid_to is not None and competence.valid_to < competence.valid_from:
        raise ValidationError({"valid_to": VALID_TO_BEFORE_FROM})
    competence.full_clean()
    competence._history_user = actor
    competence.save(**save_options)


@transaction.atomic
def competence_create(
    *,
    actor: User | None,
    person: Person,
    competence_type: CompetenceType,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    comment: str = "",
) -> Competence:
    """P-13: add a competence to a living person (P-06)."""
    person = lock_living_person(actor=actor, person=person, capability=Capability.PERSONS_EDIT)
    if not competence_type.is_active:
        raise ValidationError({"competence_type": COMPETENCE_TYPE_INACTIVE})
    competence = Competence(
        person=person,
        competence_type=competence_type,
        valid_from=valid_from,
        valid_to=valid_to,
        comment=comment.strip(),
    )
    _save(competence, actor=actor)
    return competence


def _lock_competence(actor: User | None, competence: Competence) -> Competence:
    # Person first, then the competence: the same lock order as competence_create.
    lock_living_person(actor=actor, person=competence.person, capability=Capability.PERSONS_EDIT)
    return (
        Competence.objects.select_for_update(of=("self",))
        .select_related("competence_type", "person")
        .get(pk=competence.pk)
    )


@transaction.atomic
def competence_update(
    *,
    actor: User | None,
    competence: Competence,
    comment: str | object = UNSET,
    valid_to: datetime.date | object | None = UNSET,
    is_temporarily_inactive: bool | object = UNSET,
) -> Competence:
    """P-13: edit the comment, change the valid-to date, set temporarily inactive or active
    again. Person, type and valid-from stay."""
    competence = _lock_competence(actor, competence)
    changes = {
        name: value
        for name, value in (
            ("comment", comment),
            ("valid_to", valid_to),
            ("is_temporarily_inactive", is_temporarily_inactive),
        )
        if value is not UNSET
    }
    if isinstance(changes.get("comment"), str):
        changes["comment"] = changes["comment"].strip()
    for name, value in changes.items():
        setattr(competence, name, value)
    _save(competence, actor=actor, update_fields=[*changes, "updated_at"])
    return competence


@transaction.atomic
def competence_set_temporarily_inactive(
    *, actor: User | None, competence: Competence, inactive: bool
) -> Competence:
    """P-13: set a competence temporarily inactive, or active again (refused when it already
    is, so that a double click does not look like a change)."""
    current = _lock_competence(actor, competence)
    if current.is_temporarily_inactive == inactive:
        raise ValidationError(ALREADY_INACTIVE if inactive else ALREADY_ACTIVE)
    return competence_update(actor=actor, competence=current, is_temporarily_inactive=inactive)
