"""Fee schedules in the database and the adapter to the price engine (issue 5): the stored
schedule gives back the example SeasonConfig, the adapter builds the same PersonFacts as
hand-built ones (so the same lines), in a bounded number of queries; D-08 instalment plans."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import pricing, selectors, services
from billing.models import FeeSchedule, Instalment, InstalmentPlan
from billing.pricing import Activity, Membership, PersonFacts, Role, RoleKind
from tests.billing.factories import (
    LONG_AGO,
    SEASON,
    ExampleClub,
    build_example_club,
    function,
)
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory

pytestmark = pytest.mark.django_db
JOINED = datetime.date(2024, 1, 1)


@pytest.fixture
def club(world) -> ExampleClub:
    return build_example_club(world)


def test_example_config_round_trips_through_the_database(world):
    config = pricing.example_season_config(SEASON, str(world.club_a.pk))

    services.fee_schedule_create(actor=None, club=world.club_a, config=config)

    assert selectors.season_config(world.club_a, SEASON) == config


def test_fee_schedule_for_a_season_only_once(world):
    services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)

    with pytest.raises(ValidationError) as error:
        services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)

    assert error.value.messages == [services.SCHEDULE_EXISTS.format(season=SEASON)]
    assert FeeSchedule.objects.count() == 1


def test_fee_schedule_needs_billing_manage(world):
    member = world.user("official_without_capability", "billing.manage")

    with pytest.raises(PermissionDenied):
        services.fee_schedule_create_from_example(actor=member, club=world.club_a, season=SEASON)

    assert FeeSchedule.objects.count() == 0


def test_m04_minimum_below_50_is_refused_by_the_engine(world):
    with pytest.raises(pricing.ConfigError) as error:
        config = pricing.example_season_config(SEASON)
        pricing.SeasonConfig(
            club_id="x",
            season=SEASON,
            membership_prices=(pricing.MembershipPrice("member", Decimal(40)),),
            membership_schedule=config.membership_schedule,
        )
    assert "M-04" in str(error.value)


def test_groups_are_linked_to_the_club_groups_by_sport(club):
    schedule = selectors.fee_schedule(club.world.club_a, SEASON)

    linked = {g.code: g.organisation_id for g in schedule.activity_groups.all()}

    assert linked == {"football": club.football.pk, "handball": club.handball.pk}


def hand_built_facts(club: ExampleClub) -> list[PersonFacts]:
    """The example club as the engine's plain values, written out by hand."""
    p = {name: person.pk for name, person in club.persons.items()}
    hansen, berg = club.families["hansen"].pk, club.families["berg"].pk
    team, team_hb = club.team_football.pk, club.team_handball.pk
    inv = pricing.PaymentMethod.INVOICE

    def facts(name, born, gender="unknown", family=None, contact=False, kind="ordinary", **more):
        return PersonFacts(
            person_id=p[name],
            birth_date=born,
            gender=gender,
            family_id=family,
            family_contact=contact,
            memberships=(Membership(kind, JOINED),),
            payment_method=inv,
            **more,
        )

    hansen_children = tuple(sorted((p["girl"], p["boy"], p["toddler"])))
    berg_children = tuple(sorted((p["sibling_1"], p["sibling_2"], p["sibling_3"])))
    return [
        facts(
            "mother",
            datetime.date(1985, 4, 10),
            family=hansen,
            contact=True,
            kind="family",
            children_ids=hansen_children,
        ),
        facts(
            "father",
            datetime.date(1983, 11, 2),
            "male",
            hansen,
            kind="family",
            children_ids=hansen_children,
        ),
        facts(
            "girl",
            datetime.date(2013, 3, 3),
            "female",
            hansen,
            kind="family",
            activities=(
                Activity("football", LONG_AGO),
                Activity("handball", LONG_AGO, team_id=team_hb),
            ),
        ),
        facts(
            "boy",
            datetime.date(2015, 5, 5),
            "male",
            hansen,
            kind="family",
            activities=(
                Activity("football", LONG_AGO, team_id=team),
                Activity("handball", LONG_AGO),
            ),
        ),
        facts("toddler", datetime.date(2022, 2, 2), "unknown", hansen, kind="family"),
        facts("pensioner", datetime.date(1960, 6, 1)),
        facts(
            "board",
            datetime.date(1980, 2, 2),
            "female",
            roles=(Role(RoleKind.MAIN_BOARD),),
            volunteer_contract_signed=True,
            children_ids=tuple(sorted((p["board_child_1"], p["board_child_2"]))),
        ),
        facts(
            "board_child_1",
            datetime.date(2015, 1, 1),
            "male",
            activities=(Activity("football", LONG_AGO, team_id=team),),
        ),
        facts(
            "board_child_2",
            datetime.date(2017, 1, 1),
            "male",
            activities=(Activity("football", LONG_AGO, team_id=team),),
        ),
        facts(
            "parent",
            datetime.date(1978, 8, 8),
            family=berg,
            contact=True,
            kind="family",
            children_ids=berg_children,
        ),
        facts(
            "sibling_1",
            datetime.date(2012, 1, 1),
            "female",
            berg,
            kind="family",
            activities=(Activity("football", LONG_AGO),),
        ),
        facts(
            "sibling_2",
            datetime.date(2014, 1, 1),
            "female",
            berg,
            kind="family",
            activities=(Activity("football", datetime.date(SEASON, 8, 15)),),
        ),
        facts(
            "sibling_3",
            datetime.date(2016, 1, 1),
            "female",
            berg,
            kind="family",
            activities=(Activity("football", LONG_AGO),),
        ),
    ]


def test_adapter_builds_the_same_facts_as_by_hand(club):
    expected = sorted(hand_built_facts(club), key=lambda f: f.person_id)
    # player A of the world fixture plays on team A without a membership (M-16)
    expected_ids = {f.person_id for f in expected} | {club.world.player_a.pk}

    facts = selectors.person_facts(club.world.club_a, SEASON)

    assert {f.person_id for f in facts} == expected_ids
    assert [f for f in facts if f.person_id != club.world.player_a.pk] == expected


def test_adapter_gives_the_same_lines_as_the_engine_on_hand_built_facts(club):
    config = selectors.season_config(club.world.club_a, SEASON)
    by_hand = pricing.price_season(config, hand_built_facts(club))

    from_db = pricing.price_season(config, selectors.person_facts(club.world.club_a, SEASON))

    assert [d for d in from_db.persons if d.person_id != club.world.player_a.pk] == list(
        by_hand.persons
    )


def test_combined_cases_of_the_issue_from_the_database(club):
    config = selectors.season_config(club.world.club_a, SEASON)
    dues = pricing.price_season(config, selectors.person_facts(club.world.club_a, SEASON))
    reasons = {
        name: [line.reason for line in dues.person(p.pk).lines] for name, p in club.persons.items()
    }

    # D-09 two sports -30% for both players of the family of five
    assert reasons["boy"][2:6] == [
        "Activity fee G2015 football 2,400 (D-07)",
        "D-09 two sports -30%: -720",
        "Activity fee G2015 handball 2,000 (D-07)",
        "D-09 two sports -30%: -600",
    ]
    # D-01: the pensioner pays 200 from the year they turn 67; M-10 invoice fee
    assert reasons["pensioner"][:2] == [
        "Membership fee 2027 pensioner 200 (D-01 pensioner)",
        "Invoice fee 50 (M-10)",
    ]
    # D-10: the board member's children pay no activity fee
    assert [
        line.amount
        for line in dues.person(club["board_child_1"].pk).lines_for(pricing.FeeKind.ACTIVITY)
    ] == [
        Decimal(2400),
        Decimal(-2400),
    ]
    # D-09 siblings: the youngest of three players pays nothing; the late starter 50%
    assert dues.person(club["sibling_3"].pk).total_for(pricing.FeeKind.ACTIVITY) == 0
    assert dues.person(club["sibling_2"].pk).total_for(pricing.FeeKind.ACTIVITY) == Decimal(1500)


def test_adapter_queries_do_not_grow_with_the_club(club):
    club_a = club.world.club_a
    with CaptureQueriesContext(connection) as small:
        selectors.person_facts(club_a, SEASON)
    for number in range(10):
        person = PersonFactory(birth_date=datetime.date(2015, 1, number + 1))
        MembershipFactory(person=person, club=club_a)
        function(person, club.team_football, "player")

    with CaptureQueriesContext(connection) as large:
        facts = selectors.person_facts(club_a, SEASON)

    assert len(facts) == 24
    assert len(large) == len(small) <= 12


def test_related_persons_of_a_child_are_family_guardians_and_team_officials(club):
    ids = selectors.related_person_ids(club.world.club_a, SEASON, [club["board_child_1"].pk])

    assert ids == sorted([club["board_child_1"].pk, club["board"].pk])


# --- D-08 instalments --------------------------------------------------------------------


def test_d08_four_instalments_of_the_activity_fee(club):
    person = club["sibling_1"]  # 3,000 football, due 29 March

    plan = services.instalment_plan_create(
        actor=None,
        person=person,
        club=club.world.club_a,
        season=SEASON,
        group_code="football",
        count=4,
    )

    assert plan.total.amount == Decimal(3000)
    assert [(i.amount.amount, i.due_date) for i in plan.instalments.all()] == [
        (Decimal(750), datetime.date(SEASON, 3, 29)),
        (Decimal(750), datetime.date(SEASON, 4, 29)),
        (Decimal(750), datetime.date(SEASON, 5, 29)),
        (Decimal(750), datetime.date(SEASON, 6, 29)),
    ]


def test_d08_plan_with_less_than_70_percent_before_1_june_is_refused(club):
    with pytest.raises(ValidationError) as error:
        services.instalment_plan_create(
            actor=None,
            person=club["sibling_1"],
            club=club.world.club_a,
            season=SEASON,
            group_code="football",
            count=4,
            months_between=2,
        )

    assert error.value.messages == [
        pricing.helpers.INSTALMENT_SHARE_TOO_LOW.format(
            share="50", amount="3,000", date=f"{SEASON}-06-01", minimum="70"
        )
    ]
    assert InstalmentPlan.objects.count() == 0
    assert Instalment.objects.count() == 0


def test_d08_three_instalments_are_not_offered(club):
    with pytest.raises(ValidationError) as error:
        services.instalment_plan_create(
            actor=None,
            person=club["sibling_1"],
            club=club.world.club_a,
            season=SEASON,
            group_code="football",
            count=3,
        )

    assert error.value.messages == [
        pricing.helpers.INSTALMENT_COUNT_NOT_ALLOWED.format(count=3, allowed="2 or 4")
    ]
    assert InstalmentPlan.objects.count() == 0
