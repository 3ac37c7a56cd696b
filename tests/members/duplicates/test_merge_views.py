"""The merge wizard, the merge's page and the undo button (P-14, issue 4 scope 4 and 5); the
merged person's banner on the person card; merged persons gone from search and choosers."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clubadmin.capabilities import Capability
from members import search
from members.duplicates import merging
from members.models import (
    CandidateStatus,
    DuplicateCandidate,
    Function,
    FunctionType,
    MergeState,
    Person,
    PersonMerge,
)
from members.selectors_memberships import person_choices
from tests.members.duplicates.merge_fixtures import Pair, build_pair, state_of
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_licences import CompetenceFactory

pytestmark = pytest.mark.django_db

MERGE = Capability.DUPLICATES_MERGE


@pytest.fixture(autouse=True)
def _english_interface(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def pair(world) -> Pair:
    return build_pair(world)


@pytest.fixture
def client(world) -> Client:
    return world.client("federation_staff", MERGE)


def _start_url(pair: Pair, *, candidate: bool = True) -> str:
    url = reverse("members:merge-start") + f"?a={pair.survivor.pk}&b={pair.merged.pk}"
    if candidate:
        url += f"&candidate={pair['candidate'].pk}"
    return url


def _form_data(pair: Pair, **changes: object) -> dict[str, object]:
    """What the wizard posts for its first proposal (record A = the survivor)."""
    data = {
        "survivor": "a",
        "first_name": "Kari",
        "middle_name": "",
        "last_name": "Nordmann",
        "gender": "female",
        "birth_date": "1990-05-17",
        "national_person_id": "NPI-1001",
        "source_id": "",
        "functions_a": [pair["survivor_player"].pk],
        "functions_b": [pair["merged_coach"].pk],
        "licences_a": [],
        "licences_b": [pair["merged_licence"].pk],
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------- the wizard


def test_p14_wizard_shows_both_records_and_the_first_proposal(pair, client):
    response = client.get(_start_url(pair))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Record A" in page and "Record B" in page
    form = response.context["form"]
    # The survivor has fewer references than the merged record: B is proposed to survive.
    assert form.initial["survivor"] == "b"
    # P-14: the person info comes from the most recently changed record (B, made later).
    assert form.initial["last_name"] == "Nordman"
    assert form.initial["national_person_id"] == "NPI-1001"
    # Survivor B: record A's player function repeats B's and is not proposed.
    assert form.initial["functions_b"] == [
        function.pk for function in response.context["sides"][1].functions
    ]
    assert form.initial["functions_a"] == []
    b_side = response.context["sides"][1]
    assert {title for title, _count in b_side.references} >= {"Bank accounts", "Volunteer hours"}


def test_p14_wizard_first_proposal_skips_repeated_functions(world, client):
    survivor, merged = PersonFactory(), PersonFactory()
    player = FunctionType.objects.get(code="player")
    own = FunctionFactory(person=survivor, organisation=world.team_a, function_type=player)
    repeat = FunctionFactory(person=merged, organisation=world.team_a, function_type=player)
    other = FunctionFactory(person=merged, organisation=world.club_a)
    CompetenceFactory(person=survivor)  # more references: the survivor survives

    response = client.get(reverse("members:merge-start") + f"?a={survivor.pk}&b={merged.pk}")

    initial = response.context["form"].initial
    assert initial["survivor"] == "a"
    assert initial["functions_a"] == [own.pk]
    assert initial["functions_b"] == [other.pk]
    assert repeat.pk not in initial["functions_b"]


def test_p14_use_button_takes_the_other_records_value(pair, client):
    response = client.post(_start_url(pair), {**_form_data(pair), "pick": "last_name:a"})

    assert response.status_code == 200
    assert response.context["form"].initial["last_name"] == "Nordmann"
    response = client.post(_start_url(pair), {**_form_data(pair), "pick": "last_name:b"})
    assert response.context["form"].initial["last_name"] == "Nordman"


def test_p14_preview_shows_what_will_happen_and_saves_nothing(pair, client):
    before = state_of(pair)

    response = client.post(_start_url(pair), {**_form_data(pair), "preview": "1"})

    assert response.status_code == 200
    assert response.templates[0].name == "members/merges/preview.html"
    page = response.content.decode()
    assert "will be merged into" in page
    assert "The person already has a membership in this club in that period." in page
    assert "The login “kari-old” moves to the surviving person." in page
    assert state_of(pair) == before


def test_p14_preview_errors_go_back_to_the_form(pair, client):
    before = state_of(pair)

    response = client.post(_start_url(pair), {**_form_data(pair, first_name=""), "preview": "1"})

    assert response.status_code == 200
    assert response.templates[0].name == "members/merges/start.html"
    assert response.context["form"].errors["first_name"] == ["This field cannot be blank."]
    assert state_of(pair) == before


def test_p14_back_keeps_the_choices(pair, client):
    response = client.post(_start_url(pair), {**_form_data(pair, last_name="Berg"), "back": "1"})

    assert response.context["form"].initial["last_name"] == "Berg"
    assert response.context["form"].initial["functions_b"] == [str(pair["merged_coach"].pk)]


def test_p14_confirm_merges_and_a_second_submit_shows_the_merge(pair, client):
    data = {**_form_data(pair), "confirm": "1"}

    response = client.post(_start_url(pair), data)

    merge = PersonMerge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members:merge-detail", args=[merge.pk])
    assert Person.objects.get(pk=pair.merged.pk).merged_into_id == pair.survivor.pk
    assert merge.candidate_id == pair["candidate"].pk
    # The double submit: the pair is merged already.
    again = client.post(_start_url(pair), data, follow=True)
    assert again.redirect_chain == [(reverse("members:merge-detail", args=[merge.pk]), 302)]
    assert "These persons have already been merged." in again.content.decode()
    assert PersonMerge.objects.count() == 1


def test_p14_confirm_refused_shows_the_error_and_changes_nothing(pair, client):
    Person.objects.filter(pk=pair.merged.pk).update(
        is_deceased=True, date_of_death=datetime.date(2025, 1, 1)
    )
    before = state_of(pair)

    response = client.post(_start_url(pair), {**_form_data(pair), "confirm": "1"})

    assert response.status_code == 200
    assert str(merging.DECEASED_MISMATCH) in response.content.decode()
    assert state_of(pair) == before


def test_p14_wizard_with_a_person_merged_elsewhere(pair, client, world):
    third = PersonFactory()
    FunctionFactory(person=third, organisation=world.club_a)
    Person.objects.filter(pk=pair.merged.pk).update(merged_into=third)

    response = client.get(_start_url(pair, candidate=False))

    assert response.status_code == 200
    assert "form" not in response.context
    assert str(merging.PERSON_ALREADY_MERGED) in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["?a=1", "?a=x&b=2", "same", "wrong_candidate"],
)
def test_p14_wizard_bad_queries_are_404(pair, client, query):
    if query == "same":
        query = f"?a={pair.survivor.pk}&b={pair.survivor.pk}"
    elif query == "wrong_candidate":
        query = f"?a={pair.survivor.pk}&b={pair.merged.pk}&candidate={pair['other_candidate'].pk}"

    response = client.get(reverse("members:merge-start") + query)

    assert response.status_code == 404


def test_p14_wizard_query_count_does_not_grow_with_the_rows(world, client):
    """No N+1: the same number of queries for records with one row of each kind as for
    records with many."""

    def pair_with(rows: int) -> str:
        survivor, merged = PersonFactory(), PersonFactory()
        for person in (survivor, merged):
            for _ in range(rows):
                FunctionFactory(person=person, organisation=world.team_a)
                CompetenceFactory(person=person)
        return reverse("members:merge-start") + f"?a={survivor.pk}&b={merged.pk}"

    small, large = pair_with(1), pair_with(6)
    client.get(small)  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(small).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get(large).status_code == 200

    assert len(many) == len(few)
    assert len(few) <= 14, [query["sql"] for query in few.captured_queries]


# --------------------------------------------------------------------- the merge's page


def _merged(pair: Pair, world) -> PersonMerge:  # type: ignore[no-untyped-def]
    return merging.persons_merge(**pair.merge_arguments(world.user("federation_staff", MERGE)))


def test_p14_merge_page_tells_the_merge_in_human_terms(pair, client, world):
    merge = _merged(pair, world)

    response = client.get(reverse("members:merge-detail", args=[merge.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Kari Nordman merged into Kari Nordmann" in page
    assert "Competences: 1" in page
    assert "Undo the merge" in page


def test_p14_undo_button_undoes_and_the_page_shows_the_report(pair, client, world):
    merge = _merged(pair, world)
    pair["merged_competence"].delete()

    response = client.post(reverse("members:merge-undo", args=[merge.pk]), follow=True)

    page = response.content.decode()
    assert PersonMerge.objects.get(pk=merge.pk).state == MergeState.UNDONE
    assert "some things could not be restored" in page
    assert "It has been deleted since the merge." in page
    assert "Undo the merge</button>" not in page
    assert Person.objects.get(pk=pair.merged.pk).merged_into_id is None
    # A second undo says so and changes nothing.
    again = client.post(reverse("members:merge-undo", args=[merge.pk]), follow=True)
    assert str(merging.MERGE_ALREADY_UNDONE) in again.content.decode()


# ---------------------------------------------------------- the merged person elsewhere


def test_p14_person_card_of_a_merged_person_has_a_banner(pair, world):
    merge = _merged(pair, world)
    client = world.client("federation_staff", Capability.PERSONS_VIEW)

    response = client.get(reverse("members:person-detail", args=[pair.merged.pk]))

    page = response.content.decode()
    assert "This person has been merged into" in page
    assert reverse("members:person-detail", args=[pair.survivor.pk]) in page
    assert reverse("members:merge-detail", args=[merge.pk]) in page
    survivor_page = client.get(reverse("members:person-detail", args=[pair.survivor.pk]))
    assert "This person has been merged into" not in survivor_page.content.decode()


def test_p14_merged_person_is_not_found_by_search(pair, world):
    user = world.user("federation_staff", Capability.PERSONS_VIEW)
    criteria = search.parse_criteria({"last_name": "Nordman"})
    found_before = search.person_search(user=user, criteria=criteria).ids
    assert {pair.survivor.pk, pair.merged.pk} <= set(found_before)

    _merged(pair, world)

    found = search.person_search(user=user, criteria=criteria).ids
    assert pair.merged.pk not in found and pair.survivor.pk in found
    # P-05: the merged person's sports id finds the survivor.
    by_id = search.parse_criteria({"sports_id": pair.merged.sports_id})
    assert search.person_search(user=user, criteria=by_id).ids == [pair.survivor.pk]


def test_p14_merged_person_is_not_offered_as_a_choice(pair, world):
    user = world.user("federation_staff", Capability.PERSONS_VIEW)
    assert pair.merged in person_choices(user=user, query="Kari Nordman")

    _merged(pair, world)

    assert pair.merged not in person_choices(user=user, query="Kari Nordman")
    client = world.client("federation_staff", Capability.FUNCTIONS_MANAGE)
    lookup = client.get(
        reverse("members:person-lookup", args=[world.club_a.pk]), {"q": "Kari Nordman"}
    )
    assert pair.merged not in lookup.context["persons"]
    assert pair.survivor in lookup.context["persons"]


def test_p14_candidate_decided_by_the_wizard(pair, client):
    client.post(_start_url(pair), {**_form_data(pair), "confirm": "1"})

    assert DuplicateCandidate.objects.get(pk=pair["candidate"].pk).status == CandidateStatus.MERGED
    assert Function.objects.get(pk=pair["merged_coach"].pk).person_id == pair.survivor.pk


def test_p14_merge_page_query_count(pair, client, world):
    """The page reads the record, not the moved rows: a fixed number of queries."""
    merge = _merged(pair, world)
    url = reverse("members:merge-detail", args=[merge.pk])
    client.get(url)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200

    assert len(queries) <= 6, [query["sql"][:120] for query in queries.captured_queries]
