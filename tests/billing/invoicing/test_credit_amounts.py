"""S-05: a credit note of part of a line (`invoice_credit(amounts=...)`): validated against
what is still open on the line, numbered in the club's series, with its events; the charge
stays billed, so no run invoices it again (issue 6; the refunds of M-15 and D-09 use it)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing import balances
from billing.invoicing import services
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceStatus,
)
from tests.billing.factories import SEASON
from tests.billing.ledger.helpers import invoice, pay
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db

D = Decimal
ISSUE_DATE = datetime.date(SEASON, 1, 15)


def bill_of(world, amount: str = "500"):  # type: ignore[no-untyped-def]
    payer = PersonFactory()
    return invoice(
        world.club_a,
        payer,
        [
            (payer, "membership", "", "charge", amount),
            (payer, "activity", "football", "charge", "1000"),
        ],
    )


def snapshot() -> tuple:
    """Everything a refused credit must leave as it was."""
    return (
        sorted(Invoice.objects.values_list("pk", "status", "total")),
        sorted(InvoiceLine.objects.values_list("pk", "is_billed", "amount")),
        InvoiceEvent.objects.count(),
        sorted(InvoiceNumberSeries.objects.values_list("club_id", "next_number")),
    )


def test_s05_credit_of_an_amount_of_one_line(world):
    bill = bill_of(world)
    membership = bill.lines.get(fee="membership")
    actor = world.user("official_this_club")

    note = services.invoice_credit(
        actor=actor, invoice=bill, reason="Agreed discount", amounts={membership.pk: D("120.50")}
    )

    bill.refresh_from_db()
    membership.refresh_from_db()
    assert (note.kind, note.credited_invoice, note.number) == ("credit_note", bill, bill.number + 1)
    assert note.total.amount == D("-120.50")
    [line] = note.lines.all()
    assert (line.credited_line, line.amount.amount, line.line_kind, line.is_billed) == (
        membership,
        D("-120.50"),
        "charge",
        False,
    )
    assert (line.person_id, line.fee, line.period_start) == (
        membership.person_id,
        "membership",
        membership.period_start,
    )
    # The charge stays billed: the unique index keeps it from being invoiced again.
    assert membership.is_billed is True
    assert bill.status == InvoiceStatus.ISSUED
    assert list(note.events.values_list("kind", "actor_id", "note")) == [
        ("issued", actor.pk, "Agreed discount")
    ]
    assert list(bill.events.values_list("kind", "from_status", "to_status")) == [
        ("partly_credited", "issued", "issued")
    ]
    assert balances.invoice_balances([bill.pk])[bill.pk].owed == D("1379.50")


def test_s05_an_amount_credit_takes_the_given_kind_text_and_rule(world):
    bill = bill_of(world)
    activity = bill.lines.get(fee="activity")

    note = services.invoice_credit(
        actor=None,
        invoice=bill,
        reason="D-09: moved away",
        amounts={activity.pk: D("300.00")},
        line_kind="refund",
        description="D-09 30% football",
        rule_id="D-09",
    )

    [line] = note.lines.all()
    assert (line.line_kind, line.description, line.rule_id) == (
        "refund",
        "D-09 30% football",
        "D-09",
    )


def test_s05_amount_credits_add_up_to_at_most_the_line(world):
    bill = bill_of(world)
    membership = bill.lines.get(fee="membership")
    services.invoice_credit(
        actor=None, invoice=bill, reason="first", amounts={membership.pk: D("300.00")}
    )
    services.invoice_credit(
        actor=None, invoice=bill, reason="second", amounts={membership.pk: D("200.00")}
    )
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        services.invoice_credit(
            actor=None, invoice=bill, reason="third", amounts={membership.pk: D("0.01")}
        )

    assert error.value.code == "amount_above_open"
    assert error.value.messages == [
        str(services.AMOUNT_ABOVE_OPEN) % {"open": D("0.00"), "line": membership.description}
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (D("0"), "amount_not_valid"),
        (D("-10.00"), "amount_not_valid"),
        (D("10.005"), "amount_not_valid"),
        (D("500.01"), "amount_above_open"),
    ],
)
def test_s05_an_amount_credit_refuses_bad_amounts_and_changes_nothing(world, amount, code):
    bill = bill_of(world)
    membership = bill.lines.get(fee="membership")
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        services.invoice_credit(
            actor=None, invoice=bill, reason="x", amounts={membership.pk: amount}
        )

    assert error.value.code == code
    assert snapshot() == before


def test_s05_an_amount_credit_takes_only_billed_lines_of_the_invoice(world):
    bill = bill_of(world)
    other = bill_of(world)
    membership = bill.lines.get(fee="membership")
    activity = bill.lines.get(fee="activity")
    services.invoice_credit(actor=None, invoice=bill, reason="whole", lines=[activity])
    before = snapshot()

    for amounts in (
        {other.lines.get(fee="membership").pk: D(10)},  # another invoice's line
        {activity.pk: D(10)},  # credited in full: no longer billed
        {},
    ):
        with pytest.raises(ValidationError) as error:
            services.invoice_credit(actor=None, invoice=bill, reason="x", amounts=amounts)
        assert error.value.messages == [str(services.LINES_NOT_ON_INVOICE)]
    with pytest.raises(ValidationError) as error:
        services.invoice_credit(
            actor=None, invoice=bill, reason="x", lines=[membership], amounts={membership.pk: 1}
        )
    assert error.value.messages == [str(services.LINES_OR_AMOUNTS)]
    assert snapshot() == before


def test_s05_a_whole_credit_after_an_amount_credit_takes_off_only_what_is_open(world):
    bill = bill_of(world)
    membership = bill.lines.get(fee="membership")
    services.invoice_credit(
        actor=None, invoice=bill, reason="part", amounts={membership.pk: D("100.00")}
    )

    note = services.invoice_credit(actor=None, invoice=bill, reason="all")

    bill.refresh_from_db()
    assert note.total.amount == D("-1400.00")
    assert bill.status == InvoiceStatus.CREDITED
    balance = balances.invoice_balances([bill.pk])[bill.pk]
    assert (balance.credited, balance.owed) == (D("1500.00"), D(0))


def test_s06_an_amount_credit_lets_the_paid_status_follow(world):
    bill = bill_of(world)
    pay(bill, "1200.00")
    activity = bill.lines.get(fee="activity")

    services.invoice_credit(
        actor=None, invoice=bill, reason="Discount", amounts={activity.pk: D("300.00")}
    )

    bill.refresh_from_db()
    assert bill.status == InvoiceStatus.PAID
    assert list(bill.events.values_list("kind", "to_status")) == [
        ("partly_credited", "issued"),
        ("payment", "paid"),
    ]


def test_s05_an_amount_credit_needs_billing_manage_in_the_club(world):
    bill = bill_of(world)
    membership = bill.lines.get(fee="membership")
    before = snapshot()

    for role in ("official_without_capability", "official_other_club", "member"):
        actor = world.user(role, "billing.manage")
        with pytest.raises(PermissionDenied):
            services.invoice_credit(
                actor=actor, invoice=bill, reason="x", amounts={membership.pk: D(10)}
            )

    assert snapshot() == before


# ------------------------------------------------------------------ the next run


def test_s05_a_run_does_not_invoice_a_partly_credited_charge_again(club):
    def run():  # type: ignore[no-untyped-def]
        started = services.invoicing_run_start(
            actor=None,
            club=club.world.club_a,
            season=SEASON,
            fee_kinds=["membership"],
            issue_date=ISSUE_DATE,
            queue=False,
        )
        services.invoicing_work(run=started)
        started.refresh_from_db()
        return started

    run()
    bill = Invoice.objects.get(payer=club["pensioner"], kind="invoice")
    charge = bill.lines.get(line_kind="charge", fee="membership")
    services.invoice_credit(
        actor=None, invoice=bill, reason="Discount", amounts={charge.pk: D("50.00")}
    )
    invoices_before = Invoice.objects.count()

    again = run()

    assert again.invoices_created == 0
    assert Invoice.objects.count() == invoices_before
