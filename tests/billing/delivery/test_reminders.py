"""The daily reminder job (D-03, S-06): reminders the club's number of days after the due
date, a fee only where the law allows, idempotent, and the team leaders' unpaid lists."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from djmoney.money import Money

from billing.delivery import selectors, services
from billing.models_delivery import (
    InvoiceDelivery,
    Reminder,
    ReminderFeeRate,
    ReminderPolicy,
    TeamUnpaidNotice,
)
from billing.models_payments import MatchState, Payment, PaymentSource
from tests.billing.delivery.helpers import DUE, invoice_for
from tests.billing.factories import function
from tests.members.factories import ContactSetFactory, PersonFactory

pytestmark = pytest.mark.django_db


def day(offset: int) -> datetime.date:
    return DUE + datetime.timedelta(days=offset)


def pay(invoice, amount: str) -> None:
    Payment.objects.create(
        club=invoice.club,
        invoice=invoice,
        source=PaymentSource.MANUAL,
        transaction_key=f"t-{invoice.pk}-{amount}",
        amount=Money(amount, "NOK"),
        paid_date=day(1),
        match_state=MatchState.MATCHED,
    )


def test_s06_fee_table_seeded_by_the_data_migration():
    assert list(ReminderFeeRate.objects.values_list("valid_from", "amount")) == [
        (datetime.date(2025, 1, 1), Decimal("35.00"))
    ]


def test_d03_reminder_one_week_after_due_and_the_job_is_idempotent(world):
    unpaid = invoice_for(world.club_a, world.player_a)
    paid = invoice_for(world.club_a, PersonFactory(), email="paid@example.org")
    pay(paid, "500.00")

    assert services.reminders_run(today=day(6)).reminders == []
    report = services.reminders_run(today=day(7))
    again = services.reminders_run(today=day(7))
    services.deliveries_send()
    services.deliveries_send()

    reminder = Reminder.objects.get()
    assert report.reminders == [reminder.pk] and again.reminders == []
    assert (reminder.invoice, reminder.sequence, reminder.fee) == (unpaid, 1, Money(0, "NOK"))
    assert reminder.due_date == day(21)
    assert InvoiceDelivery.objects.filter(reminder=reminder).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["payer@example.org"]
    assert "Purring" in mail.outbox[0].subject  # bokmål, the invoice's language


def test_s06_fee_at_14_days_is_added_to_what_is_owed(world):
    ReminderPolicy.objects.create(club=world.club_a, days_after_due=14, charge_fee=True)
    invoice = invoice_for(world.club_a, world.player_a)
    pay(invoice, "100.00")

    services.reminders_run(today=day(14))

    reminder = Reminder.objects.get()
    assert (reminder.fee, reminder.due_date) == (Money("35.00", "NOK"), day(28))
    assert selectors.amounts_owed([invoice.pk]) == {invoice.pk: Decimal("435.00")}
    assert selectors.reminder_fees([invoice.pk]) == {invoice.pk: Decimal("35.00")}


def test_s06_at_most_two_fees_over_the_whole_claim(world):
    ReminderPolicy.objects.create(
        club=world.club_a, days_after_due=14, charge_fee=True, max_reminders=4
    )
    invoice = invoice_for(world.club_a, world.player_a)

    for offset in range(0, 120):
        services.reminders_run(today=day(offset))

    fees = list(Reminder.objects.order_by("sequence").values_list("sequence", "fee"))
    assert fees == [
        (1, Decimal("35.00")),
        (2, Decimal("35.00")),
        (3, Decimal("0.00")),
        (4, Decimal("0.00")),
    ]
    assert invoice.reminders.count() == 4


def test_d03_disabled_policy_sends_nothing(world):
    ReminderPolicy.objects.create(club=world.club_a, is_enabled=False)
    invoice_for(world.club_a, world.player_a)

    services.reminders_run(today=day(30))

    assert not Reminder.objects.exists()


def test_d03_each_team_leader_gets_one_mail_with_the_unpaid_players(world):
    unpaid_player = PersonFactory(first_name="Unpaid", last_name="Player")
    paid_player = PersonFactory(first_name="Paid", last_name="Player")
    for player in (unpaid_player, paid_player):
        function(player, world.team_a, "player")
    leader = PersonFactory(first_name="Lead")
    leader.contact_sets.update(email="leader@example.org")
    function(leader, world.team_a, "team-leader")
    silent_leader = PersonFactory(standard_contact=None)
    ContactSetFactory(person=silent_leader, is_standard=True, email="")
    function(silent_leader, world.team_a, "team-leader")
    unpaid = invoice_for(world.club_a, unpaid_player)
    paid = invoice_for(world.club_a, paid_player, email="p@example.org")
    pay(paid, "500.00")

    report = services.reminders_run(today=day(7))
    services.reminders_run(today=day(7))
    services.deliveries_send()

    notice = TeamUnpaidNotice.objects.get()
    assert (notice.team, notice.leader, notice.recipient) == (
        world.team_a,
        leader,
        "leader@example.org",
    )
    assert notice.players == [
        {"person_id": unpaid_player.pk, "name": "Unpaid Player", "invoice_numbers": [unpaid.number]}
    ]
    assert report.leaders_without_email == 1
    to_leader = [m for m in mail.outbox if m.to == ["leader@example.org"]]
    assert len(to_leader) == 1
    assert "Unpaid Player" in to_leader[0].body
    assert "Paid Player" not in to_leader[0].body
