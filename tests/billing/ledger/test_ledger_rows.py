"""The ledger's rows add up (issue 6 scope 8; S-05, S-06): per invoice, per payer and per
season, balance = invoiced + credited (negative) + reminder fees + late interest - paid +
refunded, all from `billing.balances`; the pages show every column and keep their query
counts whatever the rows hold."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from billing.invoicing import services as invoicing_services
from billing.ledger import overpayments, selectors
from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceStatus
from tests.billing.ledger.helpers import SEASON, account, invoice, pay
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def remind(bill: Invoice, fee: str = "35.00", interest: str = "4.20") -> Reminder:
    return Reminder.objects.create(
        invoice=bill,
        club=bill.club,
        sequence=1,
        reminded_on=datetime.date(SEASON, 3, 20),
        due_date=datetime.date(SEASON, 4, 3),
        fee=Money(fee, "NOK"),
        interest=Money(interest, "NOK"),
    )


def adds_up(row) -> Decimal:  # type: ignore[no-untyped-def]
    return (
        row.invoiced
        + row.credited
        + row.reminder_fees
        + row.late_interest
        - row.paid
        + row.refunded
    )


def a_payers_year(world):  # type: ignore[no-untyped-def]
    """One payer's invoices: reminded and partly paid; partly credited and paid; voided;
    over-paid with the excess refunded; partly credited, then voided."""
    payer = PersonFactory(first_name="Kari", last_name="Nordmann")
    account(payer, "86011117947")
    club = world.club_a
    reminded = invoice(club, payer, [(payer, "membership", "", "charge", "500")])
    remind(reminded)
    pay(reminded, "300.00")

    credited = invoice(
        club,
        payer,
        [
            (payer, "activity", "football", "charge", "500"),
            (payer, "activity", "hockey", "charge", "300"),
        ],
    )
    activity = credited.lines.get(group="hockey")
    invoicing_services.invoice_credit(
        actor=None, invoice=credited, reason="Left", amounts={activity.pk: D("100.00")}
    )
    pay(credited, "700.00")

    voided = invoice(club, payer, [(payer, "activity", "handball", "charge", "200")])
    invoicing_services.invoice_void(actor=None, invoice=voided, reason="Wrong group")

    overpaid = invoice(club, payer, [(payer, "volunteer_work", "", "charge", "500")])
    over = pay(overpaid, "600.00")
    refund = overpayments.refund_propose_overpayment(actor=None, payment=over)
    overpayments.refund_approve(actor=None, refund=refund)
    overpayments.refunds_mark_paid(actor=None, club=club, refund_ids=[refund.pk])

    credited_then_void = invoice(club, payer, [(payer, "activity", "tennis", "charge", "300")])
    line = credited_then_void.lines.get()
    invoicing_services.invoice_credit(
        actor=None, invoice=credited_then_void, reason="Half", amounts={line.pk: D("100.00")}
    )
    invoicing_services.invoice_void(actor=None, invoice=credited_then_void, reason="Wrong")
    return payer, reminded, credited, voided, overpaid, credited_then_void


def test_s05_s06_every_ledger_row_adds_up(world):
    user = world.user("official_this_club")
    _payer, reminded, credited, voided, overpaid, credited_then_void = a_payers_year(world)

    rows = selectors.ledger_rows(selectors.ledger_invoices(user, world.club_a))

    for row in rows:
        assert adds_up(row) == row.balance, row.invoice
    by_number = {row.invoice.number: row for row in rows}
    figures = {
        bill.number: (
            by_number[bill.number].invoiced,
            by_number[bill.number].credited,
            by_number[bill.number].reminder_fees,
            by_number[bill.number].late_interest,
            by_number[bill.number].paid,
            by_number[bill.number].refunded,
            by_number[bill.number].balance,
        )
        for bill in (reminded, credited, voided, overpaid, credited_then_void)
    }
    assert figures == {
        reminded.number: (D(500), D(0), D(35), D("4.20"), D(300), D(0), D("239.20")),
        credited.number: (D(800), D(-100), D(0), D(0), D(700), D(0), D(0)),
        voided.number: (D(0), D(0), D(0), D(0), D(0), D(0), D(0)),
        overpaid.number: (D(500), D(0), D(0), D(0), D(600), D(100), D(0)),
        credited_then_void.number: (D(0), D(0), D(0), D(0), D(0), D(0), D(0)),
    }
    # the totals shown: a void invoice's and a credit note's do not count
    notes = set(Invoice.objects.filter(kind="credit_note").values_list("number", flat=True))
    assert len(notes) == 2
    assert {row.invoice.number for row in rows if not row.total_counts} == notes | {
        voided.number,
        credited_then_void.number,
    }


def test_s05_s06_payer_and_season_rows_add_up_to_the_invoices_rows(world):
    user = world.user("official_this_club")
    payer, *_bills = a_payers_year(world)
    rows = selectors.ledger_rows(selectors.ledger_invoices(user, world.club_a))

    [payer_row] = selectors.payer_balances(world.club_a, selectors.payer_rows(user, world.club_a))
    [season] = selectors.season_totals(user, world.club_a).seasons

    def total(name: str) -> Decimal:
        return sum((getattr(row, name) for row in rows), D(0))

    expected = tuple(
        total(name)
        for name in (
            "invoiced",
            "credited",
            "reminder_fees",
            "late_interest",
            "paid",
            "refunded",
            "balance",
        )
    )
    assert expected == (D(1800), D(-100), D(35), D("4.20"), D(1600), D(100), D("239.20"))
    assert (
        payer_row["invoiced"],
        payer_row["credited"],
        payer_row["reminder_fees"],
        payer_row["late_interest"],
        payer_row["paid"],
        payer_row["refunded"],
        payer_row["balance"],
    ) == expected
    assert (
        season.invoiced,
        season.credited,
        season.reminder_fees,
        season.late_interest,
        season.paid,
        season.refunded,
        season.balance,
    ) == expected
    assert payer_row["payer_id"] == payer.pk


def test_ledger_page_shows_credited_and_late_interest(world):
    user_client = world.client("official_this_club")
    _payer, _reminded, _credited, voided, *_rest = a_payers_year(world)

    body = user_client.get(reverse("billing:ledger", args=[world.club_a.pk])).content.decode()

    invoices = body[body.index('class="list ledger-invoices"') :]
    header = invoices[: invoices.index("</thead>")]
    assert [cell.split("<")[0] for cell in header.split('<th class="num">')[1:]] == [
        "Total",
        "Credited",
        "Reminder fees",
        "Late interest",
        "Paid",
        "Refunded",
        "Balance",
    ]
    assert (
        '<td class="num">500.00</td><td class="num">0.00</td><td class="num">35.00</td>'
        '<td class="num">4.20</td><td class="num">300.00</td><td class="num">0.00</td>'
        '<td class="num">239.20</td>'
    ) in body.replace("\n      ", "")
    assert '<s class="muted" title="Not counted in the balance">200.00</s>' in body
    totals = body[body.index('class="list ledger-totals"') : body.index("</table>")]
    assert '<th class="num">Late interest</th>' in totals
    assert Invoice.objects.get(pk=voided.pk).status == InvoiceStatus.VOID


def test_payers_page_shows_credited_and_late_interest(world):
    a_payers_year(world)
    client = world.client("official_this_club")

    body = client.get(reverse("billing:ledger-payers", args=[world.club_a.pk])).content.decode()

    assert (
        '<td>Kari Nordmann</td><td class="num">3</td><td class="num">1,800.00</td>'
        '<td class="num">-100.00</td><td class="num">35.00</td><td class="num">4.20</td>'
        '<td class="num">1,600.00</td><td class="num">100.00</td><td class="num">239.20</td>'
    ) in body


def test_ledger_pages_query_counts_do_not_grow_with_fees_credit_notes_and_refunds(
    world, django_assert_max_num_queries
):
    for _index in range(6):
        a_payers_year(world)
    client = world.client("official_this_club")
    ledger = reverse("billing:ledger", args=[world.club_a.pk])
    payers = reverse("billing:ledger-payers", args=[world.club_a.pk])
    client.get(ledger)  # warm the grants cache

    with django_assert_max_num_queries(16):
        response = client.get(ledger)
    assert response.content.count(b"<s class=") == 24  # 6 x (2 void, 2 credit notes)

    with django_assert_max_num_queries(14):
        assert client.get(payers).status_code == 200
