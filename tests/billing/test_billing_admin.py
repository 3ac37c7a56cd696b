"""The billing admin for federation staff (issue 5): scoped like the rest (rows of the clubs
where the user holds billing.manage), read-only (changes belong to the pages' services),
and D-11 hardship exemptions hidden from everyone but the club's general manager, in the
list, the change page and the history alike."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from billing import services
from billing.models import ExemptionAgreement, FeeSchedule
from billing.pricing.example import REFEREES
from members.models import FunctionType
from tests.billing.factories import SEASON, ExemptionAgreementFactory
from tests.billing.pages import billing_state
from tests.members.factories import FunctionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(world):
    services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)
    services.fee_schedule_create_from_example(actor=None, club=world.club_c, season=SEASON)
    referee = ExemptionAgreementFactory(
        person=world.player_a, club=world.club_a, kind="referee", rule_id=REFEREES
    )
    hardship = ExemptionAgreementFactory(person=world.player_a, club=world.club_a)
    return referee, hardship


def staff_client(world) -> Client:  # type: ignore[no-untyped-def]
    return world.client("federation_staff", "admin.access")


def test_staff_see_the_schedules_of_their_federation_only(world, rows):
    response = staff_client(world).get(reverse("admin:billing_feeschedule_changelist"))

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [schedule.club for schedule in shown] == [world.club_a]


def test_the_billing_admin_is_read_only(world, rows):
    client = staff_client(world)
    schedule = FeeSchedule.objects.get(club=world.club_a)
    before = billing_state()

    add = client.get(reverse("admin:billing_feeschedule_add"))
    change = client.post(
        reverse("admin:billing_feeschedule_change", args=[schedule.pk]), {"season": "2031"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert billing_state() == before


def test_d11_hardship_is_hidden_from_staff(world, rows):
    referee, hardship = rows
    client = staff_client(world)

    listing = client.get(reverse("admin:billing_exemptionagreement_changelist"))
    change = client.get(reverse("admin:billing_exemptionagreement_change", args=[hardship.pk]))
    history = client.get(reverse("admin:billing_exemptionagreement_history", args=[hardship.pk]))

    assert [a.pk for a in listing.context["cl"].result_list] == [referee.pk]
    assert change.status_code == 302  # Django admin: "does not exist", back to the index
    assert history.status_code == 403


def test_d11_the_general_manager_sees_hardship_in_the_admin(world, rows):
    _referee, hardship = rows
    user = UserFactory(username="gm-staff", is_staff=True)
    FunctionFactory(
        person=user.person,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="general-manager"),
        from_date=datetime.date(2020, 1, 1),
    )
    admin_access = world.function_type({"admin.access"}, "test-admin-access")
    FunctionFactory(person=user.person, organisation=world.club_a, function_type=admin_access)
    client = Client()
    client.force_login(user)

    listing = client.get(reverse("admin:billing_exemptionagreement_changelist"))
    change = client.get(reverse("admin:billing_exemptionagreement_change", args=[hardship.pk]))

    assert hardship.pk in [a.pk for a in listing.context["cl"].result_list]
    assert change.status_code == 200
    assert ExemptionAgreement.objects.count() == 2
