"""Issue 6 scope 6: a payment is matched against what the invoice claims, `billing.balances`'
one definition (S-06: billed - credited + reminder fees + late interest), less what was paid
on it (reversals negative), in the OCR import (S-02), a manual payment and
an assignment from the reconciliation list."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from billing.invoicing import services as invoicing_services
from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceLine, InvoiceNumberSeries
from billing.models_payments import MatchState, Payment
from billing.payments import selectors, services
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file

pytestmark = pytest.mark.django_db

MANAGE = "billing.manage"
PAID_ON = datetime.date(2026, 3, 2)
D = Decimal


@pytest.fixture
def admin(world):
    return world.user("official_this_club", MANAGE)


def remind(invoice: Invoice, sequence: int = 1, fee: str = "35.00", interest: str = "0.00"):
    return Reminder.objects.create(
        invoice=invoice,
        club=invoice.club,
        sequence=sequence,
        reminded_on=datetime.date(2026, 3, 20),
        due_date=datetime.date(2026, 4, 3),
        fee=Money(fee, "NOK"),
        interest=Money(interest, "NOK"),
    )


def with_lines(invoice: Invoice, amounts: list[tuple[str, str]]) -> list[InvoiceLine]:
    """Lines (fee, amount) adding up to the invoice's total, for a credit note."""
    InvoiceNumberSeries.objects.get_or_create(club=invoice.club, defaults={"next_number": 100})
    return [
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
        for position, (fee, amount) in enumerate(amounts, start=1)
    ]


def import_file(world, admin, transactions, transmission="1000081"):  # type: ignore[no-untyped-def]
    return services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file(transactions, transmission=transmission),
        file_name=f"{transmission}.ocr",
    )


def register(admin, invoice, amount, key="t1"):  # type: ignore[no-untyped-def]
    return services.payment_register_manual(
        actor=admin, invoice=invoice, amount=D(amount), paid_date=PAID_ON, idempotency_key=key
    )


def state_of(reference: str) -> str:
    return Payment.objects.get(archive_reference=reference.zfill(9)).match_state


# ------------------------------------------------------------------ reminder fee and interest


def test_s06_ocr_payment_of_total_fee_and_interest_is_matched(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, fee="35.00", interest="4.20")

    payment_file = import_file(world, admin, [Tx("0000001", "539.20", "1")])

    assert state_of("1") == MatchState.MATCHED
    assert payment_file.matched_count == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert list(selectors.reconciliation_list(admin, world.club_a)) == []


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("535.00", MatchState.PARTIAL),  # S-06: the late interest is part of the claim
        ("539.20", MatchState.MATCHED),
        ("540.00", MatchState.OVER),
    ],
)
def test_s06_ocr_payment_against_the_claim_with_fee_and_interest(world, admin, amount, expected):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, fee="35.00", interest="4.20")

    import_file(world, admin, [Tx("0000001", amount, "1")])

    assert state_of("1") == expected


def test_s06_two_reminder_fees_paid_in_two_payments_of_one_file(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, 1, fee="35.00")
    remind(invoice, 2, fee="35.00", interest="2.10")

    import_file(world, admin, [Tx("0000001", "500.00", "1"), Tx("0000001", "72.10", "2")])

    assert (state_of("1"), state_of("2")) == (MatchState.PARTIAL, MatchState.MATCHED)
    # The first (partial) payment is settled by the second: off the reconciliation list.
    assert Payment.objects.get(archive_reference="000000001").reconciled_at is not None
    assert list(selectors.reconciliation_list(admin, world.club_a)) == []


def test_s06_fee_paid_after_the_total_in_a_later_file_is_matched(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    import_file(world, admin, [Tx("0000001", "500.00", "1")])
    assert state_of("1") == MatchState.MATCHED
    remind(invoice, fee="35.00")  # (only possible while unpaid; here as data: the claim grew)

    import_file(world, admin, [Tx("0000001", "35.00", "2")], transmission="1000082")

    assert state_of("2") == MatchState.MATCHED


def test_s06_manual_payment_of_total_and_reminder_fee_is_matched(admin, world):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, fee="35.00", interest="1.50")

    payment = register(admin, invoice, "536.50")

    assert payment.match_state == MatchState.MATCHED
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_s06_manual_payment_of_the_total_only_is_partial(admin, world):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, fee="35.00")

    assert register(admin, invoice, "500.00").match_state == MatchState.PARTIAL
    assert register(admin, invoice, "35.00", key="t2").match_state == MatchState.MATCHED


def test_s06_assigned_payment_is_matched_against_fee_and_interest(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    remind(invoice, fee="35.00", interest="4.20")
    import_file(world, admin, [Tx("9999999", "539.20", "1")])
    payment = Payment.objects.get()

    assigned = services.payment_assign(actor=admin, payment=payment, invoice=invoice)

    assert assigned.match_state == MatchState.MATCHED
    assert assigned.reconciled_at is not None
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


# ------------------------------------------------------------------ credit notes (S-05)


def test_s05_ocr_payment_of_a_partly_credited_invoice_is_matched_on_what_is_left(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    [_membership, activity] = with_lines(
        invoice, [("membership", "300.00"), ("activity", "200.00")]
    )
    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Left the group", amounts={activity.pk: D("150.00")}
    )

    import_file(world, admin, [Tx("0000001", "350.00", "1"), Tx("0000001", "10.00", "2")])

    assert (state_of("1"), state_of("2")) == (MatchState.MATCHED, MatchState.OVER)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_s05_manual_payment_of_the_old_total_on_a_credited_invoice_is_over(admin, world):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    [_membership, activity] = with_lines(
        invoice, [("membership", "300.00"), ("activity", "200.00")]
    )
    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Left the group", lines=[activity]
    )

    assert register(admin, invoice, "500.00").match_state == MatchState.OVER


def test_s05_a_credited_invoices_fee_falls_with_it(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    with_lines(invoice, [("membership", "500.00")])
    remind(invoice, fee="35.00")
    invoicing_services.invoice_credit(actor=admin, invoice=invoice, reason="Never a member")

    import_file(world, admin, [Tx("0000001", "535.00", "1")])

    assert Invoice.objects.get(pk=invoice.pk).status == "credited"
    assert state_of("1") == MatchState.OVER  # S-05: a closed invoice claims nothing


def test_s05_assigned_payment_on_a_partly_credited_invoice(world, admin):
    invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    [_membership, activity] = with_lines(
        invoice, [("membership", "300.00"), ("activity", "200.00")]
    )
    invoicing_services.invoice_credit(
        actor=admin, invoice=invoice, reason="Left the group", lines=[activity]
    )
    import_file(world, admin, [Tx("9999999", "300.00", "1")])

    assigned = services.payment_assign(actor=admin, payment=Payment.objects.get(), invoice=invoice)

    assert assigned.match_state == MatchState.MATCHED


# ------------------------------------------------------------------ set-based


def test_s06_a_file_with_reminded_invoices_takes_the_same_bounded_queries(world, admin):
    count = 300
    invoices = [
        make_invoice(world.club_a, world.player_a, number, "500.00")
        for number in range(1, count + 1)
    ]
    Reminder.objects.bulk_create(
        Reminder(
            invoice=invoice,
            club=invoice.club,
            sequence=1,
            reminded_on=datetime.date(2026, 3, 20),
            due_date=datetime.date(2026, 4, 3),
            fee=Money("35.00", "NOK"),
            interest=Money("1.00", "NOK"),
        )
        for invoice in invoices
    )
    content = ocr_file(
        [Tx(f"{number:07d}", "536.00", str(number)) for number in range(1, count + 1)]
    )

    with CaptureQueriesContext(connection) as queries:
        services.payment_file_import(
            actor=admin, club=world.club_a, content=content, file_name="big"
        )

    assert len(queries) <= 25
    assert set(Payment.objects.values_list("match_state", flat=True)) == {MatchState.MATCHED}
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}
