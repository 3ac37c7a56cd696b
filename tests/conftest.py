"""Shared fixtures: a small organisation tree and the users of the access matrix (STYLE 17)."""

import datetime
import importlib
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.test import Client

from clubadmin.capabilities import ALL_CAPABILITIES
from members.models import Function, FunctionType, Organisation, OrganisationType, Person, User
from tests.members.factories import (
    FunctionFactory,
    FunctionTypeFactory,
    PersonFactory,
    UserFactory,
    make_organisation,
    valid_organisation_number,
)

ANY = "any"  # pseudo-capability: "holds any capability here" (seeing an organisation)

ROLES = (
    "anonymous",
    "member",
    "official_without_capability",
    "official_other_club",
    "official_this_club",
    "federation_staff",
)


@pytest.fixture(scope="session", autouse=True)
def _seeded_data_kept_for_the_next_session(django_db_setup, django_db_blocker):
    """Transactional tests (`serialized_rollback=True`) flush the database at their end; with
    `--reuse-db` the next session would find the rows the migrations seed (content types, rate
    tables, function types, ...) gone. Put them back at the end of the session; a database
    that an interrupted session left flushed is refused at the start with what to do."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    with django_db_blocker.unblock():
        if not ContentType.objects.exists():
            pytest.exit(
                "The test database lost the rows its migrations seed (an interrupted run?): "
                "run the tests once with --create-db (make test ARGS=--create-db).",
                returncode=2,
            )
    yield
    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                connection.creation.deserialize_db_from_string(contents)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    federation: Organisation
    region: Organisation
    club_a: Organisation
    club_b: Organisation
    group_a: Organisation
    team_a: Organisation
    federation_2: Organisation
    club_c: Organisation
    player_a: Person
    function_a: Function
    ended_function_a: Function
    users: dict[tuple[str, str], User] = field(default_factory=dict)

    def function_type(self, capabilities: set[str], code: str) -> FunctionType:
        existing = FunctionType.objects.filter(code=code).first()
        return existing or FunctionTypeFactory(code=code, capabilities=sorted(capabilities))

    def user(self, role: str, capability: str = ANY) -> User | None:
        """The user playing `role` for an action that needs `capability` in club A."""
        if role == "anonymous":
            return None
        key = (role, capability)
        if key in self.users:
            return self.users[key]
        everything = self.function_type(set(ALL_CAPABILITIES), "test-everything")
        if role == "member":
            organisation, function_type = self.club_a, FunctionType.objects.get(code="member")
        elif role == "official_without_capability":
            without = set() if capability == ANY else set(ALL_CAPABILITIES) - {capability}
            function_type = self.function_type(without, f"test-without-{capability}")
            organisation = self.club_a
        elif role == "official_other_club":
            organisation, function_type = self.club_b, everything
        elif role == "official_this_club":
            organisation, function_type = self.club_a, everything
        elif role == "federation_staff":
            organisation, function_type = (
                self.federation,
                FunctionType.objects.get(code="federation-staff"),
            )
        else:
            raise ValueError(role)
        user = UserFactory(username=f"{role}-{capability}", is_staff=role == "federation_staff")
        FunctionFactory(person=user.person, organisation=organisation, function_type=function_type)
        self.users[key] = user
        return user

    def client(self, role: str, capability: str = ANY) -> Client:
        client = Client()
        user = self.user(role, capability)
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture
def default_function_types(db) -> None:
    """The function types of data migration 0002. A transactional test (e.g. the Celery worker
    test) flushes every table afterwards, so restore them when they are gone."""
    if not FunctionType.objects.filter(code="federation-staff").exists():
        migration = importlib.import_module("members.migrations.0002_default_function_types")
        migration.create_function_types(apps, None)


@pytest.fixture
def world(db, default_function_types) -> World:
    federation = make_organisation(
        "Norges Testforbund",
        OrganisationType.FEDERATION,
        organisation_number=valid_organisation_number(1),
    )
    region = make_organisation("Oslo krets", OrganisationType.REGION, federation)
    club_a = make_organisation(
        "Sagene IF",
        OrganisationType.CLUB,
        region,
        organisation_number="988077917",
        bank_account="86011117947",
    )
    club_b = make_organisation("Frogner IL", OrganisationType.CLUB, region)
    group_a = make_organisation("Sagene IF Fotball", OrganisationType.GROUP, club_a)
    team_a = make_organisation("Sagene IF G2015", OrganisationType.TEAM, group_a)
    federation_2 = make_organisation("Norges Andreforbund", OrganisationType.FEDERATION)
    club_c = make_organisation("Fana IL", OrganisationType.CLUB, federation_2)
    player_a = PersonFactory(first_name="Åse", last_name="Ødegård")
    function_a = FunctionFactory(
        person=player_a, organisation=team_a, function_type=FunctionType.objects.get(code="player")
    )
    ended_function_a = FunctionFactory(
        person=player_a,
        organisation=club_a,
        function_type=FunctionType.objects.get(code="volunteer"),
        from_date=datetime.date(2020, 1, 1),
        to_date=datetime.date(2021, 12, 31),
    )
    FunctionFactory(
        person=PersonFactory(first_name="Bjørn", last_name="Bergseng"),
        organisation=club_b,
        function_type=FunctionType.objects.get(code="player"),
    )
    FunctionFactory(
        person=PersonFactory(first_name="Sølvi", last_name="Fanebust"),
        organisation=club_c,
        function_type=FunctionType.objects.get(code="player"),
    )
    return World(
        federation=federation,
        region=region,
        club_a=club_a,
        club_b=club_b,
        group_a=group_a,
        team_a=team_a,
        federation_2=federation_2,
        club_c=club_c,
        player_a=player_a,
        function_a=function_a,
        ended_function_a=ended_function_a,
    )
