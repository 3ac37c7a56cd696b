"""Access matrix (STYLE 17) of the delivery and reminder pages: anonymous, member, official
without billing.manage, official with it in another club, official in this club, federation
staff. Denied = 404 (302 to login for anonymous) AND nothing changed. Lists have query-count
limits."""

import pytest
from django.urls import reverse

from billing.delivery import services
from billing.models_delivery import InvoiceDelivery, Reminder, ReminderPolicy
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.delivery.helpers import DUE, invoice_for
from tests.conftest import ROLES, World
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]
MANAGE = "billing.manage"


@pytest.fixture
def delivery_world(world: World) -> World:
    world.paper_invoice = invoice_for(world.club_a, world.player_a, email="")
    world.failed_invoice = invoice_for(world.club_a, PersonFactory(), email="f@example.org")
    services.deliveries_plan(invoices=[world.paper_invoice, world.failed_invoice], queue=False)
    world.paper = InvoiceDelivery.objects.get(invoice=world.paper_invoice)
    world.failed = InvoiceDelivery.objects.get(invoice=world.failed_invoice)
    InvoiceDelivery.objects.filter(pk=world.failed.pk).update(state="failed", error="refused")
    return world


def state(world: World) -> object:
    return (
        sorted(InvoiceDelivery.objects.values_list("pk", "state", "attempts", "posted_by")),
        sorted(ReminderPolicy.objects.values_list("club_id", "days_after_due", "charge_fee")),
        Reminder.objects.count(),
    )


def url(name: str, attribute: str = "club_a"):  # type: ignore[no-untyped-def]
    return lambda w: reverse(f"billing:{name}", args=[getattr(w, attribute).pk])


POLICY = {
    "is_enabled": "on",
    "days_after_due": "10",
    "deadline_days": "14",
    "max_reminders": "2",
    "charge_fee": "on",
    "notify_team_leaders": "on",
}
CASES = [
    Case("deliveries", MANAGE, get(url("delivery-list")), 200, HTML_DENIED, 302),
    Case("paper", MANAGE, get(url("delivery-paper")), 200, HTML_DENIED, 302),
    Case("reminders", MANAGE, get(url("reminder-list")), 200, HTML_DENIED, 302),
    Case("policy-form", MANAGE, get(url("reminder-policy")), 200, HTML_DENIED, 302),
    Case(
        "policy-save",
        MANAGE,
        post(url("reminder-policy"), lambda w: POLICY),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
    Case(
        "mark-posted",
        MANAGE,
        post(url("delivery-paper-posted"), lambda w: {"deliveries": [w.paper.pk]}),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
    Case(
        "resend",
        MANAGE,
        post(url("delivery-resend", "failed")),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_issue6_delivery_pages_access(delivery_world, case, role):
    check_case(delivery_world, case, role)


def test_issue6_paper_bundle_is_one_pdf(delivery_world):
    client = delivery_world.client("official_this_club", MANAGE)

    response = client.get(reverse("billing:delivery-paper-bundle", args=[delivery_world.club_a.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_issue6_paper_bundle_denied_to_another_club(delivery_world):
    client = delivery_world.client("official_other_club", MANAGE)
    response = client.get(reverse("billing:delivery-paper-bundle", args=[delivery_world.club_a.pk]))
    assert response.status_code == 404


def test_issue6_delivery_list_filters_and_query_count(
    delivery_world, django_assert_max_num_queries
):
    for _index in range(15):
        invoice = invoice_for(delivery_world.club_a, PersonFactory())
        services.deliveries_plan(invoices=[invoice], queue=False)
    client = delivery_world.client("official_this_club", MANAGE)
    client.get(reverse("billing:delivery-list", args=[delivery_world.club_a.pk]))  # warm up

    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("billing:delivery-list", args=[delivery_world.club_a.pk]),
            {"channel": "paper"},
        )

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert rows == [delivery_world.paper]


def test_d03_reminder_list_query_count(delivery_world, django_assert_max_num_queries):
    services.reminders_run(today=DUE.replace(month=4))
    assert Reminder.objects.count() == 2
    client = delivery_world.client("official_this_club", MANAGE)
    client.get(reverse("billing:reminder-list", args=[delivery_world.club_a.pk]))

    with django_assert_max_num_queries(12):
        response = client.get(reverse("billing:reminder-list", args=[delivery_world.club_a.pk]))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 2
