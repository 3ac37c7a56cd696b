"""Stripe Checkout behind `provider.PaymentProvider` (issue 6 scope 6).

- `create_checkout`: a Checkout Session in payment mode for one NOK amount (calls Stripe
  over the network with `settings.STRIPE_SECRET_KEY`; never called in tests).
- `parse_webhook`: the `Stripe-Signature` header verified by `stripe.Webhook.construct_event`
  with the endpoint secret `settings.STRIPE_WEBHOOK_SECRET`, then the event parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import stripe
from django.conf import settings

from billing.online import provider
from billing.online.provider import CheckoutCreated, CheckoutRequest, InvalidSignature

SIGNATURE_HEADER = "Stripe-Signature"


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str | None = None, webhook_secret: str | None = None) -> None:
        self.secret_key = secret_key if secret_key is not None else settings.STRIPE_SECRET_KEY
        self.webhook_secret = (
            webhook_secret if webhook_secret is not None else settings.STRIPE_WEBHOOK_SECRET
        )

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        client = stripe.StripeClient(self.secret_key)
        params: dict = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": provider.to_ore(request.amount),
                        "product_data": {"name": request.description[:250]},
                    },
                }
            ],
            "client_reference_id": request.reference,
            "metadata": {"checkout": request.reference},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        session = client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"checkout-{request.reference}"},
        )
        return CheckoutCreated(session_id=session.id, redirect_url=session.url or "")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> provider.WebhookEvent:
        try:
            stripe.Webhook.construct_event(
                body, headers.get(SIGNATURE_HEADER), self.webhook_secret or ""
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidSignature(str(error)) from error
        # The signature is verified: read the plain JSON (not the SDK's objects).
        return provider.event_from_checkout_payload(self.name, json.loads(body))
