"""Issue 6 scope 6: payments registered by hand (double-submit safe), assigning an unmatched
payment from the reconciliation list, marking an entry reconciled."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models_payments import MatchState, Payment, PaymentEvent
from billing.payments import selectors, services
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file

pytestmark = pytest.mark.django_db

MANAGE = "billing.manage"
PAID_ON = datetime.date(2026, 3, 2)


@pytest.fixture
def admin(world):
    return world.user("official_this_club", MANAGE)


@pytest.fixture
def invoice(world):
    return make_invoice(world.club_a, world.player_a, 1, "500.00")


def register(admin, invoice, amount="500.00", key="token-1"):
    return services.payment_register_manual(
        actor=admin,
        invoice=invoice,
        amount=Decimal(amount),
        paid_date=PAID_ON,
        idempotency_key=key,
        note="Cash at the AGM",
    )


def test_manual_payment_is_recorded_and_matched(admin, invoice):
    payment = register(admin, invoice)

    assert payment.match_state == MatchState.MATCHED
    assert payment.source == "manual"
    assert payment.amount.amount == Decimal("500.00")
    assert payment.recorded_by == admin
    assert list(payment.events.values_list("kind", "to_state", "actor_id")) == [
        ("recorded", "matched", admin.pk)
    ]
    assert selectors.invoice_paid_status(invoice) == "paid"


def test_manual_double_submit_records_once(admin, invoice):
    first = register(admin, invoice)

    second = register(admin, invoice)

    assert second.pk == first.pk
    assert Payment.objects.count() == 1
    assert PaymentEvent.objects.count() == 1


def test_manual_partial_then_rest(admin, invoice):
    assert register(admin, invoice, "200.00", "a").match_state == MatchState.PARTIAL
    assert register(admin, invoice, "300.00", "b").match_state == MatchState.MATCHED


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_manual_amount_must_be_positive(admin, invoice, amount):
    with pytest.raises(ValidationError) as error:
        register(admin, invoice, amount)

    assert error.value.message_dict == {"amount": [services.AMOUNT_NOT_POSITIVE]}
    assert Payment.objects.count() == 0


def test_manual_needs_billing_manage(world, invoice):
    with pytest.raises(PermissionDenied):
        register(world.user("official_other_club", MANAGE), invoice)

    assert Payment.objects.count() == 0


def test_assign_unmatched_payment_to_invoice(world, admin, invoice):
    services.payment_file_import(
        actor=admin, club=world.club_a, content=ocr_file([Tx("1234", "500.00", "1")]), file_name="f"
    )
    payment = Payment.objects.get()
    assert payment.match_state == MatchState.UNMATCHED

    assigned = services.payment_assign(actor=admin, payment=payment, invoice=invoice)

    assert (assigned.invoice, assigned.match_state) == (invoice, MatchState.MATCHED)
    assert assigned.reconciled_at is not None
    assert list(selectors.reconciliation_list(admin, world.club_a)) == []
    event = assigned.events.get(kind="assigned")
    assert (event.from_state, event.to_state, event.invoice) == ("unmatched", "matched", invoice)


def test_assign_refuses_an_assigned_payment_and_other_clubs_invoice(world, admin, invoice):
    payment = register(admin, invoice)
    other = make_invoice(world.club_b, world.player_a, 1, "500.00")

    with pytest.raises(ValidationError) as error:
        services.payment_assign(actor=admin, payment=payment, invoice=other)
    assert error.value.message_dict == {"invoice": [services.INVOICE_NOT_PAYABLE]}

    with pytest.raises(ValidationError) as error:
        services.payment_assign(actor=admin, payment=payment, invoice=invoice)
    assert error.value.messages == [services.ALREADY_ASSIGNED]
    assert PaymentEvent.objects.count() == 1


def test_reconcile_takes_an_overpayment_off_the_list(world, admin, invoice):
    payment = register(admin, invoice, "600.00")
    assert payment.match_state == MatchState.OVER

    services.payment_reconcile(actor=admin, payment=payment, note="Refunded 100")

    assert list(selectors.reconciliation_list(admin, world.club_a)) == []
    assert payment.events.get(kind="reconciled").note == "Refunded 100"
    with pytest.raises(ValidationError):
        services.payment_reconcile(actor=admin, payment=payment)
