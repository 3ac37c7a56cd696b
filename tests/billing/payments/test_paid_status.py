"""Issue 6 scope 6: the invoice status follows the money (issued <-> partly paid <-> paid)
with an InvoiceEvent per change (STYLE 5), from every place money is recorded or moved; a
void is refused once money is on the invoice (S-05); the claim includes reminder fees (S-06)
and credit notes. M-10: an invoice that becomes paid activates the pending memberships of
the persons with a membership fee on it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from billing.invoicing import services as invoicing_services
from billing.models_delivery import Reminder
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceStatus,
)
from billing.models_online import CheckoutScope
from billing.models_payments import MatchState, Payment, PaymentEvent
from billing.online import provider as online_provider
from billing.online import services as online_services
from billing.payments import matching, ocr, services, status
from members.models import Membership, MembershipStatus
from members.services import memberships as members_services
from tests.billing.online.helpers import SANDBOX_SECRET, build_family
from tests.billing.online.helpers import statuses as family_statuses
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file
from tests.conftest import World
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory

pytestmark = pytest.mark.django_db

MANAGE = "billing.manage"
PAID_ON = datetime.date(2026, 3, 2)
ISSUED, PARTLY_PAID, PAID = "issued", "partly_paid", "paid"
D = Decimal


@pytest.fixture
def admin(world: World):
    return world.user("official_this_club", MANAGE)


@pytest.fixture
def invoice(world: World):
    return make_invoice(world.club_a, world.player_a, 1, "500.00")


def status_of(invoice: Invoice) -> str:
    return Invoice.objects.get(pk=invoice.pk).status


def payment_events(invoice: Invoice) -> list[tuple]:
    return list(
        InvoiceEvent.objects.filter(invoice=invoice, kind=status.PAYMENT_EVENT_KIND)
        .order_by("pk")
        .values_list("from_status", "to_status", "actor_id")
    )


def register(admin, invoice, amount, key):  # type: ignore[no-untyped-def]
    return services.payment_register_manual(
        actor=admin,
        invoice=invoice,
        amount=D(amount),
        paid_date=PAID_ON,
        idempotency_key=key,
    )


def import_file(world, admin, transactions, transmission="1000081"):  # type: ignore[no-untyped-def]
    return services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file(transactions, transmission=transmission),
        file_name=f"{transmission}.ocr",
    )


# ------------------------------------------------------------------ the pure rule


@pytest.mark.parametrize(
    ("claim", "paid", "expected"),
    [
        (D("500"), D("0"), ISSUED),
        (D("500"), D("-100"), ISSUED),  # a reversal alone
        (D("500"), D("200"), PARTLY_PAID),
        (D("500"), D("500"), PAID),
        (D("500"), D("600"), PAID),  # overpaid: paid (the excess is on the reconciliation list)
        (D("535"), D("500"), PARTLY_PAID),  # S-06: the reminder fee is part of the claim
        (D("0"), D("0"), ISSUED),  # nothing paid is never "paid"
    ],
)
def test_s06_claim_status(claim, paid, expected):
    assert matching.claim_status(claim, paid) == expected


# ------------------------------------------------------------------ manual, OCR, reversal


def test_manual_payments_move_issued_partly_paid_paid_with_events(admin, invoice):
    register(admin, invoice, "200.00", "t1")
    assert status_of(invoice) == PARTLY_PAID

    register(admin, invoice, "300.00", "t2")

    assert status_of(invoice) == PAID
    assert payment_events(invoice) == [
        (ISSUED, PARTLY_PAID, admin.pk),
        (PARTLY_PAID, PAID, admin.pk),
    ]


def test_manual_double_submit_changes_the_status_once(admin, invoice):
    register(admin, invoice, "500.00", "same")
    register(admin, invoice, "500.00", "same")

    assert status_of(invoice) == PAID
    assert len(payment_events(invoice)) == 1


def test_s02_ocr_import_updates_the_touched_invoices_and_reversal_reopens(world, admin):
    paid = make_invoice(world.club_a, world.player_a, 1, "500.00")
    partly = make_invoice(world.club_a, world.player_a, 2, "700.00")
    untouched = make_invoice(world.club_a, world.player_a, 3, "200.00")

    import_file(world, admin, [Tx("0000001", "500.00", "1"), Tx("0000002", "300.00", "2")])

    assert (status_of(paid), status_of(partly), status_of(untouched)) == (
        PAID,
        PARTLY_PAID,
        ISSUED,
    )
    assert payment_events(paid) == [(ISSUED, PAID, admin.pk)]
    assert payment_events(partly) == [(ISSUED, PARTLY_PAID, admin.pk)]
    assert payment_events(untouched) == []

    # S-02: a reversal (type 18/20, negative) of part of the payment takes "paid" back.
    import_file(world, admin, [Tx("0000001", "100.00", "9", type=20)], transmission="1000082")

    assert status_of(paid) == PARTLY_PAID
    assert payment_events(paid) == [(ISSUED, PAID, admin.pk), (PAID, PARTLY_PAID, admin.pk)]

    import_file(world, admin, [Tx("0000001", "400.00", "10", type=18)], transmission="1000083")

    assert status_of(paid) == ISSUED
    assert payment_events(paid)[-1] == (PARTLY_PAID, ISSUED, admin.pk)


def test_the_same_file_twice_changes_no_status_twice(world, admin, invoice):
    content = ocr_file([Tx("0000001", "500.00", "1")])
    for _attempt in range(2):
        services.payment_file_import(actor=admin, club=world.club_a, content=content, file_name="x")

    assert status_of(invoice) == PAID
    assert payment_events(invoice) == [(ISSUED, PAID, admin.pk)]


def test_void_and_credited_invoices_are_never_touched(world, admin):
    void = make_invoice(world.club_a, world.player_a, 1, "500.00", status=InvoiceStatus.VOID)
    credited = make_invoice(
        world.club_a, world.player_a, 2, "500.00", status=InvoiceStatus.CREDITED
    )

    import_file(world, admin, [Tx("0000001", "500.00", "1"), Tx("0000002", "500.00", "2")])

    assert (status_of(void), status_of(credited)) == (InvoiceStatus.VOID, InvoiceStatus.CREDITED)
    assert InvoiceEvent.objects.filter(kind=status.PAYMENT_EVENT_KIND).count() == 0
    # S-05: money on a closed invoice is an overpayment for the reconciliation list.
    assert set(Payment.objects.values_list("match_state", flat=True)) == {MatchState.OVER}


# ------------------------------------------------------------------ assign, online


def test_assigning_an_unmatched_payment_pays_the_invoice(world, admin, invoice):
    import_file(world, admin, [Tx("9999999", "500.00", "1")])
    payment = Payment.objects.get()
    assert status_of(invoice) == ISSUED

    services.payment_assign(actor=admin, payment=payment, invoice=invoice)

    assert status_of(invoice) == PAID
    assert payment_events(invoice) == [(ISSUED, PAID, admin.pk)]
    assert PaymentEvent.objects.filter(payment=payment, kind="assigned").count() == 1


@pytest.fixture
def online_settings(settings, tmp_path):
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.SANDBOX_WEBHOOK_SECRET = SANDBOX_SECRET
    settings.SANDBOX_PAYMENTS_DIR = str(tmp_path / "sandbox")
    settings.SANDBOX_WEBHOOK_URL = ""


def paid_event(session, event_id="evt_1"):  # type: ignore[no-untyped-def]
    return online_provider.WebhookEvent(
        provider=session.provider,
        event_id=event_id,
        event_type="checkout.session.completed",
        session_id=session.provider_session_id,
        amount=session.total.amount,
        currency="NOK",
        status=online_provider.EventStatus.PAID,
    )


@pytest.mark.parametrize(("scope", "expected"), [("family", PAID), ("self", PARTLY_PAID)])
def test_m10_online_payment_moves_the_status(world, online_settings, scope, expected):
    family = build_family(world)
    payer = family.users["mother" if scope == "family" else "father"]
    session = online_services.checkout_start(
        actor=payer, payer=payer.person, invoices=[family.invoice], scope=CheckoutScope(scope)
    )

    online_services.online_payment_record(paid_event(session))
    online_services.online_payment_record(paid_event(session))  # redelivered: nothing new

    assert status_of(family.invoice) == expected
    assert payment_events(family.invoice) == [(ISSUED, expected, None)]


# ------------------------------------------------------------------ the claim (S-06)


def test_s06_an_unpaid_reminder_fee_keeps_the_invoice_partly_paid(admin, invoice):
    Reminder.objects.create(
        invoice=invoice,
        club=invoice.club,
        sequence=1,
        reminded_on=datetime.date(2026, 3, 20),
        due_date=datetime.date(2026, 4, 3),
        fee=Money("35.00", "NOK"),
    )

    register(admin, invoice, "500.00", "t1")
    assert status_of(invoice) == PARTLY_PAID

    register(admin, invoice, "35.00", "t2")
    assert status_of(invoice) == PAID


def test_a_partial_credit_note_lowers_the_claim(admin, invoice):
    InvoiceNumberSeries.objects.create(club=invoice.club, next_number=2)
    lines = [
        InvoiceLine.objects.create(
            invoice=invoice,
            club=invoice.club,
            person=invoice.payer,
            position=position,
            fee=fee,
            key_fee=fee,
            line_kind="charge",
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 12, 31),
            description=fee,
            amount=Money(amount, "NOK"),
        )
        for position, (fee, amount) in enumerate(
            [("membership", "300.00"), ("activity", "200.00")], start=1
        )
    ]
    register(admin, invoice, "300.00", "t1")
    assert status_of(invoice) == PARTLY_PAID

    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Left the group", lines=[lines[1]]
    )

    assert status_of(invoice) == PAID
    assert payment_events(invoice)[-1] == (PARTLY_PAID, PAID, admin.pk)


# ------------------------------------------------------------------ void refused (S-05)


def test_s05_void_is_refused_when_the_invoice_has_payments(admin, invoice):
    register(admin, invoice, "100.00", "t1")
    before = (status_of(invoice), InvoiceEvent.objects.count(), Payment.objects.count())

    with pytest.raises(ValidationError) as error:
        invoicing_services.invoice_void(actor=admin, invoice=invoice, reason="Wrong")

    assert error.value.messages == [str(invoicing_services.HAS_PAYMENTS)]
    assert (status_of(invoice), InvoiceEvent.objects.count(), Payment.objects.count()) == before
    assert InvoiceLine.objects.filter(invoice=invoice, is_billed=False).count() == 0


def test_s05_void_is_allowed_when_a_reversal_cancelled_the_payment(world, admin, invoice):
    import_file(world, admin, [Tx("0000001", "500.00", "1")])
    import_file(world, admin, [Tx("0000001", "500.00", "2", type=18)], transmission="1000082")
    assert status_of(invoice) == ISSUED

    invoicing_services.invoice_void(actor=admin, invoice=invoice, reason="Wrong")

    assert status_of(invoice) == InvoiceStatus.VOID


# ------------------------------------------------------------------ set-based


def test_a_1000_invoice_import_updates_statuses_in_bounded_queries(world, admin):
    count = 1000
    invoices = [
        make_invoice(world.club_a, world.player_a, number, "500.00")
        for number in range(1, count + 1)
    ]
    transactions = [
        Tx(f"{number:07d}", "500.00" if number % 2 else "200.00", str(number))
        for number in range(1, count + 1)
    ]
    content = ocr_file(transactions)

    with CaptureQueriesContext(connection) as queries:
        services.payment_file_import(
            actor=admin, club=world.club_a, content=content, file_name="big"
        )

    assert len(queries) <= 25
    statuses = dict(Invoice.objects.values_list("number", "status"))
    assert statuses == {
        invoice.number: PAID if invoice.number % 2 else PARTLY_PAID for invoice in invoices
    }
    assert InvoiceEvent.objects.filter(kind=status.PAYMENT_EVENT_KIND).count() == count


def test_refresh_of_nothing_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert status.invoices_refresh_paid_status(actor=None, invoice_ids=[None]) == []


# ------------------------------------------------------------------ the fast OCR records


def test_s02_fast_transaction_records_equal_netsgiro_records(monkeypatch):
    content = ocr_file(
        [
            Tx("0000001", "500.00", "1"),
            Tx("0000002", "300.50", "2", type=18),
            Tx("0000003", "250.00", "3", type=20),  # with an amount item 3 (text)
        ]
    )
    fast = ocr.parse(content)
    monkeypatch.setattr(ocr, "USE_FAST_RECORDS", False)

    assert ocr.parse(content) == fast
    assert [t.amount for t in fast.transactions] == [D("500.00"), D("-300.50"), D("-250.00")]


def test_s02_a_malformed_transaction_record_still_gets_netsgiros_error():
    lines = ocr_file([Tx("0000001", "500.00", "1")]).decode("iso-8859-1").splitlines()
    lines[2] = lines[2][:30] + "X" + lines[2][31:]  # a letter in the settlement serial number (30)

    with pytest.raises(ocr.OcrError) as error:
        ocr.parse("\n".join(lines).encode("iso-8859-1"))

    expected = str(ocr.BAD_RECORD).format(line=3, reason="<reason>").split("<reason>")[0]
    assert str(error.value).startswith(expected)
    assert "did not match TransactionAmountItem1" in str(error.value)  # netsgiro's own error


# ------------------------------------------------------------------ M-10 activation


def membership_changes(membership: Membership) -> list[tuple]:
    """The membership's history records after its creation, oldest first."""
    return list(
        Membership.history.filter(id=membership.pk, history_type="~")
        .order_by("history_date", "history_id")
        .values_list("status", "history_user_id", "history_change_reason")
    )


def membership_status(membership: Membership) -> str:
    return Membership.objects.get(pk=membership.pk).status


def membership_invoice(world, number: int, lines: list[tuple], total: str | None = None):  # type: ignore[no-untyped-def]
    """An invoice of club A to the first line's person; lines are (person, fee, amount)."""
    amount_total = total or str(sum(D(amount) for _person, _fee, amount in lines))
    invoice = make_invoice(world.club_a, lines[0][0], number, amount_total)
    for position, (person, fee, amount) in enumerate(lines, start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=world.club_a,
            person=person,
            position=position,
            fee=fee,
            key_fee=fee,
            line_kind="charge",
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 12, 31),
            description=fee,
            amount=Money(amount, "NOK"),
        )
    return invoice


def pending(world, person=None) -> Membership:  # type: ignore[no-untyped-def]
    return MembershipFactory(
        person=person or PersonFactory(),
        club=world.club_a,
        status=MembershipStatus.PENDING_VERIFICATION,
    )


def test_m10_an_ocr_payment_that_pays_the_invoice_activates_the_membership(world, admin):
    membership = pending(world)
    membership_invoice(world, 1, [(membership.person, "membership", "500.00")])

    import_file(world, admin, [Tx("0000001", "500.00", "1")])

    assert membership_status(membership) == MembershipStatus.ACTIVE
    assert membership_changes(membership) == [
        (MembershipStatus.ACTIVE, admin.pk, members_services.ACTIVATED_BY_PAYMENT)
    ]


def test_m10_a_partial_payment_activates_nobody(world, admin):
    membership = pending(world)
    membership_invoice(world, 1, [(membership.person, "membership", "500.00")])

    import_file(world, admin, [Tx("0000001", "499.00", "1")])

    assert membership_status(membership) == MembershipStatus.PENDING_VERIFICATION
    assert membership_changes(membership) == []

    # the rest, in the next file: now it is paid
    import_file(world, admin, [Tx("0000001", "1.00", "2")], transmission="1000082")

    assert membership_status(membership) == MembershipStatus.ACTIVE


def test_m10_s06_paid_total_with_an_unpaid_reminder_fee_activates_nobody(world, admin):
    membership = pending(world)
    invoice = membership_invoice(world, 1, [(membership.person, "membership", "500.00")])
    Reminder.objects.create(
        invoice=invoice,
        club=invoice.club,
        sequence=1,
        reminded_on=datetime.date(2026, 3, 20),
        due_date=datetime.date(2026, 4, 3),
        fee=Money("35.00", "NOK"),
    )

    register(admin, invoice, "500.00", "t1")
    assert membership_status(membership) == MembershipStatus.PENDING_VERIFICATION

    register(admin, invoice, "35.00", "t2")
    assert membership_status(membership) == MembershipStatus.ACTIVE


def test_m11_m10_a_paid_family_invoice_activates_every_person_on_it(world, admin):
    family = build_family(world)
    other = pending(world)  # a pending member of the club not on the invoice

    import_file(world, admin, [Tx(family.invoice.kid, str(family.total), "1")])

    assert set(family_statuses(family).values()) == {MembershipStatus.ACTIVE}
    assert membership_status(other) == MembershipStatus.PENDING_VERIFICATION


def test_m10_only_membership_fee_charges_still_billed_activate(world, admin):
    member = pending(world)
    activity_only = pending(world)
    credited_away = pending(world)
    invoice = membership_invoice(
        world,
        1,
        [
            (member.person, "membership", "500.00"),
            (activity_only.person, "activity", "800.00"),
            (credited_away.person, "membership", "500.00"),
        ],
    )
    InvoiceNumberSeries.objects.create(club=invoice.club, next_number=2)
    credited_line = InvoiceLine.objects.get(invoice=invoice, position=3)
    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Not a member after all", lines=[credited_line]
    )

    import_file(world, admin, [Tx("0000001", "1300.00", "1")])

    assert status_of(invoice) == PAID
    assert (
        membership_status(member),
        membership_status(activity_only),
        membership_status(credited_away),
    ) == (
        MembershipStatus.ACTIVE,
        MembershipStatus.PENDING_VERIFICATION,
        MembershipStatus.PENDING_VERIFICATION,
    )


def test_m10_ended_and_active_memberships_and_other_clubs_are_left_as_they_are(world, admin):
    person = PersonFactory()
    ended = MembershipFactory(
        person=person,
        club=world.club_a,
        status=MembershipStatus.ENDED,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2021, 12, 31),
    )
    elsewhere = MembershipFactory(
        person=person, club=world.club_b, status=MembershipStatus.PENDING_VERIFICATION
    )
    membership_invoice(world, 1, [(person, "membership", "500.00")])

    import_file(world, admin, [Tx("0000001", "500.00", "1")])

    assert membership_status(ended) == MembershipStatus.ENDED
    assert membership_status(elsewhere) == MembershipStatus.PENDING_VERIFICATION
    assert membership_changes(ended) == membership_changes(elsewhere) == []


def test_m10_manual_payment_and_assignment_activate(world, admin):
    by_hand = pending(world)
    assigned = pending(world)
    first = membership_invoice(world, 1, [(by_hand.person, "membership", "500.00")])
    second = membership_invoice(world, 2, [(assigned.person, "membership", "500.00")])

    register(admin, first, "500.00", "t1")
    import_file(world, admin, [Tx("9999999", "500.00", "1")])
    assert membership_status(assigned) == MembershipStatus.PENDING_VERIFICATION
    services.payment_assign(actor=admin, payment=Payment.objects.get(kid="9999999"), invoice=second)

    assert membership_status(by_hand) == MembershipStatus.ACTIVE
    assert membership_status(assigned) == MembershipStatus.ACTIVE


def test_m10_a_credit_note_that_leaves_the_invoice_paid_activates(world, admin):
    membership = pending(world)
    invoice = membership_invoice(
        world,
        1,
        [(membership.person, "membership", "500.00"), (membership.person, "activity", "300.00")],
    )
    InvoiceNumberSeries.objects.create(club=invoice.club, next_number=2)
    register(admin, invoice, "500.00", "t1")
    assert membership_status(membership) == MembershipStatus.PENDING_VERIFICATION
    activity = InvoiceLine.objects.get(invoice=invoice, fee="activity")

    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Left the group", amounts={activity.pk: D("300.00")}
    )

    assert status_of(invoice) == PAID
    assert membership_changes(membership) == [
        (MembershipStatus.ACTIVE, admin.pk, members_services.ACTIVATED_BY_PAYMENT)
    ]


def test_m10_online_payment_activates_once_with_its_own_reason(world, online_settings):
    family = build_family(world)
    payer = family.users["mother"]
    session = online_services.checkout_start(
        actor=payer, payer=payer.person, invoices=[family.invoice], scope=CheckoutScope.FAMILY
    )

    online_services.online_payment_record(paid_event(session))

    assert status_of(family.invoice) == PAID
    for membership in family.memberships.values():
        assert membership_changes(membership) == [
            (MembershipStatus.ACTIVE, None, members_services.ACTIVATED_BY_ONLINE_PAYMENT)
        ]


def test_m10_a_second_refresh_activates_nothing_again(world, admin):
    membership = pending(world)
    invoice = membership_invoice(world, 1, [(membership.person, "membership", "500.00")])
    register(admin, invoice, "500.00", "t1")

    assert status.invoices_refresh_paid_status(actor=admin, invoice_ids=[invoice.pk]) == []
    assert len(membership_changes(membership)) == 1


def test_m10_a_big_import_activates_set_based(world, admin):
    count = 200
    memberships = [pending(world) for _index in range(count)]
    for number, membership in enumerate(memberships, start=1):
        membership_invoice(world, number, [(membership.person, "membership", "500.00")])
    content = ocr_file([Tx(f"{n:07d}", "500.00", str(n)) for n in range(1, count + 1)])

    with CaptureQueriesContext(connection) as queries:
        services.payment_file_import(
            actor=admin, club=world.club_a, content=content, file_name="big"
        )

    assert len(queries) <= 30
    assert set(
        Membership.objects.filter(pk__in=[m.pk for m in memberships]).values_list(
            "status", flat=True
        )
    ) == {MembershipStatus.ACTIVE}


def test_m10_a_refresh_without_pending_memberships_asks_one_query_more(world, admin):
    invoice = membership_invoice(world, 1, [(world.player_a, "membership", "500.00")])
    Payment.objects.create(
        club=invoice.club,
        invoice=invoice,
        source="manual",
        transaction_key="m1",
        amount=Money("500.00", "NOK"),
        paid_date=PAID_ON,
        kid=invoice.kid,
        match_state=MatchState.MATCHED,
    )

    with CaptureQueriesContext(connection) as queries:
        status.invoices_refresh_paid_status(actor=admin, invoice_ids=[invoice.pk])

    assert status_of(invoice) == PAID
    # the persons to activate: none waiting, so no activation
    assert sum("members_membership" in q["sql"] for q in queries.captured_queries) == 1
