"""`manage.py seed_demo`: the demo club's billing history (billing.demo.billing_history),
written through the invoicing, payment, delivery and refund services: numbered invoices with
KID (S-01, S-05), OCR Giro payments (S-02), reminders with fees and the team leaders' unpaid
lists (D-03, S-06), the reconciliation list, a void invoice and a credit note (S-05), an open
invoice for the parent (M-10) and the volunteer-work refunds (M-15)."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing import demo, kid
from billing.delivery import reminders as reminder_rules
from billing.models import (
    Invoice,
    InvoiceDelivery,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoicingRun,
    Payment,
    PaymentFile,
    Refund,
    Reminder,
    TeamUnpaidNotice,
    TrialPeriod,
)
from billing.models_delivery import DeliveryState
from billing.models_ledger import RefundState
from billing.models_payments import MatchState, PaymentSource
from billing.online import selectors as online_selectors
from billing.payments import selectors as payment_selectors
from members.models import Function, Organisation, User
from tests.clubadmin.test_seed_demo import (  # noqa: F401 (the autouse fixture)
    _function_types,
    demo_club,
    seed,
)

pytestmark = pytest.mark.django_db

# The history runs until the day of seeding: the tests seed on a fixed day late in the
# season, so that all of it (spring reminders, October's handball run) is in the past.
SEASON = 2026
DEMO_DAY = datetime.date(SEASON, 11, 22)


@pytest.fixture(autouse=True)
def _seeding_day(monkeypatch):
    moment = datetime.datetime.combine(DEMO_DAY, datetime.time(12), timezone.get_default_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)


def login(username: str) -> User:
    return User.objects.select_related("person").get(username=username)


def season_invoices(club: Organisation):
    return Invoice.objects.filter(club=club, season=SEASON)


def totals() -> list[tuple]:
    return list(Invoice.objects.order_by("number").values_list("number", "kind", "total", "status"))


def billing_counts() -> dict[str, int]:
    return {
        "runs": InvoicingRun.objects.count(),
        "invoices": Invoice.objects.count(),
        "invoice history": Invoice.history.count(),
        "invoice events": InvoiceEvent.objects.count(),
        "payments": Payment.objects.count(),
        "files": PaymentFile.objects.count(),
        "reminders": Reminder.objects.count(),
        "deliveries": InvoiceDelivery.objects.count(),
        "team lists": TeamUnpaidNotice.objects.count(),
        "refunds": Refund.objects.count(),
    }


def test_s05_s01_the_runs_number_their_invoices_without_gaps_in_date_order():
    seed()
    club = demo_club()

    runs = InvoicingRun.objects.filter(club=club).order_by("issue_date", "pk")
    assert [(run.fee_kinds, run.state) for run in runs] == [
        (["membership"], "done"),  # D-02, in January
        (["activity"], "done"),  # D-07: ski, the same day
        (["volunteer_work"], "done"),  # M-15: on its own
        (["activity"], "done"),  # D-07: football by 1 March
        (["activity"], "done"),  # D-07: handball by 1 October
    ]
    rows = list(season_invoices(club).order_by("number").values_list("number", "issue_date"))
    assert [number for number, _ in rows] == list(range(1, len(rows) + 1))
    assert [day for _, day in rows] == sorted(day for _, day in rows)  # numbered as issued
    kids = list(
        season_invoices(club).filter(kind=InvoiceKind.INVOICE).values_list("kid", flat=True)
    )
    assert len(set(kids)) == len(kids) == sum(run.invoices_created for run in runs)
    assert all(kid.is_valid(value, club.kid_algorithm) for value in kids)
    # The newcomer on trial (D-06) joined a week ago: no run invoiced them back then.
    newcomer = TrialPeriod.objects.get().person
    assert not InvoiceLine.objects.filter(person=newcomer).exists()


def test_s02_most_invoices_are_paid_through_weekly_ocr_files_before_the_due_date():
    seed()
    club = demo_club()

    invoices = season_invoices(club).filter(kind=InvoiceKind.INVOICE)
    statuses = Counter(invoices.values_list("status", flat=True))
    assert statuses[InvoiceStatus.PAID] > 0.8 * invoices.count()
    files = PaymentFile.objects.filter(club=club)
    assert files.count() >= 5
    assert {file.imported_at.weekday() for file in files} == {0}  # Mondays
    by_bank = Payment.objects.filter(club=club, source=PaymentSource.OCR)
    assert by_bank.count() == sum(files.values_list("recorded_count", flat=True))
    on_time = by_bank.filter(match_state=MatchState.MATCHED)
    assert on_time.count() > 0.7 * invoices.count()
    by_hand = Payment.objects.filter(club=club, source=PaymentSource.MANUAL)
    assert by_hand.exists()
    assert all(payment.match_state == MatchState.MATCHED for payment in by_hand)
    assert all(payment.paid_date < DEMO_DAY for payment in Payment.objects.all())


def test_d03_s06_unpaid_invoices_are_reminded_with_fees_and_team_leaders_get_their_list():
    seed()
    club = demo_club()

    reminders = Reminder.objects.filter(club=club).select_related("invoice")
    assert reminders.exists()
    for reminder in reminders:
        days_past_due = (reminder.reminded_on - reminder.invoice.due_date).days
        assert days_past_due >= 7  # D-03: a week after the due date
        if reminder.fee.amount > 0:  # S-06: a fee from 14 days past due, two at most
            assert days_past_due >= reminder_rules.FEE_DAYS_PAST_DUE
            assert reminder.fee.amount == Decimal(35)
    assert reminders.filter(fee__gt=0).exists()
    assert max(Counter(reminders.filter(fee__gt=0).values_list("invoice", flat=True)).values()) <= 2
    # D-03: the team leader's list names the parent's daughter, whose membership is unpaid.
    leader = login("lagleder")
    daughter = (
        Function.objects.filter(
            person__guardian_relations__guardian=login("forelder").person,
            organisation__functions__person=leader.person,
            organisation__functions__function_type__code="team-leader",
            function_type__code="player",
        )
        .values_list("person_id", flat=True)
        .first()
    )
    lists = TeamUnpaidNotice.objects.filter(leader=leader.person)
    assert daughter is not None and lists.exists()
    assert all(daughter in {p["person_id"] for p in notice.players} for notice in lists)
    # The history's outbox went out on its day: nothing is left for the worker to send.
    assert not InvoiceDelivery.objects.filter(state=DeliveryState.PENDING).exists()
    assert not TeamUnpaidNotice.objects.filter(state=DeliveryState.PENDING).exists()


def test_the_reconciliation_list_has_an_overpayment_and_a_payment_with_an_unknown_kid():
    seed()
    club = demo_club()
    manager = login("dagligleder")

    listed = list(payment_selectors.reconciliation_list(manager, club))

    states = Counter(payment.match_state for payment in listed)
    assert states[MatchState.OVER] == 1
    assert states[MatchState.UNMATCHED] == 1
    assert states[MatchState.PARTIAL] >= 1
    over = next(p for p in listed if p.match_state == MatchState.OVER)
    assert over.invoice.payments.count() == 2  # paid twice
    assert over.invoice.status == InvoiceStatus.PAID
    unmatched = next(p for p in listed if p.match_state == MatchState.UNMATCHED)
    assert unmatched.invoice is None
    assert not Invoice.objects.filter(kid=unmatched.kid).exists()
    assert kid.is_valid(unmatched.kid, club.kid_algorithm)


def test_s05_one_invoice_is_void_and_one_credited_with_their_reasons():
    seed()
    club = demo_club()

    void = season_invoices(club).get(status=InvoiceStatus.VOID)
    assert void.events.get(kind=InvoiceEvent.Kind.VOIDED).note == demo.VOID_REASON
    assert not void.payments.exists()
    credited = season_invoices(club).get(status=InvoiceStatus.CREDITED)
    note = credited.credit_notes.get()
    assert note.total == -credited.total
    assert note.reason == demo.CREDIT_REASON
    assert note.number > credited.number


def test_m10_m15_the_parent_has_an_open_family_invoice_and_volunteer_work_refunds():
    seed()
    parent = login("forelder")

    payable = online_selectors.payable_invoices(parent.person)

    assert [row.invoice.run.fee_kinds for row in payable] == [["membership"]]
    open_invoice = payable[0].invoice
    assert open_invoice.payer_id == parent.person_id
    assert open_invoice.lines.values("person").distinct().count() == 5  # the family (M-11)
    assert payable[0].owed > open_invoice.total.amount  # with the reminder fees (S-06)
    assert (
        not Invoice.objects.filter(payer=parent.person, kind=InvoiceKind.INVOICE)
        .exclude(pk=open_invoice.pk)
        .exclude(status=InvoiceStatus.PAID)
        .exists()
    )
    refunds = Refund.objects.order_by("pk")
    assert [(r.person.first_name, r.amount.amount, r.state) for r in refunds] == [
        ("Sølvi", Decimal(300), RefundState.APPROVED),  # 3 h x 100
        ("Øystein", Decimal(500), RefundState.PROPOSED),  # 8 h x 100, at most the fee
    ]
    assert refunds[0].credit_note.total.amount == Decimal(-300)


def test_the_history_is_dated_before_the_seeding_day_and_queues_no_tasks(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        seed()

    assert callbacks == []  # no PDFs rendered, nothing sent again by the worker
    today_start = timezone.now().replace(hour=0)
    assert not InvoiceEvent.objects.filter(created_at__gte=today_start).exists()
    assert not Payment.objects.filter(created_at__gte=today_start).exists()
    assert not Reminder.objects.filter(reminded_on__gte=DEMO_DAY).exists()
    assert timezone.now().date() == DEMO_DAY  # the clock is given back


def test_the_same_seed_gives_the_same_billing_and_reset_replaces_it():
    seed()
    first, first_counts = totals(), billing_counts()
    assert first_counts["invoices"] > 50

    seed()  # --reset

    assert totals() == first
    assert billing_counts() == first_counts
    with connection.cursor() as cursor:  # the series starts again at 1 (S-05)
        cursor.execute("SELECT MIN(number) FROM billing_invoice")
        assert cursor.fetchone()[0] == 1
