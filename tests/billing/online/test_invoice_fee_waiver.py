"""M-10: paying by invoice adds an invoice fee of NOK 50 per member (per person in a family
too); a member who pays online does not pay it. The checkout leaves out the invoice fees of
the persons paid for (M-11: the whole family's, or only the member's own), and the payment
credits exactly those lines with a credit note in the same transaction, so the invoice ends
paid and the books balance; online payment activates the memberships at once (through the
members app's service, with its history record)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import stripe
from django.test import Client
from django.urls import reverse
from django.utils import translation

from billing import balances
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceStatus,
)
from billing.models_online import CheckoutScope, CheckoutSession, EventOutcome, ProviderEvent
from billing.models_payments import MatchState, Payment
from billing.online import services, waiver
from billing.online.file_adapter import SandboxProvider
from billing.online.stripe_adapter import SIGNATURE_HEADER
from billing.payments import services as payment_services
from clubadmin.capabilities import Capability
from members.models import Membership, MembershipStatus
from members.services import memberships as membership_services
from tests.billing.online.helpers import (
    FEES_TOTAL,
    STRIPE_SECRET,
    StripeStandIn,
    build_family_with_fees,
    checkout_event,
    statuses,
)

pytestmark = pytest.mark.django_db

ACTIVE, PENDING = MembershipStatus.ACTIVE, MembershipStatus.PENDING_VERIFICATION
STRIPE_WEBHOOK = reverse("billing:online-webhook", args=["stripe"])
PAY = reverse("billing:online-pay")


@pytest.fixture
def family(world):  # type: ignore[no-untyped-def]
    return build_family_with_fees(world)


def _start(family, who: str = "mother", scope: str = CheckoutScope.FAMILY):  # type: ignore[no-untyped-def]
    """A checkout at Stripe (the network call stands in); returns it and the request sent."""
    stand_in = StripeStandIn()
    user = family.users[who]
    session = services.checkout_start(
        actor=user,
        payer=user.person,
        invoices=[family.invoice],
        scope=scope,
        base_url="https://klubb.example",
        provider=stand_in,
    )
    return session, stand_in.requests[0]


def _stripe_post(session: CheckoutSession, event_id: str = "evt_fee_1", **event):  # type: ignore[no-untyped-def]
    """The provider confirms the payment: a webhook signed as Stripe signs it."""
    body = checkout_event(session, event_id=event_id, **event)
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    return Client().post(
        STRIPE_WEBHOOK, body, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )


@pytest.fixture
def stripe_settings(settings):  # type: ignore[no-untyped-def]
    settings.PAYMENT_PROVIDER = "stripe"


def _fee_lines(family) -> dict[str, InvoiceLine]:  # type: ignore[no-untyped-def]
    lines = InvoiceLine.objects.filter(invoice=family.invoice, fee="invoice_fee")
    by_person = {line.person_id: line for line in lines}
    return {name: by_person[person.pk] for name, person in family.persons.items()}


def _credit_notes(family) -> list[Invoice]:  # type: ignore[no-untyped-def]
    return list(
        Invoice.objects.filter(credited_invoice=family.invoice, kind=InvoiceKind.CREDIT_NOTE)
        .prefetch_related("lines")
        .order_by("number")
    )


def _owed(family) -> Decimal:  # type: ignore[no-untyped-def]
    return balances.invoice_balances([family.invoice.pk])[family.invoice.pk].owed


def _status(family) -> str:  # type: ignore[no-untyped-def]
    return Invoice.objects.get(pk=family.invoice.pk).status


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("due", "fees", "expected"),
    [
        ("1400.00", ["50.00", "50.00", "50.00"], ("1250.00", "150.00")),
        ("500.00", ["50.00"], ("450.00", "50.00")),
        ("200.00", ["50.00", "50.00", "50.00"], ("50.00", "150.00")),  # rest after a bank payment
        ("150.00", ["50.00", "50.00", "50.00"], ("150.00", "0.00")),  # only the fees are left
        ("40.00", ["50.00"], ("40.00", "0.00")),
        ("1250.00", [], ("1250.00", "0.00")),  # paying online anyway: no fee
    ],
)
def test_m10_online_amount_leaves_out_the_fees_when_more_is_left_to_pay(due, fees, expected):
    lines = [(pk, Decimal(amount)) for pk, amount in enumerate(fees, start=1)]

    result = waiver.online_amount(Decimal(due), lines)

    assert (result.amount, result.waived) == (Decimal(expected[0]), Decimal(expected[1]))
    assert result.fee_lines == (tuple(lines) if result.waived else ())


# ------------------------------------------------------------------ checkout amounts


def test_m10_m11_the_family_checkout_leaves_out_every_invoice_fee(family):
    session, request = _start(family)

    assert Decimal("1400.00") == FEES_TOTAL
    assert request.amount == Decimal("1250.00")
    assert session.total.amount == Decimal("1250.00")
    assert [line.amount.amount for line in session.lines.all()] == [Decimal("1250.00")]
    assert not _credit_notes(family)  # nothing credited before the payment arrives
    assert _owed(family) == Decimal("1400.00")


def test_m10_m11_my_own_checkout_leaves_out_only_my_invoice_fee(family):
    session, request = _start(family, "father", CheckoutScope.SELF)

    assert request.amount == Decimal("450.00")  # 450 membership + 50 fee - 50 fee
    assert session.person_ids == [family.persons["father"].pk]


# ------------------------------------------------------------------ the payment


def test_m10_paid_online_the_fees_are_credited_and_the_invoice_is_paid(family, stripe_settings):
    session, _ = _start(family)
    fee_lines = _fee_lines(family)
    next_number = InvoiceNumberSeries.objects.get(club=family.invoice.club).next_number

    response = _stripe_post(session)

    assert (response.status_code, response.content) == (200, b"recorded")
    (note,) = _credit_notes(family)
    assert note.number == next_number
    assert note.total.amount == Decimal("-150.00")
    assert note.reason  # the invoice's language: the credit note says why
    assert sorted((line.credited_line_id, line.amount.amount) for line in note.lines.all()) == [
        (fee_lines[name].pk, Decimal("-50.00")) for name in ("mother", "father", "child")
    ]
    # Only the fee lines are credited; every charge stays billed (not invoiced again).
    assert set(InvoiceLine.objects.filter(invoice=family.invoice).values_list("is_billed")) == {
        (True,)
    }
    payment = Payment.objects.get()
    assert payment.amount.amount == Decimal("1250.00")
    assert payment.match_state == MatchState.MATCHED
    # The books balance: billed 1400 - credited 150 = paid 1250.
    balance = balances.invoice_balances([family.invoice.pk])[family.invoice.pk]
    assert (balance.claim, balance.paid, balance.owed, balance.overpaid) == (
        Decimal("1250.00"),
        Decimal("1250.00"),
        Decimal(0),
        Decimal(0),
    )
    assert _status(family) == InvoiceStatus.PAID
    events = InvoiceEvent.objects.filter(invoice__in=[family.invoice, note]).order_by("pk")
    assert [(e.invoice_id, e.kind, e.to_status) for e in events] == [
        (note.pk, InvoiceEvent.Kind.ISSUED, InvoiceStatus.ISSUED),
        (family.invoice.pk, InvoiceEvent.Kind.PARTLY_CREDITED, InvoiceStatus.ISSUED),
        (family.invoice.pk, "payment", InvoiceStatus.PAID),
    ]
    assert InvoiceNumberSeries.objects.get(club=family.invoice.club).next_number == next_number + 1


def test_m10_paid_online_activates_the_memberships_through_the_members_service(
    family, stripe_settings
):
    session, _ = _start(family)

    _stripe_post(session)

    assert set(statuses(family).values()) == {ACTIVE}
    records = Membership.history.filter(
        id__in=[m.pk for m in family.memberships.values()], history_type="~"
    ).values_list("status", "history_user_id", "history_change_reason")
    assert sorted(records) == [(ACTIVE, None, membership_services.ACTIVATED_BY_ONLINE_PAYMENT)] * 3


def test_m10_a_replayed_or_second_event_credits_nothing_more(family, stripe_settings):
    session, _ = _start(family)

    first = _stripe_post(session, event_id="evt_fee_same")
    replayed = _stripe_post(session, event_id="evt_fee_same")
    second = _stripe_post(
        session, event_id="evt_fee_async", event_type="checkout.session.async_payment_succeeded"
    )

    assert [r.content for r in (first, replayed, second)] == [
        b"recorded",
        b"duplicate",
        b"already_paid",
    ]
    assert len(_credit_notes(family)) == 1
    assert Payment.objects.count() == 1
    assert _owed(family) == Decimal(0)
    assert list(ProviderEvent.objects.order_by("pk").values_list("outcome", flat=True)) == [
        EventOutcome.RECORDED,
        EventOutcome.ALREADY_PAID,
    ]


def test_m11_my_own_share_online_credits_only_my_fee_and_the_family_pays_the_rest(
    family, stripe_settings
):
    own, _ = _start(family, "father", CheckoutScope.SELF)
    _stripe_post(own, event_id="evt_father")

    (note,) = _credit_notes(family)
    assert [line.credited_line_id for line in note.lines.all()] == [_fee_lines(family)["father"].pk]
    assert note.total.amount == Decimal("-50.00")
    assert _owed(family) == Decimal("900.00")  # mother 500 + 50, child 300 + 50
    assert _status(family) == InvoiceStatus.PARTLY_PAID  # the others get reminders
    assert statuses(family) == {"mother": PENDING, "father": ACTIVE, "child": PENDING}
    # The father has nothing more to pay of his own.
    plan = waiver.online_plans(family.persons["father"], [family.invoice.pk])[family.invoice.pk]
    assert (plan.own_share, plan.own.amount) == (Decimal(0), Decimal(0))

    rest, request = _start(family, "mother", CheckoutScope.FAMILY)
    assert request.amount == Decimal("800.00")  # 900 less the mother's and the child's fees
    _stripe_post(rest, event_id="evt_rest")

    notes = _credit_notes(family)
    assert [n.total.amount for n in notes] == [Decimal("-50.00"), Decimal("-100.00")]
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("450.00"),
        Decimal("800.00"),
    ]
    assert _owed(family) == Decimal(0)
    assert _status(family) == InvoiceStatus.PAID
    assert set(statuses(family).values()) == {ACTIVE}


def _bank_payment(world, family, amount: str) -> Payment:  # type: ignore[no-untyped-def]
    return payment_services.payment_register_manual(
        actor=world.user("official_this_club", Capability.BILLING_MANAGE),
        invoice=family.invoice,
        amount=Decimal(amount),
        paid_date=datetime.date(2026, 2, 1),
        idempotency_key=f"bank-{amount}",
    )


def test_m10_partly_paid_by_bank_online_pays_what_is_left_less_the_fees(
    world, family, stripe_settings
):
    _bank_payment(world, family, "400.00")

    session, request = _start(family)
    assert request.amount == Decimal("850.00")  # 1400 - 400 - 150
    _stripe_post(session)

    assert _credit_notes(family)[0].total.amount == Decimal("-150.00")
    assert Payment.objects.get(source="online").match_state == MatchState.MATCHED
    assert _owed(family) == Decimal(0)
    assert _status(family) == InvoiceStatus.PAID


def test_m10_when_only_the_fees_are_left_they_are_paid_as_they_are(world, family, stripe_settings):
    _bank_payment(world, family, "1250.00")  # paid by invoice, without the fees

    session, request = _start(family)
    assert request.amount == Decimal("150.00")
    _stripe_post(session)

    assert _credit_notes(family) == []
    assert _owed(family) == Decimal(0)
    assert _status(family) == InvoiceStatus.PAID


def test_m10_a_bank_payment_between_checkout_and_webhook_leaves_the_fee_standing(
    world, family, stripe_settings
):
    """What the invoice owes changed after the checkout was made: the payment is recorded as
    it is (an over-payment for the reconciliation list), nothing is credited."""
    session, _ = _start(family)
    _bank_payment(world, family, "400.00")

    _stripe_post(session)

    assert _credit_notes(family) == []
    payment = Payment.objects.get(source="online")
    assert (payment.amount.amount, payment.match_state) == (Decimal("1250.00"), MatchState.OVER)
    assert balances.invoice_balances([family.invoice.pk])[family.invoice.pk].overpaid == Decimal(
        "250.00"
    )


# ------------------------------------------------------------------ the member's page


@pytest.fixture
def english(settings):  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_m10_the_pay_page_shows_the_saving_and_the_sandbox_pays_without_the_fees(family, english):
    client = _client(family.users["father"])

    page = client.get(PAY).content.decode()

    assert "Pay online and save NOK 150.00 invoice fee." in page
    assert "Pay for the whole family: NOK 1250.00" in page
    assert "Pay only for myself: NOK 450.00" in page
    assert "Paying only for yourself online, you save NOK 50.00 invoice fee." in page
    assert "1400.00" in page  # what the invoice owes by invoice

    started = client.post(PAY, {"club": family.invoice.club_id, "scope": "family"})
    processor_page = client.get(started["Location"]).content.decode()
    assert "1250.00" in processor_page
    client.post(started["Location"], {"action": "pay"})

    assert Payment.objects.get().amount.amount == Decimal("1250.00")
    assert _credit_notes(family)[0].total.amount == Decimal("-150.00")
    assert _status(family) == InvoiceStatus.PAID
    assert set(statuses(family).values()) == {ACTIVE}
    assert "You have nothing to pay." in client.get(PAY).content.decode()


def test_m11_after_paying_my_own_share_the_family_sees_what_is_left_without_fees(
    family, english, stripe_settings
):
    own, _ = _start(family, "father", CheckoutScope.SELF)
    _stripe_post(own, event_id="evt_father")

    father_page = _client(family.users["father"]).get(PAY).content.decode()
    mother_page = _client(family.users["mother"]).get(PAY).content.decode()

    assert "Pay only for myself" not in father_page  # nothing of his own is left
    assert "Pay for the whole family: NOK 800.00" in mother_page
    assert "Pay online and save NOK 100.00 invoice fee." in mother_page
    assert "Pay only for myself: NOK 500.00" in mother_page
    assert "Paying only for yourself online, you save NOK 50.00 invoice fee." in mother_page


def test_m10_no_saving_is_shown_when_nobody_pays_by_invoice(world, english):
    from tests.billing.online.helpers import build_family

    family = build_family(world)

    page = _client(family.users["mother"]).get(PAY).content.decode()

    assert "invoice fee" not in page
    assert "Pay for the whole family: NOK 1250.00" in page


def test_m10_the_sandbox_checkout_with_fees_is_the_stored_amount(family, settings):
    session, _ = _start(family)  # the amounts do not depend on the provider
    sandbox_session = services.checkout_start(
        actor=family.users["mother"],
        payer=family.persons["mother"],
        invoices=[family.invoice],
        provider=SandboxProvider(),
    )

    stored = SandboxProvider().load(sandbox_session.provider_session_id)
    assert stored["amount_total"] == 125000  # øre
    assert session.total == sandbox_session.total
