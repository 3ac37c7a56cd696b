"""factory_boy factories and a small example club in the database for the billing tests
(issue 5, STYLE 16). `build_example_club` makes the combined cases of the issue as rows."""

import datetime
from dataclasses import dataclass, field

import factory

from billing import services
from billing.models import ExemptionAgreement, TrialPeriod, VolunteerContract
from members.models import Function, FunctionType, Organisation, OrganisationType, Person
from tests.conftest import World
from tests.members.factories import FunctionFactory, PersonFactory, make_organisation
from tests.members.factories_memberships import (
    FamilyFactory,
    GuardianRelationFactory,
    MembershipFactory,
    default_types,
)

SEASON = 2027
LONG_AGO = datetime.date(2020, 1, 1)


class VolunteerContractFactory(factory.django.DjangoModelFactory):
    """A contract of `person` with `club` (both required)."""

    class Meta:
        model = VolunteerContract

    signed_on = datetime.date(2026, 12, 1)
    valid_until = None


class ExemptionAgreementFactory(factory.django.DjangoModelFactory):
    """An agreement of `person` with `club` (both required) for the season."""

    class Meta:
        model = ExemptionAgreement
        skip_postgeneration_save = True

    season = SEASON
    kind = "hardship"
    rule_id = "D-11 hardship"
    for_self = True
    fee_kinds = factory.LazyFunction(lambda: ["activity"])


class TrialPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialPeriod

    start_date = datetime.date(SEASON, 4, 1)


def function(person: Person, organisation: Organisation, code: str, **fields) -> Function:
    return FunctionFactory(
        person=person,
        organisation=organisation,
        function_type=FunctionType.objects.get(code=code),
        **{"from_date": LONG_AGO, **fields},
    )


@dataclass
class ExampleClub:
    """Sagene IF with football (group_a, team_a G2015) and handball, its 2027 schedule, and
    the persons of the issue's combined cases (by role name)."""

    world: World
    football: Organisation
    handball: Organisation
    team_football: Organisation
    team_handball: Organisation
    persons: dict[str, Person] = field(default_factory=dict)
    families: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Person:
        return self.persons[name]


def build_example_club(world: World) -> ExampleClub:
    club = world.club_a
    Organisation.objects.filter(pk=world.group_a.pk).update(sport="football")
    world.group_a.refresh_from_db()
    handball = make_organisation(
        "Sagene IF Håndball", OrganisationType.GROUP, club, sport="handball"
    )
    team_handball = make_organisation("Sagene IF J2013 håndball", OrganisationType.TEAM, handball)
    example = ExampleClub(world, world.group_a, handball, world.team_a, team_handball)
    services.fee_schedule_create_from_example(actor=None, club=club, season=SEASON)
    types = default_types(club)
    people = example.persons

    def person(name: str, born: datetime.date, gender: str = "unknown", **membership) -> Person:
        people[name] = PersonFactory(first_name=name.title(), birth_date=born, gender=gender)
        MembershipFactory(
            person=people[name],
            club=club,
            membership_type=membership.pop("membership_type", types["ordinary"]),
            **membership,
        )
        return people[name]

    # A family of five with two players in both sports (M-11, D-09 two sports).
    mother = PersonFactory(first_name="Mor", birth_date=datetime.date(1985, 4, 10))
    family = FamilyFactory(club=club, name="Familien Hansen", contact_person=mother)
    example.families["hansen"] = family
    people["mother"] = mother
    MembershipFactory(person=mother, club=club, membership_type=types["family"], family=family)
    for name, born, gender in (
        ("father", datetime.date(1983, 11, 2), "male"),
        ("girl", datetime.date(2013, 3, 3), "female"),
        ("boy", datetime.date(2015, 5, 5), "male"),
        ("toddler", datetime.date(2022, 2, 2), "unknown"),
    ):
        person(name, born, gender, membership_type=types["family"], family=family)
    for child in ("girl", "boy", "toddler"):
        for parent in ("mother", "father"):
            GuardianRelationFactory(guardian=people[parent], child=people[child])
    function(people["girl"], example.football, "player")
    function(people["girl"], team_handball, "player")
    function(people["boy"], example.team_football, "player")
    function(people["boy"], handball, "player")

    # A pensioner who turns 67 this year (D-01).
    person("pensioner", datetime.date(1960, 6, 1))

    # A board member's children (D-10 main board, signed volunteer contract).
    person("board", datetime.date(1980, 2, 2), "female")
    function(people["board"], club, "board-member")
    VolunteerContractFactory(person=people["board"], club=club)
    for name, born in (
        ("board_child_1", datetime.date(2015, 1, 1)),
        ("board_child_2", datetime.date(2017, 1, 1)),
    ):
        person(name, born, "male")
        GuardianRelationFactory(guardian=people["board"], child=people[name])
        function(people[name], example.team_football, "player")

    # A late starter with a sibling discount (D-09: three players, the two oldest pay; the
    # youngest started football after 1 August).
    parent = PersonFactory(first_name="Forelder", birth_date=datetime.date(1978, 8, 8))
    people["parent"] = parent
    siblings = FamilyFactory(club=club, name="Familien Berg", contact_person=parent)
    example.families["berg"] = siblings
    MembershipFactory(person=parent, club=club, membership_type=types["family"], family=siblings)
    for name, born, started in (
        ("sibling_1", datetime.date(2012, 1, 1), LONG_AGO),
        ("sibling_2", datetime.date(2014, 1, 1), datetime.date(SEASON, 8, 15)),
        ("sibling_3", datetime.date(2016, 1, 1), LONG_AGO),
    ):
        person(name, born, "female", membership_type=types["family"], family=siblings)
        GuardianRelationFactory(guardian=parent, child=people[name])
        function(people[name], example.football, "player", from_date=started)
    return example
