"""Reminder rules (D-03, S-06) as pure functions of plain values: no ORM.

- D-03: a reminder goes out `days_after_due` days (club setting, default 7) after the due date;
  each later reminder the same number of days after the previous reminder's new deadline,
  up to `max_reminders`.
- S-06: a reminder *without* fee may go out any time after the due date. A reminder *fee*
  needs the reminder to go out at least 14 days after the original due date and, for a second
  fee, after the previous reminder's deadline; the reminder then gives a new deadline of at
  least 14 days; at most two fees per claim. The fee comes from a dated table (valid on the
  day the reminder goes out), never a constant.
- S-06: late interest at the rate of each half-year (policy rate + 8 points, a dated table),
  simple interest per day (actual/365) on the principal unpaid that day (billed - credited -
  paid, not the fees), from the day after the due date. A reminder charges the interest up to
  its own date since the previous reminder's date (the first: since the due date), so no day
  is charged twice; rounded half-up to the øre. Only where the club's policy says so.
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
    charge_interest: bool = False


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
    since: datetime.date | None = None,
    changes: Sequence[tuple[datetime.date, Decimal]] = (),
) -> Decimal:
    """S-06: simple late interest for the days after `due_date` (and after `since`) up to and
    including `until`, each day on the principal unpaid that day at the rate (% a year) valid
    that day, actual/365; rounded half-up to the øre.

    The principal on a day is `amount` plus the `changes` (day, signed amount) dated up to
    that day (a payment on the 10th stops interest on what it paid from the 10th), never
    below zero. Days before the first rate of the table accrue none."""
    start = max(due_date, since or due_date) + datetime.timedelta(days=1)
    if until < start:
        return ZERO
    end = until + datetime.timedelta(days=1)
    boundaries = {row.valid_from for row in rates} | {day for day, _amount in changes}
    segments = [start, *sorted(day for day in boundaries if start < day < end), end]
    total = Decimal(0)
    for first, after in itertools.pairwise(segments):
        principal = amount + sum((delta for day, delta in changes if day <= first), Decimal(0))
        if principal <= 0:
            continue
        try:
            rate = value_on(rates, first, "late interest rate")
        except LookupError:  # no rate valid yet: no interest for these days
            continue
        total += principal * rate / Decimal(100) * Decimal((after - first).days) / Decimal(365)
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def reminder_interest(
    *,
    principal: Decimal,
    changes: Sequence[tuple[datetime.date, Decimal]],
    due_date: datetime.date,
    today: datetime.date,
    previous: Sequence[PastReminder],
    policy: Policy,
    rates: Sequence[DatedValue],
) -> Decimal:
    """S-06: the late interest a reminder sent `today` charges: on the principal
    (`principal`: billed - credited, plus its dated `changes`: payments, reversals, refunds
    paid out), from the previous reminder's date (each day charged once) or else the due
    date, up to today. Zero when the club's policy charges none."""
    if not policy.charge_interest:
        return ZERO
    since = max((p.reminded_on for p in previous), default=None)
    return late_interest(
        amount=principal, due_date=due_date, until=today, rates=rates, since=since, changes=changes
    )
