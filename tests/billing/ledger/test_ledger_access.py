"""Access matrix of the refund, ledger and report pages and exports (STYLE 17): anonymous,
member, official without the capability, official with it in another club, official in this
club (and federation staff); denied = the status AND nothing changed."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.ledger import services
from billing.models import VolunteerHours
from billing.models_ledger import Refund, RefundEvent
from clubadmin.capabilities import Capability
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.ledger.helpers import SEASON, account, invoice, pay, schedule
from tests.conftest import ANY, ROLES
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db

BILLING = Capability.BILLING_MANAGE


def _refund(world) -> Refund:
    schedule(world.club_a)
    person = PersonFactory()
    account(person, "86011117947")
    VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=2)
    pay(invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")]))
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    return refund


def _refund_state(world):
    return (
        sorted(Refund.objects.values_list("pk", "state", "credit_note_id", "paid_on")),
        RefundEvent.objects.count(),
    )


def _club_url(name):
    return lambda world: reverse(name, args=[world.club_a.pk])


def _refund_url(name):
    return lambda world: reverse(name, args=[Refund.objects.get().pk])


def _html(name, send, capability=BILLING, state=lambda world: None, allowed_status=200, **kw):
    return Case(name, capability, send, allowed_status, HTML_DENIED, 302, state, **kw)


CASES = [
    _html("refund list", get(_club_url("billing:refund-list"))),
    _html("payout csv", get(_club_url("billing:refund-payout-export"))),
    _html("ledger", get(_club_url("billing:ledger"))),
    _html("ledger payers", get(_club_url("billing:ledger-payers"))),
    _html(
        "ledger export",
        get(lambda world: reverse("billing:ledger-export", args=[world.club_a.pk, "lines"])),
    ),
    _html(
        "approve",
        post(_refund_url("billing:refund-approve")),
        state=_refund_state,
        allowed_status=302,
    ),
    _html(
        "cancel",
        post(_refund_url("billing:refund-cancel")),
        state=_refund_state,
        allowed_status=302,
    ),
    _html(
        "propose volunteer work",
        post(_club_url("billing:refund-propose-volunteer"), lambda world: {"season": SEASON}),
        state=_refund_state,
        allowed_status=302,
    ),
    _html(
        "mark paid",
        post(
            _club_url("billing:refund-mark-paid"),
            lambda world: {"refunds": [Refund.objects.get().pk]},
        ),
        state=_refund_state,
        allowed_status=302,
    ),
    # S-07: billing.manage or members.manage; "any" = the official without any capability
    _html("club report", get(_club_url("billing:membership-report")), capability=ANY),
    _html("club report csv", get(_club_url("billing:membership-report-csv")), capability=ANY),
    _html(
        "region report (federation staff)",
        get(lambda world: reverse("billing:membership-report", args=[world.region.pk])),
        capability=ANY,
        allowed=frozenset({"federation_staff"}),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_ledger_access_matrix(world, case, role):
    if case.name == "propose volunteer work":
        schedule(world.club_a)
        person = PersonFactory()
        VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=2)
        pay(invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")]))
    elif case.name in ("approve", "cancel"):
        _refund(world)
    elif case.name == "mark paid":
        services.refund_approve(actor=None, refund=_refund(world))
    check_case(world, case, role)


def test_moving_away_form_denied_changes_nothing(world):
    schedule(world.club_a)
    person = PersonFactory()
    pay(invoice(world.club_a, person, [(person, "activity", "football", "charge", "2400")]))
    data = {
        "person": person.pk,
        "season": SEASON,
        "group": "football",
        "left_on": datetime.date(SEASON, 5, 1).isoformat(),
        "leave_reason": "moving",
        "documented": "on",
    }
    url = reverse("billing:refund-propose-moving", args=[world.club_a.pk])

    response = world.client("official_other_club").post(url, data)

    assert response.status_code == 404
    assert not Refund.objects.exists()
    assert Decimal(0) == sum((r.amount.amount for r in Refund.objects.all()), Decimal(0))


def test_refund_list_query_count(world, django_assert_max_num_queries):
    schedule(world.club_a)
    for _index in range(20):
        person = PersonFactory()
        account(person, "86011117947")
        VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=2)
        pay(invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")]))
    services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)
    client = world.client("official_this_club")
    url = reverse("billing:refund-list", args=[world.club_a.pk])
    client.get(url)

    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.count(b"REF-") == 0
    assert response.content.count(b'class="refund-state') == 20
