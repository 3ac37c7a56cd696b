"""Refunds of over-payments and of payments without an invoice (issue 6 scopes 6-7;
`billing.ledger.overpayments`): exactly the excess, once, to the payer; no credit note (S-05);
events on the refund and on the payment; the ledger counts it as money out."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from djmoney.money import Money

from billing.balances import Balance
from billing.ledger import overpayment_rules as rules
from billing.ledger import overpayments, selectors
from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceStatus
from billing.models_ledger import Refund, RefundEvent, RefundReason, RefundState
from billing.models_payments import MatchState, Payment, PaymentEvent, PaymentSource
from billing.payments import services as payment_services
from clubadmin.capabilities import Capability
from tests.billing.ledger.helpers import SEASON, account, invoice
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


MANAGE = Capability.BILLING_MANAGE
D = Decimal


def _admin(world):
    return world.user("official_this_club", MANAGE)


def _invoice(world, total: str = "500", payer=None):
    payer = payer or PersonFactory(first_name="Kari", last_name="Nordmann")
    return invoice(world.club_a, payer, [(payer, "membership", "", "charge", total)])


def _pay(world, bill, amount: str, token: str) -> Payment:
    """A payment registered by hand, matched like any other (`payment_register_manual`)."""
    return payment_services.payment_register_manual(
        actor=_admin(world),
        invoice=bill,
        amount=D(amount),
        paid_date=datetime.date(SEASON, 2, 20),
        idempotency_key=token,
    )


def _unmatched(world, amount: str = "700", kid: str = "9999999") -> Payment:
    return Payment.objects.create(
        club=world.club_a,
        source=PaymentSource.OCR,
        transaction_key=f"ocr:{kid}:{amount}",
        amount=Money(amount, "NOK"),
        paid_date=datetime.date(SEASON, 3, 5),
        kid=kid,
        payer_name="Ola Hansen",
        payer_account="12345678903",
        match_state=MatchState.UNMATCHED,
    )


def _state():
    return (
        sorted(Refund.objects.values_list("pk", "state", "amount", "payment_id", "credit_note_id")),
        RefundEvent.objects.count(),
        sorted(PaymentEvent.objects.values_list("pk", "kind", "from_state", "to_state")),
        sorted(Payment.objects.values_list("pk", "invoice_id", "match_state", "reconciled_at")),
        Invoice.objects.count(),
    )


def _listed(world) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    rows = overpayments.reconciliation_list(_admin(world), world.club_a)
    return {p.pk: (p.refund_excess, p.refunded, p.refund_left) for p in rows}


# ------------------------------------------------------------------ the rules


def test_rules_unmatched_payment_is_all_excess_and_a_reversal_none():
    assert rules.payment_excess(D(700), None) == D(700)
    assert rules.refund_left(D(700), D(0), None) == D(700)
    assert rules.refund_left(D(700), D(700), None) == D(0)
    assert rules.payment_excess(D(-700), None) == D(0)


def test_rules_excess_in_the_order_payments_were_recorded():
    # invoice 500: 700 then 700; the first pays 500 + 200 too much, the second all 700
    first = rules.InvoiceMoney(claim=D(500), paid=D(1400), paid_through=D(700), refunded=D(0))
    second = rules.InvoiceMoney(claim=D(500), paid=D(1400), paid_through=D(1400), refunded=D(0))
    assert rules.payment_excess(D(700), first) == D(200)
    assert rules.payment_excess(D(700), second) == D(700)
    # the invoice caps the refunds of all its payments together
    refunded = rules.InvoiceMoney(claim=D(500), paid=D(1400), paid_through=D(1400), refunded=D(800))
    assert rules.refund_left(D(700), D(0), refunded) == D(100)


def test_rules_s06_claim_is_the_balances_claim_with_fees_interest_s05_void_claims_nothing():
    balance = Balance(
        1, "invoice", "paid", billed=D(500), credited=D(200), fees=D(35), interest=D("4.20")
    )
    assert rules.invoice_claim(balance.claim, balance.status) == D("339.20")
    assert rules.invoice_claim(D(535), "void") == D(0)
    assert rules.invoice_claim(D(500), "credited") == D(0)
    partial = rules.InvoiceMoney(claim=D(500), paid=D(300), paid_through=D(300), refunded=D(0))
    assert rules.refund_left(D(300), D(0), partial) == D(0)


# ------------------------------------------------------------------ over-payments


def test_overpayment_refund_is_exactly_the_excess_to_the_payer_without_credit_note(world):
    bill = _invoice(world, "500")
    account(bill.payer, "86011117947")
    payment = _pay(world, bill, "1000", "t1")
    assert payment.match_state == MatchState.OVER
    invoices = Invoice.objects.count()

    refund = overpayments.refund_propose_overpayment(
        actor=_admin(world), payment=payment, amount=D("500.00")
    )

    assert refund.amount == Money("500.00", "NOK")
    assert (refund.reason, refund.state, refund.payment, refund.payee) == (
        RefundReason.OVERPAYMENT,
        RefundState.PROPOSED,
        payment,
        bill.payer,
    )
    assert (refund.person, refund.invoice, refund.credit_note, refund.season) == (
        None,
        None,
        None,
        SEASON,
    )
    assert (refund.account_number, refund.account_owner) == ("86011117947", "Kari Nordmann")
    assert list(refund.events.values_list("from_state", "to_state")) == [("", "proposed")]
    assert list(
        payment.events.filter(kind=overpayments.PAYMENT_EVENT_KIND).values_list(
            "from_state", "to_state", "note"
        )
    ) == [("", "proposed", f"REF-{refund.pk} {refund.amount}")]
    assert Invoice.objects.count() == invoices  # no credit note
    assert payment.pk not in _listed(world)  # refunded in full: off the reconciliation list


def test_paid_twice_the_second_payment_is_refunded_in_full(world):
    bill = _invoice(world, "700")
    first = _pay(world, bill, "700", "t1")
    second = _pay(world, bill, "700", "t2")
    assert (first.match_state, second.match_state) == (MatchState.MATCHED, MatchState.OVER)
    assert _listed(world) == {second.pk: (D("700.00"), D("0.00"), D("700.00"))}

    refund = overpayments.refund_propose_overpayment(actor=_admin(world), payment=second)

    assert refund.amount == Money("700.00", "NOK")
    assert _listed(world) == {}


def test_double_submit_creates_one_refund(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    first = overpayments.refund_propose_overpayment(
        actor=_admin(world), payment=payment, amount=D("500.00")
    )
    before = _state()

    again = overpayments.refund_propose_overpayment(
        actor=_admin(world), payment=payment, amount=D("500.00")
    )

    assert again == first
    assert _state() == before


def test_database_allows_one_live_refund_per_payment(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            club=world.club_a,
            payee=bill.payer,
            season=SEASON,
            reason=RefundReason.OVERPAYMENT,
            amount=Money("500", "NOK"),
            description="again",
            payment=payment,
        )
    # a cancelled refund is not live: a new proposal may follow it
    overpayments.refund_cancel(actor=None, refund=refund)
    again = overpayments.refund_propose_overpayment(actor=None, payment=payment)
    assert (again.pk != refund.pk, again.amount) == (True, Money("500.00", "NOK"))


def test_database_refuses_a_credit_note_on_a_payment_refund(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=refund.pk).update(invoice=bill)


def test_amount_that_differs_from_what_is_left_proposes_nothing(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    before = _state()

    with pytest.raises(ValidationError) as error:
        overpayments.refund_propose_overpayment(
            actor=_admin(world), payment=payment, amount=D("600.00")
        )

    assert error.value.messages == [str(overpayments.AMOUNT_CHANGED)]
    assert _state() == before


def _remind(bill, fee: str = "35", interest: str = "5") -> Reminder:
    return Reminder.objects.create(
        invoice=bill,
        club=bill.club,
        sequence=1,
        reminded_on=datetime.date(SEASON, 3, 20),
        fee=Money(fee, "NOK"),
        interest=Money(interest, "NOK"),
        due_date=datetime.date(SEASON, 4, 3),
    )


def test_nothing_to_refund_when_reminder_fee_and_interest_take_the_excess_s06(world):
    bill = _invoice(world, "500")
    _remind(bill, "35", "5")
    payment = _pay(world, bill, "540", "t1")
    assert payment.match_state == MatchState.MATCHED  # S-06: fee and interest are claimed
    before = _state()

    with pytest.raises(ValidationError) as error:
        overpayments.refund_propose_overpayment(actor=_admin(world), payment=payment)

    assert error.value.messages == [str(overpayments.NOTHING_TO_REFUND)]
    assert _state() == before
    assert payment.pk not in _listed(world)
    [listed] = overpayments.with_refund_amounts(Payment.objects.filter(pk=payment.pk))
    assert (listed.refund_excess, listed.refunded, listed.refund_left) == (D(0), D(0), D(0))


def test_only_what_passes_fee_and_interest_is_refunded_s06(world):
    bill = _invoice(world, "500")
    _remind(bill, "35", "4.20")
    payment = _pay(world, bill, "600", "t1")
    assert payment.match_state == MatchState.OVER

    assert _listed(world) == {payment.pk: (D("60.80"), D("0.00"), D("60.80"))}
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)

    assert refund.amount == Money("60.80", "NOK")


def test_partly_refunded_payment_stays_on_the_list_with_what_is_left(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    overpayments.refund_propose_overpayment(actor=None, payment=payment)
    assert payment.pk not in _listed(world)
    # a credit note afterwards lowers the claim: 200 more was paid than is asked now
    Invoice.objects.create(
        club=world.club_a,
        number=999,
        kind=InvoiceKind.CREDIT_NOTE,
        credited_invoice=bill,
        season=SEASON,
        payer=bill.payer,
        buyer_name=bill.buyer_name,
        seller_name=bill.seller_name,
        issue_date=datetime.date(SEASON, 4, 1),
        due_date=datetime.date(SEASON, 4, 1),
        total=Money("-200", "NOK"),
    )

    assert _listed(world) == {payment.pk: (D("700.00"), D("500.00"), D("200.00"))}
    summary = overpayments.payment_refund(Payment.objects.get(pk=payment.pk))
    assert (summary.excess, summary.refunded, summary.left, summary.may_refund) == (
        D("700.00"),
        D("500.00"),
        D("200.00"),
        False,  # one live refund per payment: the rest waits (cancel, or mark as dealt with)
    )


def test_the_list_sql_agrees_with_the_rules(world):
    bill = _invoice(world, "500")
    payments = [
        _pay(world, bill, amount, f"t{n}") for n, amount in enumerate(["300", "700", "400"])
    ]
    void = _invoice(world, "100")
    on_void = _pay(world, void, "100", "v")
    Invoice.objects.filter(pk=void.pk).update(status=InvoiceStatus.VOID)
    loose = _unmatched(world)
    overpayments.refund_propose_overpayment(actor=None, payment=payments[1])
    # S-06 fee and interest, and a credit note of part of it: claim 500 - 100 + 35 + 4.20
    reminded = _invoice(world, "500")
    _remind(reminded, "35", "4.20")
    Invoice.objects.create(
        club=world.club_a,
        number=999,
        kind=InvoiceKind.CREDIT_NOTE,
        credited_invoice=reminded,
        season=SEASON,
        payer=reminded.payer,
        buyer_name=reminded.buyer_name,
        seller_name=reminded.seller_name,
        issue_date=datetime.date(SEASON, 4, 1),
        due_date=datetime.date(SEASON, 4, 1),
        total=Money("-100", "NOK"),
    )
    on_reminded = [
        _pay(world, reminded, amount, f"r{n}") for n, amount in enumerate(["300", "200"])
    ]

    listed = {
        p.pk: (p.refund_excess, p.refunded, p.refund_left)
        for p in overpayments.with_refund_amounts(Payment.objects.all())
    }

    for payment in [*payments, on_void, loose, *on_reminded]:
        summary = overpayments.payment_refund(Payment.objects.get(pk=payment.pk))
        assert listed[payment.pk] == (summary.excess, summary.refunded, summary.left), payment
    assert listed[on_reminded[0].pk] == (D("0.00"), D("0.00"), D("0.00"))
    assert listed[on_reminded[1].pk] == (D("60.80"), D("0.00"), D("60.80"))
    assert listed[payments[1].pk] == (D("500.00"), D("500.00"), D("0.00"))
    assert listed[payments[2].pk] == (D("400.00"), D("0.00"), D("400.00"))
    assert listed[on_void.pk][2] == D("100.00")  # S-05: a void invoice asks nothing


def test_without_an_account_the_refund_waits_and_approval_needs_one(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)
    assert refund.account_number == ""
    before = _state()

    with pytest.raises(ValidationError):
        overpayments.refund_approve(actor=_admin(world), refund=refund)
    assert _state() == before

    account(bill.payer, "86011117947")
    approved = overpayments.refund_approve(actor=_admin(world), refund=refund)

    assert (approved.state, approved.account_number, approved.credit_note) == (
        RefundState.APPROVED,
        "86011117947",
        None,
    )
    assert Invoice.objects.count() == before[4]
    assert list(
        payment.events.filter(kind=overpayments.PAYMENT_EVENT_KIND).values_list(
            "from_state", "to_state"
        )
    ) == [("", "proposed"), ("proposed", "approved")]


def test_approval_refused_when_a_reversal_took_the_excess(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    account(bill.payer, "86011117947")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)
    Payment.objects.create(
        club=world.club_a,
        invoice=bill,
        source=PaymentSource.OCR,
        transaction_key="reversal",
        amount=Money("-400", "NOK"),
        paid_date=datetime.date(SEASON, 3, 1),
        kid=bill.kid,
        match_state=MatchState.REVERSAL,
    )
    before = _state()

    with pytest.raises(ValidationError) as error:
        overpayments.refund_approve(actor=None, refund=refund)

    assert error.value.messages == [str(overpayments.NO_LONGER_THERE)]
    assert _state() == before


def test_paid_refund_balances_the_ledger_and_shows_as_money_out(world):
    bill = _invoice(world, "500")
    account(bill.payer, "86011117947")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)
    overpayments.refund_approve(actor=None, refund=refund)

    count = overpayments.refunds_mark_paid(
        actor=_admin(world), club=world.club_a, refund_ids=[refund.pk]
    )

    assert count == 1
    refund.refresh_from_db()
    assert refund.state == RefundState.PAID
    assert list(
        payment.events.filter(kind=overpayments.PAYMENT_EVENT_KIND).values_list(
            "from_state", "to_state"
        )
    ) == [("", "proposed"), ("proposed", "approved"), ("approved", "paid")]
    [season] = selectors.season_totals(_admin(world), world.club_a).seasons
    assert (season.paid, season.refunded, season.balance) == (D(1000), D(500), D(0))


def test_mark_paid_refuses_a_proposed_payment_refund_and_writes_nothing(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)
    before = _state()

    with pytest.raises(ValidationError):
        overpayments.refunds_mark_paid(actor=None, club=world.club_a, refund_ids=[refund.pk])

    assert _state() == before


def test_cancel_puts_the_payment_back_on_the_list(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=payment)

    overpayments.refund_cancel(actor=_admin(world), refund=refund)

    assert _listed(world) == {payment.pk: (D("500.00"), D("0.00"), D("500.00"))}
    assert payment.events.filter(
        kind=overpayments.PAYMENT_EVENT_KIND, from_state="proposed", to_state="cancelled"
    ).exists()


def test_without_billing_capability_nothing_is_proposed(world):
    bill = _invoice(world, "500")
    payment = _pay(world, bill, "1000", "t1")
    loose = _unmatched(world)
    before = _state()

    for role in ("official_without_capability", "official_other_club", "member"):
        user = world.user(role, MANAGE)
        with pytest.raises(PermissionDenied):
            overpayments.refund_propose_overpayment(actor=user, payment=payment)
        with pytest.raises(PermissionDenied):
            overpayments.refund_propose_unmatched(
                actor=user,
                payment=loose,
                account_number="86011117947",
                account_owner="Ola Hansen",
            )

    assert _state() == before


# ------------------------------------------------------------------ payments without invoice


def test_unmatched_payment_refunded_in_full_to_the_account_given(world):
    payment = _unmatched(world, "700")

    refund = overpayments.refund_propose_unmatched(
        actor=_admin(world),
        payment=payment,
        account_number="8601.11.17947",
        account_owner=" Ola Hansen ",
        amount=D("700.00"),
    )

    assert (refund.reason, refund.amount, refund.payee, refund.person) == (
        RefundReason.UNMATCHED_PAYMENT,
        Money("700.00", "NOK"),
        None,
        None,
    )
    assert (refund.account_number, refund.account_owner, refund.season) == (
        "86011117947",
        "Ola Hansen",
        SEASON,
    )
    assert refund.reference == f"REF-{refund.pk} KID 9999999"
    assert payment.pk not in _listed(world)

    approved = overpayments.refund_approve(actor=_admin(world), refund=refund)  # kept as given

    assert (approved.state, approved.account_number) == (RefundState.APPROVED, "86011117947")


@pytest.mark.parametrize(
    ("number", "owner", "field"),
    [("86011117949", "Ola", "account_number"), ("86011117947", "  ", "account_owner")],
)
def test_unmatched_refund_needs_a_valid_account_s04_and_its_owner(world, number, owner, field):
    payment = _unmatched(world)
    before = _state()

    with pytest.raises(ValidationError) as error:
        overpayments.refund_propose_unmatched(
            actor=_admin(world), payment=payment, account_number=number, account_owner=owner
        )

    assert list(error.value.message_dict) == [field]
    assert _state() == before


def test_unmatched_and_overpayment_proposals_refuse_the_other_kind(world):
    bill = _invoice(world, "500")
    over = _pay(world, bill, "1000", "t1")
    loose = _unmatched(world)
    before = _state()

    with pytest.raises(ValidationError, match="no invoice"):
        overpayments.refund_propose_overpayment(actor=None, payment=loose)
    with pytest.raises(ValidationError, match="belongs to an invoice"):
        overpayments.refund_propose_unmatched(
            actor=None, payment=over, account_number="86011117947", account_owner="Kari"
        )

    assert _state() == before


def test_assigning_is_refused_while_the_payment_is_refunded(world):
    bill = _invoice(world, "700")
    payment = _unmatched(world)
    refund = overpayments.refund_propose_unmatched(
        actor=None, payment=payment, account_number="86011117947", account_owner="Ola Hansen"
    )
    before = _state()

    with pytest.raises(ValidationError) as error:
        payment_services.payment_assign(actor=_admin(world), payment=payment, invoice=bill)

    assert error.value.messages == [str(overpayments.PAYMENT_REFUNDING)]
    assert _state() == before

    overpayments.refund_cancel(actor=None, refund=refund)
    assigned = payment_services.payment_assign(actor=_admin(world), payment=payment, invoice=bill)
    assert (assigned.invoice, assigned.match_state) == (bill, MatchState.MATCHED)
