"""S-06: the reminder job charges late interest (policy rate + 8 points, the dated table) on
the unpaid principal since the previous reminder, stores it on the reminder, adds it to the
claim (`billing.balances`) and shows it in the e-mail and the reminder list; only where the
club's policy charges interest."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from billing import balances
from billing.delivery import selectors, services
from billing.models_delivery import LateInterestRate, Reminder, ReminderPolicy
from billing.models_invoicing import Invoice
from billing.models_payments import MatchState, Payment, PaymentSource
from billing.payments import status
from tests.billing.delivery.helpers import DUE, invoice_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

D = Decimal


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def day(offset: int) -> datetime.date:
    return DUE + datetime.timedelta(days=offset)


@pytest.fixture
def interest_on(world):
    """The club's policy charges late interest (S-06)."""
    ReminderPolicy.objects.create(club=world.club_a, charge_interest=True)
    return world


def pay(invoice: Invoice, amount: str, on: datetime.date) -> None:
    Payment.objects.create(
        club=invoice.club,
        invoice=invoice,
        source=PaymentSource.MANUAL,
        transaction_key=f"t-{invoice.pk}-{amount}-{on}",
        amount=Money(amount, "NOK"),
        paid_date=on,
        match_state=MatchState.PARTIAL,
    )


def test_s06_no_interest_unless_the_club_charges_it(world):
    invoice_for(world.club_a, world.player_a, language="en")

    report = services.reminders_run(today=day(30))

    reminder = Reminder.objects.get()
    assert reminder.interest == Money(0, "NOK")
    assert report.with_interest == 0


def test_s06_first_reminder_charges_interest_since_the_due_date(interest_on):
    invoice = invoice_for(interest_on.club_a, interest_on.player_a, language="en")

    report = services.reminders_run(today=day(7))
    services.reminders_run(today=day(7))  # the job runs twice: nothing new

    reminder = Reminder.objects.get()
    # 500 * 12.5 % * 7 / 365 = 1.1986 (the seeded rate, valid from 1 January 2025)
    assert reminder.interest == Money("1.20", "NOK")
    assert report.with_interest == 1
    assert selectors.amounts_owed([invoice.pk]) == {invoice.pk: D("501.20")}


def test_s06_a_later_reminder_charges_only_the_days_since_the_previous_one(interest_on):
    invoice = invoice_for(interest_on.club_a, interest_on.player_a, language="en")

    for offset in range(0, 29):
        services.reminders_run(today=day(offset))

    charged = list(Reminder.objects.order_by("sequence").values_list("reminded_on", "interest"))
    # day 7: 7 days; day 28 (7 days after the first reminder's deadline): 21 more days
    assert charged == [(day(7), D("1.20")), (day(28), D("3.60"))]
    balance = balances.invoice_balances([invoice.pk])[invoice.pk]
    assert (balance.interest, balance.owed) == (D("4.80"), D("504.80"))


def test_s06_interest_runs_on_what_is_unpaid_each_day_not_on_fees(interest_on):
    ReminderPolicy.objects.update_or_create(
        club=interest_on.club_a, defaults={"days_after_due": 14, "charge_fee": True}
    )
    invoice = invoice_for(interest_on.club_a, interest_on.player_a, language="en")
    pay(invoice, "200.00", day(3))

    services.reminders_run(today=day(14))

    reminder = Reminder.objects.get()
    # 2 days on 500, 12 days on 300 (the 35 fee earns none): (1000 + 3600) * 0.125 / 365
    assert (reminder.fee, reminder.interest) == (Money("35.00", "NOK"), Money("1.58", "NOK"))
    assert selectors.amounts_owed([invoice.pk]) == {invoice.pk: D("336.58")}


def test_s06_interest_follows_the_half_yearly_rate(interest_on):
    LateInterestRate.objects.create(valid_from=datetime.date(2026, 7, 1), rate_percent=D("12"))
    invoice = invoice_for(
        interest_on.club_a,
        interest_on.player_a,
        language="en",
        due_date=datetime.date(2026, 6, 23),
    )

    services.reminders_run(today=datetime.date(2026, 6, 30))
    services.reminders_run(today=datetime.date(2026, 7, 21))

    assert list(Reminder.objects.filter(invoice=invoice).values_list("interest", flat=True)) == [
        D("1.20"),  # 7 days in June at 12.5 %
        D("3.45"),  # 21 days in July at 12 %: 500 * 0.12 * 21 / 365 = 3.452
    ]


def test_s06_unpaid_interest_keeps_the_invoice_partly_paid(interest_on):
    invoice = invoice_for(interest_on.club_a, interest_on.player_a, language="en")
    services.reminders_run(today=day(7))

    pay(invoice, "500.00", day(8))
    status.invoices_refresh_paid_status(actor=None, invoice_ids=[invoice.pk])
    partly = Invoice.objects.get(pk=invoice.pk).status
    pay(invoice, "1.20", day(9))
    status.invoices_refresh_paid_status(actor=None, invoice_ids=[invoice.pk])

    assert (partly, Invoice.objects.get(pk=invoice.pk).status) == ("partly_paid", "paid")


def test_s06_the_reminder_email_shows_the_interest_and_the_claim(interest_on):
    invoice_for(interest_on.club_a, interest_on.player_a, language="en")
    services.reminders_run(today=day(7))

    services.deliveries_send()

    [message] = mail.outbox
    assert "late interest NOK1.20" in message.body
    assert "Amount owed NOK501.20" in message.body


def test_s06_the_reminder_list_shows_the_interest(interest_on):
    invoice_for(interest_on.club_a, interest_on.player_a, language="en")
    services.reminders_run(today=day(7))
    client = interest_on.client("official_this_club", "billing.manage")

    response = client.get(reverse("billing:reminder-list", args=[interest_on.club_a.pk]))

    body = response.content.decode()
    assert re.search(r"<th[^>]*>Late interest</th>", body)
    assert '<td class="num">1.20</td>' in body


def test_s06_the_club_switches_late_interest_on_in_its_reminder_settings(world):
    """S-06: late interest is the club's choice, off by default, set on the settings page."""
    client = world.client("official_this_club", "billing.manage")
    url = reverse("billing:reminder-policy", args=[world.club_a.pk])
    assert selectors.charges_interest(selectors.reminder_policy(world.club_a)) is False

    response = client.post(
        url,
        {
            "is_enabled": "on",
            "days_after_due": "7",
            "deadline_days": "14",
            "max_reminders": "2",
            "charge_interest": "on",
            "notify_team_leaders": "on",
        },
    )

    assert response.status_code == 302
    assert selectors.charges_interest(selectors.reminder_policy(world.club_a)) is True
    listed = client.get(reverse("billing:reminder-list", args=[world.club_a.pk]))
    assert "Late interest is charged at the legal rate." in listed.content.decode()
