"""The access matrix (STYLE 17) of the merge pages (P-14): anonymous, a member, an official
without duplicates.merge, an official with it in another club, an official with it in this
club, and federation staff. "Denied" means the status code AND no change in the database."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from clubadmin.capabilities import Capability
from members.duplicates import merging
from members.models import Function, Person, PersonMerge
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.conftest import ROLES, World
from tests.members.factories import FunctionFactory, PersonFactory


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

MERGE = Capability.DUPLICATES_MERGE


def prepare(world: World) -> None:
    """Two records of one player in club A to merge, and a merge of two others to see and
    undo. Kept on the world object."""
    world.first, world.second = PersonFactory(), PersonFactory()
    for person in (world.first, world.second):
        FunctionFactory(person=person, organisation=world.team_a)
    survivor, merged = PersonFactory(), PersonFactory()
    FunctionFactory(person=survivor, organisation=world.club_a)
    function = FunctionFactory(person=merged, organisation=world.team_a)
    world.merge = merging.persons_merge(
        actor=None,
        survivor=survivor,
        merged=merged,
        person_data={},
        keep_function_ids=[function.pk],
        keep_licence_ids=[],
    )


def _start(world: World) -> str:
    return reverse("members:merge-start") + f"?a={world.first.pk}&b={world.second.pk}"


def _preview_data(world: World) -> dict:
    data = _confirm_data(world)
    del data["confirm"]
    return {**data, "preview": "1"}


def _confirm_data(world: World) -> dict:
    first = world.first
    return {
        "survivor": "a",
        "first_name": first.first_name,
        "last_name": first.last_name,
        "gender": first.gender,
        "birth_date": first.birth_date.isoformat(),
        "functions_a": list(Function.objects.filter(person=first).values_list("pk", flat=True)),
        "functions_b": list(
            Function.objects.filter(person=world.second).values_list("pk", flat=True)
        ),
        "confirm": "1",
    }


def persons_state(world: World) -> object:
    return (
        sorted(Person.objects.values_list("pk", "merged_into_id", "sports_id")),
        sorted(Function.objects.values_list("pk", "person_id", "to_date")),
        sorted(PersonMerge.objects.values_list("pk", "state")),
    )


CASES = [
    Case(
        "merge wizard",
        MERGE,
        get(_start),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "merge wizard preview",
        MERGE,
        post(_start, _preview_data),
        200,
        HTML_DENIED,
        302,
        state=persons_state,
    ),
    Case(
        "merge confirm",
        MERGE,
        post(_start, _confirm_data),
        302,
        HTML_DENIED,
        302,
        state=persons_state,
    ),
    Case(
        "merge page",
        MERGE,
        get(lambda world: reverse("members:merge-detail", args=[world.merge.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "merge undo",
        MERGE,
        post(lambda world: reverse("members:merge-undo", args=[world.merge.pk])),
        302,
        HTML_DENIED,
        302,
        state=persons_state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_merge_pages_access_matrix(world, case, role):
    prepare(world)
    if case.name == "merge wizard preview" and role in case.allowed:
        # A preview changes nothing, allowed or not (test_merge_preview_changes_nothing...).
        case = Case(case.name, case.capability, case.send, 200, HTML_DENIED, 302)
    check_case(world, case, role)


def test_merge_preview_changes_nothing_even_when_allowed(world):
    prepare(world)
    client = world.client("federation_staff", MERGE)
    before = persons_state(world)

    response = client.post(_start(world), _preview_data(world))

    assert response.status_code == 200
    assert "will be merged into" in response.content.decode()
    assert persons_state(world) == before


def test_merge_page_of_another_federation_is_hidden(world):
    """Staff of the second federation hold duplicates.merge there only."""
    prepare(world)
    outsider = world.user("official_other_club", MERGE)
    FunctionFactory(person=outsider.person, organisation=world.federation_2)
    client = world.client("official_other_club", MERGE)

    assert client.get(reverse("members:merge-detail", args=[world.merge.pk])).status_code == 404
