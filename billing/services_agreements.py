"""Writes of the agreement pages (issue 5, scope 5): written agreements and hardship
exemptions (D-10, D-11), volunteer contracts (D-10), trial periods (D-06) and payment
preferences (M-10). Creating a contract, an agreement, volunteer hours and a trial period
is billing.services; this module checks what those leave to their callers and adds the
changes and removals.

- A person must belong to the club (a membership or a function in it or below it).
- An agreement grants one of the rules of the season's fee schedule that agreements grant
  (D-10 rules requiring an agreement, D-11 agreement exemptions); a confidential rule (D-11)
  only through a hardship agreement or one to work off the fee, which only the club's
  general manager records, changes, removes or even sees.
- Everything is saved with the acting user in its history (simple_history).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from billing import pricing, selectors, services
from billing.models import (
    CONFIDENTIAL_KINDS,
    DEFAULT_RULE_IDS,
    AgreementKind,
    ExemptionAgreement,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
)
from billing.services_schedules import is_confidential
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import GuardianRelation, Organisation, OrganisationType, Person, User

NOT_ALLOWED = services.NOT_ALLOWED
HARDSHIP_GENERAL_MANAGER_ONLY = services.HARDSHIP_GENERAL_MANAGER_ONLY
PERSON_NOT_OF_CLUB = _("The person is neither a member of the club nor holds a function in it.")
NOT_THEIR_CHILD = _("%(name)s is not registered as a child of the person.")
NOT_A_GROUP_OF_CLUB = _("Choose a group of the club.")
NOT_A_TEAM_OF_CLUB = _("Choose a team of the club.")
RULE_NOT_GRANTED_BY_AGREEMENTS = _(
    "The fee schedule of %(season)s has no rule '%(rule_id)s' that an agreement grants."
)
CONFIDENTIAL_RULE_NEEDS_CONFIDENTIAL_KIND = _(
    "D-11: a confidential rule is granted only by a hardship agreement or an agreement to "
    "work off the fee."
)
CONFIDENTIAL_KIND_NEEDS_CONFIDENTIAL_RULE = _(
    "D-11: a hardship agreement or an agreement to work off the fee grants a confidential rule."
)
VALID_UNTIL_BEFORE_FROM = _("The end date cannot be before the start date.")
NO_BENEFICIARY = _("An agreement is for the person, their children, or both.")
NO_FEES = _("Choose at least one fee the agreement covers.")

AGREEMENT_FIELDS = (
    "kind",
    "rule_id",
    "for_self",
    "for_children",
    "group",
    "team",
    "fee_kinds",
    "percent",
    "valid_from",
    "valid_until",
    "notes",
)


def _require(actor: User | None, capability: str, organisation: Organisation) -> None:
    if actor is not None and not access.has_capability(actor, capability, organisation):
        raise PermissionDenied(NOT_ALLOWED)


def _save(instance: models.Model, actor: User | None) -> models.Model:
    instance.full_clean()
    instance._history_user = actor  # simple_history: who made the change
    instance.save()
    return instance


def _delete(instance: models.Model, actor: User | None) -> None:
    instance._history_user = actor
    instance.delete()


def may_handle_kind(actor: User | None, club: Organisation, kind: str) -> bool:
    """D-11: confidential agreements are the general manager's alone."""
    return (
        actor is None or kind not in CONFIDENTIAL_KINDS or selectors.is_general_manager(actor, club)
    )


def _require_kind(actor: User | None, club: Organisation, *kinds: str) -> None:
    if not all(may_handle_kind(actor, club, kind) for kind in kinds):
        raise PermissionDenied(HARDSHIP_GENERAL_MANAGER_ONLY)


def check_person_of_club(person: Person, club: Organisation) -> None:
    if not selectors.belongs_to_club(person, club):
        raise ValidationError({"person": [PERSON_NOT_OF_CLUB]})


# ------------------------------------------------------------------ agreements (D-10, D-11)


def agreement_rules(club: Organisation, season: int) -> list[pricing.Rule] | None:
    """The rules of the season's fee schedule that an agreement grants (D-10 rules that
    require one, D-11 agreement exemptions); None when the club has no schedule for it."""
    try:
        config = selectors.season_config(club, season)
    except (selectors.NoFeeSchedule, pricing.ConfigError):
        return None
    return [
        rule
        for rule in config.rules
        if isinstance(rule.params, pricing.AgreementExemptionParams)
        or (isinstance(rule.params, pricing.RoleExemptionParams) and rule.params.agreement_required)
    ]


def check_agreement(
    *,
    club: Organisation,
    season: int,
    person: Person,
    kind: str,
    rule_id: str,
    for_self: bool,
    for_children: bool,
    fee_kinds: Sequence[str],
    group: Organisation | None = None,
    team: Organisation | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    children: Sequence[Person] = (),
) -> None:
    """What the agreement services need beyond one row's validity (ValidationError)."""
    errors: dict[str, list[Any]] = {}
    if not selectors.belongs_to_club(person, club):
        errors["person"] = [PERSON_NOT_OF_CLUB]
    if not for_self and not for_children:
        errors["for_self"] = [NO_BENEFICIARY]
    if not fee_kinds:
        errors["fee_kinds"] = [NO_FEES]
    if group is not None and not _below(group, club, OrganisationType.GROUP):
        errors["group"] = [NOT_A_GROUP_OF_CLUB]
    if team is not None and not _below(team, club, OrganisationType.TEAM):
        errors["team"] = [NOT_A_TEAM_OF_CLUB]
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = [VALID_UNTIL_BEFORE_FROM]
    own_children = set(
        GuardianRelation.objects.filter(guardian=person).values_list("child_id", flat=True)
    )
    strangers = [child for child in children if child.pk not in own_children]
    if strangers:
        errors["children"] = [NOT_THEIR_CHILD % {"name": child.full_name} for child in strangers]
    rule_error = _rule_error(club, season, kind, rule_id)
    if rule_error is not None:
        errors["rule_id"] = [rule_error]
    if errors:
        raise ValidationError(errors)


def _below(organisation: Organisation, club: Organisation, organisation_type: str) -> bool:
    return organisation.organisation_type == organisation_type and organisation.path.startswith(
        club.path
    )


def _rule_error(club: Organisation, season: int, kind: str, rule_id: str) -> Any:
    rules = agreement_rules(club, season)
    if rules is None:  # no schedule yet: the example club's rule for the kind
        if rule_id == DEFAULT_RULE_IDS[AgreementKind(kind)]:
            return None
        return RULE_NOT_GRANTED_BY_AGREEMENTS % {"season": season, "rule_id": rule_id}
    rule = next((rule for rule in rules if rule.rule_id == rule_id), None)
    if rule is None:
        return RULE_NOT_GRANTED_BY_AGREEMENTS % {"season": season, "rule_id": rule_id}
    confidential_kind = kind in CONFIDENTIAL_KINDS
    if is_confidential(rule) and not confidential_kind:
        return CONFIDENTIAL_RULE_NEEDS_CONFIDENTIAL_KIND
    if confidential_kind and not is_confidential(rule):
        return CONFIDENTIAL_KIND_NEEDS_CONFIDENTIAL_RULE
    return None


@transaction.atomic
def exemption_agreement_record(
    *,
    actor: User | None,
    person: Person,
    club: Organisation,
    season: int,
    kind: str,
    rule_id: str,
    for_self: bool = True,
    for_children: bool = False,
    children: Sequence[Person] = (),
    group: Organisation | None = None,
    team: Organisation | None = None,
    fee_kinds: Sequence[str] = (pricing.FeeKind.ACTIVITY,),
    percent: Decimal | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    notes: str = "",
) -> ExemptionAgreement:
    """Record a written agreement (D-10) or a hardship exemption (D-11) after the checks of
    `check_agreement`, through billing.services.exemption_agreement_create."""
    _require(actor, Capability.BILLING_MANAGE, club)
    _require_kind(actor, club, kind)
    check_agreement(
        club=club,
        season=season,
        person=person,
        kind=kind,
        rule_id=rule_id,
        for_self=for_self,
        for_children=for_children,
        fee_kinds=fee_kinds,
        group=group,
        team=team,
        valid_from=valid_from,
        valid_until=valid_until,
        children=children,
    )
    agreement = services.exemption_agreement_create(
        actor=actor,
        person=person,
        club=club,
        season=season,
        kind=kind,
        rule_id=rule_id,
        for_self=for_self,
        for_children=for_children,
        children=tuple(children),
        group=group,
        team=team,
        fee_kinds=tuple(fee_kinds),
        percent=percent,
        notes=notes,
    )
    if valid_from is not None or valid_until is not None:
        agreement.valid_from, agreement.valid_until = valid_from, valid_until
        _save(agreement, actor)
    return agreement


@transaction.atomic
def exemption_agreement_update(
    *,
    actor: User | None,
    agreement: ExemptionAgreement,
    children: Sequence[Person] | None = None,
    **fields: Any,
) -> ExemptionAgreement:
    """Change an agreement (AGREEMENT_FIELDS; `children` narrows `for_children` to some of
    the person's children, none = all of them). Person, club and season stay."""
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of an agreement: {sorted(unknown)}")
    agreement = ExemptionAgreement.objects.select_for_update().get(pk=agreement.pk)
    _require(actor, Capability.BILLING_MANAGE, agreement.club)
    _require_kind(actor, agreement.club, agreement.kind, fields.get("kind", agreement.kind))
    for name, value in fields.items():
        setattr(agreement, name, list(value) if name == "fee_kinds" else value)
    chosen = list(agreement.children.all()) if children is None else list(children)
    check_agreement(
        club=agreement.club,
        season=agreement.season,
        person=agreement.person,
        kind=agreement.kind,
        rule_id=agreement.rule_id,
        for_self=agreement.for_self,
        for_children=agreement.for_children,
        fee_kinds=agreement.fee_kinds,
        group=agreement.group,
        team=agreement.team,
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        children=chosen,
    )
    agreement.approved_by = actor if actor is not None else agreement.approved_by
    _save(agreement, actor)
    if children is not None:
        agreement.children.set(children)
    return agreement


@transaction.atomic
def exemption_agreement_delete(*, actor: User | None, agreement: ExemptionAgreement) -> None:
    agreement = ExemptionAgreement.objects.select_for_update().get(pk=agreement.pk)
    _require(actor, Capability.BILLING_MANAGE, agreement.club)
    _require_kind(actor, agreement.club, agreement.kind)
    agreement.children.clear()
    _delete(agreement, actor)


# ------------------------------------------------------------------ volunteer contracts (D-10)


@transaction.atomic
def volunteer_contract_record(
    *,
    actor: User | None,
    person: Person,
    club: Organisation,
    signed_on: datetime.date,
    valid_until: datetime.date | None = None,
) -> VolunteerContract:
    """D-10: a signed volunteer contract of a person of the club (billing.services)."""
    _require(actor, Capability.BILLING_MANAGE, club)
    check_person_of_club(person, club)
    return services.volunteer_contract_create(
        actor=actor, person=person, club=club, signed_on=signed_on, valid_until=valid_until
    )


@transaction.atomic
def volunteer_contract_update(
    *,
    actor: User | None,
    contract: VolunteerContract,
    signed_on: datetime.date,
    valid_until: datetime.date | None,
) -> VolunteerContract:
    """Correct the signing date or end the contract (`valid_until`)."""
    contract = VolunteerContract.objects.select_for_update().get(pk=contract.pk)
    _require(actor, Capability.BILLING_MANAGE, contract.club)
    contract.signed_on, contract.valid_until = signed_on, valid_until
    return _save(contract, actor)


@transaction.atomic
def volunteer_contract_delete(*, actor: User | None, contract: VolunteerContract) -> None:
    """A contract registered by mistake (an ended one keeps its end date instead)."""
    contract = VolunteerContract.objects.select_for_update().get(pk=contract.pk)
    _require(actor, Capability.BILLING_MANAGE, contract.club)
    _delete(contract, actor)


# ------------------------------------------------------------------ volunteer hours (M-15)


@transaction.atomic
def volunteer_hours_record(
    *, actor: User | None, person: Person, club: Organisation, season: int, hours: Decimal
) -> Any:
    """M-15: the hours a person of the club worked in the season (billing.services)."""
    _require(actor, Capability.BILLING_MANAGE, club)
    check_person_of_club(person, club)
    return services.volunteer_hours_set(
        actor=actor, person=person, club=club, season=season, hours=hours
    )


# ------------------------------------------------------------------ trial periods (D-06)


@transaction.atomic
def trial_period_record(
    *,
    actor: User | None,
    person: Person,
    team: Organisation,
    start_date: datetime.date,
    from_other_club: bool = False,
    former_club_agreed: bool = False,
) -> TrialPeriod:
    """D-06: a new player's trial with a team (billing.services, members.manage)."""
    if team.organisation_type != OrganisationType.TEAM:
        raise ValidationError({"team": [NOT_A_TEAM_OF_CLUB]})
    return services.trial_period_start(
        actor=actor,
        person=person,
        team=team,
        start_date=start_date,
        from_other_club=from_other_club,
        former_club_agreed=former_club_agreed,
    )


@transaction.atomic
def trial_period_update(
    *,
    actor: User | None,
    trial: TrialPeriod,
    start_date: datetime.date,
    from_other_club: bool,
    former_club_agreed: bool,
) -> TrialPeriod:
    """Correct the start, or record that the former club agreed (D-06)."""
    trial = TrialPeriod.objects.select_for_update().select_related("team").get(pk=trial.pk)
    _require(actor, Capability.MEMBERS_MANAGE, trial.team)
    trial.start_date = start_date
    trial.from_other_club = from_other_club
    trial.former_club_agreed = former_club_agreed
    return _save(trial, actor)


@transaction.atomic
def trial_period_delete(*, actor: User | None, trial: TrialPeriod) -> None:
    trial = TrialPeriod.objects.select_for_update().select_related("team").get(pk=trial.pk)
    _require(actor, Capability.MEMBERS_MANAGE, trial.team)
    _delete(trial, actor)


# ------------------------------------------------------------------ payment preference (M-10)


@transaction.atomic
def payment_preference_set(
    *, actor: User | None, person: Person, club: Organisation, method: str
) -> PaymentPreference:
    """M-10: how the person pays the club; paying by invoice adds the invoice fee."""
    _require(actor, Capability.BILLING_MANAGE, club)
    check_person_of_club(person, club)
    method = pricing.PaymentMethod(method).value
    row = (
        PaymentPreference.objects.select_for_update().filter(person=person, club=club).first()
    ) or PaymentPreference(person=person, club=club)
    row.method = method
    return _save(row, actor)
