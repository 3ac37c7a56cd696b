"""Issue 6 scope 6: the Stripe adapter's webhook side, with real `Stripe-Signature` headers
computed as Stripe documents them (no network: creating a Checkout Session is the one call
that needs Stripe, and it stays behind the interface, `helpers.StripeStandIn`)."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from billing.models_online import CheckoutState
from billing.models_payments import Payment
from billing.online import services
from billing.online.provider import EventStatus, InvalidSignature
from billing.online.stripe_adapter import SIGNATURE_HEADER, StripeProvider
from members.models import MembershipStatus
from tests.billing.online.helpers import STRIPE_SECRET, StripeStandIn, checkout_event, statuses

pytestmark = pytest.mark.django_db


def _documented_header(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<t>,v1=HMAC_SHA256(secret, "<t>.<payload>")` (Stripe's webhook documentation)."""
    signed = f"{timestamp}.{body.decode()}".encode()
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def _start(family):  # type: ignore[no-untyped-def]
    stand_in = StripeStandIn()
    session = services.checkout_start(
        actor=family.users["mother"],
        payer=family.persons["mother"],
        invoices=[family.invoice],
        base_url="https://klubb.example",
        provider=stand_in,
    )
    return session, stand_in


def test_stripe_checkout_request_holds_amount_and_return_urls(family):
    session, stand_in = _start(family)

    (request,) = stand_in.requests
    assert request.amount == Decimal("1250.00")
    assert request.currency == "NOK"
    assert request.reference == str(session.pk)
    assert (
        request.success_url == f"https://klubb.example/billing/online/checkouts/{session.pk}/done/"
    )
    assert request.cancel_url.endswith(f"/billing/online/checkouts/{session.pk}/cancelled/")
    assert session.provider == "stripe"
    assert session.provider_session_id == f"cs_test_{session.pk}"
    assert session.redirect_url.startswith("https://checkout.stripe.com/")


def test_stripe_signature_from_the_documented_formula_is_accepted(family):
    session, _ = _start(family)
    body = checkout_event(session, event_id="evt_stripe_1")
    header = _documented_header(body, STRIPE_SECRET, int(time.time()))
    # The documented formula and stripe's own helper agree.
    assert header == stripe.WebhookSignature.generate_signature_header(
        body.decode(), STRIPE_SECRET, timestamp=int(header[2:12])
    )

    event = StripeProvider(webhook_secret=STRIPE_SECRET).parse_webhook(
        body, {SIGNATURE_HEADER: header}
    )

    assert event.event_id == "evt_stripe_1"
    assert event.session_id == session.provider_session_id
    assert event.amount == Decimal("1250.00")
    assert event.currency == "NOK"
    assert event.status == EventStatus.PAID


@pytest.mark.parametrize(
    ("secret", "age"),
    [("whsec_wrong", 0), (STRIPE_SECRET, 3600)],
    ids=["wrong-secret", "too-old"],
)
def test_stripe_signature_wrong_or_old_is_refused(family, secret, age):
    session, _ = _start(family)
    body = checkout_event(session)
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(time.time()) - age
    )

    with pytest.raises(InvalidSignature):
        StripeProvider(webhook_secret=STRIPE_SECRET).parse_webhook(body, {SIGNATURE_HEADER: header})


def test_stripe_webhook_endpoint_records_once_and_rejects_bad_signatures(family, settings):
    settings.PAYMENT_PROVIDER = "stripe"
    session, _ = _start(family)
    url = reverse("billing:online-webhook", args=["stripe"])
    body = checkout_event(session, event_id="evt_stripe_2")
    good = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    bad = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_other")

    refused = Client().post(
        url, body, content_type="application/json", headers={SIGNATURE_HEADER: bad}
    )
    assert refused.status_code == 400
    assert Payment.objects.count() == 0

    responses = [
        Client().post(url, body, content_type="application/json", headers={SIGNATURE_HEADER: good})
        for _ in range(2)
    ]

    assert [r.status_code for r in responses] == [200, 200]
    assert [r.content for r in responses] == [b"recorded", b"duplicate"]
    assert Payment.objects.get().amount.amount == Decimal("1250.00")
    session.refresh_from_db()
    assert session.state == CheckoutState.PAID
    assert set(statuses(family).values()) == {MembershipStatus.ACTIVE}


def test_a_completed_checkout_not_yet_paid_is_not_a_payment(family):
    session, _ = _start(family)
    body = checkout_event(session).replace(
        b'"payment_status": "paid"', b'"payment_status": "unpaid"'
    )
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)

    event = StripeProvider(webhook_secret=STRIPE_SECRET).parse_webhook(
        body, {SIGNATURE_HEADER: header}
    )

    assert event.status == EventStatus.OTHER
    services.online_payment_record(event)
    assert Payment.objects.count() == 0
