"""The access matrix (STYLE 17) of the fee schedule and agreement pages (issue 5): anonymous,
a member, an official without the capability, one with it in another club, one with it in
this club, federation staff. Denied means the status code AND no change in the database;
an allowed write changes it. Reading needs billing.manage or members.manage in the club
(the official "without" lacks both), changing needs billing.manage (trial periods:
members.manage). D-11: the hardship pages are the general manager's alone."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from billing import services
from billing.models import (
    ExemptionAgreement,
    FeeSchedule,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from billing.pricing.example import REFEREES, TWO_SPORTS
from clubadmin.capabilities import ALL_CAPABILITIES
from members.models import FunctionType
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.factories import SEASON, ExemptionAgreementFactory
from tests.billing.pages import billing_state, general_manager
from tests.conftest import ROLES, World
from tests.members.factories import FunctionFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

VIEW = "billing.view"  # pseudo capability: billing.manage or members.manage
MANAGE = "billing.manage"
MEMBERS = "members.manage"


@pytest.fixture
def pages_world(world: World) -> World:
    club = world.club_a
    world.schedule = services.fee_schedule_create_from_example(actor=None, club=club, season=SEASON)
    person = world.player_a
    world.contract = VolunteerContract.objects.create(
        person=person, club=club, signed_on=datetime.date(2026, 1, 1)
    )
    world.agreement = ExemptionAgreementFactory(
        person=person, club=club, kind="referee", rule_id=REFEREES
    )
    world.hardship = ExemptionAgreementFactory(person=person, club=club)
    VolunteerHours.objects.create(person=person, club=club, season=SEASON, hours=2)
    PaymentPreference.objects.create(person=person, club=club, method="invoice")
    world.trial = TrialPeriod.objects.create(
        person=person, team=world.team_a, start_date=datetime.date(SEASON, 4, 1)
    )
    without_both = world.function_type(
        set(ALL_CAPABILITIES) - {MANAGE, MEMBERS}, "test-without-billing-view"
    )
    user = UserFactory(username="official_without_capability-billing.view")
    FunctionFactory(person=user.person, organisation=club, function_type=without_both)
    world.users[("official_without_capability", VIEW)] = user
    return world


def state(world: World) -> object:
    return billing_state()


def schedule_url(name: str, *extra: object):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.schedule.pk, *extra])


def club_url(name: str, query: str = ""):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.club_a.pk]) + query


def read(name: str, url, capability: str = VIEW) -> Case:  # type: ignore[no-untyped-def]
    return Case(name, capability, get(url), 200, HTML_DENIED, 302)


def write(name: str, url, data=lambda w: {}, capability: str = MANAGE) -> Case:  # type: ignore[no-untyped-def]
    return Case(name, capability, post(url, data), 302, HTML_DENIED, 302, state=state)


def settings_data(world: World) -> dict:
    return {
        "membership_minimum": "60",
        "membership_period_mode": "calendar_year",
        "membership_invoice_date": f"{SEASON}-01-15",
        "membership_due_date": f"{SEASON}-03-01",
        "membership_due_days": "14",
        "family_fee": "700",
        "family_max_members": "7",
        "trial_days": "21",
        "volunteer_min_age": "12",
        "volunteer_max_age": "80",
        "volunteer_refund_per_hour": "100",
        "rounding_unit": "1",
    }


def group_data(world: World) -> dict:
    return {
        "code": "skiing",
        "name": "skiing",
        "season_start": f"{SEASON}-11-01",
        "season_end": f"{SEASON + 1}-03-31",
        "invoice_date": f"{SEASON}-11-01",
        "due_days": "28",
        "instalment_min_share_percent": "70",
    }


def football_url(name: str):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.schedule.activity_groups.get(code="football").pk])


def fees_data(world: World) -> dict:
    return {
        "fees-TOTAL_FORMS": "1",
        "fees-INITIAL_FORMS": "0",
        "fees-0-birth_year_from": "2015",
        "fees-0-birth_year_to": "2021",
        "fees-0-amount": "2500",
        "fees-0-rule_id": "D-07",
    }


def agreement_data(world: World) -> dict:
    return {
        "person": str(world.player_a.pk),
        "kind": "referee",
        "rule_id": REFEREES,
        "for_self": "on",
        "fee_kinds": ["activity"],
        "percent": "40",
    }


def trial_data(world: World) -> dict:
    return {"start_date": f"{SEASON}-05-01", "from_other_club": "on"}


CASES = [
    read("schedule list", club_url("billing:schedule-list")),
    read("schedule detail", schedule_url("billing:schedule-detail")),
    read("agreement list", club_url("billing:agreement-list", f"?season={SEASON}")),
    read("contract list", club_url("billing:contract-list")),
    read("volunteer hours list", club_url("billing:hours-list", f"?season={SEASON}")),
    read("trial period list", club_url("billing:trial-list")),
    read("payment preference list", club_url("billing:payment-list")),
    read("person lookup", club_url("billing:person-lookup", "?q=Ås")),
    read("settings form", schedule_url("billing:schedule-settings"), MANAGE),
    read("membership fee form", schedule_url("billing:schedule-prices"), MANAGE),
    read("rule form", schedule_url("billing:rule-edit", TWO_SPORTS), MANAGE),
    read("new agreement form", club_url("billing:agreement-add"), MANAGE),
    read(
        "agreement form", lambda w: reverse("billing:agreement-edit", args=[w.agreement.pk]), MANAGE
    ),
    read("contract form", lambda w: reverse("billing:contract-edit", args=[w.contract.pk]), MANAGE),
    read("trial period form", lambda w: reverse("billing:trial-edit", args=[w.trial.pk]), MEMBERS),
    write(
        "new season",
        club_url("billing:schedule-create"),
        lambda w: {"season": "2030", "source": "example"},
    ),
    write("settings", schedule_url("billing:schedule-settings"), settings_data),
    write("copy", schedule_url("billing:schedule-copy"), lambda w: {"season": "2028"}),
    write("new group", schedule_url("billing:group-add"), group_data),
    write("cohort fees", football_url("billing:group-fees"), fees_data),
    write(
        "switch a rule", schedule_url("billing:rule-switch", TWO_SPORTS), lambda w: {"enabled": "0"}
    ),
    write(
        "move a rule",
        schedule_url("billing:rule-move", TWO_SPORTS),
        lambda w: {"direction": "later"},
    ),
    write("new agreement", club_url("billing:agreement-add", f"?season={SEASON}"), agreement_data),
    write(
        "change an agreement",
        lambda w: reverse("billing:agreement-edit", args=[w.agreement.pk]),
        lambda w: {k: v for k, v in agreement_data(w).items() if k != "person"},
    ),
    write(
        "remove an agreement", lambda w: reverse("billing:agreement-delete", args=[w.agreement.pk])
    ),
    write(
        "new contract",
        club_url("billing:contract-list"),
        lambda w: {"person": str(w.player_a.pk), "signed_on": "2027-01-01"},
    ),
    write(
        "end a contract",
        lambda w: reverse("billing:contract-edit", args=[w.contract.pk]),
        lambda w: {"signed_on": "2026-01-01", "valid_until": "2027-12-31"},
    ),
    write("remove a contract", lambda w: reverse("billing:contract-delete", args=[w.contract.pk])),
    write(
        "volunteer hours",
        club_url("billing:hours-list", f"?season={SEASON}"),
        lambda w: {"person": str(w.player_a.pk), "hours": "5"},
    ),
    write(
        "payment preference",
        club_url("billing:payment-list"),
        lambda w: {"person": str(w.player_a.pk), "method": "online"},
    ),
    write(
        "new trial period",
        club_url("billing:trial-list"),
        lambda w: {
            "person": str(w.player_a.pk),
            "team": str(w.team_a.pk),
            "start_date": f"{SEASON}-06-01",
        },
        MEMBERS,
    ),
    write(
        "change a trial period",
        lambda w: reverse("billing:trial-edit", args=[w.trial.pk]),
        trial_data,
        MEMBERS,
    ),
    write(
        "remove a trial period",
        lambda w: reverse("billing:trial-delete", args=[w.trial.pk]),
        capability=MEMBERS,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(pages_world, case, role):
    check_case(pages_world, case, role)


HARDSHIP_CASES = [
    ("GET", lambda w: reverse("billing:hardship-list", args=[w.club_a.pk])),
    ("GET", lambda w: reverse("billing:agreement-edit", args=[w.hardship.pk])),
    ("POST", lambda w: reverse("billing:agreement-delete", args=[w.hardship.pk])),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url"), HARDSHIP_CASES, ids=["list", "edit", "delete"])
def test_d11_hardship_pages_are_for_nobody_but_the_general_manager(pages_world, role, method, url):
    client = pages_world.client(role, MANAGE)
    before = billing_state()

    response = getattr(client, method.lower())(url(pages_world))

    assert response.status_code == (302 if role == "anonymous" else 404)
    assert billing_state() == before


@pytest.mark.parametrize(("method", "url"), HARDSHIP_CASES, ids=["list", "edit", "delete"])
def test_d11_hardship_pages_open_to_the_general_manager(pages_world, method, url):
    _user, client = general_manager(pages_world)

    response = getattr(client, method.lower())(url(pages_world))

    assert response.status_code == (200 if method == "GET" else 302)
    if method == "POST":
        assert not ExemptionAgreement.objects.filter(pk=pages_world.hardship.pk).exists()


def test_a_general_manager_of_another_club_sees_no_hardship(pages_world):
    user = UserFactory(username="gm-other")
    FunctionFactory(
        person=user.person,
        organisation=pages_world.club_b,
        function_type=FunctionType.objects.get(code="general-manager"),
    )
    client = Client()
    client.force_login(user)

    response = client.get(reverse("billing:hardship-list", args=[pages_world.club_a.pk]))

    assert response.status_code == 404
    assert FeeSchedule.objects.count() == 1
