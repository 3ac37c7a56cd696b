"""Reminder rules (D-03, S-06) as pure functions: no database."""

import datetime
from decimal import Decimal

import pytest

from billing.delivery import reminders as rules

DUE = datetime.date(2026, 3, 1)
FEES = [rules.DatedValue(datetime.date(2025, 1, 1), Decimal("35"))]
WITH_FEE = rules.Policy(days_after_due=7, charge_fee=True)


def day(offset: int) -> datetime.date:
    return DUE + datetime.timedelta(days=offset)


def decide(today, previous=(), policy=WITH_FEE, fees=FEES):
    return rules.next_reminder(
        due_date=DUE, today=today, previous=list(previous), policy=policy, fee_rates=fees
    )


def test_d03_first_reminder_one_week_after_due_date():
    assert decide(day(6)) is None
    decision = decide(day(7))
    assert decision.sequence == 1
    assert decision.due_date == day(7 + 14)


def test_s06_no_fee_before_14_days_past_due():
    decision = decide(day(13), policy=rules.Policy(days_after_due=1, charge_fee=True))
    assert decision.fee == Decimal("0.00")
    assert decision.rule_id == rules.RULE_NO_FEE


def test_s06_fee_at_14_days_with_a_new_14_day_deadline():
    decision = decide(day(14), policy=rules.Policy(days_after_due=14, charge_fee=True))
    assert decision.fee == Decimal("35.00")
    assert decision.due_date == day(28)
    assert decision.rule_id == rules.RULE_FEE


def test_s06_no_fee_when_the_club_does_not_charge_one():
    assert decide(day(30), policy=rules.Policy(charge_fee=False)).fee == Decimal("0.00")


def test_s06_never_a_third_fee():
    previous = [
        rules.PastReminder(1, day(14), Decimal("35"), day(28)),
        rules.PastReminder(2, day(35), Decimal("35"), day(49)),
    ]
    decision = decide(day(56), previous, policy=rules.Policy(max_reminders=5, charge_fee=True))
    assert decision.sequence == 3
    assert decision.fee == Decimal("0.00")


def test_s06_second_fee_only_after_the_previous_deadline():
    previous = [rules.PastReminder(1, day(14), Decimal("35"), day(28))]
    assert not rules.fee_allowed(DUE, previous, day(28))
    assert rules.fee_allowed(DUE, previous, day(29))


def test_d03_next_reminder_after_the_previous_deadline_and_at_most_max_reminders():
    previous = [rules.PastReminder(1, day(7), Decimal("0"), day(21))]
    assert decide(day(27), previous) is None
    assert decide(day(28), previous).sequence == 2
    many = [rules.PastReminder(n, day(7 * n), Decimal("0"), day(7 * n + 14)) for n in (1, 2, 3)]
    assert decide(day(200), many, policy=rules.Policy(max_reminders=3)) is None


def test_s06_dated_fee_table_picks_the_rate_valid_on_the_day():
    fees = [*FEES, rules.DatedValue(datetime.date(2026, 4, 1), Decimal("40"))]
    policy = rules.Policy(days_after_due=14, charge_fee=True)
    assert decide(datetime.date(2026, 3, 31), policy=policy, fees=fees).fee == Decimal("35.00")
    assert decide(datetime.date(2026, 4, 1), policy=policy, fees=fees).fee == Decimal("40.00")


def test_s06_no_valid_fee_rate_means_no_fee():
    fees = [rules.DatedValue(datetime.date(2030, 1, 1), Decimal("35"))]
    decision = decide(day(20), policy=rules.Policy(days_after_due=14, charge_fee=True), fees=fees)
    assert decision.fee == Decimal("0.00")


def test_s06_value_on_without_a_row_raises():
    with pytest.raises(LookupError):
        rules.value_on(FEES, datetime.date(2024, 12, 31))


def test_s06_late_interest_per_half_year_rate():
    rates = [
        rules.DatedValue(datetime.date(2025, 1, 1), Decimal("12.5")),
        rules.DatedValue(datetime.date(2025, 7, 1), Decimal("12.0")),
    ]
    # 1000 NOK for January 2025 (31 days at 12.5 %)
    assert rules.late_interest(
        amount=Decimal("1000"),
        due_date=datetime.date(2024, 12, 31),
        until=datetime.date(2025, 1, 31),
        rates=rates,
    ) == Decimal("10.62")
    # 30 June at 12.5 % and 1 July at 12 %: 1000 * (0.125 + 0.12) / 365
    assert rules.late_interest(
        amount=Decimal("1000"),
        due_date=datetime.date(2025, 6, 29),
        until=datetime.date(2025, 7, 1),
        rates=rates,
    ) == Decimal("0.67")
    assert rules.late_interest(
        amount=Decimal("1000"), due_date=DUE, until=DUE, rates=rates
    ) == Decimal("0.00")
