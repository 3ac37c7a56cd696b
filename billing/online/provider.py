"""The payment provider interface (issue 6 scope 6): what the services need from a card
processor, so that the processor itself - outside our system - sits behind one seam.

- `create_checkout(request)` makes a hosted payment page for an amount and returns where to
  send the member (`redirect_url`) and the provider's id of the checkout (`session_id`).
- `parse_webhook(body, headers)` verifies the signature of a webhook the provider sent and
  parses it into a `WebhookEvent`; a bad or missing signature raises `InvalidSignature`.

Adapters: `stripe_adapter.StripeProvider` (Stripe Checkout) and `file_adapter.SandboxProvider`
(a local fake processor with its own pages, for development and tests)
(`billing.online.services.get_provider()` gives the one `settings.PAYMENT_PROVIDER` names).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

ORE = Decimal("0.01")
SIGNATURE_TOLERANCE = 300  # seconds: an older signed webhook is a replay (as Stripe's default)


class InvalidSignature(Exception):
    """The webhook's signature is missing, malformed, too old or does not match."""


class EventStatus(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    OTHER = "other"  # an event the services do not act on


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # our CheckoutSession's primary key
    amount: Decimal  # NOK
    currency: str
    description: str
    success_url: str
    cancel_url: str
    customer_email: str = ""


@dataclass(frozen=True)
class CheckoutCreated:
    session_id: str
    redirect_url: str


@dataclass(frozen=True)
class WebhookEvent:
    provider: str
    event_id: str
    event_type: str
    session_id: str
    amount: Decimal | None  # NOK; None when the event carries no amount
    currency: str
    status: EventStatus
    payload: dict = field(default_factory=dict, compare=False)


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent: ...


# Stripe Checkout's event types; the sandbox sends the same (`file_adapter`).
EVENT_STATUSES = {
    "checkout.session.completed": EventStatus.PAID,
    "checkout.session.async_payment_succeeded": EventStatus.PAID,
    "checkout.session.async_payment_failed": EventStatus.FAILED,
    "checkout.session.expired": EventStatus.EXPIRED,
}


def event_from_checkout_payload(provider: str, payload: Mapping) -> WebhookEvent:
    """A `WebhookEvent` from a Stripe-shaped event: `id`, `type` and the Checkout Session in
    `data.object` (`id`, `amount_total` in øre, `currency`, `payment_status`)."""
    checkout = payload.get("data", {}).get("object", {}) or {}
    event_type = str(payload.get("type", ""))
    status = EVENT_STATUSES.get(event_type, EventStatus.OTHER)
    # A completed checkout of a delayed method (bank debit) is paid only when it says so.
    if status == EventStatus.PAID and checkout.get("payment_status") != "paid":
        status = EventStatus.OTHER
    amount_total = checkout.get("amount_total")
    return WebhookEvent(
        provider=provider,
        event_id=str(payload.get("id", "")),
        event_type=event_type,
        session_id=str(checkout.get("id", "")),
        amount=(Decimal(int(amount_total)) * ORE) if amount_total is not None else None,
        currency=str(checkout.get("currency", "")).upper(),
        status=status,
        payload=dict(payload),
    )


def to_ore(amount: Decimal) -> int:
    return int((amount / ORE).to_integral_value())


# ------------------------------------------------------------------ signatures


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A signature header as Stripe documents it: `t=<unix time>,v1=<HMAC-SHA256 hex of
    "<t>.<body>" with the endpoint secret>`. The sandbox signs its webhooks with it."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def verify(body: bytes, header: str | None, secret: str, now: float | None = None) -> None:
    """Raise `InvalidSignature` unless `header` is a valid, recent `sign()` of `body`."""
    if not header or not secret:
        raise InvalidSignature("missing signature or secret")
    parts = [item.split("=", 1) for item in header.split(",")]
    values = [pair for pair in parts if len(pair) == 2]
    timestamps = [value for key, value in values if key == "t"]
    signatures = [value for key, value in values if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise InvalidSignature("malformed signature header")
    moment = int(timestamps[0])
    expected = sign(body, secret, moment).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("signature does not match")
    if abs((time.time() if now is None else now) - moment) > SIGNATURE_TOLERANCE:
        raise InvalidSignature("signature too old")
