"""/api/v1/organisations/ and /api/v1/functions/: scoping, pagination, validation, no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.api.common import FIELD_CANNOT_BE_CHANGED
from members.models import Function, FunctionType, Organisation, OrganisationType
from tests.members.factories import FunctionFactory, PersonFactory, make_organisation

pytestmark = pytest.mark.django_db


def test_organisation_list_is_paginated_and_scoped(world):
    client = world.client("official_this_club")
    for number in range(60):
        make_organisation(f"Lag {number:02d}", OrganisationType.TEAM, world.group_a)

    first = client.get("/api/v1/organisations/").json()
    assert first["count"] == 63  # club A, its group, its first team and 60 more teams
    assert len(first["results"]) == 50
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 13
    names = {row["name"] for row in first["results"] + second["results"]}
    assert world.club_b.name not in names and world.federation.name not in names


def test_organisation_list_query_count_does_not_grow_with_rows(world):
    client = world.client("federation_staff")
    client.get("/api/v1/organisations/")  # warm up the session/user queries

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/organisations/").status_code == 200
        return len(queries)

    few = count()
    for number in range(20):
        make_organisation(f"Klubb {number}", OrganisationType.CLUB, world.region)
    assert count() == few


def test_organisation_list_filters(world):
    client = world.client("federation_staff")
    clubs = client.get("/api/v1/organisations/?type=club").json()["results"]
    assert {row["name"] for row in clubs} == {world.club_a.name, world.club_b.name}
    children = client.get(f"/api/v1/organisations/?parent={world.region.pk}").json()["results"]
    assert {row["parent"] for row in children} == {world.region.pk}
    found = client.get("/api/v1/organisations/?search=sagene").json()["results"]
    assert {row["name"] for row in found} == {"Sagene IF", "Sagene IF Fotball", "Sagene IF G2015"}


def test_organisation_detail_shows_parent(world):
    data = (
        world.client("official_this_club").get(f"/api/v1/organisations/{world.team_a.pk}/").json()
    )
    assert data["parent"] == world.group_a.pk
    assert data["organisation_type"] == "team"


@pytest.mark.parametrize("field", ["parent", "organisation_type", "path"])
def test_organisation_update_rejects_moving_or_retyping(world, field):
    client = world.client("official_this_club")
    value = {"parent": world.club_b.pk, "organisation_type": "group", "path": "0001"}[field]
    response = client.patch(
        f"/api/v1/organisations/{world.club_a.pk}/", {field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {field: [str(FIELD_CANNOT_BE_CHANGED)]}
    club = Organisation.objects.get(pk=world.club_a.pk)
    assert (club.path, club.organisation_type) == (world.club_a.path, "club")


def test_organisation_create_validation_names_the_field_and_rule(world):
    client = world.client("official_this_club")
    response = client.post(
        "/api/v1/organisations/",
        {
            "parent": world.club_a.pk,
            "name": "Sjakk",
            "organisation_type": "group",
            "organisation_number": "988077918",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "organisation_number" in response.json()
    assert "988077918" in response.json()["organisation_number"][0]

    response = client.post(
        "/api/v1/organisations/",
        {
            "parent": world.team_a.pk,
            "name": "Under laget",
            "organisation_type": "club",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["organisation_type"]
    assert not Organisation.objects.filter(name__in=["Sjakk", "Under laget"]).exists()


def test_function_list_is_paginated_with_constant_queries(world):
    client = world.client("official_this_club", "persons.view")
    player = FunctionType.objects.get(code="player")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/functions/?status=all")
        assert response.status_code == 200
        return len(queries)

    client.get("/api/v1/functions/")
    few = count()
    for _ in range(30):
        FunctionFactory(person=PersonFactory(), organisation=world.team_a, function_type=player)
    assert count() == few
    assert (
        client.get("/api/v1/functions/?status=all").json()["count"]
        == Function.objects.filter(organisation__path__startswith=world.club_a.path).count()
    )


def test_function_status_filter(world):
    client = world.client("official_this_club", "persons.view")
    active = {r["id"] for r in client.get("/api/v1/functions/").json()["results"]}
    inactive = {r["id"] for r in client.get("/api/v1/functions/?status=inactive").json()["results"]}
    assert world.function_a.pk in active and world.function_a.pk not in inactive
    assert world.ended_function_a.pk in inactive and world.ended_function_a.pk not in active


def test_function_list_by_organisation(world):
    client = world.client("federation_staff")
    rows = client.get(f"/api/v1/functions/?organisation={world.team_a.pk}").json()["results"]
    assert {row["organisation"] for row in rows} == {world.team_a.pk}
    assert client.get(f"/api/v1/functions/?organisation={world.club_c.pk}").json()["results"] == []


@pytest.mark.parametrize("field", ["organisation", "person", "function_type"])
def test_function_update_cannot_move_it(world, field):
    client = world.client("official_this_club", "functions.manage")
    value = {
        "organisation": world.club_b.pk,
        "person": world.user("member").person.pk,
        "function_type": FunctionType.objects.get(code="coach").pk,
    }[field]
    response = client.patch(
        f"/api/v1/functions/{world.function_a.pk}/", {field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {field: [str(FIELD_CANNOT_BE_CHANGED)]}
    function = Function.objects.get(pk=world.function_a.pk)
    assert getattr(function, f"{field}_id") == getattr(world.function_a, f"{field}_id")


def test_function_create_in_inactive_organisation_is_refused_with_the_rule(world):
    client = world.client("official_this_club", "functions.manage")
    Organisation.objects.filter(pk=world.team_a.pk).update(is_active=False)
    response = client.post(
        "/api/v1/functions/",
        {
            "person": world.player_a.pk,
            "organisation": world.team_a.pk,
            "function_type": FunctionType.objects.get(code="coach").pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "P-11" in response.json()["organisation"][0]


def test_end_function_twice_says_why(world):
    client = world.client("official_this_club", "functions.manage")
    assert client.post(f"/api/v1/functions/{world.function_a.pk}/end/").status_code == 200
    response = client.post(f"/api/v1/functions/{world.function_a.pk}/end/")
    assert response.status_code == 400
    # The interface speaks Norwegian bokmål first (LANGUAGE_CODE = "nb").
    assert response.json() == {"non_field_errors": ["Funksjonen er allerede avsluttet."]}
    english = client.post(
        f"/api/v1/functions/{world.function_a.pk}/end/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.json() == {"non_field_errors": ["The function has already ended."]}
