"""P-14, issue 4 scope 2 and 3: the review pages (queue, pair, "not a duplicate"), marking two
persons from the search results, and the detection run pages with their HTMX progress part."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation

from clubadmin.capabilities import Capability
from members.duplicates import candidates
from members.models import (
    CandidateSource,
    CandidateStatus,
    DetectionChunk,
    DetectionRun,
    DuplicateCandidate,
    RunState,
)
from members.templatetags.duplicate_review import evidence_level
from members.views import duplicates as views
from tests.conftest import World
from tests.members.duplicates.test_candidates import (
    EXPLANATION,
    candidate,
    candidates_state,
    club_person,
    merger,
)


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(message) for message in response.wsgi_request._messages]


def staff_client(world: World):  # type: ignore[no-untyped-def]
    return world.client("federation_staff")


# ---------------------------------------------------------------------------------- queue


def test_p14_queue_shows_pairs_by_score_with_names_birth_dates_clubs_and_evidence(world):
    kari = club_person(world.team_a, first_name="Kari", last_name="Nordmann")
    kari.birth_date = datetime.date(2011, 4, 12)
    kari.save()
    karin = club_person(world.club_b, first_name="Karin", last_name="Nordmann")
    low = candidate(world.player_a, karin, score=0.55)
    high = candidate(kari, karin, score=0.97)

    response = staff_client(world).get(reverse("members:duplicate-list"))

    assert response.status_code == 200
    page = html(response)
    assert [row.candidate for row in response.context["rows"]] == [high, low]
    assert page.index(reverse("members:duplicate-detail", args=[high.pk])) < page.index(
        reverse("members:duplicate-detail", args=[low.pk])
    )
    assert "Kari Nordmann" in page and "Karin Nordmann" in page
    assert "born 12.04.2011" in page
    assert "Sagene IF" in page and "Frogner IL" in page
    assert "97 %" in page and 'value="0.970"' in page  # the score and its bar
    # The strongest evidence first: birth date (4.1), first name (3.2), last name (2.5).
    assert [item["field"] for item in response.context["rows"][0].evidence] == [
        "birth_date",
        "first_name",
        "last_name",
    ]
    assert "evidence-for" in page


def test_p14_queue_query_count_does_not_grow_with_the_pairs(world, django_assert_max_num_queries):
    persons = [club_person(world.club_a if i % 2 else world.club_b) for i in range(31)]
    for index in range(30):
        candidate(persons[index], persons[index + 1], score=0.5 + index / 100)
    client = staff_client(world)
    client.get(reverse("members:duplicate-list"))  # the user's grants and session, once

    with django_assert_max_num_queries(9):
        response = client.get(reverse("members:duplicate-list"))

    assert len(response.context["rows"]) == 30


def test_p14_queue_filters_and_the_htmx_part(world):
    first, second, third = (club_person(world.club_a) for _ in range(3))
    detected = candidate(first, second, score=0.95)
    manual = candidate(second, third, score=0.6, source=CandidateSource.MANUAL)
    client = staff_client(world)
    url = reverse("members:duplicate-list")

    by_score = client.get(url, {"min_score": "90"})
    by_source = client.get(url, {"source": CandidateSource.MANUAL}, headers={"HX-Request": "true"})
    by_organisation = client.get(url, {"organisation": world.club_b.pk})

    assert [row.candidate for row in by_score.context["rows"]] == [detected]
    assert [row.candidate for row in by_source.context["rows"]] == [manual]
    assert "<h1>" not in html(by_source)  # the list part only
    assert by_organisation.context["rows"] == []


def test_p14_queue_organisation_lookup_offers_organisations_in_scope(world):
    client = staff_client(world)
    other = world.client("official_this_club")
    url = reverse("members:duplicate-organisations") + "?organisation_name=IL"

    assert "Frogner IL" in html(client.get(url))
    assert "Fana IL" not in html(client.get(url))  # another federation
    assert "Frogner IL" not in html(other.get(url))  # club A's official


# ------------------------------------------------------------------------------ the pair


def test_p14_pair_page_shows_both_persons_and_every_piece_of_evidence(world):
    twin = club_person(world.club_a, first_name="Åse", last_name="Ødegaard")
    pair = candidate(world.player_a, twin, score=0.91)

    response = staff_client(world).get(reverse("members:duplicate-detail", args=[pair.pk]))

    assert response.status_code == 200
    page = html(response)
    assert "Åse Ødegård" in page and "Åse Ødegaard" in page
    assert world.player_a.sports_id in page and twin.sports_id in page
    for item in EXPLANATION:
        assert item["a"] in page and item["b"] in page
        assert evidence_level(item["level"]) in page
    rows = re.findall(r'<tr class="evidence-(\w+)">', page)
    assert rows == ["for", "for", "for", "against"]
    assert "3.20" in page or "3,20" in page
    assert reverse("members:duplicate-not-duplicate", args=[pair.pk]) in page
    merge = reverse("members:merge-start")
    assert f"{merge}?a={world.player_a.pk}&amp;b={twin.pk}&amp;candidate={pair.pk}" in page


def test_p14_a_decided_pair_has_no_actions(world):
    twin = club_person(world.club_a)
    pair = candidate(world.player_a, twin, status=CandidateStatus.NOT_DUPLICATE)

    page = html(staff_client(world).get(reverse("members:duplicate-detail", args=[pair.pk])))

    assert reverse("members:duplicate-not-duplicate", args=[pair.pk]) not in page
    assert "Not a duplicate" in page  # the status badge


def test_p14_not_a_duplicate_from_the_pair_page(world):
    twin = club_person(world.club_a)
    pair = candidate(world.player_a, twin)

    response = staff_client(world).post(reverse("members:duplicate-not-duplicate", args=[pair.pk]))

    assert response.status_code == 302
    assert response.url == reverse("members:duplicate-list")
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (CandidateStatus.NOT_DUPLICATE, merger(world))
    assert str(views.NOT_DUPLICATE_DONE) % {
        "a": world.player_a.full_name,
        "b": twin.full_name,
    } in messages_of(response)


def test_p14_not_a_duplicate_twice_shows_the_message_and_changes_nothing(world):
    pair = candidate(
        world.player_a, club_person(world.club_a), status=CandidateStatus.NOT_DUPLICATE
    )
    before = candidates_state()

    response = staff_client(world).post(reverse("members:duplicate-not-duplicate", args=[pair.pk]))

    assert response.status_code == 302
    assert str(candidates.CANDIDATE_NOT_OPEN) in messages_of(response)
    assert candidates_state() == before


# ------------------------------------------------------------------ marking from search


def search(client, query: str = "q=%C3%98deg"):  # type: ignore[no-untyped-def]
    return client.get(f"{reverse('members:person-search')}?{query}")


def test_p14_search_results_have_checkboxes_and_the_mark_button_for_mergers(world):
    page = html(search(staff_client(world)))
    without = html(search(world.client("official_without_capability", Capability.DUPLICATES_MERGE)))

    assert f'name="person" value="{world.player_a.pk}"' in page
    assert f'formaction="{reverse("members:duplicate-mark")}"' in page
    assert "Mark as possible duplicates" in page
    assert f'name="person" value="{world.player_a.pk}"' in without
    assert "Mark as possible duplicates" not in without


def test_p14_marking_two_selected_persons_opens_the_pair(world):
    twin = club_person(world.club_a, first_name="Åse", last_name="Ødegaard")
    back = f"{reverse('members:person-search')}?q=%C3%98deg"

    response = staff_client(world).post(
        reverse("members:duplicate-mark"), {"person": [twin.pk, world.player_a.pk], "next": back}
    )

    marked = DuplicateCandidate.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("members:duplicate-detail", args=[marked.pk])
    assert (marked.person_a, marked.person_b, marked.source, marked.marked_by) == (
        world.player_a,
        twin,
        CandidateSource.MANUAL,
        merger(world),
    )
    assert marked.score > 0  # scored by the engine
    assert str(views.MARKED) % {
        "a": world.player_a.full_name,
        "b": twin.full_name,
    } in messages_of(response)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_p14_marking_needs_exactly_two_persons(world, count):
    persons = [world.player_a, *(club_person(world.club_a) for _ in range(2))][:count]
    back = f"{reverse('members:person-search')}?q=%C3%98deg"

    response = staff_client(world).post(
        reverse("members:duplicate-mark"), {"person": [p.pk for p in persons], "next": back}
    )

    assert response.status_code == 302
    assert response.url == back
    assert messages_of(response) == [str(views.SELECT_TWO)]
    assert candidates_state() == []


def test_p14_marking_persons_outside_the_scope_says_so_and_changes_nothing(world):
    club_b_person = club_person(world.club_b)
    client = world.client("official_this_club")  # duplicates.merge in club A only

    response = client.post(
        reverse("members:duplicate-mark"), {"person": [world.player_a.pk, club_b_person.pk]}
    )

    assert response.status_code == 302
    assert response.url == reverse("members:person-search")
    assert messages_of(response) == [str(candidates.NOT_ALLOWED)]
    assert candidates_state() == []


def test_p14_marking_ignores_an_outside_next_url(world):
    response = staff_client(world).post(
        reverse("members:duplicate-mark"),
        {"person": [world.player_a.pk], "next": "https://evil.example/"},
    )

    assert response.url == reverse("members:person-search")


# ----------------------------------------------------------------------- detection runs


def running_run(world: World) -> DetectionRun:
    run = DetectionRun.objects.create(
        organisation=world.federation,
        state=RunState.RUNNING,
        started_by=merger(world),
        chunks_total=4,
        chunks_done=1,
        pairs_compared=1234,
        candidates_found=7,
    )
    DetectionChunk.objects.create(run=run, key="year:2011", state=RunState.DONE)
    DetectionChunk.objects.create(run=run, key="year:2012", state=RunState.RUNNING)
    DetectionChunk.objects.create(
        run=run, key="email:3", state=RunState.PENDING, attempts=2, error="worker lost"
    )
    DetectionChunk.objects.create(run=run, key="mobile:1", state=RunState.PENDING)
    return run


def test_p14_run_page_polls_its_progress_part_while_running(world):
    run = running_run(world)
    client = staff_client(world)
    url = reverse("members:detection-run-detail", args=[run.pk])

    page = html(client.get(url))
    part = client.get(url, headers={"HX-Request": "true"})

    assert f'hx-get="{url}" hx-trigger="every 2s"' in page
    assert '<progress class="runbar" max="100" value="25">' in page
    assert "1234" in page and "worker lost" in page and "email:3" in page
    assert world.user("federation_staff").person.full_name in page  # who started it
    assert part.status_code == 200
    assert html(part).lstrip().startswith("<section") and "<h1>" not in html(part)
    assert 'hx-trigger="every 2s"' in html(part)


def test_p14_a_finished_run_stops_polling(world):
    run = running_run(world)
    DetectionRun.objects.filter(pk=run.pk).update(state=RunState.DONE, chunks_done=4)

    part = staff_client(world).get(
        reverse("members:detection-run-detail", args=[run.pk]), headers={"HX-Request": "true"}
    )

    assert "hx-trigger" not in html(part)
    assert 'value="100"' in html(part)


def test_p14_starting_a_run_from_the_page(world):
    response = staff_client(world).post(
        reverse("members:detection-run-list"), {"organisation": world.federation.pk}
    )

    run = DetectionRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("members:detection-run-detail", args=[run.pk])
    assert (run.organisation, run.started_by) == (world.federation, merger(world))


def test_p14_a_second_run_while_one_runs_is_refused_on_the_page(world):
    running_run(world)

    response = staff_client(world).post(
        reverse("members:detection-run-list"), {"organisation": world.federation.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert DetectionRun.objects.count() == 1


def test_p14_a_register_wide_run_is_listed_for_staff_with_the_capability_only(world):
    run = DetectionRun.objects.create(state=RunState.DONE, chunks_total=3, chunks_done=3)
    url = reverse("members:detection-run-detail", args=[run.pk])

    staff = staff_client(world)
    without = world.client("official_without_capability")

    assert list(staff.get(reverse("members:detection-run-list")).context["page"]) == [run]
    assert staff.get(url).status_code == 200
    assert without.get(url).status_code in (403, 404)


def test_p14_the_run_form_offers_federations_and_regions_in_scope(world):
    form = staff_client(world).get(reverse("members:detection-run-list")).context["form"]

    choices = list(form.fields["organisation"].queryset)

    assert choices == [world.federation, world.region]


# ------------------------------------------------------------------------- navigation


def test_p14_the_navigation_offers_duplicates_to_mergers_only(world):
    link = f'href="{reverse("members:duplicate-list")}"'

    assert link in html(staff_client(world).get(reverse("dashboard")))
    assert link not in html(
        world.client("official_without_capability", Capability.DUPLICATES_MERGE).get(
            reverse("dashboard")
        )
    )
    assert link not in html(world.client("member").get(reverse("dashboard")))
