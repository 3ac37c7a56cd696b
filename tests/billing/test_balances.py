"""What an invoice owes, in one place (`billing.balances`; S-05, S-06, M-11, M-15): billed,
credited, reminder fees, late interest, paid (reversals and refunds), owed and over-paid, in
one query for any number of invoices; and every reader of "what is owed" agrees with it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from billing import balances, dues_status
from billing.delivery import selectors as delivery_selectors
from billing.invoicing import services as invoicing_services
from billing.ledger import selectors as ledger_selectors
from billing.ledger import services as ledger_services
from billing.models import VolunteerHours
from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceStatus
from billing.models_ledger import Refund, RefundReason, RefundState
from billing.models_payments import MatchState, Payment, PaymentSource
from billing.online import selectors as online_selectors
from billing.payments import selectors as payment_selectors
from billing.payments import status
from tests.billing.ledger.helpers import DUE, SEASON, account, invoice, pay, schedule
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db

D = Decimal
NOK = "NOK"


def membership(world, payer=None, amount="500"):  # type: ignore[no-untyped-def]
    payer = payer or PersonFactory()
    return invoice(world.club_a, payer, [(payer, "membership", "", "charge", amount)])


def remind(bill: Invoice, sequence: int, fee: str = "0", interest: str = "0") -> Reminder:
    day = DUE + datetime.timedelta(days=14 * sequence)
    return Reminder.objects.create(
        invoice=bill,
        club=bill.club,
        sequence=sequence,
        reminded_on=day,
        due_date=day + datetime.timedelta(days=14),
        fee=Money(fee, NOK),
        interest=Money(interest, NOK),
    )


def reverse(bill: Invoice, amount: str) -> Payment:
    return Payment.objects.create(
        club=bill.club,
        invoice=bill,
        source=PaymentSource.OCR,
        transaction_key=f"reversal:{bill.pk}:{amount}",
        amount=Money(-D(amount), NOK),
        paid_date=DUE + datetime.timedelta(days=3),
        kid=bill.kid,
        transaction_type=18,
        match_state=MatchState.REVERSAL,
    )


def balance_of(bill: Invoice) -> balances.Balance:
    return balances.invoice_balances([bill.pk])[bill.pk]


def parts(balance: balances.Balance) -> tuple:
    return (
        balance.billed,
        balance.credited,
        balance.fees,
        balance.interest,
        balance.paid,
        balance.owed,
        balance.overpaid,
    )


# ------------------------------------------------------------------ the parts


def test_unpaid_invoice_owes_its_total(world):
    bill = membership(world)

    assert parts(balance_of(bill)) == (D(500), 0, 0, 0, 0, D(500), 0)


def test_partial_payment_leaves_the_rest_owed(world):
    bill = membership(world)
    pay(bill, "200.00")

    balance = balance_of(bill)

    assert (balance.received, balance.paid, balance.owed, balance.overpaid) == (
        D(200),
        D(200),
        D(300),
        D(0),
    )


def test_overpayment_owes_nothing_and_is_shown_separately(world):
    bill = membership(world)
    pay(bill, "600.00")

    balance = balance_of(bill)

    assert (balance.owed, balance.overpaid, balance.balance) == (D(0), D(100), D(-100))


def test_s02_a_reversal_counts_negative(world):
    bill = membership(world)
    pay(bill)
    reverse(bill, "500.00")

    balance = balance_of(bill)

    assert (balance.received, balance.owed) == (D(0), D(500))


def test_s05_credit_note_of_the_whole_invoice_owes_nothing(world):
    bill = membership(world)

    note = invoicing_services.invoice_credit(actor=None, invoice=bill, reason="Wrong person")

    found = balances.invoice_balances([bill.pk, note.pk])
    assert parts(found[bill.pk]) == (D(500), D(500), 0, 0, 0, 0, 0)
    assert (found[note.pk].billed, found[note.pk].owed) == (D(0), D(0))


def test_s05_partial_credit_note_lowers_what_is_owed(world):
    payer = PersonFactory()
    bill = invoice(
        world.club_a,
        payer,
        [
            (payer, "membership", "", "charge", "300"),
            (payer, "activity", "football", "charge", "200"),
        ],
    )
    activity = bill.lines.get(fee="activity")

    invoicing_services.invoice_credit(
        actor=None, invoice=bill, reason="Left the group", lines=[activity]
    )

    assert parts(balance_of(bill)) == (D(500), D(200), 0, 0, 0, D(300), 0)
    # the bug: `amounts_owed` asked total + fees - payments and ignored credit notes
    assert delivery_selectors.amounts_owed([bill.pk]) == {bill.pk: D(300)}


def test_s05_credit_of_an_amount_keeps_the_line_billed_and_lowers_the_claim(world):
    bill = membership(world)
    line = bill.lines.get()

    invoicing_services.invoice_credit(
        actor=None, invoice=bill, reason="Discount agreed", amounts={line.pk: D("150.00")}
    )

    assert parts(balance_of(bill)) == (D(500), D(150), 0, 0, 0, D(350), 0)
    line.refresh_from_db()
    assert line.is_billed is True


def test_s06_reminder_fees_and_interest_are_part_of_the_claim(world):
    bill = membership(world)
    remind(bill, 1, fee="35.00", interest="2.40")
    remind(bill, 2, fee="35.00", interest="1.10")
    pay(bill, "500.00")

    balance = balance_of(bill)

    assert (balance.fees, balance.interest, balance.claim) == (
        D("70.00"),
        D("3.50"),
        D("573.50"),
    )
    assert (balance.owed, balance.principal_owed) == (D("73.50"), D(0))  # interest not on fees


def test_s05_void_invoice_bills_and_claims_nothing(world):
    bill = membership(world)
    remind(bill, 1, fee="35.00", interest="1.00")
    Invoice.objects.filter(pk=bill.pk).update(status=InvoiceStatus.VOID)

    assert parts(balance_of(bill)) == (0, 0, 0, 0, 0, 0, 0)


def test_s05_fees_fall_with_an_invoice_credited_in_full(world):
    bill = membership(world)
    remind(bill, 1, fee="35.00", interest="1.00")

    invoicing_services.invoice_credit(actor=None, invoice=bill, reason="Moved away")

    balance = balance_of(bill)
    assert (balance.fees, balance.interest, balance.claim, balance.owed) == (0, 0, 0, 0)


def test_m15_refund_paid_out_balances_the_credit_note(world):
    schedule(world.club_a)
    person = PersonFactory()
    account(person, "86011117947")
    VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=2)
    bill = invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")])
    pay(bill)
    [refund] = ledger_services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created

    ledger_services.refund_approve(actor=None, refund=refund)
    approved = balance_of(bill)
    ledger_services.refunds_mark_paid(actor=None, club=world.club_a, refund_ids=[refund.pk])
    paid_out = balance_of(bill)

    assert (approved.credited, approved.paid, approved.overpaid) == (D(200), D(500), D(200))
    assert (paid_out.refunded, paid_out.paid, paid_out.owed, paid_out.overpaid) == (
        D(200),
        D(300),
        D(0),
        D(0),
    )


def test_refund_of_an_overpayment_counts_for_the_payments_invoice(world):
    bill = membership(world)
    payment = pay(bill, "600.00")
    Refund.objects.create(
        club=bill.club,
        payee=bill.payer,
        season=SEASON,
        reason=RefundReason.OVERPAYMENT,
        amount=Money("100.00", NOK),
        description="Over-payment",
        payment=payment,
        state=RefundState.PAID,
        paid_on=DUE,
    )

    balance = balance_of(bill)

    assert (balance.refunded, balance.paid, balance.owed, balance.overpaid) == (
        D(100),
        D(500),
        D(0),
        D(0),
    )


# ------------------------------------------------------------------ queries


def _many(world, count: int) -> list[Invoice]:
    bills = [membership(world) for _index in range(count)]
    for index, bill in enumerate(bills):
        if index % 2:
            pay(bill, "200.00")
        if index % 3 == 0:
            remind(bill, 1, fee="35.00", interest="1.25")
        if index % 4 == 0:
            invoicing_services.invoice_credit(
                actor=None,
                invoice=bill,
                reason="Discount",
                amounts={bill.lines.get().pk: D("50.00")},
            )
    return bills


def test_one_query_for_any_number_of_invoices(world, django_assert_num_queries):
    bills = _many(world, 12)

    with django_assert_num_queries(1):
        found = balances.invoice_balances([bill.pk for bill in bills])

    assert len(found) == 12
    with django_assert_num_queries(0):
        assert balances.invoice_balances([]) == {}


def test_a_page_of_invoices_with_balances_is_one_query(world, django_assert_num_queries):
    bills = _many(world, 8)
    expected = balances.invoice_balances([bill.pk for bill in bills])

    with django_assert_num_queries(1):
        rows = list(balances.with_balances(Invoice.objects.filter(pk__in=expected)))

    assert {row.pk: row.balance for row in rows} == {
        pk: balance.balance for pk, balance in expected.items()
    }
    assert {
        row.pk: (row.credited, row.reminder_fees, row.late_interest, row.paid) for row in rows
    } == {pk: (b.credited, b.fees, b.interest, b.received) for pk, b in expected.items()}


def test_status_refresh_agrees_with_the_balances(world):
    bills = _many(world, 8)
    for bill in bills[:4]:
        pay(bill, str(balance_of(bill).owed))

    status.invoices_refresh_paid_status(actor=None, invoice_ids=[bill.pk for bill in bills])

    found = balances.invoice_balances([bill.pk for bill in bills])
    statuses = dict(Invoice.objects.filter(pk__in=found).values_list("pk", "status"))
    for pk, balance in found.items():
        expected = (
            "paid" if balance.paid > 0 and balance.owed == 0 else
            "partly_paid" if balance.paid > 0 else "issued"
        )  # fmt: skip
        assert statuses[pk] == expected
        assert payment_selectors.invoice_paid_status(Invoice(pk=pk)) == expected


# ------------------------------------------------------------------ the readers agree


def test_s06_interest_keeps_the_invoice_owing_everywhere(world):
    """A paid total with unpaid late interest: still owed for the reminders, the online
    payment, the dues status and the paid status."""
    bill = membership(world, payer=world.player_a)
    remind(bill, 1, interest="4.11")
    pay(bill)
    status.invoices_refresh_paid_status(actor=None, invoice_ids=[bill.pk])
    on = datetime.date(2027, 6, 1)

    assert delivery_selectors.amounts_owed([bill.pk]) == {bill.pk: D("4.11")}
    [payable] = online_selectors.payable_invoices(world.player_a)
    assert payable.owed == D("4.11")
    owed = dues_status.provider.outstanding_dues([world.player_a.pk], exclude_club=None, on=on)
    assert [debt.amount for debt in owed[world.player_a.pk]] == [D("4.11")]
    assert Invoice.objects.get(pk=bill.pk).status == InvoiceStatus.PARTLY_PAID


def test_m11_a_childs_share_is_net_of_the_credit_notes(world):
    parent, child = PersonFactory(), PersonFactory()
    bill = invoice(
        world.club_a,
        parent,
        [(parent, "membership", "", "charge", "500"), (child, "membership", "", "charge", "300")],
    )
    child_line = bill.lines.get(person=child)
    invoicing_services.invoice_credit(
        actor=None, invoice=bill, reason="Sibling discount", amounts={child_line.pk: D("100.00")}
    )

    shares = balances.person_shares([bill.pk])
    owed = dues_status.provider.outstanding_dues(
        [child.pk], exclude_club=None, on=datetime.date(2027, 6, 1)
    )

    assert shares[bill.pk] == {parent.pk: D(500), child.pk: D(200)}
    assert [debt.amount for debt in owed[child.pk]] == [D(200)]


def test_ledger_rows_and_totals_use_the_balances(world):
    user = world.user("official_this_club")
    payer = PersonFactory()
    bill = membership(world, payer=payer)
    remind(bill, 1, fee="35.00", interest="2.00")
    invoicing_services.invoice_credit(
        actor=None, invoice=bill, reason="Discount", amounts={bill.lines.get().pk: D("100.00")}
    )
    pay(bill, "200.00")

    rows = {
        row.invoice.number: row
        for row in ledger_selectors.ledger_rows(
            ledger_selectors.ledger_invoices(user, world.club_a)
        )
    }
    [season] = ledger_selectors.season_totals(user, world.club_a).seasons
    [payer_row] = ledger_selectors.payer_balances(
        world.club_a, ledger_selectors.payer_rows(user, world.club_a)
    )

    assert (rows[bill.number].reminder_fees, rows[bill.number].balance) == (D(35), D(237))
    assert rows[bill.number + 1].balance == D(0)  # the credit note: in its invoice's balance
    assert (season.invoiced, season.credited, season.late_interest, season.balance) == (
        D(500),
        D(-100),
        D(2),
        D(237),
    )
    assert (payer_row["late_interest"], payer_row["balance"]) == (D(2), D(237))


def test_principal_changes_are_dated_payments_reversals_and_refunds(world):
    bill = membership(world)
    pay(bill, "200.00")
    reverse(bill, "50.00")

    changes = balances.principal_changes([bill.pk])

    assert changes[bill.pk] == [
        (datetime.date(SEASON, 2, 20), D("-200.00")),
        (DUE + datetime.timedelta(days=3), D("50.00")),
    ]
