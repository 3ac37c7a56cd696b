"""A family of three in club A with one invoice to the contact person (M-11), pending
memberships (M-10), the members' logins, and signed provider events."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from billing.models_invoicing import Invoice, InvoiceLine, InvoiceNumberSeries
from billing.models_online import CheckoutSession
from billing.online import provider
from billing.online.provider import CheckoutCreated, CheckoutRequest
from members.models import Membership, MembershipStatus, Person, User
from tests.billing.payments.helpers import make_invoice
from tests.members.factories import PersonFactory, UserFactory
from tests.members.factories_memberships import FamilyFactory, MembershipFactory, default_types

SANDBOX_SECRET = "test-sandbox-secret"
STRIPE_SECRET = "whsec_test_secret"
PERIOD = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
SHARES = {"mother": Decimal("500.00"), "father": Decimal("450.00"), "child": Decimal("300.00")}


@dataclass
class Family:
    invoice: Invoice
    persons: dict[str, Person]
    users: dict[str, User]
    memberships: dict[str, Membership]

    @property
    def total(self) -> Decimal:
        return sum(SHARES.values(), Decimal("0.00"))


def build_family(world) -> Family:  # type: ignore[no-untyped-def]
    club = world.club_a
    types = default_types(club)
    mother = PersonFactory(first_name="Mor", last_name="Hansen")
    family = FamilyFactory(club=club, name="Familien Hansen", contact_person=mother)
    persons = {
        "mother": mother,
        "father": PersonFactory(first_name="Far", last_name="Hansen"),
        "child": PersonFactory(first_name="Barn", last_name="Hansen"),
    }
    memberships = {
        name: MembershipFactory(
            person=person,
            club=club,
            membership_type=types["family"],
            family=family,
            status=MembershipStatus.PENDING_VERIFICATION,
        )
        for name, person in persons.items()
    }
    invoice = make_invoice(club, mother, 1, str(sum(SHARES.values())))
    for position, (name, amount) in enumerate(SHARES.items(), start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=club,
            person=persons[name],
            position=position,
            fee="membership",
            key_fee="membership",
            line_kind="charge",
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            description=f"Medlemskap {name}",
            amount=Money(amount, "NOK"),
        )
    users = {name: UserFactory(person=persons[name]) for name in ("mother", "father")}
    return Family(invoice, persons, users, memberships)


def statuses(family: Family) -> dict[str, str]:
    return {
        name: Membership.objects.get(pk=membership.pk).status
        for name, membership in family.memberships.items()
    }


def checkout_event(
    session: CheckoutSession,
    *,
    event_id: str = "evt_1",
    event_type: str = "checkout.session.completed",
    amount: Decimal | None = None,
) -> bytes:
    """A Stripe-shaped event about `session`'s checkout, as JSON bytes."""
    total = session.total.amount if amount is None else amount
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "data": {
                "object": {
                    "id": session.provider_session_id,
                    "object": "checkout.session",
                    "amount_total": provider.to_ore(total),
                    "currency": "nok",
                    "payment_status": "paid",
                    "client_reference_id": str(session.pk),
                }
            },
        }
    ).encode()


class StripeStandIn:
    """The Stripe adapter's network call (creating a Checkout Session) is outside the tests:
    this stands in for it behind the interface; the webhook side is the real adapter."""

    name = "stripe"

    def __init__(self) -> None:
        self.requests: list[CheckoutRequest] = []

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        self.requests.append(request)
        session_id = f"cs_test_{request.reference}"
        return CheckoutCreated(session_id, f"https://checkout.stripe.com/c/pay/{session_id}")

    def parse_webhook(self, body, headers):  # type: ignore[no-untyped-def]
        raise NotImplementedError


# ------------------------------------------------------------------ M-10: invoice fees

INVOICE_FEE = Decimal("50.00")
FEES_TOTAL = sum(SHARES.values(), Decimal("0.00")) + 3 * INVOICE_FEE  # 1400.00


def build_family_with_fees(world) -> Family:  # type: ignore[no-untyped-def]
    """The family of `build_family`, all three paying by invoice: each has the invoice fee
    (M-10, NOK 50 per person in a family too) on the membership invoice, as the pricing
    engine writes it (fee `invoice_fee`, invoiced with the membership fee: same key fee,
    group and period). The invoice owes NOK 1400."""
    family = build_family(world)
    invoice = family.invoice
    for position, name in enumerate(SHARES, start=len(SHARES) + 1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=invoice.club,
            person=family.persons[name],
            position=position,
            fee="invoice_fee",
            key_fee="membership",
            line_kind="charge",
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            description="Fakturagebyr NOK 50 (M-10)",
            rule_id="M-10",
            amount=Money(INVOICE_FEE, "NOK"),
        )
    invoice.total = Money(FEES_TOTAL, "NOK")
    invoice.save(update_fields=["total"])
    # The club's series goes on after the invoice (its credit notes are numbered in it).
    InvoiceNumberSeries.objects.create(club=invoice.club, next_number=invoice.number + 1)
    return family
