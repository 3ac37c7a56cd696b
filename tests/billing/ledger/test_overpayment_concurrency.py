"""Issue 6 scopes 6-7: the excess of a payment is refunded once, also when the proposals
come at the same moment (two clicks, two administrators): the payment's row lock orders
them, the second finds the first's refund (`billing.ledger.overpayments`)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from djmoney.money import Money

from billing.ledger import overpayments
from billing.models_ledger import Refund, RefundEvent
from billing.models_payments import PaymentEvent
from billing.payments import services as payment_services
from clubadmin.capabilities import Capability
from tests.billing.ledger.helpers import SEASON, invoice
from tests.members.factories import PersonFactory

PROPOSALS = 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_proposals_of_the_same_excess_create_one_refund(world):
    admin = world.user("official_this_club", Capability.BILLING_MANAGE)
    payer = PersonFactory()
    bill = invoice(world.club_a, payer, [(payer, "membership", "", "charge", "500")])
    payment = payment_services.payment_register_manual(
        actor=admin,
        invoice=bill,
        amount=Decimal(1000),
        paid_date=datetime.date(SEASON, 2, 20),
        idempotency_key="over",
    )
    barrier = threading.Barrier(PROPOSALS)
    refunds, errors = [], []

    def propose() -> None:
        try:
            barrier.wait()
            refund = overpayments.refund_propose_overpayment(
                actor=admin, payment=payment, amount=Decimal("500.00")
            )
            refunds.append(refund.pk)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=propose) for _ in range(PROPOSALS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    [refund] = Refund.objects.all()
    assert refunds == [refund.pk] * PROPOSALS
    assert refund.amount == Money("500.00", "NOK")
    assert RefundEvent.objects.count() == 1
    assert PaymentEvent.objects.filter(kind=overpayments.PAYMENT_EVENT_KIND).count() == 1
