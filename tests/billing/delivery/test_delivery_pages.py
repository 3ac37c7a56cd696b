"""Access matrix (STYLE 17) of the delivery and reminder pages: anonymous, member, official
without billing.manage, official with it in another club, official in this club, federation
staff. Denied = 404 (302 to login for anonymous) AND nothing changed. Lists have query-count
limits."""

import datetime
import re

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing.delivery import services
from billing.models_delivery import InvoiceDelivery, Reminder, ReminderPolicy, TeamUnpaidNotice
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.delivery.helpers import DUE, invoice_for
from tests.billing.pages import english
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


def test_d03_reminder_list_pages_the_team_leader_lists(
    delivery_world, django_assert_max_num_queries
):
    """The unpaid lists sent to team leaders are paged apart (`notices_page`), 50 a page, the
    reminders' page kept in the links; the query count does not grow with them."""
    leader = PersonFactory()
    first = datetime.date(2026, 1, 1)
    TeamUnpaidNotice.objects.bulk_create(
        TeamUnpaidNotice(
            club=delivery_world.club_a,
            team=delivery_world.team_a,
            leader=leader,
            notice_date=first + datetime.timedelta(days=day),
            players=[{"person_id": 1, "name": "A", "invoice_numbers": [1]}],
            state="sent",
        )
        for day in range(57)
    )
    client = english(delivery_world.client("official_this_club", MANAGE))
    url = reverse("billing:reminder-list", args=[delivery_world.club_a.pk])
    client.get(url)

    with django_assert_max_num_queries(12):
        response = client.get(url)
    second = client.get(url, {"notices_page": 2, "page": 1})

    notices = response.context["notices"]
    assert (len(notices.object_list), notices.paginator.num_pages) == (50, 2)
    assert notices.object_list[0].notice_date == first + datetime.timedelta(days=56)
    html = response.content.decode()
    assert "?notices_page=2" in html
    assert len(second.context["notices"].object_list) == 7
    assert 'href="?notices_page=1&amp;page=1"' in second.content.decode()  # both pages kept


def test_d03_reminder_list_formats_fees_and_names_the_delivery(delivery_world):
    services.reminders_run(today=DUE.replace(month=4))
    Reminder.objects.filter(sequence=1).update(fee=Money("35", "NOK"))  # next to zero interest
    client = english(delivery_world.client("official_this_club", MANAGE))

    response = client.get(reverse("billing:reminder-list", args=[delivery_world.club_a.pk]))

    rows = list(response.context["page"].object_list)
    assert rows and all(row.delivery_label in ("Waiting", "Posted", "Sent") for row in rows)
    html = response.content.decode()
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells and all(re.fullmatch(r"\d[\d,]*\.\d\d", cell) for cell in cells), cells
    assert ">pending<" not in html and ">posted<" not in html
