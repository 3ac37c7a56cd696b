"""Organisation pages and function management in the browser (P-10, P-11)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import Function, FunctionType
from tests.members.factories import FunctionFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_organisation_page_shows_children_and_functions(world):
    client = world.client("official_this_club")
    response = client.get(reverse("members:organisation-detail", args=[world.club_a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert world.group_a.name in html
    assert "Åse Ødegård" in html
    assert "8601.11.17947" in html  # S-04 display format
    assert "988 077 917" in html
    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_function_list_query_count_is_constant(world):
    client = world.client("official_this_club")
    url = reverse("members:organisation-functions", args=[world.club_a.pk]) + "?status=all"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    player = FunctionType.objects.get(code="player")
    for _ in range(25):
        FunctionFactory(person=PersonFactory(), organisation=world.team_a, function_type=player)
    assert count() == few


def test_add_function_through_the_form(world):
    client = world.client("official_this_club")
    url = reverse("members:function-add", args=[world.team_a.pk])
    lookup = client.get(
        reverse("members:person-lookup", args=[world.team_a.pk]) + "?q=åse ødeg"
    ).content.decode()
    assert f'value="{world.player_a.pk}"' in lookup

    coach = FunctionType.objects.get(code="coach")
    response = client.post(url, {"person": world.player_a.pk, "function_type": coach.pk})
    assert response.status_code == 302
    function = Function.objects.get(person=world.player_a, function_type=coach)
    assert (function.organisation, function.from_date, function.to_date) == (
        world.team_a,
        timezone.localdate(),
        None,
    )


def test_add_function_form_errors_are_shown_and_nothing_saved(world):
    client = world.client("official_this_club")
    before = Function.objects.count()
    response = client.post(
        reverse("members:function-add", args=[world.team_a.pk]),
        {
            "person": world.player_a.pk,
            "function_type": FunctionType.objects.get(code="coach").pk,
            "from_date": "2026-05-01",
            "to_date": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert "to_date" in response.context["form"].errors
    assert Function.objects.count() == before


def test_function_type_choices_fit_the_organisation(world):
    client = world.client("official_this_club")
    form = client.get(reverse("members:function-add", args=[world.team_a.pk])).context["form"]
    codes = set(form.fields["function_type"].queryset.values_list("code", flat=True))
    assert {"player", "coach", "team-leader"} <= codes
    assert "general-manager" not in codes and "federation-staff" not in codes


def test_person_lookup_never_shows_persons_outside_scope(world):
    client = world.client("official_this_club")
    html = client.get(
        reverse("members:person-lookup", args=[world.club_a.pk]) + "?q=Sølvi"
    ).content.decode()
    assert "Fanebust" not in html


def test_end_and_activate_with_htmx_return_the_row(world):
    client = world.client("official_this_club")
    response = client.post(
        reverse("members:function-end", args=[world.function_a.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="function-{world.function_a.pk}"' in response.content.decode()
    assert Function.objects.get(pk=world.function_a.pk).to_date == timezone.localdate()

    response = client.post(
        reverse("members:function-activate", args=[world.function_a.pk]), HTTP_HX_REQUEST="true"
    )
    assert Function.objects.get(pk=world.function_a.pk).to_date is None


def test_pages_are_in_bokmaal_even_for_english_browsers_until_english_is_chosen(world):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="nb">' in page and "Logg inn" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in page and "Log in" in page


def test_a_users_saved_language_is_used(world):
    user = world.user("official_this_club")
    user.language = "en"
    user.save(update_fields=["language"])
    client = world.client("official_this_club")
    assert '<html lang="en">' in client.get("/").content.decode()


def test_health_endpoint(db):
    from django.test import Client

    assert Client().get("/healthz").json() == {"status": "ok"}
