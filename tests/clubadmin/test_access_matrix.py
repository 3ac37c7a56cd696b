"""The access matrix (issue 2, STYLE 17): every view and endpoint, for anonymous, a member, an
official without the capability, an official with it in another club, an official with it in
this club, and federation staff. "Denied" means the status code AND no change in the database.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from clubadmin.capabilities import Capability
from members.models import Function
from tests.access_matrix import (
    ADMIN_DENIED,
    ALLOWED,
    HTML_DENIED,
    Case,
    api,
    check_case,
    functions_state,
    get,
    new_function_data,
    organisation_change_data,
    organisations_state,
    post,
)
from tests.conftest import ANY, ROLES, World

pytestmark = pytest.mark.django_db


URL = reverse
CASES = [
    # Web shell (club administrators)
    Case(
        "html organisation page",
        ANY,
        get(lambda w: URL("members:organisation-detail", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html function list",
        ANY,
        get(lambda w: URL("members:organisation-functions", args=[w.club_a.pk]) + "?status=all"),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html add function form",
        Capability.FUNCTIONS_MANAGE,
        get(lambda w: URL("members:function-add", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html add function",
        Capability.FUNCTIONS_MANAGE,
        post(lambda w: URL("members:function-add", args=[w.club_a.pk]), new_function_data),
        302,
        HTML_DENIED,
        302,
        functions_state,
    ),
    Case(
        "html person lookup",
        Capability.FUNCTIONS_MANAGE,
        get(lambda w: URL("members:person-lookup", args=[w.club_a.pk]) + "?q=Åse"),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html end function",
        Capability.FUNCTIONS_MANAGE,
        post(lambda w: URL("members:function-end", args=[w.function_a.pk])),
        302,
        HTML_DENIED,
        302,
        functions_state,
    ),
    Case(
        "html activate function",
        Capability.FUNCTIONS_MANAGE,
        post(lambda w: URL("members:function-activate", args=[w.ended_function_a.pk])),
        302,
        HTML_DENIED,
        302,
        functions_state,
    ),
    # API
    Case(
        "api organisation detail",
        ANY,
        get(lambda w: f"/api/v1/organisations/{w.club_a.pk}/"),
        200,
        frozenset({404}),
        401,
    ),
    Case(
        "api create organisation",
        Capability.ORGANISATIONS_MANAGE,
        api(
            "post",
            lambda w: "/api/v1/organisations/",
            lambda w: {
                "parent": w.club_a.pk,
                "name": "Sagene IF Sjakk",
                "organisation_type": "group",
            },
        ),
        201,
        frozenset({400, 403}),
        401,
        organisations_state,
    ),
    Case(
        "api update organisation",
        Capability.ORGANISATIONS_MANAGE,
        api(
            "patch",
            lambda w: f"/api/v1/organisations/{w.club_a.pk}/",
            lambda w: {"name": "Renamed"},
        ),
        200,
        frozenset({403, 404}),
        401,
        organisations_state,
    ),
    Case(
        "api function detail",
        Capability.PERSONS_VIEW,
        get(lambda w: f"/api/v1/functions/{w.function_a.pk}/"),
        200,
        frozenset({404}),
        401,
    ),
    Case(
        "api create function",
        Capability.FUNCTIONS_MANAGE,
        api("post", lambda w: "/api/v1/functions/", new_function_data),
        201,
        frozenset({400, 403}),
        401,
        functions_state,
    ),
    Case(
        "api update function",
        Capability.FUNCTIONS_MANAGE,
        api(
            "patch",
            lambda w: f"/api/v1/functions/{w.function_a.pk}/",
            lambda w: {"to_date": "2099-12-31"},
        ),
        200,
        frozenset({403, 404}),
        401,
        functions_state,
    ),
    Case(
        "api end function",
        Capability.FUNCTIONS_MANAGE,
        api("post", lambda w: f"/api/v1/functions/{w.function_a.pk}/end/"),
        200,
        frozenset({403, 404}),
        401,
        functions_state,
    ),
    Case(
        "api activate function",
        Capability.FUNCTIONS_MANAGE,
        api("post", lambda w: f"/api/v1/functions/{w.ended_function_a.pk}/activate/"),
        200,
        frozenset({403, 404}),
        401,
        functions_state,
    ),
    # Django admin (federation staff only)
    Case(
        "admin index",
        Capability.ADMIN_ACCESS,
        get(lambda w: "/admin/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=frozenset({"federation_staff"}),
    ),
    Case(
        "admin organisation change page",
        Capability.ADMIN_ACCESS,
        get(lambda w: f"/admin/members/organisation/{w.club_a.pk}/change/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=frozenset({"federation_staff"}),
    ),
    Case(
        "admin organisation change",
        Capability.ORGANISATIONS_MANAGE,
        post(
            lambda w: f"/admin/members/organisation/{w.club_a.pk}/change/", organisation_change_data
        ),
        302,
        ADMIN_DENIED,
        302,
        organisations_state,
        allowed=frozenset({"federation_staff"}),
    ),
    Case(
        "admin person change page",
        Capability.PERSONS_VIEW,
        get(lambda w: f"/admin/members/person/{w.player_a.pk}/change/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=frozenset({"federation_staff"}),
    ),
    Case(
        "admin person history",
        Capability.PERSONS_VIEW,
        get(lambda w: f"/admin/members/person/{w.player_a.pk}/history/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=frozenset({"federation_staff"}),
    ),
    Case(
        "admin function change page",
        Capability.PERSONS_VIEW,
        get(lambda w: f"/admin/members/function/{w.function_a.pk}/change/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=frozenset({"federation_staff"}),
    ),
]


ADMIN_ONLY = frozenset({"federation_staff"})
CASES += [
    Case(
        f"admin {model} list",
        Capability.ADMIN_ACCESS,
        get(lambda w, model=model: f"/admin/members/{model}/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=ADMIN_ONLY,
    )
    for model in (
        "licence",
        "competence",
        "transfer",
        "licenceperiod",
        "licencetype",
        "competencetype",
        "functiontype",
        "user",
    )
] + [
    Case(
        "admin person change page with contact and account inlines",
        Capability.PERSONS_EDIT,
        get(lambda w: f"/admin/members/person/{w.player_a.pk}/change/"),
        200,
        ADMIN_DENIED,
        302,
        allowed=ADMIN_ONLY,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(world: World, case: Case, role: str) -> None:
    check_case(world, case, role)


LIST_CASES = [
    (
        "api organisation list",
        lambda w: "/api/v1/organisations/",
        401,
        lambda w: f'"id":{w.club_a.pk},',
    ),
    (
        "api function list",
        lambda w: "/api/v1/functions/?status=all",
        401,
        lambda w: f'"id":{w.function_a.pk},',
    ),
    (
        "admin organisation list",
        lambda w: "/admin/members/organisation/",
        302,
        lambda w: w.club_a.name,
    ),
    (
        "admin person list",
        lambda w: "/admin/members/person/",
        302,
        lambda w: f"/admin/members/person/{w.player_a.pk}/change/",
    ),
    (
        "admin function list",
        lambda w: "/admin/members/function/",
        302,
        lambda w: f"/admin/members/function/{w.function_a.pk}/change/",
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "url", "anonymous_status", "marker"), LIST_CASES, ids=[case[0] for case in LIST_CASES]
)
def test_lists_show_only_rows_in_scope(world, role, name, url, anonymous_status, marker):
    """Lists answer everyone allowed to use them, but show club A's rows only to those with
    rights in club A."""
    capability = Capability.PERSONS_VIEW if "function" in name or "person" in name else ANY
    client = world.client(role, capability)
    response = client.get(url(world))
    if role == "anonymous":
        assert response.status_code == anonymous_status
        return
    is_admin = name.startswith("admin")
    allowed = {"federation_staff"} if is_admin else ALLOWED
    if is_admin and role not in allowed:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert (marker(world) in response.content.decode()) is (role in allowed)


def test_federation_staff_see_only_their_federation(world):
    staff_2 = world.user("federation_staff")
    staff_2.person.functions.update(organisation=world.federation_2)
    client = Client()
    client.force_login(staff_2)

    changelist = client.get("/admin/members/organisation/").content.decode()
    assert world.club_c.name in changelist
    assert world.club_a.name not in changelist
    assert client.get(f"/admin/members/organisation/{world.club_a.pk}/change/").status_code == 302
    assert client.get(f"/api/v1/organisations/{world.club_a.pk}/").status_code == 404


def test_beat_schedules_are_for_superusers_only(world):
    """Celery beat schedules are editable in the admin by superusers; staff have no model
    permission on them (default deny)."""
    staff = world.client("federation_staff")
    assert staff.get("/admin/django_celery_beat/periodictask/").status_code == 403
    root = Client()
    from tests.members.factories import UserFactory

    root.force_login(UserFactory(is_superuser=True, is_staff=True, person=None))
    assert root.get("/admin/django_celery_beat/periodictask/").status_code == 200
    assert root.get("/admin/django_celery_beat/periodictask/add/").status_code == 200


def test_api_docs_and_schema_need_a_login(world):
    assert Client().get("/api/schema/").status_code == 401
    member = world.client("member")
    assert member.get("/api/schema/").status_code == 200
    assert member.get("/api/docs/").status_code == 200


def test_token_authentication(world):
    from rest_framework.authtoken.models import Token

    user = world.user("official_this_club")
    token = Token.objects.create(user=user)
    response = Client().get(
        f"/api/v1/organisations/{world.club_a.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    assert response.json()["name"] == world.club_a.name


def test_ended_function_removes_access_after_its_last_day(world):
    user = world.user("official_this_club")
    Function.objects.filter(person=user.person).update(
        to_date=datetime.date.today() - datetime.timedelta(days=1)
    )
    client = Client()
    client.force_login(user)
    assert (
        client.get(reverse("members:organisation-detail", args=[world.club_a.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_shows_the_organisations_the_user_administers(world, role):
    response = world.client(role).get("/")
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
        return
    assert response.status_code == 200
    cards = [card["organisation"] for card in response.context["cards"]]
    expected = {
        "member": [],
        "official_without_capability": [],
        "official_other_club": [world.club_b],
        "official_this_club": [world.club_a],
        "federation_staff": [world.federation],
    }[role]
    assert cards == expected
