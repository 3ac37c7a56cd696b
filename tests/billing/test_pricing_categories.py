"""D-01: membership categories priced by the club's schedule (issue 5). Junior, senior,
pensioner and other memberships pay the fee the schedule gives their category; a category
without a fee of its own pays as an ordinary membership (so the pensioner fee by age still
applies); a club-defined type without any price stays an error."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from billing import selectors
from billing.pricing import (
    FeeKind,
    MembershipPrice,
    MembershipType,
    PersonFacts,
    PricingError,
    example_season_config,
    price_person,
)
from billing.pricing import Membership as MembershipFacts
from billing.pricing.engine import NO_MEMBERSHIP_PRICE
from tests.billing.factories import SEASON, build_example_club
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

EXAMPLE = example_season_config(SEASON)
WITH_CATEGORIES = dataclasses.replace(
    EXAMPLE,
    membership_prices=(
        *EXAMPLE.membership_prices,
        MembershipPrice("junior", Decimal(250), "D-01 junior", membership_types=("junior",)),
        MembershipPrice("supporter", Decimal(150), "D-01 other", membership_types=("other",)),
    ),
)


def member(born: datetime.date, membership_type: str) -> PersonFacts:
    return PersonFacts(
        person_id=1,
        birth_date=born,
        memberships=(MembershipFacts(membership_type, datetime.date(2020, 1, 1)),),
    )


def membership_line(config, person):  # type: ignore[no-untyped-def]
    lines = price_person(config, [person], 1).lines_for(FeeKind.MEMBERSHIP)
    return [(line.category, line.amount, line.rule_id) for line in lines]


def test_d01_a_category_with_its_own_fee_pays_it():
    junior = member(datetime.date(2012, 1, 1), MembershipType.JUNIOR)
    other = member(datetime.date(1990, 1, 1), MembershipType.OTHER)

    assert membership_line(WITH_CATEGORIES, junior) == [("junior", Decimal(250), "D-01 junior")]
    assert membership_line(WITH_CATEGORIES, other) == [("supporter", Decimal(150), "D-01 other")]


@pytest.mark.parametrize(
    "category", [MembershipType.JUNIOR, MembershipType.SENIOR, MembershipType.OTHER]
)
def test_d01_a_category_without_its_own_fee_pays_as_ordinary(category):
    person = member(datetime.date(1990, 1, 1), category)

    assert membership_line(EXAMPLE, person) == [("member", Decimal(500), "D-01")]


def test_d01_pensioner_category_pays_the_pensioner_fee_from_the_year_of_67():
    turns_67 = member(datetime.date(SEASON - 67, 12, 31), MembershipType.PENSIONER)
    early_retiree = member(datetime.date(SEASON - 62, 1, 1), MembershipType.PENSIONER)

    assert membership_line(EXAMPLE, turns_67) == [("pensioner", Decimal(200), "D-01 pensioner")]
    assert membership_line(EXAMPLE, early_retiree) == [("member", Decimal(500), "D-01")]


def test_d01_the_lowest_fee_that_fits_wins_across_category_and_age():
    # a junior price above the pensioner price: a 67-year-old senior member pays as ordinary
    config = dataclasses.replace(
        EXAMPLE,
        membership_prices=(
            *EXAMPLE.membership_prices,
            MembershipPrice("senior", Decimal(450), "D-01 senior", membership_types=("senior",)),
        ),
    )
    senior = member(datetime.date(1990, 1, 1), MembershipType.SENIOR)
    senior_pensioner = member(datetime.date(SEASON - 70, 1, 1), MembershipType.SENIOR)

    assert membership_line(config, senior) == [("senior", Decimal(450), "D-01 senior")]
    # the schedule gave seniors their own fee: the pensioner fee (for ordinary types) is not
    # theirs unless it names the senior category too
    assert membership_line(config, senior_pensioner) == [("senior", Decimal(450), "D-01 senior")]


def test_d01_a_club_defined_type_without_a_price_is_still_an_error():
    with pytest.raises(PricingError) as error:
        price_person(EXAMPLE, [member(datetime.date(1985, 1, 1), "supporter")], 1)

    assert str(error.value) == NO_MEMBERSHIP_PRICE.format(
        membership_type="supporter", age=42, person_id=1
    )


@pytest.mark.django_db
def test_d01_the_adapter_gives_the_engine_each_membership_category(world):
    example = build_example_club(world)
    types = default_types(world.club_a)
    junior = PersonFactory(birth_date=datetime.date(2012, 2, 2))
    MembershipFactory(person=junior, club=world.club_a, membership_type=types["junior"])

    facts = selectors.person_facts(world.club_a, SEASON, [junior.pk, example["pensioner"].pk])

    assert [f.memberships[0].membership_type for f in facts] == ["ordinary", "junior"]
