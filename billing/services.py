"""Every write of the billing app (issue 5): fee schedules, agreements, contracts, volunteer
hours, trial periods and instalment plans. Keyword-only, atomic, validated (`full_clean`);
the money and exemption models keep their history (simple_history) with the acting user.

`actor=None` means the system itself (a management command, a data migration, a test).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from djmoney.money import Money

from billing import pricing, selectors
from billing.models import (
    CONFIDENTIAL_KINDS,
    CURRENCY,
    DEFAULT_RULE_IDS,
    ActivityGroup,
    AgreementKind,
    CohortFee,
    ExemptionAgreement,
    FeeSchedule,
    Instalment,
    InstalmentPlan,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
    membership_price_data,
)
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, OrganisationType, Person, User

NOT_ALLOWED = "You may not do this in this organisation."
NOT_A_CLUB = "Fee schedules belong to clubs."
SCHEDULE_EXISTS = "The club already has a fee schedule for {season}."
HARDSHIP_GENERAL_MANAGER_ONLY = "D-11: only the club's general manager decides hardship exemptions."


def _require(actor: User | None, capability: str, organisation: Organisation) -> None:
    if actor is not None and not access.has_capability(actor, capability, organisation):
        raise PermissionDenied(NOT_ALLOWED)


def _save(instance: models.Model, actor: User | None) -> models.Model:
    instance.full_clean()
    instance._history_user = actor  # simple_history: who made the change
    instance.save()
    return instance


def _nok(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money(amount, CURRENCY)


# ------------------------------------------------------------------ fee schedules


@transaction.atomic
def fee_schedule_create(
    *,
    actor: User | None,
    club: Organisation,
    config: pricing.SeasonConfig,
    group_organisations: dict[str, Organisation] | None = None,
) -> FeeSchedule:
    """Store `config` as the club's fee schedule for `config.season` (issue 5, scope 4).
    `group_organisations` links the config's group codes to groups of the club; a code
    without one is matched by the group's sport (e.g. "football")."""
    _require(actor, Capability.BILLING_MANAGE, club)
    if club.organisation_type != OrganisationType.CLUB:
        raise ValidationError(NOT_A_CLUB)
    if FeeSchedule.objects.filter(club=club, season=config.season).exists():
        raise ValidationError(SCHEDULE_EXISTS.format(season=config.season))
    schedule = _save(_fee_schedule_from_config(club, config), actor)
    linked = group_organisations or {}
    by_sport = _groups_by_sport(club)
    for position, group in enumerate(config.groups):
        organisation = linked.get(group.group) or by_sport.get(group.group.casefold())
        activity_group = _save(_activity_group(schedule, group, organisation, position), actor)
        for fee in config.activity_fees:
            if fee.group == group.group:
                _save(
                    CohortFee(
                        activity_group=activity_group,
                        birth_year_from=fee.birth_year_from,
                        birth_year_to=fee.birth_year_to,
                        amount=_nok(fee.amount),
                        rule_id=fee.rule_id,
                    ),
                    actor,
                )
    return schedule


def fee_schedule_create_from_example(
    *, actor: User | None, club: Organisation, season: int
) -> FeeSchedule:
    """The example club's schedule (billing.pricing.example) as the club's starting point."""
    return fee_schedule_create(
        actor=actor, club=club, config=pricing.example_season_config(season, str(club.pk))
    )


def _fee_schedule_from_config(club: Organisation, config: pricing.SeasonConfig) -> FeeSchedule:
    volunteer = config.volunteer_fee
    schedule = config.membership_schedule
    return FeeSchedule(
        club=club,
        season=config.season,
        membership_prices=[membership_price_data(p) for p in config.membership_prices],
        membership_minimum=_nok(config.membership_minimum),
        membership_invoice_date=schedule.invoice_date,
        membership_due_date=schedule.due_date,
        membership_period_mode=schedule.period_mode.value,
        membership_due_days=schedule.due_days,
        family_fee=_nok(config.family_fee.amount) if config.family_fee else None,
        family_max_members=config.family_fee.max_members if config.family_fee else 7,
        invoice_fee=_nok(config.invoice_fee.amount) if config.invoice_fee else None,
        invoice_fee_kinds=[k.value for k in config.invoice_fee.fee_kinds]
        if config.invoice_fee
        else [],
        volunteer_fee=_nok(volunteer.amount) if volunteer else None,
        volunteer_invoice_date=volunteer.invoice_date if volunteer else None,
        volunteer_due_date=volunteer.due_date if volunteer else None,
        volunteer_min_age=volunteer.min_age if volunteer else 12,
        volunteer_max_age=volunteer.max_age if volunteer else 80,
        volunteer_refund_per_hour=_nok(volunteer.refund_per_hour if volunteer else Decimal(0)),
        volunteer_refund_capped=volunteer.refund_capped_at_fee if volunteer else True,
        rules=[rule.to_data() for rule in config.rules],
        rounding_unit=config.rounding_unit,
    )


def _activity_group(
    schedule: FeeSchedule,
    group: pricing.ActivityGroup,
    organisation: Organisation | None,
    position: int,
) -> ActivityGroup:
    rule = group.instalments
    return ActivityGroup(
        fee_schedule=schedule,
        organisation=organisation,
        code=group.group,
        name=group.name,
        position=position,
        season_start=group.season_start,
        season_end=group.season_end,
        invoice_date=group.invoice_date,
        due_days=group.due_days,
        instalments_paid_before=rule.paid_before if rule else None,
        instalment_counts=list(rule.allowed_counts) if rule else [],
        instalment_min_share_percent=rule.min_share_percent if rule else Decimal(70),
    )


def _groups_by_sport(club: Organisation) -> dict[str, Organisation]:
    groups = Organisation.objects.filter(
        path__startswith=club.path, organisation_type=OrganisationType.GROUP
    ).exclude(sport="")
    return {group.sport.casefold(): group for group in groups.order_by("path")}


# ------------------------------------------------------------------ exemptions and facts


@transaction.atomic
def volunteer_contract_create(
    *,
    actor: User | None,
    person: Person,
    club: Organisation,
    signed_on: datetime.date,
    valid_until: datetime.date | None = None,
) -> VolunteerContract:
    """D-10: a signed volunteer contract on file."""
    _require(actor, Capability.BILLING_MANAGE, club)
    contract = VolunteerContract(
        person=person, club=club, signed_on=signed_on, valid_until=valid_until
    )
    return _save(contract, actor)


@transaction.atomic
def _is_confidential_rule(club: Organisation, season: int, rule_id: str) -> bool:
    """D-11: whether the agreement would grant a confidential exemption, whatever its kind
    says: the default hardship rules, or a rule the season's schedule marks confidential."""
    if not rule_id:
        return False
    if rule_id in {DEFAULT_RULE_IDS[kind] for kind in CONFIDENTIAL_KINDS}:
        return True
    schedule = FeeSchedule.objects.filter(club=club, season=season).first()
    if schedule is None:
        return False
    return any(
        rule.rule_id == rule_id
        and isinstance(rule.params, pricing.AgreementExemptionParams)
        and rule.params.confidential
        for rule in schedule.to_config().rules
    )


def exemption_agreement_create(
    *,
    actor: User | None,
    person: Person,
    club: Organisation,
    season: int,
    kind: str,
    rule_id: str = "",
    for_self: bool = True,
    for_children: bool = False,
    children: tuple[Person, ...] = (),
    group: Organisation | None = None,
    team: Organisation | None = None,
    fee_kinds: tuple[str, ...] = (pricing.FeeKind.ACTIVITY,),
    percent: Decimal | None = None,
    notes: str = "",
) -> ExemptionAgreement:
    """D-10 written agreements and D-11 hardship exemptions. Hardship (and working off the
    fee) is confidential and decided by the club's general manager only."""
    _require(actor, Capability.BILLING_MANAGE, club)
    kind = AgreementKind(kind)
    confidential = kind in CONFIDENTIAL_KINDS or _is_confidential_rule(club, season, rule_id)
    if confidential and actor is not None and not selectors.is_general_manager(actor, club):
        raise PermissionDenied(HARDSHIP_GENERAL_MANAGER_ONLY)
    agreement = ExemptionAgreement(
        person=person,
        club=club,
        season=season,
        kind=kind,
        rule_id=rule_id or DEFAULT_RULE_IDS[kind],
        for_self=for_self,
        for_children=for_children,
        group=group,
        team=team,
        fee_kinds=[pricing.FeeKind(k).value for k in fee_kinds],
        percent=percent,
        approved_by=actor,
        notes=notes,
    )
    _save(agreement, actor)
    if children:
        agreement.children.set(children)
    return agreement


@transaction.atomic
def volunteer_hours_set(
    *, actor: User | None, person: Person, club: Organisation, season: int, hours: Decimal
) -> VolunteerHours:
    """M-15: the hours of volunteer work a person did in the season."""
    _require(actor, Capability.BILLING_MANAGE, club)
    row = (
        VolunteerHours.objects.select_for_update()
        .filter(person=person, club=club, season=season)
        .first()
    ) or VolunteerHours(person=person, club=club, season=season)
    row.hours = hours
    return _save(row, actor)


@transaction.atomic
def trial_period_start(
    *,
    actor: User | None,
    person: Person,
    team: Organisation,
    start_date: datetime.date,
    from_other_club: bool = False,
    former_club_agreed: bool = False,
) -> TrialPeriod:
    """D-06: a new player's trial period with a team."""
    _require(actor, Capability.MEMBERS_MANAGE, team)
    trial = TrialPeriod(
        person=person,
        team=team,
        start_date=start_date,
        from_other_club=from_other_club,
        former_club_agreed=former_club_agreed,
    )
    return _save(trial, actor)


# ------------------------------------------------------------------ D-08 instalments


@transaction.atomic
def instalment_plan_create(
    *,
    actor: User | None,
    person: Person,
    club: Organisation,
    season: int,
    group_code: str,
    count: int,
    months_between: int = 1,
) -> InstalmentPlan:
    """D-08: split what the person owes for one group's activity fee into `count` (2 or 4)
    instalments with the engine; a plan that puts less than the club's share (70%) before
    the group's date is refused (ValidationError naming D-08) and nothing is stored."""
    _require(actor, Capability.BILLING_MANAGE, club)
    config = selectors.season_config(club, season)
    facts = selectors.person_facts(club, season, [person.pk])
    try:
        dues = pricing.price_person(config, facts, person.pk)
        plan = pricing.activity_instalment_plan(
            config, dues, group_code, count, months_between=months_between
        )
    except pricing.PricingError as error:
        raise ValidationError(str(error), code="D-08") from error
    total = sum((instalment.amount for instalment in plan), Decimal(0))
    stored = _save(
        InstalmentPlan(
            person=person,
            club=club,
            season=season,
            group_code=group_code,
            total=_nok(total),
            created_by=actor,
        ),
        actor,
    )
    Instalment.objects.bulk_create(
        Instalment(plan=stored, number=i.number, amount=_nok(i.amount), due_date=i.due_date)
        for i in plan
    )
    return stored
