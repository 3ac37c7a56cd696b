"""Issue 6 scope 6: the webhook endpoint - signature verified, idempotent on the provider's
event id, one payment per checkout, membership activated on payment (M-10)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.delivery import selectors as delivery_selectors
from billing.models_online import CheckoutSession, CheckoutState, EventOutcome, ProviderEvent
from billing.models_payments import MatchState, Payment, PaymentEvent, PaymentSource
from billing.online import provider, services
from billing.online.file_adapter import SIGNATURE_HEADER
from members.models import MembershipStatus
from tests.billing.online.helpers import SANDBOX_SECRET, checkout_event, statuses

pytestmark = pytest.mark.django_db

URL = reverse("billing:online-webhook", args=["sandbox"])
ALL_PENDING = dict.fromkeys(("mother", "father", "child"), MembershipStatus.PENDING_VERIFICATION)


def _start(family, scope="family") -> CheckoutSession:  # type: ignore[no-untyped-def]
    user = family.users["mother" if scope == "family" else "father"]
    return services.checkout_start(
        actor=user, payer=user.person, invoices=[family.invoice], scope=scope
    )


def _post(body: bytes, secret: str = SANDBOX_SECRET, **headers):  # type: ignore[no-untyped-def]
    signature = provider.sign(body, secret)
    return Client().post(
        URL, body, content_type="application/json", headers={SIGNATURE_HEADER: signature, **headers}
    )


def test_webhook_with_valid_signature_records_the_payment_and_activates_memberships(family):
    session = _start(family)

    response = _post(checkout_event(session))

    assert response.status_code == 200
    assert response.content == b"recorded"
    payment = Payment.objects.get()
    assert payment.invoice == family.invoice
    assert payment.source == PaymentSource.ONLINE
    assert payment.amount.amount == Decimal("1250.00")
    assert payment.match_state == MatchState.MATCHED
    assert payment.transaction_key == f"sandbox:{session.provider_session_id}:{family.invoice.pk}"
    assert PaymentEvent.objects.get().payment == payment
    session.refresh_from_db()
    assert session.state == CheckoutState.PAID
    # M-10: online payment activates the memberships at once.
    assert statuses(family) == dict.fromkeys(("mother", "father", "child"), MembershipStatus.ACTIVE)
    assert delivery_selectors.amounts_owed([family.invoice.pk]) == {family.invoice.pk: Decimal(0)}


def test_the_same_event_twice_records_once(family):
    session = _start(family)
    body = checkout_event(session, event_id="evt_same")

    first, second = _post(body), _post(body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"duplicate"
    assert Payment.objects.count() == 1
    assert ProviderEvent.objects.count() == 1


def test_two_events_for_the_same_checkout_record_one_payment(family):
    session = _start(family)

    _post(checkout_event(session, event_id="evt_completed"))
    response = _post(
        checkout_event(
            session, event_id="evt_async", event_type="checkout.session.async_payment_succeeded"
        )
    )

    assert response.content == b"already_paid"
    assert Payment.objects.count() == 1
    assert list(ProviderEvent.objects.order_by("pk").values_list("outcome", flat=True)) == [
        EventOutcome.RECORDED,
        EventOutcome.ALREADY_PAID,
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"secret": "wrong-secret"},
        {SIGNATURE_HEADER: "t=1,v1=deadbeef"},
        {SIGNATURE_HEADER: ""},
    ],
)
def test_a_bad_signature_is_400_and_changes_nothing(family, headers):
    session = _start(family)
    body = checkout_event(session)
    secret = headers.pop("secret", SANDBOX_SECRET)

    response = _post(body, secret, **headers)

    assert response.status_code == 400
    assert Payment.objects.count() == 0
    assert ProviderEvent.objects.count() == 0
    session.refresh_from_db()
    assert session.state == CheckoutState.OPEN
    assert statuses(family) == ALL_PENDING


def test_a_tampered_body_is_400(family):
    session = _start(family)
    signature = provider.sign(checkout_event(session), SANDBOX_SECRET)
    tampered = checkout_event(session, amount=Decimal("1.00"))

    response = Client().post(
        URL, tampered, content_type="application/json", headers={SIGNATURE_HEADER: signature}
    )

    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_an_old_signature_is_rejected():
    body = b"{}"
    header = provider.sign(body, SANDBOX_SECRET, timestamp=1_000_000)

    with pytest.raises(provider.InvalidSignature):
        provider.verify(body, header, SANDBOX_SECRET, now=1_000_000 + 301)
    provider.verify(body, header, SANDBOX_SECRET, now=1_000_000 + 299)


def test_an_amount_other_than_the_checkout_records_nothing(family):
    session = _start(family)

    response = _post(checkout_event(session, amount=Decimal("10.00")))

    assert response.status_code == 200
    assert ProviderEvent.objects.get().outcome == EventOutcome.REJECTED
    assert Payment.objects.count() == 0
    assert statuses(family) == ALL_PENDING


def test_an_expired_checkout_closes_without_payment(family):
    session = _start(family)

    _post(checkout_event(session, event_type="checkout.session.expired"))

    session.refresh_from_db()
    assert session.state == CheckoutState.EXPIRED
    assert Payment.objects.count() == 0
    assert statuses(family) == ALL_PENDING


def test_an_event_of_an_unknown_checkout_is_stored_and_ignored(family):
    session = _start(family)
    session.provider_session_id = "sbx_someone_elses_checkout"
    response = _post(checkout_event(session))

    assert response.status_code == 200
    assert ProviderEvent.objects.get().outcome == EventOutcome.IGNORED
    assert Payment.objects.count() == 0


def test_the_webhook_of_a_provider_not_configured_is_404(family, settings):
    session = _start(family)
    settings.PAYMENT_PROVIDER = "stripe"

    response = _post(checkout_event(session))

    assert response.status_code == 404
    assert ProviderEvent.objects.count() == 0
