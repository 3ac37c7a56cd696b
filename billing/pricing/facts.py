"""What the engine knows about persons: plain, frozen values the services build from the
register (memberships, functions, teams, agreements). No ORM objects cross this line."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from billing.pricing.values import (
    ZERO,
    FeeKind,
    GroupCode,
    LeaveReason,
    PaymentMethod,
    PersonId,
    TeamId,
)


@dataclass(frozen=True, slots=True)
class Membership:
    """A membership (M-12, D-02): its registered type and its dates. `end` is when it ended
    (resignation: the day it was received); None means active."""

    membership_type: str
    start: datetime.date
    end: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """A player's activity in a group (sport section), optionally on a team. Leaving a group
    is not leaving the club: `end`, `leave_reason`, `leave_documented` and
    `leave_reported_on` (when the club was told) feed D-09's moving-away rule."""

    group: GroupCode
    start: datetime.date
    team_id: TeamId | None = None
    end: datetime.date | None = None
    leave_reason: LeaveReason | None = None
    leave_documented: bool = False
    leave_reported_on: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """A function the person holds in the club (`group`/`team_id` None for club level)."""

    kind: str
    group: GroupCode | None = None
    team_id: TeamId | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """A written agreement or an approved application on file, granting the rule `rule_id`
    (D-10 2.3-b/2.4/2.5, D-11): for the holder (`for_self`) and/or the holder's own children
    (`for_children`; `child_ids` narrows to some of them), optionally only in one group or
    team, for `fee_kinds`, valid between the optional dates (checked against the invoicing
    date). `percent` None means the rule's percentage (a full exemption)."""

    rule_id: str
    for_self: bool = True
    for_children: bool = False
    child_ids: tuple[PersonId, ...] = ()
    group: GroupCode | None = None
    team_id: TeamId | None = None
    fee_kinds: tuple[FeeKind, ...] = (FeeKind.ACTIVITY,)
    percent: Decimal | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None

    def valid_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """One person as the engine sees them.

    family_id: the family (household) the person belongs to; a family membership groups the
    members whose membership type is "family" (M-11), and the sibling rule counts the
    family's active players (D-09). family_contact marks the first registered person (M-11);
    when nobody in a family is marked, the earliest family membership, then the lowest id.
    resigned_on: the day a resignation from the club was received; nothing invoiced on or
    after it is charged. children_ids: the person's own children (guardian relation, D-10).
    """

    person_id: PersonId
    birth_date: datetime.date
    gender: str = "unknown"
    family_id: int | None = None
    family_contact: bool = False
    memberships: tuple[Membership, ...] = ()
    resigned_on: datetime.date | None = None
    payment_method: PaymentMethod = PaymentMethod.ONLINE
    activities: tuple[Activity, ...] = ()
    roles: tuple[Role, ...] = ()
    volunteer_contract_signed: bool = False
    agreements: tuple[Agreement, ...] = ()
    children_ids: tuple[PersonId, ...] = field(default=())
    volunteer_hours: Decimal = ZERO
