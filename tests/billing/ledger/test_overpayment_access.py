"""Access matrix (STYLE 17) of refunding over-payments and payments without an invoice
(issue 6 scopes 6-7): the refund page and its proposals need billing.manage in the club (the
reconciliation list's check); approve, cancel and mark paid keep the payout list's check.
Denied = 404 (302 to login for anonymous) AND nothing changed. There is no API endpoint for
payments or refunds."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing.ledger import overpayments
from billing.models_ledger import Refund, RefundEvent
from billing.models_payments import MatchState, Payment, PaymentEvent, PaymentSource
from billing.payments import services as payment_services
from clubadmin.capabilities import Capability
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.ledger.helpers import SEASON, invoice
from tests.conftest import ROLES
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = Capability.BILLING_MANAGE


@pytest.fixture
def refund_world(world):
    payer = PersonFactory()
    bill = invoice(world.club_a, payer, [(payer, "membership", "", "charge", "500")])
    world.over = payment_services.payment_register_manual(
        actor=world.user("official_this_club", MANAGE),
        invoice=bill,
        amount=Decimal(1000),
        paid_date=datetime.date(SEASON, 2, 20),
        idempotency_key="over",
    )
    world.loose = Payment.objects.create(
        club=world.club_a,
        source=PaymentSource.OCR,
        transaction_key="loose",
        amount=Money("700", "NOK"),
        paid_date=datetime.date(SEASON, 3, 5),
        kid="9999999",
        match_state=MatchState.UNMATCHED,
    )
    return world


def _state(world):
    return (
        sorted(Refund.objects.values_list("pk", "state", "amount", "paid_on")),
        RefundEvent.objects.count(),
        PaymentEvent.objects.count(),
        sorted(Payment.objects.values_list("pk", "invoice_id", "match_state")),
    )


def _refund_of_loose(world) -> Refund:
    return overpayments.refund_propose_unmatched(
        actor=None, payment=world.loose, account_number="86011117947", account_owner="Ola Hansen"
    )


def _html(name, send, state=_state, allowed_status=302):
    return Case(name, MANAGE, send, allowed_status, HTML_DENIED, 302, state)


def _refund_page(attribute):
    return lambda world: reverse("billing:payment-refund", args=[getattr(world, attribute).pk])


def _refund_url(name):
    return lambda world: reverse(name, args=[Refund.objects.get().pk])


CASES = [
    _html("refund page (over-payment)", get(_refund_page("over")), lambda w: None, 200),
    _html("refund page (no invoice)", get(_refund_page("loose")), lambda w: None, 200),
    _html(
        "refund the excess",
        post(_refund_page("over"), lambda world: {"amount": "500.00", "note": ""}),
    ),
    _html(
        "refund to the payer",
        post(
            _refund_page("loose"),
            lambda world: {
                "amount": "700.00",
                "account_number": "86011117947",
                "account_owner": "Ola Hansen",
            },
        ),
    ),
    _html(
        "assign (no refund)",
        post(
            lambda world: reverse("billing:payment-assign", args=[world.loose.pk]),
            lambda world: {"invoice_number": 1},
        ),
    ),
    _html("approve", post(_refund_url("billing:refund-approve"))),
    _html("cancel", post(_refund_url("billing:refund-cancel"))),
    _html(
        "mark paid",
        post(
            lambda world: reverse("billing:refund-mark-paid", args=[world.club_a.pk]),
            lambda world: {"refunds": [Refund.objects.get().pk]},
        ),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_overpayment_refund_access_matrix(refund_world, case, role):
    if case.name in ("approve", "cancel"):
        _refund_of_loose(refund_world)
    elif case.name == "mark paid":
        overpayments.refund_approve(actor=None, refund=_refund_of_loose(refund_world))
    check_case(refund_world, case, role)


def test_refund_page_of_another_clubs_payment_is_404_for_this_clubs_official(refund_world):
    other = Payment.objects.create(
        club=refund_world.club_b,
        source=PaymentSource.OCR,
        transaction_key="other",
        amount=Money("300", "NOK"),
        paid_date=datetime.date(SEASON, 3, 5),
        match_state=MatchState.UNMATCHED,
    )
    client = refund_world.client("official_this_club", MANAGE)
    url = reverse("billing:payment-refund", args=[other.pk])
    data = {"amount": "300.00", "account_number": "86011117947", "account_owner": "X"}

    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    assert not Refund.objects.exists()
