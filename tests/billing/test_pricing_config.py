"""billing.pricing.SeasonConfig: the fee schedule is data, checked when it is built (M-04,
M-11, D-07), and its rules can be switched per club."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from billing.pricing import (
    ActivityFee,
    ConfigError,
    FamilyFee,
    LateStartParams,
    MembershipPrice,
    Rule,
    TwoSportsParams,
)
from billing.pricing.config import (
    DUPLICATE_RULE_ID,
    FAMILY_FEE_BELOW_SHARES,
    MEMBERSHIP_BELOW_MINIMUM,
    NOT_A_MULTIPLE_OF_UNIT,
    OVERLAPPING_ACTIVITY_FEES,
    PERCENT_OUT_OF_RANGE,
    UNKNOWN_GROUP,
    UNKNOWN_RULE,
)
from tests.billing import CONFIG


def test_example_config_holds_the_example_club_values():
    prices = {price.category: price for price in CONFIG.membership_prices}

    assert prices["member"].amount == Decimal(500)  # D-01
    assert prices["pensioner"].amount == Decimal(200)
    assert prices["pensioner"].min_age == 67
    assert CONFIG.family_fee == FamilyFee(amount=Decimal(700), max_members=7)
    assert CONFIG.membership_minimum == Decimal(50)  # M-04
    assert CONFIG.invoice_fee.amount == Decimal(50)  # M-10
    assert (CONFIG.volunteer_fee.min_age, CONFIG.volunteer_fee.max_age) == (12, 80)  # M-15
    assert CONFIG.volunteer_fee.refund_per_hour == Decimal(100)
    assert CONFIG.membership_schedule.due_date == datetime.date(2027, 3, 1)  # D-02
    assert CONFIG.group("football").invoice_date == datetime.date(2027, 3, 1)  # D-07
    assert CONFIG.group("handball").invoice_date == datetime.date(2027, 10, 1)
    assert CONFIG.group("football").due_days == 28
    assert CONFIG.activity_fee("football", 2015).amount == Decimal(2400)


def test_m04_a_membership_fee_below_nok_50_is_refused():
    cheap = MembershipPrice("student", Decimal(40))

    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, membership_prices=(*CONFIG.membership_prices, cheap))

    assert str(error.value) == MEMBERSHIP_BELOW_MINIMUM.format(
        category="student", amount="40", minimum="50"
    )


def test_m11_a_family_fee_must_leave_the_minimum_for_every_member():
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, family_fee=FamilyFee(amount=Decimal(300), max_members=7))

    assert str(error.value) == FAMILY_FEE_BELOW_SHARES.format(fee="300", members=7, minimum="50")


def test_rule_ids_are_unique():
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, rules=(*CONFIG.rules, CONFIG.rules[0]))

    assert str(error.value) == DUPLICATE_RULE_ID.format(rule_id=CONFIG.rules[0].rule_id)


def test_rules_and_fees_must_name_configured_groups():
    rule = Rule("X-1", TwoSportsParams(groups=("football", "tennis")), "x")

    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, rules=(*CONFIG.rules, rule))

    assert str(error.value) == UNKNOWN_GROUP.format(where="X-1", group="tennis")


def test_d07_cohort_fees_of_a_group_must_not_overlap():
    overlapping = ActivityFee("football", 2015, 2016, Decimal(1000))

    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, activity_fees=(*CONFIG.activity_fees, overlapping))

    assert str(error.value) == OVERLAPPING_ACTIVITY_FEES.format(group="football", year=2015)


def test_percentages_are_between_0_and_100():
    rule = Rule(
        "X-2",
        LateStartParams(group="football", started_after=datetime.date(2027, 8, 1), percent=110),
        "x",
    )

    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, rules=(*CONFIG.rules, rule))

    assert str(error.value) == PERCENT_OUT_OF_RANGE.format(rule_id="X-2", percent=110)


def test_amounts_are_whole_multiples_of_the_rounding_unit():
    fee = ActivityFee("football", 1900, 1901, Decimal("99.50"))

    with pytest.raises(ConfigError) as error:
        dataclasses.replace(CONFIG, activity_fees=(*CONFIG.activity_fees, fee))

    assert str(error.value) == NOT_A_MULTIPLE_OF_UNIT.format(
        where="activity fee football", amount=Decimal("99.50"), unit=Decimal(1)
    )
    in_ore = dataclasses.replace(
        CONFIG, activity_fees=(*CONFIG.activity_fees, fee), rounding_unit=Decimal("0.01")
    )
    assert in_ore.activity_fee("football", 1900).amount == Decimal("99.50")


def test_a_rule_is_switched_off_and_on_per_club():
    off = CONFIG.with_rule_enabled("D-09 two sports", False)

    assert not off.rule("D-09 two sports").enabled
    assert CONFIG.rule("D-09 two sports").enabled  # the original is unchanged
    assert off.with_rule_enabled("D-09 two sports", True) == CONFIG


def test_switching_an_unknown_rule_is_an_error():
    with pytest.raises(ConfigError) as error:
        CONFIG.with_rule_enabled("D-99", False)

    assert str(error.value) == UNKNOWN_RULE.format(rule_id="D-99")
