"""The billing admin for federation staff (issue 5): scoped like the rest (rows of the clubs
where the user holds billing.manage), read-only (changes belong to the pages' services),
and D-11 hardship exemptions hidden from everyone but the club's general manager, in the
list, the change page and the history alike."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from billing import services
from billing.models import ExemptionAgreement, FeeSchedule, VolunteerContract
from billing.pricing.example import REFEREES
from members.models import FunctionType
from tests.billing.factories import SEASON, ExemptionAgreementFactory, VolunteerContractFactory
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
    assert change.status_code == 404  # missing and forbidden look the same (STYLE 9)
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


def test_an_old_version_is_not_saved_back_through_the_history_page(world, rows):
    """django-simple-history's "revert" page saves its form on POST after checking only the
    view permission: a read-only billing admin refuses the POST."""
    contract = VolunteerContractFactory(person=world.player_a, club=world.club_a)
    contract.valid_until = datetime.date(2027, 12, 31)
    contract.save()
    first = contract.history.earliest()
    url = reverse("admin:billing_volunteercontract_simple_history", args=[contract.pk, first.pk])
    client = staff_client(world)

    page = client.get(url)
    response = client.post(
        url,
        {
            "person": world.player_a.pk,
            "club": world.club_a.pk,
            "signed_on": "2020-01-01",
            "valid_until": "",
        },
    )

    assert page.status_code == 200  # reading the old version is fine
    assert response.status_code == 403
    contract.refresh_from_db()
    assert (contract.signed_on, contract.valid_until) == (
        datetime.date(2026, 12, 1),
        datetime.date(2027, 12, 31),
    )
    assert VolunteerContract.objects.count() == 1
