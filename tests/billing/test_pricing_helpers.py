"""billing.pricing pure helpers: ages (S-07, D-01), cohorts (D-07), periods (M-12),
instalments (D-08), volunteer refund (M-15), invoice fee (M-10), rules as data."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from billing.pricing import (
    InstalmentError,
    InstalmentRule,
    InvoiceFee,
    PaymentMethod,
    Period,
    VolunteerFee,
    activity_instalment_plan,
    add_months,
    age_in_year,
    build_instalment_plan,
    check_instalment_plan,
    cohort_label,
    date_to_date_period,
    example_rules,
    format_nok,
    invoice_fee_amount,
    is_pensioner,
    price_person,
    rule_from_data,
    volunteer_refund,
)
from billing.pricing.engine import NO_INSTALMENT_RULE
from billing.pricing.helpers import (
    INSTALMENT_COUNT_NOT_ALLOWED,
    INSTALMENT_SHARE_TOO_LOW,
    INSTALMENT_SUM_MISMATCH,
    Instalment,
)
from tests.billing import CONFIG, player

FOOTBALL_INSTALMENTS = InstalmentRule(paid_before=datetime.date(2027, 6, 1))
HANDBALL_INSTALMENTS = InstalmentRule(paid_before=datetime.date(2028, 1, 1))


# --- ages, cohorts, periods -------------------------------------------------------------------


def test_s07_age_is_the_age_reached_in_the_calendar_year():
    assert age_in_year(datetime.date(2015, 12, 31), 2027) == 12
    assert age_in_year(datetime.date(2015, 1, 1), 2027) == 12


def test_d01_pensioner_from_the_calendar_year_of_turning_67():
    born = datetime.date(1960, 12, 31)  # turns 67 on the last day of 2027

    assert is_pensioner(born, 2027)
    assert not is_pensioner(born, 2026)
    assert is_pensioner(born, 2027, pensioner_age=67)
    assert not is_pensioner(born, 2027, pensioner_age=70)


def test_d07_cohort_label_from_birth_year_and_gender():
    assert cohort_label(datetime.date(2015, 6, 1), "male") == "G2015"
    assert cohort_label(datetime.date(2015, 6, 1), "female") == "J2015"
    assert cohort_label(datetime.date(2015, 6, 1)) == "2015"


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(datetime.date(2027, 1, 31), 1) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2027, 10, 29), 3) == datetime.date(2028, 1, 29)


def test_m12_date_to_date_period_runs_12_months_from_the_anniversary():
    assert date_to_date_period(datetime.date(2022, 9, 15), 2027) == Period(
        datetime.date(2027, 9, 15), datetime.date(2028, 9, 14)
    )
    # 29 February renews on 1 March in a common year
    assert date_to_date_period(datetime.date(2024, 2, 29), 2027) == Period(
        datetime.date(2027, 3, 1), datetime.date(2028, 2, 28)
    )


def test_period_text_is_the_year_for_a_calendar_year():
    assert str(Period(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))) == "2027"
    assert (
        str(Period(datetime.date(2027, 8, 1), datetime.date(2028, 6, 30)))
        == "2027-08-01..2028-06-30"
    )


def test_amounts_are_written_with_thousands_and_ore_only_when_needed():
    assert format_nok(Decimal(2400)) == "2,400"
    assert format_nok(Decimal(-720)) == "-720"
    assert format_nok(Decimal("1177.50")) == "1,177.50"


# --- D-08 instalments -------------------------------------------------------------------------


def test_d08_football_fee_in_two_instalments():
    plan = build_instalment_plan(Decimal(2400), 2, datetime.date(2027, 3, 29), FOOTBALL_INSTALMENTS)

    assert plan == (
        Instalment(1, Decimal(1200), datetime.date(2027, 3, 29)),
        Instalment(2, Decimal(1200), datetime.date(2027, 4, 29)),
    )


def test_d08_four_monthly_instalments_put_75_percent_before_the_date():
    plan = build_instalment_plan(
        Decimal(2000), 4, datetime.date(2027, 10, 29), HANDBALL_INSTALMENTS
    )

    assert [i.due_date for i in plan] == [
        datetime.date(2027, 10, 29),
        datetime.date(2027, 11, 29),
        datetime.date(2027, 12, 29),
        datetime.date(2028, 1, 29),
    ]
    assert [i.amount for i in plan] == [Decimal(500)] * 4


def test_d08_rounding_remainder_goes_on_the_first_instalment():
    plan = build_instalment_plan(Decimal(2355), 4, datetime.date(2027, 3, 29), FOOTBALL_INSTALMENTS)

    assert [i.amount for i in plan] == [Decimal(591), Decimal(588), Decimal(588), Decimal(588)]
    assert sum(i.amount for i in plan) == Decimal(2355)


def test_d08_rejects_a_plan_with_less_than_70_percent_before_the_date():
    with pytest.raises(InstalmentError) as error:
        build_instalment_plan(
            Decimal(2000),
            2,
            datetime.date(2027, 12, 29),
            HANDBALL_INSTALMENTS,
            months_between=1,
        )

    assert str(error.value) == INSTALMENT_SHARE_TOO_LOW.format(
        share="50", amount="2,000", date="2028-01-01", minimum="70"
    )


def test_d08_rejects_counts_other_than_2_or_4():
    with pytest.raises(InstalmentError) as error:
        build_instalment_plan(Decimal(2400), 3, datetime.date(2027, 3, 29), FOOTBALL_INSTALMENTS)

    assert str(error.value) == INSTALMENT_COUNT_NOT_ALLOWED.format(count=3, allowed="2 or 4")


def test_d08_exactly_70_percent_before_the_date_is_enough():
    before, after = datetime.date(2027, 5, 31), datetime.date(2027, 6, 1)
    plan = (Instalment(1, Decimal(700), before), Instalment(2, Decimal(300), after))
    check_instalment_plan(Decimal(1000), plan, FOOTBALL_INSTALMENTS)

    short = (Instalment(1, Decimal(699), before), Instalment(2, Decimal(301), after))
    with pytest.raises(InstalmentError):
        check_instalment_plan(Decimal(1000), short, FOOTBALL_INSTALMENTS)


def test_d08_an_instalment_due_on_the_date_is_not_before_it():
    on_the_date = datetime.date(2027, 6, 1)
    plan = (
        Instalment(1, Decimal(500), datetime.date(2027, 5, 1)),
        Instalment(2, Decimal(500), on_the_date),
    )

    with pytest.raises(InstalmentError):
        check_instalment_plan(Decimal(1000), plan, FOOTBALL_INSTALMENTS)


def test_d08_instalments_must_add_up_to_the_fee():
    plan = (
        Instalment(1, Decimal(1000), datetime.date(2027, 3, 29)),
        Instalment(2, Decimal(1000), datetime.date(2027, 4, 29)),
    )

    with pytest.raises(InstalmentError) as error:
        check_instalment_plan(Decimal(2400), plan, FOOTBALL_INSTALMENTS)

    assert str(error.value) == INSTALMENT_SUM_MISMATCH.format(total="2,000", amount="2,400")


def test_d08_the_example_groups_carry_their_instalment_dates():
    assert CONFIG.group("football").instalments.paid_before == datetime.date(2027, 6, 1)
    assert CONFIG.group("handball").instalments.paid_before == datetime.date(2028, 1, 1)


# --- M-15, M-10 -------------------------------------------------------------------------------

VOLUNTEER_FEE = VolunteerFee(
    amount=Decimal(500),
    invoice_date=datetime.date(2027, 2, 1),
    due_date=datetime.date(2027, 3, 1),
)


@pytest.mark.parametrize(
    ("hours", "refund"),
    [
        (Decimal(0), Decimal(0)),
        (Decimal(3), Decimal(300)),
        (Decimal("2.5"), Decimal(250)),
        (Decimal(5), Decimal(500)),
        (Decimal(8), Decimal(500)),  # never more than the fee
    ],
)
def test_m15_refund_is_100_per_hour_at_most_the_fee(hours, refund):
    assert volunteer_refund(hours, VOLUNTEER_FEE) == refund


def test_m15_refund_without_a_cap():
    uncapped = dataclasses.replace(VOLUNTEER_FEE, refund_capped_at_fee=False)

    assert volunteer_refund(Decimal(8), uncapped) == Decimal(800)


def test_m10_invoice_fee_only_when_paying_by_invoice():
    fee = InvoiceFee(amount=Decimal(50))

    assert invoice_fee_amount(PaymentMethod.INVOICE, fee) == Decimal(50)
    assert invoice_fee_amount(PaymentMethod.ONLINE, fee) == Decimal(0)
    assert invoice_fee_amount(PaymentMethod.INVOICE, None) == Decimal(0)


# --- rules are data ---------------------------------------------------------------------------


def test_rules_round_trip_through_plain_data():
    for rule in example_rules(2027):
        data = rule.to_data()

        assert rule_from_data(data) == rule
        assert data["kind"] == rule.kind.value
        assert data["statement"]


def test_every_example_rule_names_a_rule_id_of_domain_md():
    assert all(rule.rule_id[:4] in {"D-05", "D-09", "D-10", "D-11"} for rule in CONFIG.rules)


def test_d08_instalments_of_what_a_player_owes_for_a_group():
    dues = price_person(CONFIG, [player(1, datetime.date(2015, 5, 5), "football", "handball")], 1)

    football = activity_instalment_plan(CONFIG, dues, "football", 2)
    handball = activity_instalment_plan(CONFIG, dues, "handball", 4)

    # 2,400 less 30% (D-09 two sports), from the due date 29 March
    assert football == (
        Instalment(1, Decimal(840), datetime.date(2027, 3, 29)),
        Instalment(2, Decimal(840), datetime.date(2027, 4, 29)),
    )
    assert [i.amount for i in handball] == [Decimal(350)] * 4
    with pytest.raises(InstalmentError):
        activity_instalment_plan(CONFIG, dues, "handball", 2, months_between=3)
    with pytest.raises(InstalmentError) as error:
        activity_instalment_plan(CONFIG, dues, "tennis", 2)
    assert str(error.value) == NO_INSTALMENT_RULE.format(group="tennis")
