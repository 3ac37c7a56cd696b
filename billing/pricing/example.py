"""The example club's fee schedule (Åssiden IF's dues routines, seed 004; the tennis club's
invoice fee and volunteer-work fee, seed 003), shipped as the default configuration.

Amounts the seeds do not give are marked "example": the activity fees per cohort (set each
year by the group boards, D-07) and the volunteer-work fee (the tennis club's price list).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from billing.pricing.config import (
    ActivityFee,
    ActivityGroup,
    AgreementExemptionParams,
    Beneficiary,
    FamilyFee,
    InstalmentRule,
    InvoiceFee,
    LateStartParams,
    MembershipPrice,
    MembershipSchedule,
    MembershipTypeExemptionParams,
    MovingAwayParams,
    RoleExemptionParams,
    RoleScope,
    Rule,
    SeasonConfig,
    SiblingsParams,
    TwoSportsParams,
    VolunteerFee,
)
from billing.pricing.values import FeeKind, MembershipType, PeriodMode, RoleKind

FOOTBALL = "football"
HANDBALL = "handball"

# Rule ids of the example club, cited on every line the rules produce.
HONORARY = "D-05 honorary"
MAIN_BOARD = "D-10 main board"
GROUP_BOARD = "D-10 group board"
TEAM_LEADER_HEAD_COACH = "D-10 team leader and head coach"
ASSISTANT_COACHES = "D-10 assistant coaches"
OTHER_COACHES_VOLUNTEERS = "D-10 other coaches and volunteers"
REFEREES = "D-10 referees"
HARDSHIP = "D-11 hardship"
WORK_INSTEAD = "D-11 work instead of paying"
SIBLINGS = "D-09 siblings"
TWO_SPORTS = "D-09 two sports"
LATE_START_FOOTBALL = "D-09 late start football"
LATE_START_HANDBALL = "D-09 late start handball"
MOVING_FOOTBALL = "D-09 moving football"
MOVING_HANDBALL = "D-09 moving handball"


def example_rules(season: int) -> tuple[Rule, ...]:
    """The example club's reductions and exemptions, in the order the engine applies them
    within each phase (exemptions, siblings, percentages, moving away)."""
    next_year = season + 1
    return (
        Rule(
            HONORARY,
            MembershipTypeExemptionParams(membership_types=(MembershipType.HONORARY,)),
            "Honorary members pay no membership fee.",
        ),
        Rule(
            MAIN_BOARD,
            RoleExemptionParams(role_kinds=(RoleKind.MAIN_BOARD,)),
            "Members of the main board with a signed volunteer contract: no activity fees "
            "for any of their own children.",
        ),
        Rule(
            GROUP_BOARD,
            RoleExemptionParams(
                role_kinds=(RoleKind.GROUP_BOARD,),
                beneficiaries=(Beneficiary.SELF, Beneficiary.CHILDREN),
                scope=RoleScope.GROUP,
            ),
            "Members of a group board with a signed volunteer contract: no activity fees in "
            "their own group, for themselves and their own children.",
        ),
        Rule(
            TEAM_LEADER_HEAD_COACH,
            RoleExemptionParams(
                role_kinds=(RoleKind.TEAM_LEADER, RoleKind.HEAD_COACH), scope=RoleScope.TEAM
            ),
            "Team leaders and head coaches with a signed volunteer contract: no activity fee "
            "for their own children on their own team.",
        ),
        Rule(
            ASSISTANT_COACHES,
            RoleExemptionParams(
                role_kinds=(RoleKind.ASSISTANT_COACH,),
                scope=RoleScope.TEAM,
                agreement_required=True,
                max_holders_per_team=2,
            ),
            "Up to 2 assistant coaches per team, on approved application and with a signed "
            "volunteer contract: no activity fee for their own children on that team.",
        ),
        Rule(
            OTHER_COACHES_VOLUNTEERS,
            RoleExemptionParams(
                role_kinds=(
                    RoleKind.COACH,
                    RoleKind.ASSISTANT_COACH,
                    RoleKind.OFFICIAL,
                    RoleKind.VOLUNTEER,
                ),
                beneficiaries=(Beneficiary.SELF, Beneficiary.CHILDREN),
                agreement_required=True,
            ),
            "Other coaches, officials and volunteers with a role, a signed volunteer contract "
            "and a written agreement approved by the group board: no activity fee for their "
            "own children and/or themselves, as the agreement says.",
        ),
        Rule(
            REFEREES,
            RoleExemptionParams(
                role_kinds=(RoleKind.REFEREE,),
                beneficiaries=(Beneficiary.SELF, Beneficiary.CHILDREN),
                agreement_required=True,
            ),
            "Authorised referees (from district referee in football / referee 1 in "
            "handball) with a signed volunteer contract and a written agreement: no activity "
            "fee for themselves and/or their own children in the club.",
        ),
        Rule(
            HARDSHIP,
            AgreementExemptionParams(fee_kinds=(FeeKind.ACTIVITY, FeeKind.MEMBERSHIP)),
            "Players in families with low ability to pay: exemption granted confidentially "
            "by the general manager, after public support schemes were tried; the reason is "
            "shown only to the general manager.",
        ),
        Rule(
            WORK_INSTEAD,
            AgreementExemptionParams(fee_kinds=(FeeKind.ACTIVITY,)),
            "Players who work off the activity fee instead of paying, by written agreement "
            "with the general manager (confidential).",
        ),
        Rule(
            SIBLINGS,
            SiblingsParams(paying_players=2),
            "A family with more than two active players pays activity fees only for the two "
            "oldest.",
        ),
        Rule(
            TWO_SPORTS,
            TwoSportsParams(groups=(FOOTBALL, HANDBALL), percent=Decimal(30)),
            "Players in both handball and football: 30% off the activity fees.",
        ),
        Rule(
            LATE_START_FOOTBALL,
            LateStartParams(
                group=FOOTBALL,
                started_after=datetime.date(season, 8, 1),
                percent=Decimal(50),
                new_cohort_age=6,
            ),
            "Starting football after 1 August: 50% off the activity fee; the new cohort of "
            "six-year-olds pays 50% its first autumn.",
        ),
        Rule(
            LATE_START_HANDBALL,
            LateStartParams(
                group=HANDBALL, started_after=datetime.date(next_year, 1, 1), percent=Decimal(50)
            ),
            "Starting handball after 1 January: 50% off the activity fee.",
        ),
        Rule(
            MOVING_FOOTBALL,
            MovingAwayParams(
                group=FOOTBALL, left_before=datetime.date(season, 7, 31), percent=Decimal(30)
            ),
            "Leaving football before 31 July because of moving for school, military service "
            "or the like (documented): 30% of the activity fee back, as a reduction if "
            "reported before the fee is due. Not for club changes.",
        ),
        Rule(
            MOVING_HANDBALL,
            MovingAwayParams(
                group=HANDBALL, left_before=datetime.date(next_year, 1, 1), percent=Decimal(30)
            ),
            "Leaving handball before 1 January because of moving for school, military "
            "service or the like (documented): 30% of the activity fee back, as a reduction "
            "if reported before the fee is due. Not for club changes.",
        ),
    )


def example_season_config(season: int = 2027, club_id: str = "example-club") -> SeasonConfig:
    """The example club's season `season` (football in the calendar year, handball from
    August to June)."""
    next_year = season + 1
    football = ActivityGroup(
        group=FOOTBALL,
        name="football",
        season_start=datetime.date(season, 1, 1),
        season_end=datetime.date(season, 12, 31),
        invoice_date=datetime.date(season, 3, 1),
        due_days=28,
        instalments=InstalmentRule(paid_before=datetime.date(season, 6, 1)),
    )
    handball = ActivityGroup(
        group=HANDBALL,
        name="handball",
        season_start=datetime.date(season, 8, 1),
        season_end=datetime.date(next_year, 6, 30),
        invoice_date=datetime.date(season, 10, 1),
        due_days=28,
        instalments=InstalmentRule(paid_before=datetime.date(next_year, 1, 1)),
    )
    return SeasonConfig(
        club_id=club_id,
        season=season,
        membership_prices=(
            MembershipPrice("member", Decimal(500), rule_id="D-01"),
            MembershipPrice("pensioner", Decimal(200), rule_id="D-01 pensioner", min_age=67),
        ),
        membership_schedule=MembershipSchedule(
            invoice_date=datetime.date(season, 1, 15),
            due_date=datetime.date(season, 3, 1),
            period_mode=PeriodMode.CALENDAR_YEAR,
            due_days=14,
        ),
        membership_minimum=Decimal(50),
        family_fee=FamilyFee(amount=Decimal(700), max_members=7),
        groups=(football, handball),
        activity_fees=(
            # example amounts: children 6-12, youth 13-19, adults, per group
            ActivityFee(FOOTBALL, season - 12, season - 6, Decimal(2400)),
            ActivityFee(FOOTBALL, season - 19, season - 13, Decimal(3000)),
            ActivityFee(FOOTBALL, season - 99, season - 20, Decimal(3600)),
            ActivityFee(HANDBALL, season - 12, season - 6, Decimal(2000)),
            ActivityFee(HANDBALL, season - 19, season - 13, Decimal(2600)),
            ActivityFee(HANDBALL, season - 99, season - 20, Decimal(3200)),
        ),
        volunteer_fee=VolunteerFee(
            amount=Decimal(500),  # example amount
            invoice_date=datetime.date(season, 2, 1),
            due_date=datetime.date(season, 3, 1),
            min_age=12,
            max_age=80,
            refund_per_hour=Decimal(100),
        ),
        invoice_fee=InvoiceFee(amount=Decimal(50), fee_kinds=(FeeKind.MEMBERSHIP,)),
        rules=example_rules(season),
    )
