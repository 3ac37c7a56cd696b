"""Pure rules for memberships (D-01, D-02, M-11, M-12, M-14): plain values in, plain values out.

No ORM here: the membership services and selectors feed these functions, and the tests hit
them directly with the rule ids of DOMAIN.md. The numbers are the example club's; a club's fee
schedule overrides the family limit and the due date (members.club_settings).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import phonenumbers

# The values of members.models.PeriodKind, repeated so that this module needs no models.
CALENDAR_YEAR = "calendar_year"
DATE_TO_DATE = "date_to_date"

# D-02: the membership fee is due 1 March at the latest; a paid year is valid until (and
# including) next year's due date.
FEE_DUE_MONTH = 3
FEE_DUE_DAY = 1

# D-01: a family membership has up to 7 close family members (the example club's limit).
FAMILY_MEMBER_LIMIT = 7

# M-14/S-09: a child is a person under 18; a family shows each member as junior or senior.
ADULT_AGE = 18


@dataclass(frozen=True)
class ValidityPeriod:
    """The days a membership (or a year's paid fee) is valid, both ends included."""

    start: datetime.date
    end: datetime.date

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end


def anniversary(day: datetime.date) -> datetime.date:
    """The same date one year later; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return datetime.date(day.year + 1, 3, 1)


def date_to_date_period(purchased_on: datetime.date) -> ValidityPeriod:
    """M-12: 12 months from purchase, date to date. The renewal starts on the anniversary,
    so this period ends the day before it (15.03.2023 - 14.03.2024)."""
    return ValidityPeriod(purchased_on, anniversary(purchased_on) - datetime.timedelta(days=1))


def calendar_year_period(
    fee_year: int,
    *,
    joined_on: datetime.date | None = None,
    due_month: int = FEE_DUE_MONTH,
    due_day: int = FEE_DUE_DAY,
) -> ValidityPeriod:
    """D-02: the full year's fee whatever the month of joining; valid from 1 January (or the
    day of joining, for a member who joined during the fee year) until and including next
    year's due date (1 March in the example)."""
    start = datetime.date(fee_year, 1, 1)
    if joined_on is not None and joined_on.year == fee_year:
        start = joined_on
    return ValidityPeriod(start, datetime.date(fee_year + 1, due_month, due_day))


def validity_period(
    period_kind: str,
    start: datetime.date,
    *,
    fee_year: int | None = None,
    due_month: int = FEE_DUE_MONTH,
    due_day: int = FEE_DUE_DAY,
) -> ValidityPeriod:
    """The validity of a membership bought or renewed on `start`: date to date (M-12), or
    for a calendar-year type the fee year `fee_year` (default: the year of `start`, D-02)."""
    if period_kind == DATE_TO_DATE:
        return date_to_date_period(start)
    if period_kind == CALENDAR_YEAR:
        return calendar_year_period(
            fee_year if fee_year is not None else start.year,
            joined_on=start,
            due_month=due_month,
            due_day=due_day,
        )
    raise ValueError(f"Unknown period kind: {period_kind!r}")


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Completed years on `day`."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def is_child(birth_date: datetime.date | None, day: datetime.date) -> bool:
    """M-14: under 18 on `day`. Unknown birth date: not known to be a child."""
    return birth_date is not None and age_on(birth_date, day) < ADULT_AGE


def is_junior(birth_date: datetime.date | None, day: datetime.date) -> bool:
    """M-11: a family shows each personal membership as junior or senior."""
    return is_child(birth_date, day)


def family_has_room(current_members: int, limit: int = FAMILY_MEMBER_LIMIT) -> bool:
    """D-01: one more member fits in a family that has `current_members` now."""
    return current_members < limit


def period_on(
    period_kind: str,
    start: datetime.date,
    day: datetime.date,
    *,
    due_month: int = FEE_DUE_MONTH,
    due_day: int = FEE_DUE_DAY,
) -> ValidityPeriod:
    """The period of a membership started on `start` that `day` falls in: the fee year of
    `day` for a calendar-year membership (D-02, valid until next year's due date), the
    current 12 months for a date-to-date one (M-12). Before the start: the first period."""
    due = {"due_month": due_month, "due_day": due_day}
    if day <= start:
        return validity_period(period_kind, start, **due)
    if period_kind == DATE_TO_DATE:
        period = date_to_date_period(start)
        while period.end < day:
            period = date_to_date_period(period.end + datetime.timedelta(days=1))
        return period
    return validity_period(period_kind, start, fee_year=day.year, **due)


def normalise_mobile(raw: str, default_region: str = "NO") -> str | None:
    """A mobile number in E.164 form (P-08: how contact sets store it), numbers without a
    country code read as Norwegian; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
