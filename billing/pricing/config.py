"""The fee schedule of one club and season: every amount, age limit, date and percentage is
data here, and reductions and exemptions are `Rule` records of a few kinds (D-09..D-11, D-05).

`billing.pricing.example.example_season_config()` ships the example club's values.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar

from billing.pricing.values import (
    HUNDRED,
    WHOLE_KRONER,
    ZERO,
    ConfigError,
    FeeKind,
    GroupCode,
    LeaveReason,
    MembershipType,
    PeriodMode,
    format_nok,
)

# Error messages (STYLE 14: the tests reuse them).
MEMBERSHIP_BELOW_MINIMUM = (
    "M-04: the membership fee '{category}' is NOK {amount}; it must be at least NOK {minimum}."
)
FAMILY_FEE_BELOW_SHARES = (
    "M-11: the family fee NOK {fee} cannot give each of {members} members the minimum "
    "NOK {minimum}."
)
DUPLICATE_RULE_ID = "Rule id '{rule_id}' is used twice in the season configuration."
UNKNOWN_GROUP = "'{where}' refers to the group '{group}', which the season does not define."
OVERLAPPING_ACTIVITY_FEES = (
    "D-07: the activity fees of group '{group}' overlap for birth year {year}."
)
PERCENT_OUT_OF_RANGE = "Rule '{rule_id}': the percentage {percent} is not between 0 and 100."
NOT_A_MULTIPLE_OF_UNIT = (
    "'{where}' is NOK {amount}, which is not a whole multiple of the rounding unit {unit}."
)
UNKNOWN_RULE = "The season configuration has no rule '{rule_id}'."
UNKNOWN_RULE_KIND = "Unknown rule kind '{kind}'."


# ---------------------------------------------------------------- fee schedule


@dataclass(frozen=True)
class MembershipPrice:
    """D-01: a membership fee category. It applies to the registered `membership_types` when
    the person's age in the calendar year is within [min_age, max_age]; when several apply the
    lowest amount wins (a 67-year-old ordinary member pays the pensioner fee)."""

    category: str
    amount: Decimal
    rule_id: str = "D-01"
    min_age: int | None = None
    max_age: int | None = None
    membership_types: tuple[str, ...] = (
        MembershipType.ORDINARY,
        MembershipType.FAMILY,
        MembershipType.HONORARY,
    )

    def applies(self, membership_type: str, age: int) -> bool:
        return (
            membership_type in self.membership_types
            and (self.min_age is None or age >= self.min_age)
            and (self.max_age is None or age <= self.max_age)
        )


@dataclass(frozen=True)
class MembershipSchedule:
    """D-02: invoiced in January, due 1 March, the full year's fee whatever the join month.
    A member who joins after `invoice_date` is invoiced on joining and has `due_days` to pay
    (never earlier than `due_date`). M-12 (date to date): each 12-month period is invoiced on
    its first day and due `due_days` later."""

    invoice_date: datetime.date
    due_date: datetime.date
    period_mode: PeriodMode = PeriodMode.CALENDAR_YEAR
    due_days: int = 14


@dataclass(frozen=True)
class FamilyFee:
    """D-01/M-11: a family of up to `max_members` pays at most `amount` for membership."""

    amount: Decimal
    max_members: int = 7
    rule_id: str = "M-11"


@dataclass(frozen=True)
class InstalmentRule:
    """D-08: instalments on request, preferably 2 or 4; at least `min_share_percent` of the
    fee must fall due strictly before `paid_before`."""

    paid_before: datetime.date
    allowed_counts: tuple[int, ...] = (2, 4)
    min_share_percent: Decimal = Decimal(70)
    rule_id: str = "D-08"


@dataclass(frozen=True)
class ActivityGroup:
    """D-07: a group (sport section) with its own activity season, invoicing date and payment
    term. New players are invoiced when they start (never before `invoice_date`)."""

    group: GroupCode
    name: str
    season_start: datetime.date
    season_end: datetime.date
    invoice_date: datetime.date
    due_days: int = 28
    instalments: InstalmentRule | None = None


@dataclass(frozen=True)
class ActivityFee:
    """D-07: the activity fee for a group's birth-year cohorts `birth_year_from`..`to`."""

    group: GroupCode
    birth_year_from: int
    birth_year_to: int
    amount: Decimal
    rule_id: str = "D-07"


@dataclass(frozen=True)
class VolunteerFee:
    """M-15: the volunteer-work fee for members aged `min_age`..`max_age` in the calendar
    year, invoiced separately; `refund_per_hour` back per hour worked, at most the fee."""

    amount: Decimal
    invoice_date: datetime.date
    due_date: datetime.date
    min_age: int = 12
    max_age: int = 80
    refund_per_hour: Decimal = Decimal(100)
    refund_capped_at_fee: bool = True
    rule_id: str = "M-15"


@dataclass(frozen=True)
class InvoiceFee:
    """M-10: paying by invoice adds `amount` per person to each invoice of `fee_kinds`
    (per person in a family too)."""

    amount: Decimal
    fee_kinds: tuple[FeeKind, ...] = (FeeKind.MEMBERSHIP,)
    rule_id: str = "M-10"


# ---------------------------------------------------------------- rules as data


class RuleKind(StrEnum):
    MEMBERSHIP_TYPE_EXEMPTION = "membership_type_exemption"
    ROLE_EXEMPTION = "role_exemption"
    AGREEMENT_EXEMPTION = "agreement_exemption"
    SIBLINGS = "siblings"
    TWO_SPORTS = "two_sports"
    LATE_START = "late_start"
    MOVING_AWAY = "moving_away"


class Beneficiary(StrEnum):
    SELF = "self"
    CHILDREN = "children"


class RoleScope(StrEnum):
    """Which activity fees a role exempts: all, those in the role's group, or in its team."""

    ALL = "all"
    GROUP = "group"
    TEAM = "team"


# The order in which the engine applies rule kinds (documented in billing/pricing/engine.py):
# exemptions, then the sibling rule, then percentage reductions, then moving-away refunds.
PHASE_EXEMPTIONS = 1
PHASE_SIBLINGS = 2
PHASE_PERCENTAGES = 3
PHASE_MOVING_AWAY = 4


@dataclass(frozen=True)
class MembershipTypeExemptionParams:
    """D-05: members of `membership_types` (honorary) pay none of `fee_kinds`."""

    KIND: ClassVar[RuleKind] = RuleKind.MEMBERSHIP_TYPE_EXEMPTION
    PHASE: ClassVar[int] = PHASE_EXEMPTIONS

    membership_types: tuple[str, ...] = (MembershipType.HONORARY,)
    fee_kinds: tuple[FeeKind, ...] = (FeeKind.MEMBERSHIP,)
    percent: Decimal = HUNDRED


@dataclass(frozen=True)
class RoleExemptionParams:
    """D-10: a holder of one of `role_kinds` exempts the activity fees of `beneficiaries`
    (the holder and/or the holder's own children) within `scope` of the role. With
    `agreement_required` the holder also needs a written agreement (or an approved
    application) for this rule; `max_holders_per_team` caps the holders per team (assistant
    coaches: 2, the lowest person ids first); a signed volunteer contract is required."""

    KIND: ClassVar[RuleKind] = RuleKind.ROLE_EXEMPTION
    PHASE: ClassVar[int] = PHASE_EXEMPTIONS

    role_kinds: tuple[str, ...]
    beneficiaries: tuple[Beneficiary, ...] = (Beneficiary.CHILDREN,)
    scope: RoleScope = RoleScope.ALL
    agreement_required: bool = False
    max_holders_per_team: int | None = None
    requires_volunteer_contract: bool = True
    percent: Decimal = HUNDRED


@dataclass(frozen=True)
class AgreementExemptionParams:
    """D-11: an exemption decided case by case and recorded as an `Agreement` for this rule
    (the agreement may give a lower percentage). `confidential` lines show their reason only
    to the general manager."""

    KIND: ClassVar[RuleKind] = RuleKind.AGREEMENT_EXEMPTION
    PHASE: ClassVar[int] = PHASE_EXEMPTIONS

    fee_kinds: tuple[FeeKind, ...] = (FeeKind.ACTIVITY,)
    confidential: bool = True
    percent: Decimal = HUNDRED


@dataclass(frozen=True)
class SiblingsParams:
    """D-09: in a family with more than `paying_players` active players only the
    `paying_players` oldest pay activity fees (in `groups`; empty = every group). With
    `count_exempt_players` false, a player whose fees an exemption already removed does not
    take one of the paying places."""

    KIND: ClassVar[RuleKind] = RuleKind.SIBLINGS
    PHASE: ClassVar[int] = PHASE_SIBLINGS

    paying_players: int = 2
    groups: tuple[GroupCode, ...] = ()
    count_exempt_players: bool = True


@dataclass(frozen=True)
class TwoSportsParams:
    """D-09: a player active in every one of `groups` gets `percent` off each of those
    groups' activity fees."""

    KIND: ClassVar[RuleKind] = RuleKind.TWO_SPORTS
    PHASE: ClassVar[int] = PHASE_PERCENTAGES

    groups: tuple[GroupCode, ...]
    percent: Decimal = Decimal(30)


@dataclass(frozen=True)
class LateStartParams:
    """D-09: `percent` off the activity fee of `group` when the player started after
    `started_after`; with `new_cohort_age`, also for players of that age in the calendar year
    who start in this season (the new cohort of six-year-olds pays 50% its first autumn)."""

    KIND: ClassVar[RuleKind] = RuleKind.LATE_START
    PHASE: ClassVar[int] = PHASE_PERCENTAGES

    group: GroupCode
    started_after: datetime.date
    percent: Decimal = Decimal(50)
    new_cohort_age: int | None = None


@dataclass(frozen=True)
class MovingAwayParams:
    """D-09: a player who leaves `group` before `left_before` for one of `reasons`
    (documented, when `documentation_required`) gets `percent` of the activity fee back: as a
    reduction when reported before the due date, else as a refund. Not for club changes."""

    KIND: ClassVar[RuleKind] = RuleKind.MOVING_AWAY
    PHASE: ClassVar[int] = PHASE_MOVING_AWAY

    group: GroupCode
    left_before: datetime.date
    percent: Decimal = Decimal(30)
    reasons: tuple[LeaveReason, ...] = (LeaveReason.MOVING,)
    documentation_required: bool = True


RuleParams = (
    MembershipTypeExemptionParams
    | RoleExemptionParams
    | AgreementExemptionParams
    | SiblingsParams
    | TwoSportsParams
    | LateStartParams
    | MovingAwayParams
)

PARAMS_BY_KIND: dict[RuleKind, type] = {
    params.KIND: params
    for params in (
        MembershipTypeExemptionParams,
        RoleExemptionParams,
        AgreementExemptionParams,
        SiblingsParams,
        TwoSportsParams,
        LateStartParams,
        MovingAwayParams,
    )
}


@dataclass(frozen=True)
class Rule:
    """A reduction or exemption rule of one club: its id (cited on every line it produces),
    its parameters (whose type is its kind), a statement of its conditions and effect for
    people, and whether the club uses it."""

    rule_id: str
    params: RuleParams
    statement: str
    enabled: bool = True

    @property
    def kind(self) -> RuleKind:
        return self.params.KIND

    @property
    def phase(self) -> int:
        return self.params.PHASE

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict (for storing a club's rules); `rule_from_data` reads it back."""
        return {
            "rule_id": self.rule_id,
            "kind": self.kind.value,
            "params": {
                f.name: _to_data(getattr(self.params, f.name))
                for f in dataclasses.fields(self.params)
            },
            "statement": self.statement,
            "enabled": self.enabled,
        }


def rule_from_data(data: Mapping[str, Any]) -> Rule:
    try:
        params_type = PARAMS_BY_KIND[RuleKind(data["kind"])]
    except ValueError as error:
        raise ConfigError.of(UNKNOWN_RULE_KIND, kind=data["kind"]) from error
    hints = typing.get_type_hints(params_type)
    raw = data.get("params", {})
    params = params_type(
        **{name: _from_data(hints[name], value) for name, value in raw.items() if name in hints}
    )
    return Rule(
        rule_id=data["rule_id"],
        params=params,
        statement=data.get("statement", ""),
        enabled=bool(data.get("enabled", True)),
    )


def _to_data(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_to_data(item) for item in value]
    return value


def _from_data(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _from_data(inner[0], value)
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        return tuple(_from_data(item_type, item) for item in value)
    if hint is Decimal:
        return Decimal(str(value))
    if hint is datetime.date:
        return datetime.date.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


# ---------------------------------------------------------------- the season


@dataclass(frozen=True)
class SeasonConfig:
    """Everything the engine needs to price one club's season (no code branches per club).

    `rounding_unit`: every line amount is a whole multiple of it. Decimal(1) (the default)
    rounds percentage reductions, refunds and instalments to whole kroner, half up;
    Decimal("0.01") keeps øre."""

    club_id: str
    season: int
    membership_prices: tuple[MembershipPrice, ...]
    membership_schedule: MembershipSchedule
    membership_minimum: Decimal = Decimal(50)
    family_fee: FamilyFee | None = None
    groups: tuple[ActivityGroup, ...] = ()
    activity_fees: tuple[ActivityFee, ...] = ()
    volunteer_fee: VolunteerFee | None = None
    invoice_fee: InvoiceFee | None = None
    rules: tuple[Rule, ...] = ()
    rounding_unit: Decimal = WHOLE_KRONER
    _groups_by_code: dict[GroupCode, ActivityGroup] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _fees_by_group_year: dict[tuple[GroupCode, int], ActivityFee] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_groups_by_code", {g.group: g for g in self.groups})
        object.__setattr__(self, "_fees_by_group_year", self._index_activity_fees())
        self._check_amounts()
        self._check_rules()

    # -- lookups

    def group(self, code: GroupCode) -> ActivityGroup | None:
        return self._groups_by_code.get(code)

    def activity_fee(self, code: GroupCode, birth_year: int) -> ActivityFee | None:
        return self._fees_by_group_year.get((code, birth_year))

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise ConfigError.of(UNKNOWN_RULE, rule_id=rule_id)

    def with_rule_enabled(self, rule_id: str, enabled: bool) -> SeasonConfig:
        """A copy with one rule switched on or off (rules are switched per club)."""
        self.rule(rule_id)
        rules = tuple(
            dataclasses.replace(rule, enabled=enabled) if rule.rule_id == rule_id else rule
            for rule in self.rules
        )
        return dataclasses.replace(self, rules=rules)

    def active_rules(self, phase: int) -> tuple[Rule, ...]:
        """The enabled rules of one phase, in configuration order."""
        return tuple(rule for rule in self.rules if rule.enabled and rule.phase == phase)

    # -- validation

    def _index_activity_fees(self) -> dict[tuple[GroupCode, int], ActivityFee]:
        index: dict[tuple[GroupCode, int], ActivityFee] = {}
        for fee in self.activity_fees:
            if fee.group not in self._groups_by_code:
                raise ConfigError.of(
                    UNKNOWN_GROUP, where=f"activity fee {fee.group}", group=fee.group
                )
            for year in range(fee.birth_year_from, fee.birth_year_to + 1):
                if (fee.group, year) in index:
                    raise ConfigError.of(OVERLAPPING_ACTIVITY_FEES, group=fee.group, year=year)
                index[(fee.group, year)] = fee
        return index

    def _check_amounts(self) -> None:
        for price in self.membership_prices:
            # M-04: the membership fee is its own amount, at least NOK 50 a year.
            if price.amount < self.membership_minimum:
                raise ConfigError.of(
                    MEMBERSHIP_BELOW_MINIMUM,
                    rule="M-04",
                    category=price.category,
                    amount=format_nok(price.amount),
                    minimum=format_nok(self.membership_minimum),
                )
        if self.family_fee is not None:
            shares = self.membership_minimum * self.family_fee.max_members
            if self.family_fee.amount < shares:
                raise ConfigError.of(
                    FAMILY_FEE_BELOW_SHARES,
                    rule="M-11",
                    fee=format_nok(self.family_fee.amount),
                    members=self.family_fee.max_members,
                    minimum=format_nok(self.membership_minimum),
                )
        amounts = [(f"membership {p.category}", p.amount) for p in self.membership_prices]
        amounts += [(f"activity fee {f.group}", f.amount) for f in self.activity_fees]
        amounts.append(("membership minimum", self.membership_minimum))
        if self.family_fee is not None:
            amounts.append(("family fee", self.family_fee.amount))
        if self.volunteer_fee is not None:
            amounts.append(("volunteer-work fee", self.volunteer_fee.amount))
        if self.invoice_fee is not None:
            amounts.append(("invoice fee", self.invoice_fee.amount))
        for where, amount in amounts:
            if amount < ZERO or amount % self.rounding_unit != ZERO:
                raise ConfigError.of(
                    NOT_A_MULTIPLE_OF_UNIT,
                    where=where,
                    amount=str(amount),
                    unit=str(self.rounding_unit),
                )

    def _check_rules(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.rule_id in seen:
                raise ConfigError.of(DUPLICATE_RULE_ID, rule_id=rule.rule_id)
            seen.add(rule.rule_id)
            percent = getattr(rule.params, "percent", None)
            if percent is not None and not ZERO <= percent <= HUNDRED:
                raise ConfigError.of(
                    PERCENT_OUT_OF_RANGE, rule_id=rule.rule_id, percent=str(percent)
                )
            for group in _groups_named_by(rule.params):
                if group not in self._groups_by_code:
                    raise ConfigError.of(UNKNOWN_GROUP, where=rule.rule_id, group=group)


def _groups_named_by(params: RuleParams) -> tuple[GroupCode, ...]:
    if isinstance(params, LateStartParams | MovingAwayParams):
        return (params.group,)
    if isinstance(params, TwoSportsParams | SiblingsParams):
        return params.groups
    return ()
