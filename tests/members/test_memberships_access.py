"""The access matrix (STYLE 17) for the membership pages and endpoints (issue 5): anonymous,
a member, an official without members.manage, an official with it in another club, an
official with it in this club, and federation staff. "Denied" means the status code AND no
change in the database."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members.models import (
    Family,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    MembershipVerification,
    Person,
)
from members.services import memberships as membership_services
from members.services import verification as verification_services
from tests.access_matrix import API_DENIED, HTML_DENIED, Case, api, check_case, get, post
from tests.conftest import ROLES, World
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import GuardianRelationFactory, MembershipTypeFactory

pytestmark = pytest.mark.django_db

MANAGE = Capability.MEMBERS_MANAGE
URL = reverse
DAY = datetime.timedelta(days=1)
AUTHENTICATED = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)


def prepare(world: World) -> None:
    """Rows the cases act on: two types, a pending membership of player A with a sent link,
    a family of two and a child with a guardian. Kept on the world object."""
    today = timezone.localdate()
    club = world.club_a
    world.ordinary = MembershipTypeFactory(club=club, code="ordinary", name="Ordinær")
    world.family_type = MembershipTypeFactory(
        club=club, code="family", name="Familie", category=MembershipCategory.FAMILY
    )
    world.membership = membership_services.membership_join(
        actor=None,
        club=club,
        person=world.player_a,
        membership_type=world.ordinary,
        start_date=today - 30 * DAY,
    )
    verification = verification_services.verification_request(
        actor=None, membership=world.membership, base_url="http://testserver/"
    )
    mail.outbox = []
    verification_services.verification_deliver(
        verification_id=verification.pk, base_url="http://testserver/"
    )
    world.token = mail.outbox[-1].body.split("/portal/verify/")[1].split("/")[0]
    world.family = membership_services.family_create(
        actor=None,
        club=club,
        membership_type=world.family_type,
        new_person={"first_name": "Frida", "last_name": "Familie"},
        start_date=today - 30 * DAY,
    )
    world.family_member = membership_services.family_add_member(
        actor=None,
        family=world.family,
        membership_type=world.family_type,
        new_person={
            "first_name": "Fia",
            "last_name": "Familie",
            "birth_date": today - 3650 * DAY,
        },
        start_date=today - 30 * DAY,
    )
    world.guardian = GuardianRelationFactory(
        guardian=world.family.contact_person, child=world.family_member.person
    )
    world.new_guardian = PersonFactory(birth_date=today - 14000 * DAY)
    membership_services.membership_join(
        actor=None,
        club=club,
        person=world.new_guardian,
        membership_type=world.ordinary,
        start_date=today - 30 * DAY,
    )


def everything(world: World) -> object:
    return (
        sorted(
            Membership.objects.values_list(
                "pk",
                "person_id",
                "club_id",
                "membership_type_id",
                "family_id",
                "status",
                "start_date",
                "end_date",
            )
        ),
        sorted(Family.objects.values_list("pk", "name", "contact_person_id")),
        sorted(MembershipVerification.objects.values_list("pk", "status", "used_at")),
        sorted(GuardianRelation.objects.values_list("pk", "guardian_id", "child_id")),
        sorted(MembershipType.objects.values_list("pk", "code")),
        Person.objects.count(),
    )


def join_data(world: World) -> dict:
    return {
        "first_name": "Ny",
        "last_name": "Medlem",
        "membership_type": world.ordinary.pk,
        "verification_channel": "",
    }


def family_data(world: World) -> dict:
    return {
        "name": "Familien Ny",
        "first_name": "Nils",
        "last_name": "Ny",
        "membership_type": world.family_type.pk,
        "verification_channel": "",
    }


def today() -> str:
    return timezone.localdate().isoformat()


CASES = [
    # Pages of the club's administrators
    Case(
        "html membership list",
        MANAGE,
        get(lambda w: URL("members:membership-list", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html join form",
        MANAGE,
        get(lambda w: URL("members:membership-join", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html join",
        MANAGE,
        post(lambda w: URL("members:membership-join", args=[w.club_a.pk]), join_data),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html person lookup",
        MANAGE,
        get(lambda w: URL("members:membership-person-lookup", args=[w.club_a.pk]) + "?q=åse"),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html membership detail",
        MANAGE,
        get(lambda w: URL("members:membership-detail", args=[w.membership.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html resign",
        MANAGE,
        post(
            lambda w: URL("members:membership-resign", args=[w.membership.pk]),
            lambda w: {"received_on": today()},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html end",
        MANAGE,
        post(
            lambda w: URL("members:membership-end", args=[w.membership.pk]),
            lambda w: {"end_date": today()},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html send verification",
        MANAGE,
        post(
            lambda w: URL("members:membership-verification-send", args=[w.membership.pk]),
            lambda w: {"channel": "email"},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html add guardian",
        MANAGE,
        post(
            lambda w: URL("members:membership-guardian-add", args=[w.family_member.pk]),
            lambda w: {"guardian": w.new_guardian.pk},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html remove guardian",
        MANAGE,
        post(
            lambda w: URL(
                "members:membership-guardian-remove", args=[w.family_member.pk, w.guardian.pk]
            )
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html family list",
        MANAGE,
        get(lambda w: URL("members:family-list", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html family form",
        MANAGE,
        get(lambda w: URL("members:family-create", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html family create",
        MANAGE,
        post(lambda w: URL("members:family-create", args=[w.club_a.pk]), family_data),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html family detail",
        MANAGE,
        get(lambda w: URL("members:family-detail", args=[w.family.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html family add member form",
        MANAGE,
        get(lambda w: URL("members:family-add-member", args=[w.family.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html family add member",
        MANAGE,
        post(
            lambda w: URL("members:family-add-member", args=[w.family.pk]),
            lambda w: {**join_data(w), "membership_type": w.family_type.pk},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html family remove member",
        MANAGE,
        post(
            lambda w: URL("members:family-remove-member", args=[w.family.pk, w.family_member.pk]),
            lambda w: {"end_date": today()},
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html must be members",
        MANAGE,
        get(lambda w: URL("members:must-be-members", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html membership types",
        MANAGE,
        get(lambda w: URL("members:membership-types", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html add membership type",
        MANAGE,
        post(
            lambda w: URL("members:membership-types", args=[w.club_a.pk]),
            lambda w: {
                "name": "Støtte",
                "code": "support",
                "category": "other",
                "period_kind": "calendar_year",
            },
        ),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    Case(
        "html default membership types",
        MANAGE,
        post(lambda w: URL("members:membership-types-defaults", args=[w.club_a.pk])),
        302,
        HTML_DENIED,
        302,
        everything,
    ),
    # The member's own page and the portal's verification link
    Case(
        "html my memberships",
        MANAGE,
        get(lambda w: URL("members:my-memberships")),
        200,
        HTML_DENIED,
        302,
        allowed=AUTHENTICATED,
    ),
    Case(
        "portal verification page",
        MANAGE,
        get(lambda w: URL("members:portal-verify", args=[w.token])),
        200,
        HTML_DENIED,
        200,
        allowed=EVERYONE,
    ),
    Case(
        "portal confirm",
        MANAGE,
        post(lambda w: URL("members:portal-verify", args=[w.token])),
        200,
        HTML_DENIED,
        200,
        everything,
        allowed=EVERYONE,
    ),
    # API
    Case(
        "api membership detail",
        MANAGE,
        get(lambda w: f"/api/v1/memberships/{w.membership.pk}/"),
        200,
        frozenset({404}),
        401,
    ),
    Case(
        "api join",
        MANAGE,
        api(
            "post",
            lambda w: "/api/v1/memberships/",
            lambda w: {
                "club": w.club_a.pk,
                "membership_type": w.ordinary.pk,
                "new_person": {"first_name": "Ny", "last_name": "Medlem"},
            },
        ),
        201,
        frozenset({400, 403}),
        401,
        everything,
    ),
    Case(
        "api update membership",
        MANAGE,
        api(
            "patch",
            lambda w: f"/api/v1/memberships/{w.membership.pk}/",
            lambda w: {"start_date": (timezone.localdate() - 20 * DAY).isoformat()},
        ),
        200,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api resign",
        MANAGE,
        api("post", lambda w: f"/api/v1/memberships/{w.membership.pk}/resign/"),
        200,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api end",
        MANAGE,
        api("post", lambda w: f"/api/v1/memberships/{w.membership.pk}/end/"),
        200,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api send verification",
        MANAGE,
        api("post", lambda w: f"/api/v1/memberships/{w.membership.pk}/send-verification/"),
        201,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api family detail",
        MANAGE,
        get(lambda w: f"/api/v1/families/{w.family.pk}/"),
        200,
        frozenset({404}),
        401,
    ),
    Case(
        "api family create",
        MANAGE,
        api(
            "post",
            lambda w: "/api/v1/families/",
            lambda w: {
                "club": w.club_a.pk,
                "membership_type": w.family_type.pk,
                "new_person": {"first_name": "Nils", "last_name": "Ny"},
            },
        ),
        201,
        frozenset({400, 403}),
        401,
        everything,
    ),
    Case(
        "api family add member",
        MANAGE,
        api(
            "post",
            lambda w: f"/api/v1/families/{w.family.pk}/add-member/",
            lambda w: {
                "membership_type": w.family_type.pk,
                "new_person": {"first_name": "Nils", "last_name": "Familie"},
            },
        ),
        201,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api family remove member",
        MANAGE,
        api(
            "post",
            lambda w: f"/api/v1/families/{w.family.pk}/remove-member/",
            lambda w: {"membership": w.family_member.pk},
        ),
        200,
        API_DENIED,
        401,
        everything,
    ),
    Case(
        "api membership type create",
        MANAGE,
        api(
            "post",
            lambda w: "/api/v1/membership-types/",
            lambda w: {
                "club": w.club_a.pk,
                "code": "support",
                "name": "Støtte",
                "category": "other",
            },
        ),
        201,
        frozenset({400, 403}),
        401,
        everything,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(world, case, role):
    prepare(world)
    check_case(world, case, role)


LISTS = {
    "/api/v1/memberships/": lambda w: {w.membership.pk, w.family_member.pk},
    "/api/v1/families/": lambda w: {w.family.pk},
    "/api/v1/membership-types/": lambda w: {w.ordinary.pk, w.family_type.pk},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", sorted(LISTS))
def test_api_lists_show_club_a_only_to_its_administrators(world, url, role):
    prepare(world)
    client = world.client(role, MANAGE)

    response = client.get(url)

    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    if role in {"official_this_club", "federation_staff"}:
        assert LISTS[url](world) <= ids
    else:
        assert ids.isdisjoint(LISTS[url](world))


def test_a_member_reads_but_cannot_resign_their_own_membership(world):
    prepare(world)
    member = world.user("member")
    own = Membership.objects.create(
        person=member.person,
        club=world.club_a,
        membership_type=world.ordinary,
        status=MembershipStatus.ACTIVE,
        start_date=timezone.localdate() - 10 * DAY,
    )
    client = world.client("member")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    before = everything(world)

    detail = client.get(f"/api/v1/memberships/{own.pk}/")
    resign = client.post(f"/api/v1/memberships/{own.pk}/resign/")
    page = client.get(URL("members:membership-detail", args=[own.pk]))

    assert detail.status_code == 200
    assert (resign.status_code, page.status_code) == (403, 404)
    assert everything(world) == before
