"""Issue 4 scope 2: a registrar entering a new person is warned, before saving, that this may
be an existing person (the membership join pages and the person admin's add page). They use
the existing person, or confirm creating a new one."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from clubadmin.capabilities import Capability
from members.duplicates import candidates
from members.models import Membership, MembershipCategory, Person
from tests.members.duplicates.test_candidates import club_person, fake_detection
from tests.members.factories import UserFactory
from tests.members.factories_memberships import MembershipTypeFactory


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

BIRTH = datetime.date(2011, 4, 12)


@pytest.fixture
def kari(world):  # type: ignore[no-untyped-def]
    """Kari Nordmann of Sagene IF, born 12.04.2011, and the club's membership types."""
    world.ordinary = MembershipTypeFactory(club=world.club_a, code="ordinary")
    world.family_type = MembershipTypeFactory(
        club=world.club_a, code="family", category=MembershipCategory.FAMILY
    )
    world.user("official_this_club", Capability.MEMBERS_MANAGE)  # the registrar (a person)
    return club_person(
        world.team_a,
        first_name="Kari",
        last_name="Nordmann",
        birth_date=BIRTH,
        gender="female",
        standard_contact__email="kari.nordmann@example.org",
    )


def join(world, **changes: object):  # type: ignore[no-untyped-def]
    data = {
        "first_name": "Kari",
        "last_name": "Nordmann",
        "birth_date": BIRTH.isoformat(),
        "gender": "female",
        "membership_type": world.ordinary.pk,
        "verification_channel": "",
        **changes,
    }
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    return client.post(reverse("members:membership-join", args=[world.club_a.pk]), data)


def saved() -> object:
    return (
        sorted(Person.objects.values_list("pk", "first_name", "last_name")),
        sorted(Membership.objects.values_list("pk", "person_id", "club_id")),
    )


def test_join_page_warns_that_a_new_person_may_exist_and_saves_nothing(world, kari):
    before = saved()

    response = join(world)

    page = response.content.decode()
    assert response.status_code == 200
    assert "This may be an existing person" in page
    assert "Kari Nordmann" in page and "born 12.04.2011" in page and "Sagene IF" in page
    assert f'name="use_person" value="{kari.pk}"' in page
    assert 'name="confirm_new_person"' in page
    assert [match.person for match in response.context["possible_duplicates"]] == [kari]
    assert saved() == before


def test_join_page_uses_the_existing_person(world, kari):
    people = Person.objects.count()

    response = join(world, use_person=kari.pk)

    membership = Membership.objects.get()
    assert response.status_code == 302
    assert membership.person == kari
    assert Person.objects.count() == people


def test_join_page_creates_a_new_person_when_confirmed(world, kari):
    people = Person.objects.count()

    response = join(world, confirm_new_person="on")

    assert response.status_code == 302
    assert Person.objects.count() == people + 1
    assert Membership.objects.get().person != kari


def test_join_page_with_an_existing_person_is_not_checked(world, kari, monkeypatch):
    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("no check for an existing person")

    monkeypatch.setattr(candidates, "possible_duplicates_of", fail)

    response = join(world, first_name="", last_name="", birth_date="", person=kari.pk)

    assert response.status_code == 302


def test_join_page_does_not_name_a_person_the_registrar_may_not_see(world, kari, monkeypatch):
    stranger = club_person(world.club_c, first_name="Kari", last_name="Nordmann")
    monkeypatch.setattr(candidates, "detection", fake_detection([(stranger, 0.95)]))
    before = saved()

    response = join(world)

    page = response.content.decode()
    assert "A person you cannot see in the register matches these details" in page
    assert f'value="{stranger.pk}"' not in page and "Fana IL" not in page
    assert saved() == before


def test_family_page_warns_about_the_new_contact_person(world, kari):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    before = saved()

    response = client.post(
        reverse("members:family-create", args=[world.club_a.pk]),
        {
            "first_name": "Kari",
            "last_name": "Nordmann",
            "birth_date": BIRTH.isoformat(),
            "membership_type": world.family_type.pk,
            "verification_channel": "",
        },
    )

    assert response.status_code == 200
    assert f'name="use_person" value="{kari.pk}"' in response.content.decode()
    assert saved() == before


# ----------------------------------------------------------------------- person admin


def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True, person=None))
    return client


def admin_add(client: Client, **changes: object):  # type: ignore[no-untyped-def]
    data = {
        "first_name": "Kari",
        "middle_name": "",
        "last_name": "Nordmann",
        "gender": "female",
        "birth_date": BIRTH.isoformat(),
        **changes,
    }
    for prefix in ("contact_sets", "bank_accounts", "functions"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return client.post("/admin/members/person/add/", data)


def test_admin_add_person_warns_that_the_person_may_exist(world, kari):
    client = superuser_client()
    before = saved()

    page = client.get("/admin/members/person/add/").content.decode()
    response = admin_add(client)

    content = response.content.decode()
    assert 'name="confirm_new_person"' in page
    assert response.status_code == 200
    assert "This may be an existing person" in content
    assert f"/admin/members/person/{kari.pk}/change/" in content
    assert "Kari Nordmann, born 12.04.2011, Sagene IF" in content
    assert saved() == before


def test_admin_add_person_when_confirmed(world, kari):
    people = Person.objects.count()

    response = admin_add(superuser_client(), confirm_new_person="on")

    assert response.status_code == 302
    assert Person.objects.count() == people + 1


def test_admin_change_person_has_no_new_person_confirmation(world, kari):
    page = superuser_client().get(f"/admin/members/person/{kari.pk}/change/").content.decode()

    assert "confirm_new_person" not in page
