"""The access matrix (STYLE 17) of the duplicate review pages and the duplicate admin (P-14,
issue 4): anonymous, a member, an official without duplicates.merge, officials with it in
another club and in another federation, an official with it in club A, and federation staff.
"Denied" means the status code AND no change in the database.

The pair under test is two persons of club A, so the official of club A may review it; the
detection runs are for staff of a federation or region (the run is over club A's federation).
Pages that list (the queue, the organisation lookup, the run list, admin lists) answer anyone
with the capability somewhere, and show club A's rows only to those with it there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from clubadmin.capabilities import Capability
from members.models import (
    CandidateStatus,
    DetectionChunk,
    DetectionRun,
    DuplicateCandidate,
    MatchModel,
    PersonMerge,
    RunState,
)
from tests.conftest import World
from tests.members.duplicates.test_candidates import (
    candidate,
    club_person,
    other_federation_staff,
)

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "member",
    "official_without_capability",
    "official_other_club",
    "official_other_federation",
    "official_this_club",
    "federation_staff",
)
REVIEWERS = frozenset({"official_this_club", "federation_staff"})
WITH_CAPABILITY = frozenset(
    {"official_other_club", "official_other_federation", "official_this_club", "federation_staff"}
)
# Federation (or region) staff with duplicates.merge: both federations' staff.
RUN_STAFF = frozenset({"official_other_federation", "federation_staff"})
ADMIN_USERS = frozenset({"official_other_federation", "federation_staff"})  # is_staff + access


@pytest.fixture
def rows(world: World) -> World:
    """The pair, a run with a chunk, a match model and a merge: kept on the world object."""
    world.twin = club_person(world.club_a, first_name="Åse", last_name="Ødegaard")
    world.pair = candidate(world.player_a, world.twin)
    world.run = DetectionRun.objects.create(
        organisation=world.federation, state=RunState.DONE, chunks_total=1, chunks_done=1
    )
    DetectionChunk.objects.create(run=world.run, key="year:1980", state=RunState.DONE)
    world.match_model = MatchModel.objects.create(parameters={}, note="club A model")
    merged = club_person(world.club_a, first_name="Merget")
    world.merge = PersonMerge.objects.create(survivor=world.twin, merged=merged, record={})
    return world


def client_for(world: World, role: str) -> Client:
    if role == "official_other_federation":
        client = Client()
        client.force_login(other_federation_staff(world))
        return client
    capability = Capability.DUPLICATES_MERGE
    return world.client(role, capability if role == "official_without_capability" else "any")


def state(world: World) -> object:
    return (
        sorted(
            DuplicateCandidate.objects.values_list(
                "pk", "person_a_id", "person_b_id", "status", "source", "decided_by_id"
            )
        ),
        sorted(DetectionRun.objects.values_list("pk", "organisation_id", "state")),
    )


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[World, Client], object]
    allowed: frozenset[str]
    allowed_status: int
    changes: bool = False
    # For roles that may use the page but not on club A's rows: (status, marker absent).
    in_other_scope: frozenset[str] = frozenset()
    other_scope_status: int = 200
    marker: Callable[[World], str] | None = None
    denied_status: int = 404
    anonymous_status: int = 302

    def __str__(self) -> str:
        return self.name


def get(url: Callable[[World], str]) -> Callable[[World, Client], object]:
    return lambda world, client: client.get(url(world))


def post(url: Callable[[World], str], data: Callable[[World], dict] = lambda w: {}):
    return lambda world, client: client.post(url(world), data(world))


def pair_url(name: str) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[world.pair.pk])


def admin_url(model: str, suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/admin/members/{model}/{suffix}"


def object_admin_url(model: str, attribute: str) -> Callable[[World], str]:
    return lambda world: f"/admin/members/{model}/{getattr(world, attribute).pk}/change/"


CASES = [
    Case(
        "queue",
        get(lambda w: reverse("members:duplicate-list")),
        REVIEWERS,
        200,
        in_other_scope=WITH_CAPABILITY - REVIEWERS,
        marker=lambda w: reverse("members:duplicate-detail", args=[w.pair.pk]),
    ),
    Case(
        "queue organisation lookup",
        get(lambda w: reverse("members:duplicate-organisations") + "?organisation_name=Sagene"),
        REVIEWERS,
        200,
        in_other_scope=WITH_CAPABILITY - REVIEWERS,
        marker=lambda w: f'value="{w.club_a.pk}"',
    ),
    Case("pair page", get(pair_url("members:duplicate-detail")), REVIEWERS, 200),
    Case(
        "not a duplicate",
        post(pair_url("members:duplicate-not-duplicate")),
        REVIEWERS,
        302,
        changes=True,
    ),
    Case(
        "mark from search results",
        post(
            lambda w: reverse("members:duplicate-mark"),
            lambda w: {"person": [w.player_a.pk, club_person(w.club_a).pk]},
        ),
        REVIEWERS,
        302,
        changes=True,
        # Allowed to mark somewhere: told they may not mark these persons (302, nothing saved).
        in_other_scope=WITH_CAPABILITY - REVIEWERS,
        other_scope_status=302,
    ),
    Case(
        "detection run list",
        get(lambda w: reverse("members:detection-run-list")),
        frozenset({"federation_staff"}),
        200,
        in_other_scope=RUN_STAFF - {"federation_staff"},
        marker=lambda w: reverse("members:detection-run-detail", args=[w.run.pk]),
    ),
    Case(
        "start a detection run",
        post(
            lambda w: reverse("members:detection-run-list"),
            lambda w: {"organisation": w.federation.pk},
        ),
        frozenset({"federation_staff"}),
        302,
        changes=True,
        # Staff of the other federation: club A's federation is no choice (form error).
        in_other_scope=RUN_STAFF - {"federation_staff"},
    ),
    Case(
        "detection run page",
        get(lambda w: reverse("members:detection-run-detail", args=[w.run.pk])),
        frozenset({"federation_staff"}),
        200,
    ),
    Case(
        "detection run progress part",
        lambda w, client: client.get(
            reverse("members:detection-run-detail", args=[w.run.pk]),
            headers={"HX-Request": "true"},
        ),
        frozenset({"federation_staff"}),
        200,
    ),
]

ADMIN_CASES = (
    [
        Case(
            f"admin {model} list",
            get(admin_url(model)),
            frozenset({"federation_staff"}),
            200,
            in_other_scope=ADMIN_USERS - {"federation_staff"},
            marker=marker,
            denied_status=302,
        )
        for model, marker in (
            ("duplicatecandidate", lambda w: f"/admin/members/duplicatecandidate/{w.pair.pk}/"),
            ("detectionrun", lambda w: f"/admin/members/detectionrun/{w.run.pk}/"),
            ("personmerge", lambda w: f"/admin/members/personmerge/{w.merge.pk}/"),
        )
    ]
    + [
        Case(
            f"admin {model} page",
            get(object_admin_url(model, attribute)),
            frozenset({"federation_staff"}),
            200,
            denied_status=302,
        )
        for model, attribute in (
            ("duplicatecandidate", "pair"),
            ("detectionrun", "run"),
            ("personmerge", "merge"),
        )
    ]
    + [
        Case(
            "admin duplicatecandidate history",
            get(lambda w: f"/admin/members/duplicatecandidate/{w.pair.pk}/history/"),
            frozenset({"federation_staff"}),
            200,
            denied_status=302,
            # django-simple-history answers staff out of scope with 403 (as for persons).
            in_other_scope=ADMIN_USERS - {"federation_staff"},
            other_scope_status=403,
        ),
        Case(
            "admin detectionrun history",
            get(lambda w: f"/admin/members/detectionrun/{w.run.pk}/history/"),
            frozenset({"federation_staff"}),
            200,
            denied_status=302,
        ),
        # Match models hold weights, no personal data: every admin user with the capability.
        Case(
            "admin matchmodel list",
            get(admin_url("matchmodel")),
            ADMIN_USERS,
            200,
            denied_status=302,
        ),
        Case(
            "admin matchmodel page",
            get(object_admin_url("matchmodel", "match_model")),
            ADMIN_USERS,
            200,
            denied_status=302,
        ),
    ]
)


def check(world: World, case: Case, role: str) -> None:
    client = client_for(world, role)
    before = state(world)

    response = case.send(world, client)

    content = response.content.decode()
    if role in case.allowed:
        assert response.status_code == case.allowed_status, content[:400]
        if case.marker is not None:
            assert case.marker(world) in content
        assert (state(world) != before) is case.changes
        return
    if role == "anonymous":
        assert response.status_code == case.anonymous_status
    elif role in case.in_other_scope:
        assert response.status_code == case.other_scope_status, content[:400]
        if case.marker is not None:
            assert case.marker(world) not in content
    else:
        assert response.status_code == case.denied_status, (response.status_code, content[:300])
    assert state(world) == before, "a denied request changed the database"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_p14_review_pages_access_matrix(rows, case, role):
    check(rows, case, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", ADMIN_CASES, ids=str)
def test_p14_duplicate_admin_access_matrix(rows, case, role):
    check(rows, case, role)


def test_p14_the_duplicate_admin_is_read_only(rows):
    client = client_for(rows, "federation_staff")
    change = f"/admin/members/duplicatecandidate/{rows.pair.pk}/change/"

    page = client.get(change).content.decode()
    response = client.post(change, {"status": CandidateStatus.NOT_DUPLICATE})

    assert 'name="_save"' not in page
    assert client.get("/admin/members/duplicatecandidate/add/").status_code == 403
    assert response.status_code == 403
    rows.pair.refresh_from_db()
    assert rows.pair.status == CandidateStatus.OPEN
