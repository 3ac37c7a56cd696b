"""Families (M-11, D-01) and guardian relations: a family groups personal memberships under
the family price, at most the club's limit (7), the first registered is the contact person,
nobody holds an individual and a family membership for the same period, and only the club's
administrators remove family members."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members import membership_rules
from members.models import Family, GuardianRelation, Membership, MembershipStatus
from members.services import memberships as services
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_memberships import (
    FamilyFactory,
    GuardianRelationFactory,
    MembershipFactory,
    MembershipTypeFactory,
    default_types,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)
YEAR = datetime.timedelta(days=365)


def state() -> tuple:
    return (
        sorted(
            Membership.objects.values_list(
                "pk", "person_id", "family_id", "membership_type_id", "status", "end_date"
            )
        ),
        sorted(Family.objects.values_list("pk", "name", "contact_person_id")),
    )


def registrar(world):  # type: ignore[no-untyped-def]
    return world.user("official_this_club", Capability.MEMBERS_MANAGE)


def make_family(world, size: int = 1, **contact):  # type: ignore[no-untyped-def]
    """A family of `size` members in club A, the first (the contact) registered first."""
    types = default_types(world.club_a)
    contact_person = PersonFactory(last_name="Hansen", **contact)
    family = services.family_create(
        actor=None,
        club=world.club_a,
        contact_person=contact_person,
        membership_type=types["family"],
        start_date=TODAY() - 30 * DAY,
    )
    for _ in range(size - 1):
        services.family_add_member(
            actor=None,
            family=family,
            person=PersonFactory(last_name="Hansen"),
            membership_type=types["family"],
            start_date=TODAY() - 30 * DAY,
        )
    return family


# ------------------------------------------------------------------------- the family


def test_m11_first_registered_is_the_contact_person(world):
    types = default_types(world.club_a)
    actor = registrar(world)
    mother = PersonFactory(first_name="Mona", last_name="Berg")

    family = services.family_create(
        actor=actor, club=world.club_a, contact_person=mother, membership_type=types["family"]
    )
    son = services.family_add_member(
        actor=actor,
        family=family,
        person=PersonFactory(first_name="Sverre", last_name="Berg"),
        membership_type=types["family"],
    )

    family.refresh_from_db()
    assert (family.name, family.club, family.contact_person) == ("Berg", world.club_a, mother)
    mothers = Membership.objects.get(person=mother)
    assert (mothers.family, mothers.membership_type, mothers.status) == (
        family,
        types["family"],
        MembershipStatus.PENDING_VERIFICATION,
    )
    assert son.family == family
    assert family.history.get().history_user == actor


def test_m11_family_created_with_a_new_person(world):
    family = services.family_create(
        actor=registrar(world),
        club=world.club_a,
        name="Familien Strand",
        membership_type=default_types(world.club_a)["family"],
        new_person={"first_name": "Siri", "last_name": "Strand"},
    )
    assert (family.name, family.contact_person.full_name) == ("Familien Strand", "Siri Strand")
    assert family.memberships.get().person == family.contact_person


def test_d01_a_family_has_at_most_seven_members(world):
    family = make_family(world, size=7)
    before = state()

    with pytest.raises(ValidationError) as error:
        services.family_add_member(
            actor=None,
            family=family,
            person=PersonFactory(),
            membership_type=default_types(world.club_a)["family"],
        )

    assert error.value.message_dict == {"family": [str(services.FAMILY_FULL) % {"limit": 7}]}
    assert state() == before


def test_d01_a_member_who_left_frees_a_place(world):
    family = make_family(world, size=7)
    leaving = family.memberships.order_by("-pk").first()
    services.family_remove_member(actor=None, family=family, membership=leaving)

    eighth = services.family_add_member(
        actor=None,
        family=family,
        person=PersonFactory(),
        membership_type=default_types(world.club_a)["family"],
    )

    assert eighth.family == family
    assert family.memberships.exclude(status=MembershipStatus.ENDED).count() == 7


def test_d01_nobody_holds_individual_and_family_membership_for_the_same_period(world):
    types = default_types(world.club_a)
    family = make_family(world)
    single = PersonFactory()
    services.membership_join(
        actor=None, club=world.club_a, person=single, membership_type=types["senior"]
    )
    before = state()

    with pytest.raises(ValidationError) as error:
        services.family_add_member(
            actor=None, family=family, person=single, membership_type=types["family"]
        )
    with pytest.raises(ValidationError) as creating:
        services.family_create(
            actor=None, club=world.club_a, contact_person=single, membership_type=types["family"]
        )

    assert error.value.message_dict == {"person": [str(services.SINGLE_AND_FAMILY)]}
    assert creating.value.message_dict == {"person": [str(services.SINGLE_AND_FAMILY)]}
    assert state() == before


def test_m11_a_member_is_not_in_two_families_of_a_club(world):
    types = default_types(world.club_a)
    first, second = make_family(world, size=2), make_family(world)
    child = first.memberships.order_by("pk").last().person
    before = state()

    with pytest.raises(ValidationError) as error:
        services.family_add_member(
            actor=None, family=second, person=child, membership_type=types["family"]
        )
    with pytest.raises(ValidationError) as again:
        services.family_add_member(
            actor=None, family=first, person=child, membership_type=types["family"]
        )

    assert error.value.message_dict == {"person": [str(services.IN_ANOTHER_FAMILY)]}
    assert again.value.message_dict == {"person": [str(services.ALREADY_IN_FAMILY)]}
    assert state() == before


def test_m11_family_members_have_a_family_type_in_the_family_club(world):
    types = default_types(world.club_a)
    family = make_family(world)
    other_club_family = FamilyFactory(club=world.club_b)
    before = state()

    with pytest.raises(ValidationError) as wrong_type:
        services.family_add_member(
            actor=None, family=family, person=PersonFactory(), membership_type=types["junior"]
        )
    with pytest.raises(ValidationError) as wrong_club:
        services.membership_join(
            actor=None,
            club=world.club_a,
            family=other_club_family,
            person=PersonFactory(),
            membership_type=types["family"],
        )

    assert wrong_type.value.message_dict == {
        "membership_type": [str(services.FAMILY_NEEDS_FAMILY_TYPE)]
    }
    assert wrong_club.value.message_dict == {"family": [str(services.FAMILY_OF_ANOTHER_CLUB)]}
    assert state() == before


def test_m13_members_of_a_family_may_share_an_email_address(world):
    family = make_family(world, standard_contact__email="familien@example.org")
    partner = services.family_add_member(
        actor=None,
        family=family,
        person=PersonFactory(standard_contact__email="familien@example.org"),
        membership_type=default_types(world.club_a)["family"],
    )
    assert partner.pk is not None


def test_m11_removing_the_contact_passes_the_role_to_the_next_registered(world):
    family = make_family(world, size=3)
    first, second, _third = family.memberships.order_by("pk")
    actor = registrar(world)

    services.family_remove_member(actor=actor, family=family, membership=first, end_date=TODAY())

    family.refresh_from_db()
    first.refresh_from_db()
    assert family.contact_person_id == second.person_id
    assert (first.status, first.end_date) == (MembershipStatus.ENDED, TODAY())
    assert family.history.first().history_user == actor


def test_m11_members_cannot_remove_family_members_themselves(world):
    member = world.user("member")
    family = make_family(world, size=2)
    family.contact_person = member.person
    family.save()
    MembershipFactory(person=member.person, club=world.club_a, family=family)
    other = family.memberships.exclude(person=member.person).first()
    before = state()

    for user in (member, world.user("official_other_club", Capability.MEMBERS_MANAGE)):
        with pytest.raises(PermissionDenied):
            services.family_remove_member(actor=user, family=family, membership=other)

    assert state() == before


def test_m11_removing_a_membership_of_another_family_is_refused(world):
    family, other = make_family(world), make_family(world)
    before = state()
    with pytest.raises(ValidationError) as error:
        services.family_remove_member(actor=None, family=family, membership=other.memberships.get())
    assert error.value.messages == [str(services.NOT_IN_THIS_FAMILY)]
    assert state() == before


def test_m11_a_removed_member_may_join_as_an_individual_the_next_day(world):
    types = default_types(world.club_a)
    family = make_family(world, size=2)
    leaving = family.memberships.order_by("pk").last()
    services.family_remove_member(
        actor=None, family=family, membership=leaving, end_date=TODAY() - DAY
    )
    single = services.membership_join(
        actor=None, club=world.club_a, person=leaving.person, membership_type=types["junior"]
    )
    assert (single.family, single.start_date) == (None, TODAY())


# ---------------------------------------------------------------------------- guardians


def test_m14_guardian_of_a_child_under_18(world):
    child = PersonFactory(birth_date=TODAY() - 10 * YEAR)
    parent = PersonFactory(birth_date=TODAY() - 40 * YEAR)
    FunctionFactory(
        person=child, organisation=world.team_a, function_type=world.function_a.function_type
    )
    FunctionFactory(
        person=parent, organisation=world.club_a, function_type=world.function_a.function_type
    )

    relation = services.guardian_relation_create(
        actor=registrar(world), guardian=parent, child=child
    )

    assert (relation.guardian, relation.child) == (parent, child)


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("adult child", "child", services.CHILD_NOT_UNDER_18),
        ("child guardian", "guardian", services.GUARDIAN_IS_CHILD),
        ("twice", "guardian", services.GUARDIAN_EXISTS),
        ("self", "guardian", services.GUARDIAN_SELF),
    ],
)
def test_m14_guardian_relation_rules(world, case, field, message):
    child = PersonFactory(birth_date=TODAY() - 10 * YEAR)
    guardian = PersonFactory(birth_date=TODAY() - 40 * YEAR)
    if case == "adult child":
        child = PersonFactory(birth_date=TODAY() - 20 * YEAR)
    elif case == "child guardian":
        guardian = PersonFactory(birth_date=TODAY() - 16 * YEAR)
    elif case == "twice":
        GuardianRelationFactory(guardian=guardian, child=child)
    else:
        guardian = child
    before = sorted(GuardianRelation.objects.values_list("guardian_id", "child_id"))

    with pytest.raises(ValidationError) as error:
        services.guardian_relation_create(actor=None, guardian=guardian, child=child)

    assert error.value.message_dict == {field: [str(message)]}
    assert sorted(GuardianRelation.objects.values_list("guardian_id", "child_id")) == before


def test_guardian_relations_need_members_manage_for_the_child(world):
    child = PersonFactory(birth_date=TODAY() - 10 * YEAR)
    FunctionFactory(
        person=child, organisation=world.team_a, function_type=world.function_a.function_type
    )
    parent = PersonFactory(birth_date=TODAY() - 40 * YEAR)
    relation = GuardianRelationFactory(guardian=world.player_a, child=child)

    for role in ("member", "official_without_capability", "official_other_club"):
        user = world.user(role, Capability.MEMBERS_MANAGE)
        with pytest.raises(PermissionDenied):
            services.guardian_relation_create(actor=user, guardian=parent, child=child)
        with pytest.raises(PermissionDenied):
            services.guardian_relation_delete(actor=user, relation=relation)

    assert list(GuardianRelation.objects.values_list("pk", flat=True)) == [relation.pk]
    services.guardian_relation_delete(actor=registrar(world), relation=relation)
    assert not GuardianRelation.objects.exists()


# -------------------------------------------------------------------------------- pages


def test_family_pages_show_members_as_junior_or_senior(world):
    family = make_family(world, birth_date=TODAY() - 45 * YEAR)
    services.family_add_member(
        actor=None,
        family=family,
        person=PersonFactory(first_name="Lille", last_name="Hansen", birth_date=TODAY() - 8 * YEAR),
        membership_type=default_types(world.club_a)["family"],
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    listing = client.get(reverse("members:family-list", args=[world.club_a.pk]))
    detail = client.get(reverse("members:family-detail", args=[family.pk]))

    assert [(f.name, f.member_count) for f in listing.context["page"].object_list] == [
        ("Hansen", 2)
    ]
    assert [(m.person.first_name, junior) for m, junior in detail.context["members"]] == [
        (family.contact_person.first_name, False),
        ("Lille", True),
    ]
    assert "Remove from the family" in detail.content.decode()


def test_family_list_makes_a_constant_number_of_queries(world):
    make_family(world, size=2)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    url = reverse("members:family-list", args=[world.club_a.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for _ in range(12):
        make_family(world, size=2)
    assert count() == few


def test_family_create_add_and_remove_through_the_pages(world):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    created = client.post(
        reverse("members:family-create", args=[world.club_a.pk]),
        {
            "name": "Familien Ødegård",
            "person": world.player_a.pk,
            "membership_type": types["family"].pk,
            "verification_channel": "",
        },
    )
    family = Family.objects.get()
    added = client.post(
        reverse("members:family-add-member", args=[family.pk]),
        {
            "first_name": "Odd",
            "last_name": "Ødegård",
            "membership_type": types["family"].pk,
            "verification_channel": "",
        },
    )
    odd = family.memberships.get(person__first_name="Odd")
    removed = client.post(
        reverse("members:family-remove-member", args=[family.pk, odd.pk]),
        {"end_date": TODAY().isoformat()},
    )

    assert (created.status_code, added.status_code, removed.status_code) == (302, 302, 302)
    assert created.url == reverse("members:family-detail", args=[family.pk])
    assert family.contact_person == world.player_a
    odd.refresh_from_db()
    assert (odd.status, odd.end_date) == (MembershipStatus.ENDED, TODAY())


def test_family_create_page_only_offers_family_types(world):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    form = client.get(reverse("members:family-create", args=[world.club_a.pk])).context["form"]
    assert list(form.fields["membership_type"].queryset) == [types["family"]]


def test_m11_the_portal_shows_the_family_read_only(world):
    member = world.user("member")
    family = make_family(world, size=2)
    MembershipFactory(
        person=member.person,
        club=world.club_a,
        family=family,
        membership_type=default_types(world.club_a)["family"],
    )

    client = world.client("member")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("members:my-memberships"))

    html = response.content.decode()
    assert [f.pk for f in response.context["families"]] == [family.pk]
    assert [m.person for m in response.context["families"][0].current_members] == [
        *[m.person for m in family.memberships.order_by("created_at", "pk")]
    ]
    assert "Members cannot add or remove family members themselves" in html
    assert f"/families/{family.pk}/" not in html  # no link to the administrators' pages
    assert 'method="post"' not in html.split("<main", 1)[1]  # nothing to change
    assert (
        world.client("member").get(reverse("members:family-detail", args=[family.pk])).status_code
        == 404
    )


# ---------------------------------------------------------------------------------- API


def test_api_families_list_with_members_in_constant_queries(world):
    make_family(world, size=2)
    MembershipTypeFactory(club=world.club_b)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    client.get("/api/v1/families/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/families/?club={world.club_a.pk}")
            assert response.status_code == 200
        return len(queries)

    few = count()
    for _ in range(8):
        make_family(world, size=3)
    assert count() == few
    rows = client.get("/api/v1/families/").json()["results"]
    assert [row["member_count"] for row in rows] == [2, *[3] * 8]
    assert len(rows[1]["members"]) == 3


def test_api_family_create_add_and_remove(world):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    created = client.post(
        "/api/v1/families/",
        {
            "club": world.club_a.pk,
            "contact_person": world.player_a.pk,
            "membership_type": types["family"].pk,
        },
        content_type="application/json",
    )
    family_id = created.json()["id"]
    added = client.post(
        f"/api/v1/families/{family_id}/add-member/",
        {
            "new_person": {"first_name": "Tor", "last_name": "Ødegård"},
            "membership_type": types["family"].pk,
        },
        content_type="application/json",
    )
    removed = client.post(
        f"/api/v1/families/{family_id}/remove-member/",
        {"membership": added.json()["id"]},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["contact_person"]["id"] == world.player_a.pk
    assert created.json()["member_count"] == 1
    assert added.status_code == 201, added.content
    assert added.json()["family"] == family_id
    assert removed.status_code == 200, removed.content
    assert (removed.json()["status"], removed.json()["end_date"]) == ("ended", TODAY().isoformat())


def test_api_family_limit_is_a_clear_error(world):
    family = make_family(world, size=membership_rules.FAMILY_MEMBER_LIMIT)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    before = state()

    response = client.post(
        f"/api/v1/families/{family.pk}/add-member/",
        {"person": world.player_a.pk, "membership_type": default_types(world.club_a)["family"].pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"family": [str(services.FAMILY_FULL) % {"limit": 7}]}
    assert state() == before
