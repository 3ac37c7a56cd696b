"""The portal's "Pay now", the sandbox card processor's page and the return pages, end to
end through our pages; access (a member pays only their own or family's invoices)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from billing.models_online import CheckoutSession, CheckoutState
from billing.models_payments import Payment
from members.models import MembershipStatus
from tests.billing.online.helpers import statuses
from tests.billing.payments.helpers import make_invoice

pytestmark = pytest.mark.django_db

PAY = reverse("billing:online-pay")


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_sandbox_end_to_end_pay_for_the_family(family, settings):
    client = _client(family.users["mother"])

    page = client.get(PAY)
    assert page.status_code == 200
    assert "Betal for hele familien: NOK 1250,00" in page.content.decode()

    started = client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})
    session = CheckoutSession.objects.get()
    assert started.status_code == 302
    assert started["Location"] == f"/billing/online/sandbox/{session.provider_session_id}/"

    processor_page = client.get(started["Location"])
    assert processor_page.status_code == 200
    assert "NOK 1250,00" in processor_page.content.decode()

    paid = client.post(started["Location"], {"action": "pay"})
    assert paid.status_code == 302
    assert paid["Location"] == f"http://testserver/billing/online/checkouts/{session.pk}/done/"

    done = client.get(paid["Location"])
    assert "Takk for betalingen" in done.content.decode()
    session.refresh_from_db()
    assert session.state == CheckoutState.PAID
    assert Payment.objects.get().amount.amount == Decimal("1250.00")
    assert set(statuses(family).values()) == {MembershipStatus.ACTIVE}
    # The processor kept its signed event (for replay by hand).
    stored = json.loads(
        (Path(settings.SANDBOX_PAYMENTS_DIR) / f"{session.provider_session_id}.json").read_text()
    )
    assert stored["status"] == "complete"
    assert stored["events"][0]["body"]["type"] == "checkout.session.completed"
    # A second click on Pay sends nothing more.
    client.post(started["Location"], {"action": "pay"})
    assert Payment.objects.count() == 1


def test_sandbox_pay_only_myself_through_the_pages(family):
    client = _client(family.users["father"])
    assert "Betal bare for meg selv: NOK 450,00" in client.get(PAY).content.decode()

    started = client.post(PAY, {"club": family.invoice.club_id, "scope": "self"})
    client.post(started["Location"], {"action": "pay"})

    assert Payment.objects.get().amount.amount == Decimal("450.00")
    assert statuses(family)["father"] == MembershipStatus.ACTIVE
    assert statuses(family)["child"] == MembershipStatus.PENDING_VERIFICATION


def test_sandbox_cancel_records_nothing(family):
    client = _client(family.users["mother"])
    started = client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})

    cancelled = client.post(started["Location"], {"action": "cancel"})

    session = CheckoutSession.objects.get()
    assert cancelled["Location"].endswith(f"/billing/online/checkouts/{session.pk}/cancelled/")
    assert client.get(cancelled["Location"]).status_code == 200
    session.refresh_from_db()
    assert session.state == CheckoutState.EXPIRED
    assert Payment.objects.count() == 0
    assert set(statuses(family).values()) == {MembershipStatus.PENDING_VERIFICATION}


def test_anonymous_is_sent_to_login(family):
    for url in (
        PAY,
        reverse("billing:online-done", args=[1]),
        "/billing/online/sandbox/sbx_abcdefgh/",
    ):
        response = Client().get(url)
        assert response.status_code == 302
        assert (
            response["Location"].startswith("/accounts/login/") or "login" in response["Location"]
        )
    response = Client().post(PAY, {"club": family.invoice.club_id, "scope": "family"})
    assert response.status_code == 302
    assert CheckoutSession.objects.count() == 0


@pytest.mark.parametrize(
    "role",
    ["member", "official_without_capability", "official_other_club", "official_this_club"],
)
def test_others_cannot_pay_or_see_the_familys_checkout(world, family, role):
    session_client = _client(family.users["mother"])
    started = session_client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})
    session = CheckoutSession.objects.get()
    client = world.client(role)

    attempt = client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})

    assert attempt.status_code == 200  # the page again, with "nothing to pay"
    assert CheckoutSession.objects.count() == 1
    assert client.get(reverse("billing:online-done", args=[session.pk])).status_code == 404
    assert client.get(started["Location"]).status_code == 404
    assert client.post(started["Location"], {"action": "pay"}).status_code == 404
    assert Payment.objects.count() == 0


def test_the_sandbox_page_is_404_when_stripe_is_the_provider(family, settings):
    client = _client(family.users["mother"])
    started = client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})
    settings.PAYMENT_PROVIDER = "stripe"

    assert client.get(started["Location"]).status_code == 404


@pytest.mark.parametrize("more_invoices", [0, 3])
def test_pay_page_query_count(world, family, django_assert_max_num_queries, more_invoices):
    """A fixed number of queries, whatever the number of invoices and clubs (M-10: the
    amounts without the invoice fees included)."""
    mother = family.persons["mother"]
    for number in range(more_invoices):
        club = world.club_b if number % 2 else world.club_a
        make_invoice(club, mother, 10 + number, "100.00")
    client = _client(family.users["mother"])
    with django_assert_max_num_queries(13):
        response = client.get(PAY)
    assert response.status_code == 200
    assert response.content.decode().count('name="club"') == (2 if more_invoices else 1)


def test_portal_invoices_link_to_pay_now(family):
    page = _client(family.users["mother"]).get(reverse("billing:my-invoices"))
    assert f'href="{PAY}"' in page.content.decode()
