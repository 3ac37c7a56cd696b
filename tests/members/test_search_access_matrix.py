"""The access matrix (STYLE 17) for the person search: its page, organisation lookup, CSV and
Excel export, login links and API list, for anonymous, a member, an official without the
capability, an official with it in another club, an official with it in this club and
federation staff. Denied = the status code AND no change in the database.

The search is usable wherever the user holds persons.view, so an official of another club
gets the page too: what matters is that they never see club A's persons (checked per role
on the content), and that login links for club A's persons are refused there.
"""

import csv
import io
import json

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from clubadmin.capabilities import Capability
from members.models import User
from members.tasks import send_login_links
from tests.access_matrix import API_DENIED, HTML_DENIED, Case, check_case, get
from tests.conftest import ROLES, World

pytestmark = pytest.mark.django_db

QUERY = "q=%C3%98deg%C3%A5rd"  # q=Ødegård: finds club A's player
USERS_OF_THE_SEARCH = frozenset({"official_other_club", "official_this_club", "federation_staff"})
SEES_CLUB_A = frozenset({"official_this_club", "federation_staff"})


def url(name: str) -> str:
    return f"{reverse(name)}?{QUERY}"


def logins_state(world: World) -> object:
    return (
        sorted(User.objects.filter(person=world.player_a).values_list("username", flat=True)),
        len(mail.outbox),
    )


def post_login_link(world: World, client) -> object:
    return client.post(
        reverse("members:person-login-links"),
        {"person": [world.player_a.pk], "next": reverse("members:person-search")},
    )


@pytest.fixture(autouse=True)
def _eager_tasks(monkeypatch):
    """The view queues the task on commit (never inside the test's transaction): run it at
    once instead, so that an allowed request shows its effect."""
    monkeypatch.setattr(
        send_login_links,
        "delay_on_commit",
        lambda **kwargs: send_login_links.apply(kwargs=kwargs).get(),
    )


@pytest.fixture
def with_email(world: World) -> World:
    contact = world.player_a.contact_sets.get(is_standard=True)
    contact.email = "ase@example.org"
    contact.save()
    return world


READ_CASES = [
    Case(
        "html search page",
        Capability.PERSONS_VIEW,
        get(lambda w: url("members:person-search")),
        200,
        HTML_DENIED,
        302,
        allowed=USERS_OF_THE_SEARCH,
    ),
    Case(
        "html export csv",
        Capability.PERSONS_VIEW,
        get(lambda w: url("members:person-search-export-csv")),
        200,
        HTML_DENIED,
        302,
        allowed=USERS_OF_THE_SEARCH,
    ),
    Case(
        "html export xlsx",
        Capability.PERSONS_VIEW,
        get(lambda w: url("members:person-search-export-xlsx")),
        200,
        HTML_DENIED,
        302,
        allowed=USERS_OF_THE_SEARCH,
    ),
    Case(
        "html organisation lookup",
        Capability.PERSONS_VIEW,
        get(lambda w: reverse("members:person-search-organisations") + "?organisation_name=IF"),
        200,
        HTML_DENIED,
        302,
        allowed=USERS_OF_THE_SEARCH,
    ),
    Case(
        "api person search",
        Capability.PERSONS_VIEW,
        get(lambda w: f"/api/v1/persons/?{QUERY}"),
        200,
        API_DENIED,
        401,
        allowed=USERS_OF_THE_SEARCH,
    ),
]

WRITE_CASES = [
    Case(
        "html send login links",
        Capability.PERSONS_EDIT,
        post_login_link,
        302,
        # Another club's official may send links (to their own club's persons): for club A's
        # player the view redirects with a message and changes nothing.
        HTML_DENIED | {302},
        302,
        logins_state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", READ_CASES + WRITE_CASES, ids=str)
def test_search_access_matrix(world, with_email, case, role):
    check_case(world, case, role)


def _sports_ids(case_name: str, response) -> set[str]:
    """The sports ids of the persons in a response (the users' own persons have names from
    the factories' lists, so names could repeat; sports ids do not)."""
    if case_name == "html export csv":
        text = response.content.decode("utf-8-sig")
        return {row[0] for row in csv.reader(io.StringIO(text), delimiter=";")}
    if case_name == "html export xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        return {row[0] for row in sheet.iter_rows(values_only=True)}
    if case_name == "api person search":
        return {row["sports_id"] for row in json.loads(response.content)["results"]}
    return {person.sports_id for person in response.context["rows"]}


@pytest.mark.parametrize("role", sorted(USERS_OF_THE_SEARCH))
@pytest.mark.parametrize("case", READ_CASES[:3] + READ_CASES[4:], ids=str)
def test_only_users_with_rights_in_club_a_see_its_persons(world, case, role):
    response = case.send(world, world.client(role, case.capability))

    assert response.status_code == 200
    assert (world.player_a.sports_id in _sports_ids(case.name, response)) is (role in SEES_CLUB_A)


@pytest.mark.parametrize("role", sorted(USERS_OF_THE_SEARCH))
def test_organisation_lookup_offers_club_a_only_to_its_users(world, role):
    client = world.client(role, Capability.PERSONS_VIEW)

    content = client.get(
        reverse("members:person-search-organisations"), {"organisation_name": "Sagene"}
    ).content.decode()

    assert (f'value="{world.club_a.pk}"' in content) is (role in SEES_CLUB_A)


def test_the_set_password_page_needs_a_valid_token(world):
    login = world.user("member")
    response = world.client("anonymous").get(
        reverse("members:set-password", kwargs={"uidb64": "MQ", "token": "wrong-token"})
    )

    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert login.has_usable_password()
