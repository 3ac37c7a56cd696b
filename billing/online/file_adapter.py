"""A local fake card processor behind `provider.PaymentProvider`, for development and tests
(`PAYMENT_PROVIDER = "sandbox"`), so `make run` takes online payments offline.

It behaves like Stripe Checkout: `create_checkout` stores the checkout as a JSON file under
`settings.SANDBOX_PAYMENTS_DIR` and sends the member to its own payment page
(`/billing/online/sandbox/<session>/`, `billing.online.views`), where they click Pay or
Cancel. `complete()` then writes a Stripe-shaped event (`checkout.session.completed` or
`checkout.session.expired`), signed like Stripe signs (`provider.sign`) with
`settings.SANDBOX_WEBHOOK_SECRET`, which the page delivers to our webhook endpoint; the
event is also kept in the file so it can be replayed (e.g. with curl) by hand.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from billing.online import provider
from billing.online.provider import CheckoutCreated, CheckoutRequest, InvalidSignature

SIGNATURE_HEADER = "Sandbox-Signature"
SESSION_ID = re.compile(r"^sbx_[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class SignedEvent:
    body: bytes
    signature: str
    success: bool
    return_url: str


class SandboxProvider:
    name = "sandbox"

    def __init__(self, directory: str | Path | None = None, secret: str | None = None) -> None:
        self.directory = Path(directory or settings.SANDBOX_PAYMENTS_DIR)
        self.secret = secret if secret is not None else settings.SANDBOX_WEBHOOK_SECRET

    # ------------------------------------------------------------ the processor's store

    def _path(self, session_id: str) -> Path:
        if not SESSION_ID.match(session_id):
            raise KeyError(session_id)
        return self.directory / f"{session_id}.json"

    def load(self, session_id: str) -> dict | None:
        try:
            return json.loads(self._path(session_id).read_text())
        except (KeyError, FileNotFoundError):
            return None

    def _save(self, checkout: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(checkout["id"])
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(checkout, indent=2))
        temporary.replace(path)

    # ------------------------------------------------------------ PaymentProvider

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        session_id = f"sbx_{secrets.token_urlsafe(18)}"
        self._save(
            {
                "id": session_id,
                "client_reference_id": request.reference,
                "amount_total": provider.to_ore(request.amount),
                "currency": request.currency.lower(),
                "description": request.description,
                "customer_email": request.customer_email,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "status": "open",
                "payment_status": "unpaid",
                "events": [],
            }
        )
        return CheckoutCreated(
            session_id=session_id,
            redirect_url=reverse("billing:online-sandbox", args=[session_id]),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> provider.WebhookEvent:
        provider.verify(body, headers.get(SIGNATURE_HEADER), self.secret)
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise InvalidSignature("not JSON") from error
        return provider.event_from_checkout_payload(self.name, payload)

    # ------------------------------------------------------------ the pay page's actions

    def complete(self, session_id: str, *, pay: bool) -> SignedEvent | None:
        """The member clicked Pay (`pay`) or Cancel: the checkout is closed and its signed
        event returned for delivery. None when the checkout is unknown or already closed."""
        checkout = self.load(session_id)
        if checkout is None or checkout["status"] != "open":
            return None
        checkout["status"] = "complete" if pay else "expired"
        checkout["payment_status"] = "paid" if pay else "unpaid"
        event = {
            "id": f"evt_sbx_{secrets.token_urlsafe(18)}",
            "object": "event",
            "type": "checkout.session.completed" if pay else "checkout.session.expired",
            "data": {"object": {k: v for k, v in checkout.items() if k != "events"}},
        }
        body = json.dumps(event).encode()
        signature = provider.sign(body, self.secret)
        checkout["events"].append({"body": event, "signature": signature})
        self._save(checkout)
        return SignedEvent(
            body=body,
            signature=signature,
            success=pay,
            return_url=checkout["success_url"] if pay else checkout["cancel_url"],
        )

    def amount(self, checkout: dict) -> Decimal:
        return Decimal(int(checkout["amount_total"])) * provider.ORE
