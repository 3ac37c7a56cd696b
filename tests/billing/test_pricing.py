"""billing.pricing, the price engine of issue 5: the combined cases of the issue, the order
in which rules apply, rules switched off per club, stable and explainable output, and one
source for the preview and the season run."""

import dataclasses
import datetime
import random
from decimal import Decimal

import pytest

from billing.pricing import (
    Activity,
    Agreement,
    FeeKind,
    Line,
    LineKind,
    PaymentMethod,
    PersonFacts,
    PricingError,
    Role,
    RoleKind,
    SiblingsParams,
    example_season_config,
    price_family,
    price_person,
    price_season,
)
from billing.pricing.engine import DUPLICATE_PERSON, UNKNOWN_FAMILY, UNKNOWN_PERSON
from billing.pricing.lines import build_line
from tests.bench.bench_pricing import synthetic_members
from tests.billing import CONFIG, member, player, reasons, rule_lines

MOTHER = datetime.date(1985, 4, 10)
FATHER = datetime.date(1983, 11, 2)
BORN_2013 = datetime.date(2013, 3, 3)
BORN_2015 = datetime.date(2015, 5, 5)
BORN_2017 = datetime.date(2017, 7, 7)
BORN_2022 = datetime.date(2022, 2, 2)


def family_member(person_id, born, *groups, **facts):
    return player(
        person_id,
        born,
        *groups,
        membership_type="family",
        family_id=7,
        joined=datetime.date(2019, 1, person_id),
        **facts,
    )


# --- the combined cases of the issue ----------------------------------------------------------


def test_family_of_five_with_two_players_in_both_sports():
    persons = [
        family_member(1, MOTHER, children_ids=(3, 4, 5)),
        family_member(2, FATHER, children_ids=(3, 4, 5)),
        family_member(3, BORN_2013, "football", "handball", gender="female"),
        family_member(4, BORN_2015, "football", "handball", gender="male"),
        family_member(5, BORN_2022),
    ]

    dues = price_family(CONFIG, persons, 7)

    # M-11: 700 for the family, the contact carries 500, the others 50 each
    assert dues.membership_total == Decimal(700)
    # D-07 + D-09 two sports: 3,000/2,600 (youth) and 2,400/2,000 (children), each -30%
    assert reasons(dues.member(3)) == [
        "Membership fee 2027 family 7, member's share 50 of 700 (M-11)",
        "Activity fee J2013 football 3,000 (D-07)",
        "D-09 two sports -30%: -900",
        "Activity fee J2013 handball 2,600 (D-07)",
        "D-09 two sports -30%: -780",
        "Volunteer-work fee 2027 500 (M-15)",
    ]
    assert reasons(dues.member(4)) == [
        "Membership fee 2027 family 7, member's share 50 of 700 (M-11)",
        "Activity fee G2015 football 2,400 (D-07)",
        "D-09 two sports -30%: -720",
        "Activity fee G2015 handball 2,000 (D-07)",
        "D-09 two sports -30%: -600",
        "Volunteer-work fee 2027 500 (M-15)",
    ]
    activity = sum(m.total_for(FeeKind.ACTIVITY) for m in dues.members)
    assert activity == Decimal(2100 + 1820 + 1680 + 1400)
    # M-15: everyone aged 12..80 this year; not the five-year-old
    assert [m.total_for(FeeKind.VOLUNTEER_WORK) for m in dues.members] == [
        Decimal(500),
        Decimal(500),
        Decimal(500),
        Decimal(500),
        Decimal(0),
    ]
    assert dues.total == Decimal(700 + 7000 + 2000)
    assert rule_lines(dues.member(4), "D-09 siblings") == []  # only two players


def test_family_of_five_with_three_players_in_both_sports_pays_for_the_two_oldest():
    persons = [
        family_member(1, MOTHER),
        family_member(2, FATHER),
        family_member(3, BORN_2013, "football", "handball"),
        family_member(4, BORN_2015, "football", "handball"),
        family_member(5, BORN_2017, "football", "handball"),
    ]

    dues = price_family(CONFIG, persons, 7)

    youngest = dues.member(5)
    assert [line.rule_id for line in youngest.lines_for(FeeKind.ACTIVITY)] == [
        "D-07",
        "D-09 siblings",
        "D-07",
        "D-09 siblings",
    ]
    assert youngest.total_for(FeeKind.ACTIVITY) == Decimal(0)
    assert dues.member(4).total_for(FeeKind.ACTIVITY) == Decimal(1680 + 1400)


def test_a_pensioner_who_turns_67_this_year():
    turns_67 = datetime.date(1960, 10, 20)
    pensioner = member(1, turns_67, payment_method=PaymentMethod.INVOICE)

    this_year = price_person(CONFIG, [pensioner], 1)
    last_year = price_person(example_season_config(2026), [pensioner], 1)

    assert reasons(this_year) == [
        "Membership fee 2027 pensioner 200 (D-01 pensioner)",
        "Invoice fee 50 (M-10)",
        "Volunteer-work fee 2027 500 (M-15)",
    ]
    assert this_year.total == Decimal(750)
    assert last_year.total_for(FeeKind.MEMBERSHIP) == Decimal(500)


def test_a_board_members_children():
    board_member = member(
        1,
        MOTHER,
        roles=(Role(RoleKind.MAIN_BOARD),),
        volunteer_contract_signed=True,
        children_ids=(2, 3),
    )
    children = [
        player(2, BORN_2013, "football", "handball"),
        player(3, BORN_2017, "football", team_id="G2017"),
    ]

    season = price_season(CONFIG, [board_member, *children])

    for child_id in (2, 3):
        child = season.person(child_id)
        assert child.total_for(FeeKind.ACTIVITY) == Decimal(0)
        assert all(
            line.rule_id in {"D-07", "D-10 main board"}
            for line in child.lines_for(FeeKind.ACTIVITY)
        )
        assert child.total_for(FeeKind.MEMBERSHIP) == Decimal(500)
    assert season.person(1).total == Decimal(1000)  # her own membership and volunteer work


def test_a_late_starter_with_a_sibling_discount():
    persons = [
        player(1, BORN_2013, "football", family_id=7),
        player(
            2, datetime.date(2014, 6, 1), "football", family_id=7, started=datetime.date(2027, 9, 1)
        ),
        player(3, BORN_2017, "football", family_id=7, started=datetime.date(2027, 8, 20)),
    ]

    dues = price_family(CONFIG, persons, 7)

    # the late starter among the two oldest pays half; the youngest (also a late starter)
    # pays nothing under the sibling rule, which comes first
    assert reasons(dues.member(2))[1:3] == [
        "Activity fee 2014 football 3,000 (D-07)",
        "D-09 late start football (started 2027-09-01) -50%: -1,500",
    ]
    youngest = dues.member(3).lines_for(FeeKind.ACTIVITY)
    assert [line.rule_id for line in youngest] == ["D-07", "D-09 siblings"]
    assert [m.total_for(FeeKind.ACTIVITY) for m in dues.members] == [
        Decimal(3000),
        Decimal(1500),
        Decimal(0),
    ]


# --- order of application ---------------------------------------------------------------------


def test_order_exemption_then_percentages_each_on_what_remains():
    half_hardship = Agreement("D-11 hardship", percent=Decimal(50))
    athlete = player(
        1,
        BORN_2015,
        "football",
        "handball",
        started=datetime.date(2020, 1, 1),
        agreements=(half_hardship,),
    )

    dues = price_person(CONFIG, [athlete], 1)

    football = dues.lines_for(FeeKind.ACTIVITY)[:3]
    assert [(line.rule_id, line.base_amount, line.amount) for line in football] == [
        ("D-07", None, Decimal(2400)),
        ("D-11 hardship", Decimal(2400), Decimal(-1200)),
        ("D-09 two sports", Decimal(1200), Decimal(-360)),
    ]


def test_order_percentages_compound_in_configuration_order():
    late_in_both = player(1, BORN_2015, "football", started=datetime.date(2027, 8, 15))
    late_in_both = dataclasses.replace(
        late_in_both,
        activities=(*late_in_both.activities, Activity("handball", datetime.date(2027, 8, 15))),
    )

    dues = price_person(CONFIG, [late_in_both], 1)

    football = dues.lines_for(FeeKind.ACTIVITY)[:3]
    assert [line.reason for line in football] == [
        "Activity fee 2015 football 2,400 (D-07)",
        "D-09 two sports -30%: -720",
        "D-09 late start football (started 2027-08-15) -50%: -840",
    ]
    assert football[2].base_amount == Decimal(1680)


def test_order_an_exempted_player_still_counts_among_the_two_oldest():
    leader = member(
        9,
        MOTHER,
        family_id=7,
        roles=(Role(RoleKind.TEAM_LEADER, team_id="J2013"),),
        volunteer_contract_signed=True,
        children_ids=(1, 2, 3),
    )
    kids = [
        player(1, BORN_2013, "football", family_id=7, team_id="J2013"),
        player(2, BORN_2015, "football", family_id=7),
        player(3, BORN_2017, "football", family_id=7),
    ]

    dues = price_family(CONFIG, [leader, *kids], 7)

    assert [dues.member(pid).total_for(FeeKind.ACTIVITY) for pid in (1, 2, 3)] == [
        Decimal(0),  # D-10 team leader
        Decimal(2400),
        Decimal(0),  # D-09 siblings: the two oldest are 1 and 2
    ]
    assert rule_lines(dues.member(1), "D-09 siblings") == []  # no double line


def test_order_sibling_rule_can_skip_exempted_players_when_configured():
    config = _replace_rule(
        CONFIG, "D-09 siblings", SiblingsParams(paying_players=2, count_exempt_players=False)
    )
    leader = member(
        9,
        MOTHER,
        family_id=7,
        roles=(Role(RoleKind.TEAM_LEADER, team_id="J2013"),),
        volunteer_contract_signed=True,
        children_ids=(1,),
    )
    kids = [
        player(1, BORN_2013, "football", family_id=7, team_id="J2013"),
        player(2, BORN_2015, "football", family_id=7),
        player(3, BORN_2017, "football", family_id=7),
    ]

    dues = price_family(config, [leader, *kids], 7)

    assert [dues.member(pid).total_for(FeeKind.ACTIVITY) for pid in (1, 2, 3)] == [
        Decimal(0),
        Decimal(2400),
        Decimal(2400),
    ]


def test_never_below_zero_and_no_zero_lines():
    persons = _synthetic_club(300, seed=5)

    season = price_season(CONFIG, persons)

    for dues in season.persons:
        for line in dues.lines:
            assert line.amount != 0
        for fee in (FeeKind.MEMBERSHIP, FeeKind.ACTIVITY, FeeKind.VOLUNTEER_WORK):
            assert dues.total_for(fee) >= 0
    assert season.issues == ()


def test_d09_rounding_of_a_reduction_is_half_up_to_whole_kroner():
    config = dataclasses.replace(
        CONFIG,
        activity_fees=tuple(
            dataclasses.replace(fee, amount=Decimal(2355)) if fee.amount == 2400 else fee
            for fee in CONFIG.activity_fees
        ),
    )

    dues = price_person(
        config, [player(1, BORN_2015, "football", started=datetime.date(2027, 8, 15))], 1
    )

    [line] = rule_lines(dues, "D-09 late start football")
    assert line.amount == Decimal(-1178)  # 50% of 2,355 = 1,177.50
    assert dues.total_for(FeeKind.ACTIVITY) == Decimal(1177)


# --- rules switched off per club --------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "person_ids"),
    [
        ("D-09 two sports", (1,)),
        ("D-09 siblings", (4,)),
        ("D-10 main board", (2,)),
        ("D-11 hardship", (5,)),
        ("D-09 late start football", (6,)),
    ],
)
def test_a_disabled_rule_produces_no_line(rule_id, person_ids):
    persons = [
        player(1, BORN_2015, "football", "handball"),
        member(
            9,
            MOTHER,
            roles=(Role(RoleKind.MAIN_BOARD),),
            volunteer_contract_signed=True,
            children_ids=(2,),
        ),
        player(2, BORN_2015, "football"),
        player(3, BORN_2013, "football", family_id=8),
        player(4, BORN_2017, "football", family_id=8),
        player(7, BORN_2015, "football", family_id=8),
        player(5, BORN_2015, "football", agreements=(Agreement("D-11 hardship"),)),
        player(6, BORN_2015, "football", started=datetime.date(2027, 9, 1)),
    ]

    enabled = price_season(CONFIG, persons)
    disabled = price_season(CONFIG.with_rule_enabled(rule_id, False), persons)

    for person_id in person_ids:
        assert rule_lines(enabled.person(person_id), rule_id) != []
        assert rule_lines(disabled.person(person_id), rule_id) == []
    assert not any(line.rule_id == rule_id for line in disabled.lines())


# --- stable, explainable, one source ----------------------------------------------------------


def test_lines_are_deterministic_whatever_the_input_order():
    persons = _synthetic_club(400, seed=11)
    shuffled = list(persons)
    random.Random(3).shuffle(shuffled)

    first = price_season(CONFIG, persons)
    second = price_season(CONFIG, shuffled)

    assert first == second
    assert [d.person_id for d in first.persons] == sorted(d.person_id for d in first.persons)
    assert [f.family_id for f in first.families] == sorted(f.family_id for f in first.families)


def test_preview_and_season_run_give_the_same_lines():
    persons = _synthetic_club(200, seed=2)
    season = price_season(CONFIG, persons)

    for dues in season.persons[:60]:
        assert price_person(CONFIG, persons, dues.person_id) == dues


def test_every_line_names_its_rule_and_carries_its_dates():
    season = price_season(CONFIG, _synthetic_club(300, seed=9))

    for line in season.lines():
        assert line.rule_id
        assert line.rule_id in line.reason
        assert line.invoice_date <= line.due_date
        if line.kind in (LineKind.EXEMPTION, LineKind.REDUCTION):
            assert line.percent is not None and line.base_amount is not None
        assert line.money.amount == line.amount
        assert str(line.money.currency) == "NOK"


def test_season_totals_add_up():
    season = price_season(CONFIG, _synthetic_club(300, seed=4))

    assert season.total == sum(line.amount for line in season.lines())
    for family in season.families:
        assert family.total == sum(m.total for m in family.members)
        assert family.membership_total <= Decimal(700) or not any(
            line.rule_id == "M-11" for m in family.members for line in m.lines
        )


def test_unknown_person_family_and_duplicates_are_errors():
    with pytest.raises(PricingError) as error:
        price_person(CONFIG, [], 1)
    assert str(error.value) == UNKNOWN_PERSON.format(person_id=1)

    with pytest.raises(PricingError) as error:
        price_family(CONFIG, [member(1, MOTHER)], 7)
    assert str(error.value) == UNKNOWN_FAMILY.format(family_id=7)

    with pytest.raises(PricingError) as error:
        price_season(CONFIG, [member(1, MOTHER), member(1, FATHER)])
    assert str(error.value) == DUPLICATE_PERSON.format(person_id=1)


# --- helpers ----------------------------------------------------------------------------------


def _replace_rule(config, rule_id, params):
    rules = tuple(
        dataclasses.replace(rule, params=params) if rule.rule_id == rule_id else rule
        for rule in config.rules
    )
    return dataclasses.replace(config, rules=rules)


def _synthetic_club(count: int, seed: int) -> list[PersonFacts]:
    """A small club built like the benchmark's: families, players, roles, agreements."""
    return synthetic_members(count, seed=seed, season=2027)


def test_the_engines_fast_constructors_build_the_same_frozen_values():
    line = price_person(CONFIG, [player(1, BORN_2015, "football")], 1).lines[1]
    fields = tuple(getattr(line, f.name) for f in dataclasses.fields(Line))

    assert build_line(*fields) == Line(*fields) == line
    with pytest.raises(ValueError):
        build_line(*fields[:-1])  # every field, always
    with pytest.raises(dataclasses.FrozenInstanceError):
        build_line(*fields).amount = Decimal(0)
