"""Billing tests. The builders below make the price engine's plain input values (no database):
the example club's 2027 season and persons with memberships, activities and roles."""

import datetime
from decimal import Decimal

from billing.pricing import (
    Activity,
    FeeKind,
    LineKind,
    Membership,
    PersonDues,
    PersonFacts,
    example_season_config,
)

SEASON = 2027
CONFIG = example_season_config(SEASON)
JOINED = datetime.date(2020, 1, 1)
LONG_AGO = datetime.date(2020, 1, 1)


def member(
    person_id: int,
    born: datetime.date,
    *,
    membership_type: str = "ordinary",
    joined: datetime.date = JOINED,
    **facts,
) -> PersonFacts:
    """A member since `joined` (an ordinary membership unless told otherwise)."""
    return PersonFacts(
        person_id=person_id,
        birth_date=born,
        memberships=(Membership(membership_type, joined),),
        **facts,
    )


def player(
    person_id: int,
    born: datetime.date,
    *groups: str,
    team_id: int | str | None = None,
    started: datetime.date = LONG_AGO,
    **facts,
) -> PersonFacts:
    """A member playing in `groups` since `started` (on `team_id` in each)."""
    activities = tuple(Activity(group, started, team_id=team_id) for group in groups)
    return member(person_id, born, activities=activities, **facts)


def amounts(dues: PersonDues, fee: FeeKind, kind: LineKind | None = None) -> list[Decimal]:
    return [
        line.amount
        for line in dues.lines
        if line.fee is fee and (kind is None or line.kind is kind)
    ]


def rule_lines(dues: PersonDues, rule_id: str) -> list:
    return [line for line in dues.lines if line.rule_id == rule_id]


def reasons(dues: PersonDues) -> list[str]:
    return [line.reason for line in dues.lines]
