"""Reminder rules (D-03, S-06) as pure functions of plain values: no ORM.

- D-03: a reminder goes out `days_after_due` days (club setting, default 7) after the due date;
  each later reminder the same number of days after the previous reminder's new deadline,
  up to `max_reminders`.
- S-06: a reminder *without* fee may go out any time after the due date. A reminder *fee*
  needs the reminder to go out at least 14 days after the original due date and, for a second
  fee, after the previous reminder's deadline; the reminder then gives a new deadline of at
  least 14 days; at most two fees per claim. The fee comes from a dated table (valid on the
  day the reminder goes out), never a constant.
- S-06: late interest at the rate of each half-year (policy rate + 8 points), simple interest
  per day (actual/365) on the unpaid amount from the day after the due date.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEE_DAYS_PAST_DUE = 14  # S-06
MIN_DEADLINE_DAYS = 14  # S-06
MAX_FEES_PER_CLAIM = 2  # S-06
DEFAULT_DAYS_AFTER_DUE = 7  # D-03
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

RULE_NO_FEE = "S-06 reminder without fee"
RULE_FEE = "S-06 reminder fee"
NO_RATE = "No {what} valid on {day}."


@dataclass(frozen=True)
class Policy:
    days_after_due: int = DEFAULT_DAYS_AFTER_DUE
    deadline_days: int = MIN_DEADLINE_DAYS
    max_reminders: int = 3
    charge_fee: bool = False


@dataclass(frozen=True)
class PastReminder:
    sequence: int
    reminded_on: datetime.date
    fee: Decimal
    due_date: datetime.date


@dataclass(frozen=True)
class DatedValue:
    """A row of a dated table: `value` from `valid_from` until the next row."""

    valid_from: datetime.date
    value: Decimal


@dataclass(frozen=True)
class Decision:
    sequence: int
    fee: Decimal
    due_date: datetime.date
    rule_id: str


def value_on(table: Sequence[DatedValue], day: datetime.date, what: str = "rate") -> Decimal:
    """The value valid on `day`: the row with the latest `valid_from` not after it."""
    valid = [row for row in table if row.valid_from <= day]
    if not valid:
        raise LookupError(NO_RATE.format(what=what, day=day.isoformat()))
    return max(valid, key=lambda row: row.valid_from).value


def reminder_due_on(
    due_date: datetime.date, previous: Sequence[PastReminder], policy: Policy
) -> datetime.date | None:
    """D-03: the day the next reminder is due, or None when the policy's number is reached."""
    if len(previous) >= policy.max_reminders:
        return None
    deadline = max((p.due_date for p in previous), default=due_date)
    return deadline + datetime.timedelta(days=max(policy.days_after_due, 1))


def fee_allowed(
    due_date: datetime.date, previous: Sequence[PastReminder], today: datetime.date
) -> bool:
    """S-06: may a reminder sent `today` carry a fee?"""
    if sum(1 for p in previous if p.fee > 0) >= MAX_FEES_PER_CLAIM:
        return False
    if today < due_date + datetime.timedelta(days=FEE_DAYS_PAST_DUE):
        return False
    return all(today > p.due_date for p in previous)  # the last deadline has run out


def next_reminder(
    *,
    due_date: datetime.date,
    today: datetime.date,
    previous: Sequence[PastReminder],
    policy: Policy,
    fee_rates: Sequence[DatedValue],
) -> Decision | None:
    """The reminder to send today for an unpaid invoice due `due_date`, or None."""
    when = reminder_due_on(due_date, previous, policy)
    if when is None or today < when or today <= due_date:
        return None
    sequence = max((p.sequence for p in previous), default=0) + 1
    deadline_days = max(policy.deadline_days, MIN_DEADLINE_DAYS)
    new_due = today + datetime.timedelta(days=deadline_days)
    if policy.charge_fee and fee_allowed(due_date, previous, today):
        try:
            fee = value_on(fee_rates, today, "reminder fee")
        except LookupError:  # no fee is valid that day: remind without one
            fee = ZERO
        if fee > 0:
            return Decision(sequence, fee.quantize(CENT), new_due, RULE_FEE)
    return Decision(sequence, ZERO, new_due, RULE_NO_FEE)


def late_interest(
    *,
    amount: Decimal,
    due_date: datetime.date,
    until: datetime.date,
    rates: Sequence[DatedValue],
) -> Decimal:
    """S-06: simple late interest on `amount` for the days after `due_date` up to and
    including `until`, each day at the rate (% a year) valid that day, actual/365."""
    if amount <= 0 or until <= due_date:
        return ZERO
    total = Decimal(0)
    day = due_date + datetime.timedelta(days=1)
    boundaries = sorted({row.valid_from for row in rates if due_date < row.valid_from <= until})
    segments = [day, *boundaries, until + datetime.timedelta(days=1)]
    for start, end in itertools.pairwise(segments):
        if end <= start:
            continue
        rate = value_on(rates, start, "late interest rate")
        total += amount * rate / Decimal(100) * Decimal((end - start).days) / Decimal(365)
    return total.quantize(CENT, rounding=ROUND_HALF_UP)
