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


# ------------------------------------------------------------------ S-06 late interest

RATES = [
    rules.DatedValue(datetime.date(2025, 1, 1), Decimal("12.50")),
    rules.DatedValue(datetime.date(2026, 7, 1), Decimal("12.00")),
]
WITH_INTEREST = rules.Policy(charge_interest=True)


def interest(until, previous=(), changes=(), principal="500.00", due=DUE, policy=WITH_INTEREST):
    return rules.reminder_interest(
        principal=Decimal(principal),
        changes=list(changes),
        due_date=due,
        today=until,
        previous=list(previous),
        policy=policy,
        rates=RATES,
    )


def test_s06_interest_from_the_day_after_the_due_date_to_the_reminder():
    # 500 * 12.5 % * 7 / 365 = 1.1986...
    assert interest(day(7)) == Decimal("1.20")
    assert interest(DUE) == Decimal("0.00")


def test_s06_interest_split_at_the_half_year_rate_change():
    due = datetime.date(2026, 6, 20)
    # 10 days (21-30 June) at 12.5 % and 10 days (1-10 July) at 12 %: 500 * 2.45 / 365
    assert interest(datetime.date(2026, 7, 10), due=due) == Decimal("3.36")


def test_s06_each_reminder_charges_only_the_days_since_the_previous_one():
    first = interest(day(7))
    previous = [rules.PastReminder(1, day(7), Decimal("0"), day(21))]
    second = interest(day(28), previous)

    assert (first, second) == (Decimal("1.20"), Decimal("3.60"))  # 7 days, then 21 days
    # no day charged twice: the whole period at once differs only by the rounding of each
    assert interest(day(28)) == Decimal("4.79")  # 1.1986 + 3.5959 = 4.7945


def test_s06_interest_runs_on_the_principal_unpaid_each_day():
    # 200 paid on day 3: 2 days on 500, 5 days on 300 = (1000 + 1500) * 0.125 / 365
    paid = [(day(3), Decimal("-200.00"))]
    assert interest(day(7), changes=paid) == Decimal("0.86")
    # paid in full before the due date: nothing; a later reversal (S-02) puts it back
    settled = [(day(-5), Decimal("-500.00")), (day(4), Decimal("500.00"))]
    assert interest(day(7), changes=settled) == Decimal("0.68")  # days 4-7 on 500


def test_s06_interest_rounded_half_up_to_the_ore():
    # 0.25 * 10 % * 73 / 365 = 0.005 exactly
    rates = [rules.DatedValue(datetime.date(2025, 1, 1), Decimal("10"))]
    assert rules.late_interest(
        amount=Decimal("0.25"), due_date=DUE, until=day(73), rates=rates
    ) == Decimal("0.01")


def test_s06_no_interest_before_the_first_rate_or_when_the_club_charges_none():
    early = datetime.date(2024, 12, 1)
    # 31 Dec 2024 has no rate; 1-10 January 2025 at 12.5 %: 500 * 0.125 * 10 / 365
    assert interest(datetime.date(2025, 1, 10), due=early + datetime.timedelta(days=29)) == (
        Decimal("1.71")
    )
    assert interest(day(30), policy=rules.Policy(charge_interest=False)) == Decimal("0.00")
    assert interest(day(30), principal="0") == Decimal("0.00")
