"""Competences (P-13) and their lock for a deceased person (P-06): services, views, API."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clubadmin.capabilities import Capability
from members.models import Competence
from members.services import competences as services
from tests.members.factories_licences import (
    CompetenceFactory,
    CompetenceTypeFactory,
    mark_deceased,
    official,
)

pytestmark = pytest.mark.django_db


def _state():
    return sorted(
        Competence.objects.values_list(
            "pk",
            "person_id",
            "competence_type_id",
            "comment",
            "valid_from",
            "valid_to",
            "is_temporarily_inactive",
        )
    )


@pytest.fixture
def editor(world):
    return official(world.club_a, Capability.PERSONS_VIEW, Capability.PERSONS_EDIT)


@pytest.fixture
def coach_1(db):
    return CompetenceTypeFactory(code="test-trener-1", name="Trener 1 (test)")


@pytest.fixture
def competence(world, coach_1):
    return CompetenceFactory(
        person=world.player_a,
        competence_type=coach_1,
        valid_from=datetime.date(2024, 1, 1),
        comment="Kurs i Oslo",
    )


# --- services ---------------------------------------------------------------------------------


def test_p13_add_a_competence_with_type_comment_and_validity(world, editor, coach_1):
    competence = services.competence_create(
        actor=editor,
        person=world.player_a,
        competence_type=coach_1,
        valid_from=datetime.date(2026, 2, 1),
        valid_to=datetime.date(2029, 1, 31),
        comment="  Bestått  ",
    )
    competence.refresh_from_db()
    assert (
        competence.competence_type,
        competence.comment,
        competence.valid_from,
        competence.valid_to,
        competence.is_temporarily_inactive,
    ) == (coach_1, "Bestått", datetime.date(2026, 2, 1), datetime.date(2029, 1, 31), False)
    assert competence.history.first().history_user == editor


def test_p13_edit_comment_and_valid_to_only(world, editor, competence):
    changed = services.competence_update(
        actor=editor, competence=competence, comment="Fornyet", valid_to=datetime.date(2027, 1, 1)
    )
    changed.refresh_from_db()
    assert (changed.comment, changed.valid_to, changed.valid_from) == (
        "Fornyet",
        datetime.date(2027, 1, 1),
        datetime.date(2024, 1, 1),
    )
    record = changed.history.first()
    assert record.history_user == editor
    assert sorted(c.field for c in record.diff_against(record.prev_record).changes) == [
        "comment",
        "valid_to",
    ]


def test_p13_valid_to_cannot_precede_valid_from(world, editor, competence):
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.competence_update(
            actor=editor, competence=competence, valid_to=datetime.date(2023, 12, 31)
        )
    assert error.value.message_dict == {"valid_to": [str(services.VALID_TO_BEFORE_FROM)]}
    assert _state() == before


def test_p13_temporarily_inactive_and_active_again(world, editor, competence):
    inactive = services.competence_set_temporarily_inactive(
        actor=editor, competence=competence, inactive=True
    )
    assert inactive.is_temporarily_inactive is True
    with pytest.raises(ValidationError) as error:
        services.competence_set_temporarily_inactive(
            actor=editor, competence=competence, inactive=True
        )
    assert error.value.messages == [str(services.ALREADY_INACTIVE)]
    active = services.competence_set_temporarily_inactive(
        actor=editor, competence=competence, inactive=False
    )
    assert Competence.objects.get(pk=active.pk).is_temporarily_inactive is False


def test_p13_inactive_competence_types_are_not_added(world, editor, coach_1):
    type(coach_1).objects.filter(pk=coach_1.pk).update(is_active=False)
    coach_1.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.competence_create(
            actor=editor,
            person=world.player_a,
            competence_type=coach_1,
            valid_from=datetime.date(2026, 1, 1),
        )
    assert error.value.message_dict == {"competence_type": [str(services.COMPETENCE_TYPE_INACTIVE)]}
    assert _state() == []


@pytest.mark.parametrize(
    ("organisation", "capabilities"),
    [("club_b", (Capability.PERSONS_EDIT,)), ("club_a", (Capability.PERSONS_VIEW,))],
    ids=["persons.edit elsewhere", "persons.view only"],
)
def test_p13_changing_competences_needs_persons_edit_on_the_person(
    world, competence, coach_1, organisation, capabilities
):
    user = official(getattr(world, organisation), *capabilities)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.competence_update(actor=user, competence=competence, comment="x")
    with pytest.raises(PermissionDenied):
        services.competence_create(
            actor=user,
            person=world.player_a,
            competence_type=coach_1,
            valid_from=datetime.date(2026, 1, 1),
        )
    assert _state() == before


def test_p06_a_deceased_persons_competences_cannot_be_added_or_changed(
    world, editor, competence, coach_1
):
    mark_deceased(world.player_a)
    before = _state()
    attempts = [
        lambda: services.competence_create(
            actor=editor,
            person=world.player_a,
            competence_type=coach_1,
            valid_from=datetime.date(2026, 1, 1),
        ),
        lambda: services.competence_update(actor=editor, competence=competence, comment="x"),
        lambda: services.competence_update(
            actor=editor, competence=competence, valid_to=datetime.date(2030, 1, 1)
        ),
        lambda: services.competence_set_temporarily_inactive(
            actor=editor, competence=competence, inactive=True
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as error:
            attempt()
        assert error.value.messages == [str(services.PERSON_DECEASED)]
    assert "(P-06)" in str(services.PERSON_DECEASED)
    assert _state() == before


# --- views ------------------------------------------------------------------------------------


def _url(world, name, *args):
    return reverse(f"members:person-{name}", args=[world.player_a.pk, *args])


def test_p13_competences_tab_lists_them(world, competence):
    response = world.client("official_this_club").get(_url(world, "competences"))
    assert response.status_code == 200
    assert list(response.context["competences"]) == [competence]
    html = response.content.decode()
    assert "Trener 1 (test)" in html and "Kurs i Oslo" in html
    assert _url(world, "competence-add") in html


def test_competences_tab_query_count_does_not_grow(world, competence):
    client = world.client("official_this_club")
    client.get(_url(world, "competences"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(world, "competences")).status_code == 200
        return len(queries)

    few = count()
    for _ in range(10):
        CompetenceFactory(person=world.player_a)
    assert count() == few


def test_p13_add_edit_and_toggle_through_the_views(world, coach_1):
    client = world.client("official_this_club", Capability.PERSONS_EDIT)
    response = client.post(
        _url(world, "competence-add"),
        {"competence_type": coach_1.pk, "valid_from": "2026-03-01", "comment": "Ny"},
    )
    assert response.status_code == 302
    competence = Competence.objects.get(person=world.player_a)
    assert (competence.valid_from, competence.comment) == (datetime.date(2026, 3, 1), "Ny")

    edit = _url(world, "competence-edit", competence.pk)
    assert client.post(edit, {"comment": "Endret", "valid_to": "2028-02-29"}).status_code == 302
    toggle = _url(world, "competence-activity", competence.pk)
    assert client.post(toggle, {"inactive": "1"}).status_code == 302
    competence.refresh_from_db()
    assert (competence.comment, competence.valid_to, competence.is_temporarily_inactive) == (
        "Endret",
        datetime.date(2028, 2, 29),
        True,
    )


def test_p06_views_refuse_changes_to_a_deceased_persons_competences(world, competence, coach_1):
    mark_deceased(world.player_a)
    client = world.client("official_this_club", Capability.PERSONS_EDIT)
    page = client.get(_url(world, "competences")).content.decode()
    assert str(services.PERSON_DECEASED) in page
    assert _url(world, "competence-add") not in page
    assert (
        str(services.PERSON_DECEASED) in client.get(_url(world, "competence-add")).content.decode()
    )

    before = _state()
    added = client.post(
        _url(world, "competence-add"), {"competence_type": coach_1.pk, "valid_from": "2026-03-01"}
    )
    assert added.status_code == 200
    assert added.context["form"].non_field_errors() == [str(services.PERSON_DECEASED)]
    edited = client.post(_url(world, "competence-edit", competence.pk), {"comment": "x"})
    assert edited.context["form"].non_field_errors() == [str(services.PERSON_DECEASED)]
    toggled = client.post(
        _url(world, "competence-activity", competence.pk), {"inactive": "1"}, follow=True
    )
    assert str(services.PERSON_DECEASED) in toggled.content.decode()
    assert _state() == before


# --- API --------------------------------------------------------------------------------------


def test_p13_api_create_update_and_list(world, coach_1):
    client = world.client("official_this_club", Capability.PERSONS_EDIT)
    created = client.post(
        "/api/v1/competences/",
        {
            "person": world.player_a.pk,
            "competence_type": coach_1.pk,
            "valid_from": "2026-01-01",
            "comment": "API",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    updated = client.patch(
        f"/api/v1/competences/{pk}/",
        {"valid_to": "2027-01-01", "is_temporarily_inactive": True},
        content_type="application/json",
    ).json()
    assert (updated["valid_to"], updated["is_temporarily_inactive"], updated["comment"]) == (
        "2027-01-01",
        True,
        "API",
    )
    listed = client.get(f"/api/v1/competences/?person={world.player_a.pk}").json()
    assert [row["id"] for row in listed["results"]] == [pk]


@pytest.mark.parametrize("field", ["person", "competence_type", "valid_from"])
def test_p13_api_update_rejects_moving_or_retyping(world, competence, field):
    client = world.client("official_this_club", Capability.PERSONS_EDIT)
    value = {
        "person": world.user("member").person.pk,
        "competence_type": CompetenceTypeFactory().pk,
        "valid_from": "2020-01-01",
    }[field]
    before = _state()
    response = client.patch(
        f"/api/v1/competences/{competence.pk}/", {field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _state() == before


def test_p06_api_refuses_changes_to_a_deceased_persons_competences(world, competence, coach_1):
    mark_deceased(world.player_a)
    client = world.client("official_this_club", Capability.PERSONS_EDIT)
    before = _state()
    created = client.post(
        "/api/v1/competences/",
        {"person": world.player_a.pk, "competence_type": coach_1.pk, "valid_from": "2026-01-01"},
        content_type="application/json",
    )
    updated = client.patch(
        f"/api/v1/competences/{competence.pk}/",
        {"is_temporarily_inactive": True},
        content_type="application/json",
    )
    for response in (created, updated):
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [str(services.PERSON_DECEASED)]}
    assert _state() == before


def test_competence_api_list_query_count_does_not_grow(world, competence):
    client = world.client("official_this_club")
    client.get("/api/v1/competences/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/competences/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(10):
        CompetenceFactory(person=world.player_a)
    assert count() == few


def test_p13_api_competence_types_are_a_read_only_catalogue(world, coach_1):
    client = world.client("member")
    codes = [row["code"] for row in client.get("/api/v1/competence-types/").json()["results"]]
    assert "test-trener-1" in codes
    assert (
        client.post(
            "/api/v1/competence-types/", {"code": "x"}, content_type="application/json"
        ).status_code
        == 405
    )
