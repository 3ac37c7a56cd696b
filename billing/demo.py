"""The billing app's part of `manage.py seed_demo` (called through
`BillingConfig.seed_demo_data`, see clubadmin.demo_hooks), after members.demo gave the clubs
their memberships and families.

The demo club gets, through the billing services and by its general manager:
- the example fee schedule (billing.pricing.example) for the current and the next season,
  its activity groups linked to the club's football and handball groups, plus ski with
  example cohort fees (D-07);
- signed volunteer contracts (D-10) for the `lagleder` login and for a parent who leads
  or coaches their own child's team, so that the team-leader exemption shows in the dues;
- one hardship exemption for a child's activity fee (D-11, confidential: only the general
  manager sees its lines);
- a trial period (D-06) for every player who joined the club in the last three weeks;
- volunteer hours (M-15) for `forelder` and her husband, so that their refunds show.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import F

from billing import pricing, services
from billing.models import TRIAL_DAYS, AgreementKind
from billing.pricing import example
from clubadmin import demo_data
from members.models import (
    Function,
    GuardianRelation,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
    User,
)

if TYPE_CHECKING:
    from clubadmin.demo_hooks import DemoContext

SKI = "ski"
# The demo register's sports (the groups' `sport`) as the engine's group codes.
GROUP_CODES = {
    demo_data.FOOTBALL: example.FOOTBALL,
    demo_data.HANDBALL: example.HANDBALL,
    demo_data.SKI: SKI,
}
# D-07: ski's activity fees (example amounts): children 6-12, youth 13-19, adults.
SKI_FEES = ((12, 6, Decimal(1200)), (19, 13, Decimal(1500)), (99, 20, Decimal(1800)))
CONTRACTS_SIGNED_ON = datetime.date(2025, 8, 15)
TEAM_ROLE_CODES = ("team-leader", "head-coach")
HARDSHIP_NOTES = "Demo: granted after public support schemes were tried."
# M-15: hours of volunteer work this season, by login (and her husband, the next adult of
# her family): the second is more than the fee, so the refund is capped.
VOLUNTEER_HOURS = (Decimal(3), Decimal(8))


def seed(context: DemoContext) -> None:
    club = context.demo_club
    manager = context.users.get("dagligleder")
    groups = club_groups(club)
    season = context.today.year
    schedules = [
        services.fee_schedule_create(
            actor=manager,
            club=club,
            config=demo_season_config(year, club, groups),
            group_organisations=groups,
        )
        for year in (season, season + 1)
    ]
    contracts = _volunteer_contracts(context, manager)
    hardship = _hardship_exemption(context, manager, season, other_than=contracts)
    trials = _trial_periods(context, manager)
    hours = _volunteer_hours(context, manager, season)
    context.report(
        f"{club.name} fee schedules {' and '.join(str(s.season) for s in schedules)} "
        f"({', '.join(sorted(groups))}); volunteer contracts: {len(contracts)}, hardship "
        f"exemptions: {hardship}, trial periods: {trials}, persons with volunteer hours: {hours}."
    )


def club_groups(club: Organisation) -> dict[str, Organisation]:
    """The club's sport groups by the engine's group code."""
    groups = Organisation.objects.filter(
        path__startswith=club.path, organisation_type=OrganisationType.GROUP
    ).order_by("path")
    return {GROUP_CODES[group.sport]: group for group in groups if group.sport in GROUP_CODES}


def demo_season_config(
    season: int, club: Organisation, groups: dict[str, Organisation]
) -> pricing.SeasonConfig:
    """The example club's season for the demo club: its groups named as the club names
    them, and ski when the club has it."""
    config = pricing.example_season_config(season, str(club.pk))
    activity_groups = [
        dataclasses.replace(group, name=groups[group.group].sport)
        if group.group in groups
        else group
        for group in config.groups
    ]
    fees = list(config.activity_fees)
    if SKI in groups:
        activity_groups.append(
            pricing.ActivityGroup(
                group=SKI,
                name=groups[SKI].sport,
                season_start=datetime.date(season, 1, 1),
                season_end=datetime.date(season, 12, 31),
                invoice_date=datetime.date(season, 1, 15),
                due_days=28,
            )
        )
        fees += [
            pricing.ActivityFee(SKI, season - oldest, season - youngest, amount)
            for oldest, youngest, amount in SKI_FEES
        ]
    return dataclasses.replace(config, groups=tuple(activity_groups), activity_fees=tuple(fees))


def _volunteer_contracts(context: DemoContext, actor: User | None) -> list[int]:
    """D-10: the team leader login, and a parent leading or coaching their child's team.
    Returns the ids of the persons who signed."""
    club = context.demo_club
    holders = [context.login_person_id("lagleder")]
    parent = (
        Function.objects.filter(
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code__in=TEAM_ROLE_CODES,
            to_date__isnull=True,
            person__children_relations__child__functions__organisation=F("organisation"),
            person__children_relations__child__functions__function_type__code="player",
            person__children_relations__child__functions__to_date__isnull=True,
        )
        .exclude(person_id__in=holders)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    if parent is not None:
        holders.append(parent)
    for person in Person.objects.filter(pk__in=holders).order_by("pk"):
        services.volunteer_contract_create(
            actor=actor, person=person, club=club, signed_on=CONTRACTS_SIGNED_ON
        )
    return holders


def _hardship_exemption(
    context: DemoContext, actor: User | None, season: int, *, other_than: list[int]
) -> int:
    """D-11: a parent's application for a playing child, decided by the general manager.
    Not in `forelder`'s family (her dues show the ordinary lines), nor a child of a parent
    in `other_than` (whose contract already exempts the child's team, D-10)."""
    club = context.demo_club
    parent_family = Membership.objects.filter(
        person_id=context.login_person_id("forelder"), club=club, family__isnull=False
    ).values("family_id")
    relation = (
        GuardianRelation.objects.filter(
            child__memberships__club=club,
            child__memberships__family__isnull=False,
            child__functions__organisation__path__startswith=club.path,
            child__functions__function_type__code="player",
            child__functions__to_date__isnull=True,
        )
        .filter(child__birth_date__year__range=(season - 19, season - 6))  # D-07 cohorts
        .exclude(child__memberships__family__in=parent_family)
        .exclude(child__guardian_relations__guardian_id__in=other_than)
        .exclude(child__memberships__status=MembershipStatus.ENDED)
        .select_related("guardian", "child")
        # D-09: the oldest player of a family always pays, so the exemption shows.
        .order_by("child__birth_date", "child_id", "guardian_id")
        .first()
    )
    if relation is None:
        return 0
    services.exemption_agreement_create(
        actor=actor,
        person=relation.guardian,
        club=club,
        season=season,
        kind=AgreementKind.HARDSHIP,
        for_self=False,
        for_children=True,
        children=(relation.child,),
        fee_kinds=(pricing.FeeKind.ACTIVITY,),
        notes=HARDSHIP_NOTES,
    )
    return 1


def _trial_periods(context: DemoContext, actor: User | None) -> int:
    """D-06: players who joined in the last three weeks train on trial with their team."""
    club = context.demo_club
    since = context.today - datetime.timedelta(days=TRIAL_DAYS - 1)
    joined = dict(
        Membership.objects.filter(club=club, start_date__gte=since).values_list(
            "person_id", "start_date"
        )
    )
    functions = (
        Function.objects.filter(
            person_id__in=list(joined),
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code="player",
            to_date__isnull=True,
        )
        .select_related("person", "organisation")
        .order_by("person_id", "pk")
    )
    for function in functions:
        services.trial_period_start(
            actor=actor,
            person=function.person,
            team=function.organisation,
            start_date=joined[function.person_id],
        )
    return len(functions)


def _volunteer_hours(context: DemoContext, actor: User | None, season: int) -> int:
    """M-15: the adults of `forelder`'s family worked for the club this season."""
    parent_id = context.login_person_id("forelder")
    family = (
        Membership.objects.filter(person_id=parent_id, family__isnull=False)
        .values_list("family_id", flat=True)
        .first()
    )
    adults = [parent_id]
    if family is not None:
        born_before = context.reference_date.replace(year=context.reference_date.year - 18)
        adults += list(
            Membership.objects.filter(family_id=family, person__birth_date__lte=born_before)
            .exclude(person_id=parent_id)
            .order_by("person_id")
            .values_list("person_id", flat=True)
        )
    persons = Person.objects.in_bulk(adults)
    for person_id, hours in zip(adults, VOLUNTEER_HOURS, strict=False):
        services.volunteer_hours_set(
            actor=actor,
            person=persons[person_id],
            club=context.demo_club,
            season=season,
            hours=hours,
        )
    return min(len(adults), len(VOLUNTEER_HOURS))
