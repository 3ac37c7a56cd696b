"""Plain values shared by the price engine: kinds, periods, money formatting, errors.

Money: every amount is a `Decimal` in NOK (never a float). Lines and totals also offer a
`money` property that returns a django-money/py-moneyed `Money(amount, "NOK")` for the
services and templates; the engine itself computes in `Decimal` because it is on the hot path
of a 100,000-member run.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import NamedTuple

from moneyed import Money

CURRENCY = "NOK"
ZERO = Decimal(0)
HUNDRED = Decimal(100)
WHOLE_KRONER = Decimal(1)
ORE = Decimal("0.01")

PersonId = int
FamilyId = int
TeamId = int | str
GroupCode = str


class FeeKind(StrEnum):
    """What a line is about; each kind is invoiced on its own (M-04, M-15, D-07)."""

    MEMBERSHIP = "membership"
    ACTIVITY = "activity"
    VOLUNTEER_WORK = "volunteer_work"
    INVOICE_FEE = "invoice_fee"


class LineKind(StrEnum):
    """A charge, or an adjustment of a charge (negative amount)."""

    CHARGE = "charge"
    EXEMPTION = "exemption"
    REDUCTION = "reduction"
    REFUND = "refund"


class PaymentMethod(StrEnum):
    """M-10: paying online costs nothing extra; paying by invoice adds the invoice fee."""

    ONLINE = "online"
    INVOICE = "invoice"


class PeriodMode(StrEnum):
    """D-02: calendar-year memberships; M-12: date-to-date memberships (12 months)."""

    CALENDAR_YEAR = "calendar_year"
    DATE_TO_DATE = "date_to_date"


class LeaveReason(StrEnum):
    """Why a player left a group (D-09 moving away: refunds only for moving)."""

    MOVING = "moving"  # school, military service or the like
    CLUB_CHANGE = "club_change"
    OTHER = "other"


class MembershipType(StrEnum):
    """The registered membership types (the register's membership categories). Types are
    open strings: a club may define more (e.g. "supporter"), priced through
    `MembershipPrice.membership_types`. D-01: junior, senior, pensioner and other memberships
    pay the fee the schedule gives their category, and as ordinary ones when it gives none."""

    ORDINARY = "ordinary"
    JUNIOR = "junior"
    SENIOR = "senior"
    PENSIONER = "pensioner"
    OTHER = "other"
    FAMILY = "family"
    HONORARY = "honorary"


# D-01: the categories priced as ordinary memberships unless a price names them.
ORDINARY_CATEGORIES = frozenset(
    {MembershipType.JUNIOR, MembershipType.SENIOR, MembershipType.PENSIONER, MembershipType.OTHER}
)


class RoleKind(StrEnum):
    """Functions that matter to D-10 role exemptions (the register's function types map here)."""

    MAIN_BOARD = "main_board"
    GROUP_BOARD = "group_board"
    TEAM_LEADER = "team_leader"
    HEAD_COACH = "head_coach"
    ASSISTANT_COACH = "assistant_coach"
    COACH = "coach"
    OFFICIAL = "official"
    VOLUNTEER = "volunteer"
    REFEREE = "referee"


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Period:
    """Days a line covers, both ends included."""

    start: datetime.date
    end: datetime.date

    def __str__(self) -> str:
        year = self.start.year
        if (self.start, self.end) == (datetime.date(year, 1, 1), datetime.date(year, 12, 31)):
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end


# Values of a Text that are plain numbers, not amounts of money (30 / 12.5, not 1,177.50).
NUMBER_VALUES = frozenset({"percent", "hours"})


class Text(NamedTuple):
    """A text for people, kept translatable: an English template with named placeholders
    (the message id) and the values to fill in. `str()` gives the English text (a line's
    `reason`, an error's message); the web pages render it in the user's language with the
    values formatted for it (billing.texts). Values: Decimal (an amount of money, or a plain
    number when named in NUMBER_VALUES), date (ISO), Text (a nested text), or anything whose
    str() is shown as it is. A NamedTuple: the engine makes one per adjustment of a
    100,000-member season, and a tuple is the cheapest frozen value to make."""

    template: str
    values: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        if not self.values:
            return self.template
        return self.template.format(**{name: plain(name, value) for name, value in self.values})


def plain(name: str, value: object) -> str:
    """A Text value as the engine's English texts show it."""
    if isinstance(value, Decimal):
        return format_percent(value) if name in NUMBER_VALUES else format_nok(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def text(template: str, **values: object) -> Text:
    return Text(template, tuple(values.items()))


class PricingError(ValueError):
    """Input the engine refuses to price (the message says why and names the rule). `text`
    is the message as a translatable Text."""

    def __init__(self, message: str, *, rule_id: str = "", text: Text | None = None) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        self.text = text if text is not None else Text(message)

    @classmethod
    def of(cls, template: str, /, *, rule: str = "", **values: object) -> PricingError:
        """The error whose message is `template` filled in with `values` (as str.format);
        `rule` is the error's rule id."""
        message = Text(template, tuple(values.items()))
        return cls(str(message), rule_id=rule, text=message)


class ConfigError(PricingError):
    """A season configuration that breaks a rule (e.g. M-04's minimum)."""


class InstalmentError(PricingError):
    """An instalment plan that breaks D-08."""


def to_money(amount: Decimal) -> Money:
    return Money(amount, CURRENCY)


def round_to(amount: Decimal, unit: Decimal) -> Decimal:
    """Round half up (away from zero) to `unit`: Decimal(1) = whole kroner, 0.01 = øre."""
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, unit: Decimal) -> Decimal:
    """`percent`% of `amount`, rounded half up to `unit` (a reduction of 587.50 becomes 588:
    the rounding favours the member)."""
    return round_to(amount * percent / HUNDRED, unit)


@functools.lru_cache(maxsize=4096)  # a season repeats a few hundred amounts many times
def format_nok(amount: Decimal) -> str:
    """2,400 / -720 / 1,177.50: thousands with a comma, øre only when there are any."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def format_percent(percent: Decimal) -> str:
    """30 / 12.5 (no trailing zeros, no exponent)."""
    text = format(percent.normalize(), "f")
    return text
