"""billing.pricing membership lines: D-01, D-02, D-05, M-04, M-10, M-11, M-12, M-15, M-16,
and ended members, with the example club's numbers."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from billing.pricing import (
    FeeKind,
    LineKind,
    Membership,
    MembershipPrice,
    MembershipSchedule,
    PaymentMethod,
    Period,
    PeriodMode,
    PersonFacts,
    PricingError,
    Role,
    RoleKind,
    Severity,
    price_family,
    price_person,
    price_season,
)
from billing.pricing.engine import (
    FAMILY_MEMBERSHIP_WITHOUT_FAMILY,
    FAMILY_TOO_LARGE,
    NO_MEMBERSHIP_PRICE,
    NOT_A_MEMBER,
    SINGLE_AND_FAMILY,
    TWO_FAMILY_CONTACTS,
)
from tests.billing import CONFIG, amounts, member, player, rule_lines

ADULT = datetime.date(1985, 4, 10)
CHILD = datetime.date(2015, 5, 20)
JOINED_2020 = datetime.date(2020, 1, 1)
YEAR_2027 = Period(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))


def family(*born: datetime.date, family_id: int = 7, **facts) -> list[PersonFacts]:
    return [
        member(
            index + 1,
            birth_date,
            membership_type="family",
            family_id=family_id,
            joined=datetime.date(2020, 1, 1) + datetime.timedelta(days=index),
            **facts,
        )
        for index, birth_date in enumerate(born)
    ]


# --- D-01, D-02 -------------------------------------------------------------------------------


def test_d01_d02_member_pays_500_invoiced_in_january_due_1_march():
    dues = price_person(CONFIG, [member(1, ADULT)], 1)

    [line] = dues.lines_for(FeeKind.MEMBERSHIP)
    assert line.amount == Decimal(500)
    assert line.kind is LineKind.CHARGE
    assert line.rule_id == "D-01"
    assert line.reason == "Membership fee 2027 member 500 (D-01)"
    assert line.period == YEAR_2027
    assert line.invoice_date == datetime.date(2027, 1, 15)
    assert line.due_date == datetime.date(2027, 3, 1)


def test_d01_pensioner_pays_200_from_the_year_of_turning_67():
    turns_67_in_december = datetime.date(1960, 12, 15)
    dues = price_person(CONFIG, [member(1, turns_67_in_december)], 1)

    [line] = dues.lines_for(FeeKind.MEMBERSHIP)
    assert line.amount == Decimal(200)
    assert line.rule_id == "D-01 pensioner"
    assert line.category == "pensioner"


def test_d01_a_person_turning_67_next_year_pays_the_member_fee():
    dues = price_person(CONFIG, [member(1, datetime.date(1961, 1, 1))], 1)

    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]


def test_d02_the_full_year_whatever_the_join_month_invoiced_on_joining():
    joined = datetime.date(2027, 12, 1)
    dues = price_person(CONFIG, [member(1, ADULT, joined=joined)], 1)

    [line] = dues.lines_for(FeeKind.MEMBERSHIP)
    assert line.amount == Decimal(500)
    assert line.invoice_date == joined
    assert line.due_date == datetime.date(2027, 12, 15)


def test_d02_a_member_joining_next_year_pays_nothing_this_season():
    dues = price_person(CONFIG, [member(1, ADULT, joined=datetime.date(2028, 1, 5))], 1)

    assert dues.lines == ()


# --- M-12 -------------------------------------------------------------------------------------


def test_m12_date_to_date_membership_pays_the_full_fee_for_12_months_from_the_anniversary():
    schedule = MembershipSchedule(
        invoice_date=datetime.date(2027, 1, 15),
        due_date=datetime.date(2027, 3, 1),
        period_mode=PeriodMode.DATE_TO_DATE,
        due_days=14,
    )
    config = dataclasses.replace(CONFIG, membership_schedule=schedule)
    dues = price_person(config, [member(1, ADULT, joined=datetime.date(2022, 9, 15))], 1)

    [line] = dues.lines_for(FeeKind.MEMBERSHIP)
    assert line.amount == Decimal(500)
    assert line.period == Period(datetime.date(2027, 9, 15), datetime.date(2028, 9, 14))
    assert line.invoice_date == datetime.date(2027, 9, 15)
    assert line.due_date == datetime.date(2027, 9, 29)
    assert line.reason == "Membership fee 2027-09-15..2028-09-14 member 500 (D-01)"


# --- M-04 -------------------------------------------------------------------------------------


def test_m04_membership_is_its_own_line_and_invoice_apart_from_activity_fees():
    dues = price_person(CONFIG, [player(1, CHILD, "football")], 1)

    membership = dues.lines_for(FeeKind.MEMBERSHIP)
    activity = dues.lines_for(FeeKind.ACTIVITY)
    assert [line.amount for line in membership] == [Decimal(500)]
    assert [line.amount for line in activity] == [Decimal(2400)]
    assert membership[0].invoice_key != activity[0].invoice_key


# --- M-11, D-01 families ----------------------------------------------------------------------


def test_m11_family_of_five_pays_700_contact_500_others_the_minimum_50():
    persons = family(ADULT, ADULT, CHILD, CHILD, CHILD)
    dues = price_family(CONFIG, persons, 7)

    assert dues.membership_total == Decimal(700)
    assert dues.contact_person_id == 1
    shares = [dues.member(pid).total_for(FeeKind.MEMBERSHIP) for pid in (1, 2, 3, 4, 5)]
    assert shares == [Decimal(500), Decimal(50), Decimal(50), Decimal(50), Decimal(50)]
    contact_line = dues.member(1).lines_for(FeeKind.MEMBERSHIP)[0]
    assert contact_line.rule_id == "M-11"
    assert contact_line.reason == (
        "Membership fee 2027 family 7, contact person's share 500 of 700 (M-11)"
    )
    assert contact_line.base_amount == Decimal(700)
    assert dues.member(3).lines_for(FeeKind.MEMBERSHIP)[0].reason == (
        "Membership fee 2027 family 7, member's share 50 of 700 (M-11)"
    )


def test_m11_the_marked_contact_person_carries_the_remainder():
    persons = family(ADULT, ADULT, CHILD)
    persons[1] = dataclasses.replace(persons[1], family_contact=True)

    dues = price_family(CONFIG, persons, 7)

    assert dues.contact_person_id == 2
    assert [m.person_id for m in dues.members] == [2, 1, 3]
    assert dues.member(2).total_for(FeeKind.MEMBERSHIP) == Decimal(600)
    assert dues.member(1).total_for(FeeKind.MEMBERSHIP) == Decimal(50)


def test_m11_a_family_never_pays_more_than_its_own_prices():
    two_pensioners = family(datetime.date(1950, 1, 1), datetime.date(1952, 1, 1))

    dues = price_family(CONFIG, two_pensioners, 7)

    assert dues.membership_total == Decimal(400)
    assert [m.total_for(FeeKind.MEMBERSHIP) for m in dues.members] == [Decimal(200)] * 2


def test_m11_family_limit_is_7_members():
    seven = family(*[ADULT] * 7)
    assert price_family(CONFIG, seven, 7).membership_total == Decimal(700)

    eight = family(*[ADULT] * 8)
    with pytest.raises(PricingError) as error:
        price_family(CONFIG, eight, 7)

    assert str(error.value) == FAMILY_TOO_LARGE.format(family_id=7, count=8, maximum=7)


def test_m11_a_member_cannot_hold_single_and_family_dues_for_the_same_period():
    person = PersonFacts(
        person_id=1,
        birth_date=ADULT,
        family_id=7,
        memberships=(
            Membership("ordinary", datetime.date(2020, 1, 1)),
            Membership("family", datetime.date(2027, 2, 1)),
        ),
    )

    with pytest.raises(PricingError) as error:
        price_person(CONFIG, [person], 1)

    assert str(error.value) == SINGLE_AND_FAMILY.format(person_id=1, period="2027")
    assert error.value.rule_id == "M-11"


def test_m11_switching_to_family_after_the_single_membership_ended_is_fine():
    person = PersonFacts(
        person_id=1,
        birth_date=ADULT,
        family_id=7,
        memberships=(
            Membership("ordinary", datetime.date(2020, 1, 1), end=datetime.date(2026, 12, 31)),
            Membership("family", datetime.date(2027, 1, 1)),
        ),
    )

    dues = price_person(CONFIG, [person], 1)

    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]
    assert dues.lines_for(FeeKind.MEMBERSHIP)[0].rule_id == "M-11"


def test_m11_a_season_run_reports_the_conflict_and_leaves_the_family_out():
    conflicted = PersonFacts(
        person_id=9,
        birth_date=ADULT,
        family_id=8,
        memberships=(
            Membership("ordinary", datetime.date(2020, 1, 1)),
            Membership("family", datetime.date(2027, 2, 1)),
        ),
    )

    season = price_season(CONFIG, [member(1, ADULT), conflicted])

    assert [dues.person_id for dues in season.persons] == [1]
    [issue] = season.issues
    assert issue.severity is Severity.ERROR
    assert issue.family_id == 8
    assert issue.rule_id == "M-11"


def test_m11_family_membership_needs_a_family_and_one_contact():
    with pytest.raises(PricingError) as error:
        price_person(CONFIG, [member(1, ADULT, membership_type="family")], 1)
    assert str(error.value) == FAMILY_MEMBERSHIP_WITHOUT_FAMILY.format(person_id=1)

    persons = [dataclasses.replace(p, family_contact=True) for p in family(ADULT, ADULT)]
    with pytest.raises(PricingError) as error:
        price_family(CONFIG, persons, 7)
    assert str(error.value) == TWO_FAMILY_CONTACTS.format(family_id=7)


def test_d01_a_family_not_registered_as_such_is_billed_individually():
    persons = [member(pid, ADULT, family_id=7) for pid in (1, 2, 3)]

    dues = price_family(CONFIG, persons, 7)

    assert dues.membership_total == Decimal(1500)
    membership_lines = [line for m in dues.members for line in m.lines_for(FeeKind.MEMBERSHIP)]
    assert [line.rule_id for line in membership_lines] == ["D-01"] * 3


# --- M-10 -------------------------------------------------------------------------------------


def test_m10_invoice_fee_50_per_person_in_a_family_too():
    persons = family(ADULT, ADULT, CHILD, payment_method=PaymentMethod.INVOICE)

    dues = price_family(CONFIG, persons, 7)

    for member_dues in dues.members:
        [fee] = member_dues.lines_for(FeeKind.INVOICE_FEE)
        assert fee.amount == Decimal(50)
        assert fee.rule_id == "M-10"
        assert fee.for_fee is FeeKind.MEMBERSHIP
        [membership] = member_dues.lines_for(FeeKind.MEMBERSHIP)
        assert fee.invoice_key == membership.invoice_key
        assert fee.due_date == membership.due_date
    assert dues.membership_total == Decimal(700)


def test_m10_paying_online_adds_no_invoice_fee():
    dues = price_person(CONFIG, [member(1, ADULT)], 1)

    assert dues.lines_for(FeeKind.INVOICE_FEE) == ()


# --- D-05 honorary ----------------------------------------------------------------------------


def test_d05_honorary_members_pay_no_membership_fee():
    honorary = member(1, ADULT, membership_type="honorary", payment_method=PaymentMethod.INVOICE)

    dues = price_person(CONFIG, [honorary], 1)

    charge, exemption = dues.lines_for(FeeKind.MEMBERSHIP)
    assert charge.amount == Decimal(500)
    assert exemption.kind is LineKind.EXEMPTION
    assert exemption.amount == Decimal(-500)
    assert exemption.reason == "D-05 honorary (honorary member) -100%: -500"
    assert dues.total_for(FeeKind.MEMBERSHIP) == Decimal(0)
    assert dues.lines_for(FeeKind.INVOICE_FEE) == ()  # nothing to invoice


def test_d05_with_the_rule_switched_off_honorary_members_pay():
    config = CONFIG.with_rule_enabled("D-05 honorary", False)

    dues = price_person(config, [member(1, ADULT, membership_type="honorary")], 1)

    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]
    assert rule_lines(dues, "D-05 honorary") == []


# --- D-05 / M-16 must be members --------------------------------------------------------------


def test_m16_a_player_without_membership_is_warned_and_still_priced():
    not_member = PersonFacts(
        person_id=1,
        birth_date=CHILD,
        activities=player(1, CHILD, "football").activities,
    )

    dues = price_person(CONFIG, [not_member], 1)

    assert amounts(dues, FeeKind.ACTIVITY) == [Decimal(2400)]
    assert dues.lines_for(FeeKind.MEMBERSHIP) == ()
    [issue] = dues.issues
    assert issue.severity is Severity.WARNING
    assert issue.message == NOT_A_MEMBER.format(person_id=1, season=2027)


def test_m16_coaches_and_board_members_pay_the_membership_fee():
    coach = member(1, ADULT, roles=(Role(RoleKind.MAIN_BOARD),), volunteer_contract_signed=True)

    dues = price_person(CONFIG, [coach], 1)

    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]
    assert dues.issues == ()
    no_membership = PersonFacts(person_id=2, birth_date=ADULT, roles=(Role(RoleKind.COACH),))
    assert len(price_person(CONFIG, [no_membership], 2).issues) == 1


# --- ended members ----------------------------------------------------------------------------


def test_an_ended_member_is_never_charged():
    ended = player(1, CHILD, "football", "handball", resigned_on=datetime.date(2026, 11, 3))

    dues = price_person(CONFIG, [ended], 1)

    assert dues.lines == ()
    assert dues.issues == ()


def test_resigning_mid_season_stops_charges_invoiced_after_it():
    resigned = player(1, CHILD, "football", "handball", resigned_on=datetime.date(2027, 6, 10))

    dues = price_person(CONFIG, [resigned], 1)

    # membership (January), volunteer work (February) and football (March) were invoiced
    # before; handball (October) is not
    charged = [(line.fee, line.group) for line in dues.lines if line.kind is LineKind.CHARGE]
    assert charged == [
        (FeeKind.MEMBERSHIP, None),
        (FeeKind.ACTIVITY, "football"),
        (FeeKind.VOLUNTEER_WORK, None),
    ]


def test_resigning_on_the_invoicing_day_means_no_invoice():
    dues = price_person(CONFIG, [member(1, ADULT, resigned_on=datetime.date(2027, 1, 15))], 1)

    assert dues.lines == ()


def test_a_membership_ended_before_invoicing_is_not_charged():
    person = PersonFacts(
        person_id=1,
        birth_date=ADULT,
        memberships=(Membership("ordinary", JOINED_2020, end=datetime.date(2027, 1, 5)),),
    )

    assert price_person(CONFIG, [person], 1).lines == ()


# --- M-15 volunteer-work fee ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "charged"),
    [
        (datetime.date(2016, 1, 1), False),  # 11 this year
        (datetime.date(2015, 12, 31), True),  # 12 this year
        (datetime.date(1947, 1, 1), True),  # 80 this year
        (datetime.date(1946, 12, 31), False),  # 81 this year
    ],
)
def test_m15_volunteer_fee_for_members_aged_12_to_80(born, charged):
    dues = price_person(CONFIG, [member(1, born)], 1)

    expected = [Decimal(500)] if charged else []
    assert amounts(dues, FeeKind.VOLUNTEER_WORK) == expected


def test_m15_volunteer_fee_is_invoiced_separately_early_in_the_year():
    dues = price_person(CONFIG, [member(1, ADULT)], 1)

    [line] = dues.lines_for(FeeKind.VOLUNTEER_WORK)
    assert line.reason == "Volunteer-work fee 2027 500 (M-15)"
    assert line.invoice_date == datetime.date(2027, 2, 1)
    assert line.invoice_key != dues.lines_for(FeeKind.MEMBERSHIP)[0].invoice_key


def test_m15_100_back_per_hour_worked():
    dues = price_person(CONFIG, [member(1, ADULT, volunteer_hours=Decimal(3))], 1)

    charge, refund = dues.lines_for(FeeKind.VOLUNTEER_WORK)
    assert charge.amount == Decimal(500)
    assert refund.kind is LineKind.REFUND
    assert refund.amount == Decimal(-300)
    assert refund.rule_id == "M-15 refund"
    assert refund.quantity == Decimal(3)
    assert refund.reason == "M-15 refund 3 h x 100: -300"
    assert dues.total_for(FeeKind.VOLUNTEER_WORK) == Decimal(200)


def test_m15_refund_never_exceeds_the_fee():
    dues = price_person(CONFIG, [member(1, ADULT, volunteer_hours=Decimal(9))], 1)

    assert dues.total_for(FeeKind.VOLUNTEER_WORK) == Decimal(0)


def test_m15_no_volunteer_fee_without_membership():
    no_member = PersonFacts(person_id=1, birth_date=ADULT)

    assert price_person(CONFIG, [no_member], 1).lines == ()


# --- club-defined membership types and categories ---------------------------------------------


def test_a_club_defines_junior_and_supporter_prices_and_families_show_each_category():
    config = dataclasses.replace(
        CONFIG,
        membership_prices=(
            *CONFIG.membership_prices,
            MembershipPrice("junior", Decimal(250), rule_id="X-junior", max_age=19),
            MembershipPrice("supporter", Decimal(100), membership_types=("supporter",)),
        ),
    )
    persons = [*family(ADULT, CHILD), member(3, ADULT, membership_type="supporter")]

    season = price_season(config, persons)

    family_lines = [season.person(pid).lines_for(FeeKind.MEMBERSHIP)[0] for pid in (1, 2)]
    # 500 + 250 is more than the family price: 700 split, each line keeps its category
    assert [(line.category, line.amount) for line in family_lines] == [
        ("member", Decimal(650)),
        ("junior", Decimal(50)),
    ]
    assert season.families[0].membership_total == Decimal(700)
    assert amounts(season.person(3), FeeKind.MEMBERSHIP) == [Decimal(100)]


def test_a_membership_type_without_a_price_is_an_error():
    with pytest.raises(PricingError) as error:
        price_person(CONFIG, [member(1, ADULT, membership_type="supporter")], 1)

    assert str(error.value) == NO_MEMBERSHIP_PRICE.format(
        membership_type="supporter", age=42, person_id=1
    )
