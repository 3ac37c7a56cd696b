"""Pure rules of refunds and the annual membership report (issue 6, scopes 7 and 8): plain
values in, plain values out, no ORM. The services and selectors feed them; the tests hit them
with the rule ids of DOMAIN.md."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing import pricing
from billing.pricing.values import percent_of, round_to

ZERO = Decimal(0)
WHOLE_KRONER = Decimal(1)

# S-07: the historic age bands 0-5, 6-12, 13-19, 20-25, 26+ (by their first ages).
DEFAULT_BAND_STARTS: tuple[int, ...] = (0, 6, 13, 20, 26)
GENDERS: tuple[str, ...] = ("female", "male", "unknown")

# Why a moving-away refund does not apply (module constants reused by the tests).
NOT_MOVING = "D-09: only leaving because of moving (school, military service) is refunded."
NOT_DOCUMENTED = "D-09: the move must be documented."
LEFT_TOO_LATE = "D-09: leaving on or after {date} is not refunded."
BANDS_NOT_ASCENDING = "S-07: age bands must start at 0 and ascend."


# ------------------------------------------------------------------ M-15 volunteer work


def volunteer_refund_amount(
    *,
    hours: Decimal,
    refund_per_hour: Decimal,
    paid_for_fee: Decimal,
    capped: bool = True,
    unit: Decimal = WHOLE_KRONER,
) -> Decimal:
    """M-15: NOK 100 (the season's rate) back per hour worked. Decision: with the season's
    cap on (the default) a member never gets back more than was actually paid for the
    volunteer-work fee (net of reductions and exemptions on the invoice), so a refund never
    turns into a wage. Without the cap the hours are paid in full."""
    if hours <= ZERO or paid_for_fee <= ZERO:
        return ZERO
    refund = round_to(hours * refund_per_hour, unit)
    return min(refund, paid_for_fee) if capped else refund


# ------------------------------------------------------------------ D-09 moving away


@dataclass(frozen=True)
class MovingAwayDecision:
    amount: Decimal
    refusal: str | None = None

    @property
    def applies(self) -> bool:
        return self.refusal is None and self.amount > ZERO


def moving_away_refund(
    *,
    params: pricing.MovingAwayParams,
    left_on: datetime.date,
    leave_reason: str,
    documented: bool,
    paid_for_fee: Decimal,
    unit: Decimal = WHOLE_KRONER,
) -> MovingAwayDecision:
    """D-09: a player who leaves the group before the rule's cut-off (31 July football,
    1 January handball) because of moving for school or military service (documented) gets
    the rule's percentage (30%) of what was paid for the activity fee back. Not for club
    changes. (Reported before payment, the engine gives a reduction instead; this is the
    refund of an invoice already paid.)"""
    if leave_reason not in {reason.value for reason in params.reasons}:
        return MovingAwayDecision(ZERO, NOT_MOVING)
    if params.documentation_required and not documented:
        return MovingAwayDecision(ZERO, NOT_DOCUMENTED)
    if left_on >= params.left_before:
        return MovingAwayDecision(ZERO, LEFT_TOO_LATE.format(date=params.left_before.isoformat()))
    if paid_for_fee <= ZERO:
        return MovingAwayDecision(ZERO)
    return MovingAwayDecision(percent_of(paid_for_fee, params.percent, unit))


# ------------------------------------------------------------------ S-07 report


@dataclass(frozen=True)
class AgeBand:
    start: int
    end: int | None  # None: and older

    @property
    def label(self) -> str:
        return f"{self.start}+" if self.end is None else f"{self.start}-{self.end}"


def age_bands(band_starts: Sequence[int] = DEFAULT_BAND_STARTS) -> tuple[AgeBand, ...]:
    """The bands from their first ages: (0, 6, 13, 20, 26) -> 0-5, 6-12, 13-19, 20-25, 26+."""
    starts = list(band_starts)
    if not starts or starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError(BANDS_NOT_ASCENDING)
    ends: list[int | None] = [start - 1 for start in starts[1:]]
    ends.append(None)
    return tuple(AgeBand(start, end) for start, end in zip(starts, ends, strict=True))


def age_in_year(birth_year: int, year: int) -> int:
    """S-07: the age reached in the calendar year (born 2015 -> 12 in 2027)."""
    return year - birth_year


def band_of(age: int, bands: Sequence[AgeBand]) -> AgeBand:
    for band in reversed(bands):
        if age >= band.start:
            return band
    return bands[0]  # born after the report's year: counted with the youngest


@dataclass(frozen=True)
class ReportTable:
    """S-07: paying members by gender and age band, totals per band and gender."""

    year: int
    bands: tuple[AgeBand, ...]
    counts: dict[tuple[str, str], int]  # (gender, band label) -> members
    unknown_age: int = 0  # members without a birth date (not in any band)

    def count(self, gender: str, band: AgeBand) -> int:
        return self.counts.get((gender, band.label), 0)

    def band_total(self, band: AgeBand) -> int:
        return sum(self.count(gender, band) for gender in GENDERS)

    def gender_total(self, gender: str) -> int:
        return sum(self.count(gender, band) for band in self.bands)

    @property
    def gender_totals(self) -> list[int]:
        return [self.gender_total(gender) for gender in GENDERS]

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.unknown_age

    def rows(self) -> list[tuple[AgeBand, list[int], int]]:
        return [
            (band, [self.count(gender, band) for gender in GENDERS], self.band_total(band))
            for band in self.bands
        ]


def tally(
    year: int, bands: Sequence[AgeBand], members: Iterable[tuple[str, int | None, int]]
) -> ReportTable:
    """S-07: (gender, birth year, count) rows into the table by gender and age band; a
    member without a birth date is counted apart (`unknown_age`)."""
    counts: dict[tuple[str, str], int] = {}
    unknown_age = 0
    for gender, birth_year, count in members:
        if birth_year is None:
            unknown_age += count
            continue
        label = band_of(age_in_year(birth_year, year), bands).label
        key = (gender if gender in GENDERS else "unknown", label)
        counts[key] = counts.get(key, 0) + count
    return ReportTable(year, tuple(bands), counts, unknown_age)


# ------------------------------------------------------------------ the chart (SVG geometry)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int
    css_class: str


CHART_HEIGHT = 200
BAR_WIDTH = 18
GROUP_GAP = 16


def bar_chart(table: ReportTable) -> tuple[list[Bar], int]:
    """Grouped bars (one group per age band, one bar per gender) for a server-rendered SVG:
    the bars and the chart's width. Heights are scaled to the largest count."""
    largest = max([table.count(g, b) for g in GENDERS for b in table.bands] + [1])
    bars: list[Bar] = []
    x = GROUP_GAP
    for band in table.bands:
        for gender in GENDERS:
            value = table.count(gender, band)
            height = round(CHART_HEIGHT * value / largest)
            bars.append(Bar(band.label, value, x, CHART_HEIGHT - height, BAR_WIDTH, height, gender))
            x += BAR_WIDTH
        x += GROUP_GAP
    return bars, x
