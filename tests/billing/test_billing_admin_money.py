"""The admin of issue 6 (billing/admin_*.py): invoices, lines, events, number series,
invoicing runs and chunks, OCR imports, payments, online checkouts and provider events,
reminders, deliveries, team leaders' unpaid lists, refunds (all read-only, S-05), and the
settings staff change there: reminder policies (D-03), S-06's dated tables and S-07's
report age bands.

Who: superusers see everything; a club's finance person (billing.manage and admin.access in
club A) sees club A's rows only; federation staff see their federation's clubs (A and B,
not C of the other federation); staff without billing.manage see no billing page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from djmoney.money import Money

from billing.admin_delivery import (
    DATE_TAKEN,
    FEE_NOT_NEGATIVE,
    HALF_YEAR_ONLY,
    NOT_IN_THE_PAST,
    RATE_NOT_NEGATIVE,
)
from billing.admin_ledger import BANDS_NOT_ASCENDING
from billing.models_delivery import (
    InvoiceDelivery,
    LateInterestRate,
    Reminder,
    ReminderFeeRate,
    ReminderPolicy,
    TeamUnpaidNotice,
)
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoicingChunk,
    InvoicingRun,
    InvoicingState,
)
from billing.models_ledger import Refund, RefundEvent, ReportAgeBands
from billing.models_online import CheckoutLine, CheckoutSession, ProviderEvent
from billing.models_payments import Payment, PaymentEvent, PaymentFile
from members.models import Organisation, Person, User
from tests.conftest import World
from tests.members.factories import FunctionFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

MANY = 35  # rows of club A per table: more than 30, fewer than a page of 50
SEASON = 2026
QUERY_BUDGET = 14  # a list page of MANY rows, whatever MANY is (no N+1)
NOK = "NOK"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# ------------------------------------------------------------------ the rows


@dataclass
class Rows:
    """Per club: the rows of every table (lists of model instances by table name)."""

    by_club: dict[int, dict[str, list]] = field(default_factory=dict)

    def of(self, club: Organisation, table: str) -> list:
        return self.by_club[club.pk][table]


def _club_rows(club: Organisation, team: Organisation, payers: list[Person], user: User) -> dict:
    count = len(payers)
    day = datetime.date(SEASON, 1, 15)
    invoices = Invoice.objects.bulk_create(
        Invoice(
            club=club,
            number=1000 + i,
            season=SEASON,
            payer=payer,
            buyer_name=payer.full_name,
            seller_name=club.name,
            issue_date=day,
            due_date=datetime.date(SEASON, 3, 1),
            kid=f"{club.pk:03d}{1000 + i:07d}",
            total=Money("500.00", NOK),
            created_by=user,
        )
        for i, payer in enumerate(payers)
    )
    lines = InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            club=club,
            person=invoice.payer,
            position=1,
            fee="membership",
            key_fee="membership",
            line_kind="charge",
            period_start=datetime.date(SEASON, 1, 1),
            period_end=datetime.date(SEASON, 12, 31),
            description=f"Membership fee {SEASON}",
            amount=Money("500.00", NOK),
        )
        for invoice in invoices
    )
    invoice_events = InvoiceEvent.objects.bulk_create(
        InvoiceEvent(invoice=invoice, kind="issued", to_status="issued", actor=user)
        for invoice in invoices
    )
    runs = InvoicingRun.objects.bulk_create(
        InvoicingRun(
            club=club,
            season=SEASON,
            fee_kinds=["membership"],
            issue_date=day,
            state=InvoicingState.DONE,
            chunks_total=1,
            chunks_done=1,
            invoices_created=1,
            errors=[{"payer": payer.pk, "error": "no address"}] if i == 0 else [],
            started_by=user,
        )
        for i, payer in enumerate(payers)
    )
    chunks = InvoicingChunk.objects.bulk_create(
        InvoicingChunk(
            run=run,
            position=0,
            payer_ids=[payer.pk],
            person_ids=[payer.pk],
            state=InvoicingState.DONE,
        )
        for run, payer in zip(runs, payers, strict=True)
    )
    files = PaymentFile.objects.bulk_create(
        PaymentFile(
            club=club,
            file_name=f"ocr-{i}.txt",
            sha256=f"{club.pk:08d}{i:056d}",
            transactions_count=1,
            recorded_count=1,
            total=Money("500.00", NOK),
            recorded_total=Money("500.00", NOK),
            uploaded_by=user,
        )
        for i in range(count)
    )
    payments = Payment.objects.bulk_create(
        Payment(
            club=club,
            invoice=invoice,
            file=file,
            source="ocr",
            transaction_key=f"tx-{i}",
            amount=Money("500.00", NOK),
            paid_date=datetime.date(SEASON, 2, 1),
            kid=invoice.kid,
            payer_name=invoice.buyer_name,
            match_state="matched",
        )
        for i, (invoice, file) in enumerate(zip(invoices, files, strict=True))
    )
    payment_events = PaymentEvent.objects.bulk_create(
        PaymentEvent(payment=payment, kind="recorded", to_state="matched", invoice=payment.invoice)
        for payment in payments
    )
    sessions = CheckoutSession.objects.bulk_create(
        CheckoutSession(
            provider="sandbox",
            provider_session_id=f"cs_{club.pk}_{i}",
            club=club,
            payer=invoice.payer,
            scope="family",
            total=Money("500.00", NOK),
        )
        for i, invoice in enumerate(invoices)
    )
    CheckoutLine.objects.bulk_create(
        CheckoutLine(session=session, invoice=invoice, amount=Money("500.00", NOK))
        for session, invoice in zip(sessions, invoices, strict=True)
    )
    provider_events = ProviderEvent.objects.bulk_create(
        ProviderEvent(
            provider="sandbox",
            event_id=f"evt_{club.pk}_{i}",
            event_type="checkout.session.completed",
            session=session,
            outcome="recorded",
            payload={"id": f"evt_{club.pk}_{i}"},
        )
        for i, session in enumerate(sessions)
    )
    reminders = Reminder.objects.bulk_create(
        Reminder(
            invoice=invoice,
            club=club,
            sequence=1,
            reminded_on=datetime.date(SEASON, 3, 8),
            fee=Money("0.00", NOK),
            due_date=datetime.date(SEASON, 3, 22),
        )
        for invoice in invoices
    )
    deliveries = InvoiceDelivery.objects.bulk_create(
        InvoiceDelivery(
            invoice=invoice,
            club=club,
            payer=invoice.payer,
            channel="email",
            recipient=f"payer{i}@example.org",
        )
        for i, invoice in enumerate(invoices)
    )
    notices = TeamUnpaidNotice.objects.bulk_create(
        TeamUnpaidNotice(
            club=club,
            team=team,
            leader=payer,
            notice_date=datetime.date(SEASON, 3, 8),
            players=[{"person_id": payer.pk, "name": payer.full_name}],
        )
        for payer in payers
    )
    refunds = Refund.objects.bulk_create(
        Refund(
            club=club,
            person=payer,
            payee=payer,
            season=SEASON,
            reason="volunteer_work",
            group=f"g{i}",
            rule_id="M-15",
            amount=Money("100.00", NOK),
            description="Volunteer work",
            invoice=invoice,
        )
        for i, (payer, invoice) in enumerate(zip(payers, invoices, strict=True))
    )
    refund_events = RefundEvent.objects.bulk_create(
        RefundEvent(refund=refund, to_state="proposed", actor=user) for refund in refunds
    )
    return {
        "invoice": invoices,
        "invoiceline": lines,
        "invoiceevent": invoice_events,
        "invoicenumberseries": [InvoiceNumberSeries.objects.create(club=club, next_number=2000)],
        "invoicingrun": runs,
        "invoicingchunk": chunks,
        "paymentfile": files,
        "payment": payments,
        "paymentevent": payment_events,
        "checkoutsession": sessions,
        "providerevent": provider_events,
        "reminder": reminders,
        "invoicedelivery": deliveries,
        "teamunpaidnotice": notices,
        "reminderpolicy": [ReminderPolicy.objects.create(club=club)],
        "refund": refunds,
        "refundevent": refund_events,
        "reportagebands": [
            ReportAgeBands.objects.create(organisation=club, band_starts=[0, 6, 13, 20, 26])
        ],
    }


@pytest.fixture
def rows(world: World) -> Rows:
    user = UserFactory(username="treasurer-of-record")
    payers = [PersonFactory() for _ in range(MANY)]
    result = Rows()
    result.by_club[world.club_a.pk] = _club_rows(world.club_a, world.team_a, payers, user)
    for club in (world.club_b, world.club_c):
        result.by_club[club.pk] = _club_rows(club, club, payers[:1], user)
    return result


# The tables whose rows belong to a club; the path from a row to its club.
CLUB_TABLES = {
    "invoice": "club",
    "invoiceline": "club",
    "invoiceevent": "invoice.club",
    "invoicenumberseries": "club",
    "invoicingrun": "club",
    "invoicingchunk": "run.club",
    "paymentfile": "club",
    "payment": "club",
    "paymentevent": "payment.club",
    "checkoutsession": "club",
    "providerevent": "session.club",
    "reminder": "club",
    "invoicedelivery": "club",
    "teamunpaidnotice": "club",
    "reminderpolicy": "club",
    "refund": "club",
    "refundevent": "refund.club",
    "reportagebands": "organisation",
}
# S-05: money and what was charged and sent: never added, changed or deleted in the admin.
READ_ONLY_TABLES = tuple(
    name for name in CLUB_TABLES if name not in ("reminderpolicy", "reportagebands")
)
DATED_TABLES = ("reminderfeerate", "lateinterestrate")


def club_of(row: object, path: str) -> Organisation:
    for part in path.split("."):
        row = getattr(row, part)
    return row


def changelist(table: str) -> str:
    return reverse(f"admin:billing_{table}_changelist")


def change(table: str, pk: int) -> str:
    return reverse(f"admin:billing_{table}_change", args=[pk])


def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def finance_user(world: World) -> User:
    """Club A's treasurer: billing.manage and admin.access in club A, a staff login."""
    user = UserFactory(username="treasurer-a", is_staff=True)
    function_type = world.function_type({"billing.manage", "admin.access"}, "test-treasurer")
    FunctionFactory(person=user.person, organisation=world.club_a, function_type=function_type)
    return user


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def money_state() -> object:
    """Every money row the admin must not touch, to assert that nothing changed."""
    tables = (
        Invoice,
        InvoiceLine,
        InvoiceEvent,
        InvoiceNumberSeries,
        InvoicingRun,
        InvoicingChunk,
        PaymentFile,
        Payment,
        PaymentEvent,
        CheckoutSession,
        CheckoutLine,
        ProviderEvent,
        Reminder,
        InvoiceDelivery,
        TeamUnpaidNotice,
        Refund,
        RefundEvent,
    )
    return (
        [table.objects.count() for table in tables],
        sorted(Invoice.objects.values_list("pk", "status", "total", "kid", "due_date")),
        sorted(Payment.objects.values_list("pk", "amount", "invoice_id", "match_state")),
        sorted(Refund.objects.values_list("pk", "state", "amount")),
        sorted(InvoicingChunk.objects.values_list("pk", "state", "claimed_at")),
    )


# ------------------------------------------------------------------ superuser: every page


@pytest.mark.parametrize("table", [*CLUB_TABLES, *DATED_TABLES])
def test_every_list_opens_for_a_superuser_within_a_query_budget(
    world, rows, table, django_assert_max_num_queries
):
    client = superuser_client()
    client.get(reverse("admin:index"))  # the session and the grants, not counted below

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(changelist(table))

    assert response.status_code == 200
    if table in CLUB_TABLES and len(rows.of(world.club_a, table)) == MANY:
        assert response.context["cl"].result_count == MANY + 2  # clubs A, B and C


@pytest.mark.parametrize("table", CLUB_TABLES)
def test_every_change_page_and_history_opens_for_a_superuser(world, rows, table):
    client = superuser_client()
    row = rows.of(world.club_a, table)[0]

    page = client.get(change(table, row.pk))
    history = client.get(reverse(f"admin:billing_{table}_history", args=[row.pk]))

    assert page.status_code == 200
    assert history.status_code == 200


@pytest.mark.parametrize("table", [*DATED_TABLES, "reminderpolicy", "reportagebands"])
def test_the_add_pages_of_the_settings_open_for_a_superuser(world, table):
    assert superuser_client().get(reverse(f"admin:billing_{table}_add")).status_code == 200


@pytest.mark.parametrize("table", DATED_TABLES)
def test_the_dated_tables_open_for_a_superuser(world, table):
    model = ReminderFeeRate if table == "reminderfeerate" else LateInterestRate
    row = model.objects.order_by("valid_from").first()  # seeded by migration 0007
    client = superuser_client()

    assert client.get(change(table, row.pk)).status_code == 200
    assert client.get(reverse(f"admin:billing_{table}_history", args=[row.pk])).status_code == 200


def test_the_invoice_page_links_to_its_records_and_the_app(world, rows):
    invoice = rows.of(world.club_a, "invoice")[0]

    response = superuser_client().get(change("invoice", invoice.pk))

    page = response.content.decode()
    assert reverse("billing:invoice-detail", args=[invoice.pk]) in page
    assert reverse("billing:invoice-pdf", args=[invoice.pk]) in page
    assert f"{changelist('payment')}?invoice__id__exact={invoice.pk}" in page
    assert f"{changelist('reminder')}?invoice__id__exact={invoice.pk}" in page
    assert f"{changelist('invoicedelivery')}?invoice__id__exact={invoice.pk}" in page
    assert "Payments (1)" in page
    # the lines and events inline, read-only
    assert "Membership fee 2026" in page
    assert 'name="lines-0-description"' not in page


def test_the_payments_of_an_invoice_follow_the_link(world, rows):
    invoice = rows.of(world.club_a, "invoice")[3]

    response = superuser_client().get(changelist("payment"), {"invoice__id__exact": invoice.pk})

    assert [payment.invoice_id for payment in response.context["cl"].result_list] == [invoice.pk]


def _rename(invoice: Invoice) -> str:
    invoice.payer.first_name, invoice.payer.last_name = "Ærlige", "Østmo-Ådnanes"
    invoice.payer.save()
    return "aerlige ostmo"  # the start of the folded first and last name


@pytest.mark.parametrize(
    ("term_of", "expected"),
    [
        (lambda invoice: str(invoice.number), 1011),
        (lambda invoice: invoice.kid, 1011),
        (_rename, 1011),
    ],
    ids=["number", "kid", "payer name"],
)
def test_invoice_search_by_number_kid_and_payer_name(world, rows, term_of, expected):
    term = term_of(rows.of(world.club_a, "invoice")[11])

    response = superuser_client().get(changelist("invoice"), {"q": term})

    assert [invoice.number for invoice in response.context["cl"].result_list] == [expected]


# ------------------------------------------------------------------ scoping


@pytest.mark.parametrize("table", CLUB_TABLES)
def test_a_club_treasurer_sees_only_the_rows_of_their_club(
    world, rows, table, django_assert_max_num_queries
):
    client = login(finance_user(world))

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(changelist(table))

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert {club_of(row, CLUB_TABLES[table]) for row in shown} == {world.club_a}
    assert sorted(row.pk for row in shown) == sorted(row.pk for row in rows.of(world.club_a, table))


@pytest.mark.parametrize("table", CLUB_TABLES)
def test_another_clubs_row_is_not_found_for_the_treasurer(world, rows, table):
    client = login(finance_user(world))
    other = rows.of(world.club_b, table)[0]

    page = client.get(change(table, other.pk))
    history = client.get(reverse(f"admin:billing_{table}_history", args=[other.pk]))

    assert page.status_code == 404
    assert history.status_code in (403, 404)


@pytest.mark.parametrize("table", ["invoice", "payment", "refund", "providerevent"])
def test_federation_staff_see_their_federations_clubs_only(world, rows, table):
    client = world.client("federation_staff", "admin.access")

    response = client.get(changelist(table))
    other_federation = rows.of(world.club_c, table)[0]

    clubs = {club_of(row, CLUB_TABLES[table]) for row in response.context["cl"].result_list}
    assert clubs == {world.club_a, world.club_b}
    assert client.get(change(table, other_federation.pk)).status_code == 404


def test_the_club_filter_narrows_the_list(world, rows):
    client = world.client("federation_staff", "admin.access")

    response = client.get(changelist("invoice"), {"club": world.club_b.pk})

    assert [invoice.club for invoice in response.context["cl"].result_list] == [world.club_b]


def test_the_club_filter_cannot_reach_outside_the_users_scope(world, rows):
    client = login(finance_user(world))

    response = client.get(changelist("invoice"), {"club": world.club_c.pk})

    assert list(response.context["cl"].result_list) == []


def test_provider_events_without_a_checkout_are_for_superusers_only(world, rows):
    orphan = ProviderEvent.objects.create(
        provider="sandbox", event_id="evt_unknown", event_type="x", outcome="rejected"
    )
    treasurer = login(finance_user(world))

    assert treasurer.get(change("providerevent", orphan.pk)).status_code == 404
    assert superuser_client().get(change("providerevent", orphan.pk)).status_code == 200


@pytest.mark.parametrize("table", ["invoice", "payment", "reminderfeerate", "reminderpolicy"])
def test_staff_without_billing_manage_get_no_billing_admin(world, rows, table):
    user = UserFactory(username="registrar", is_staff=True)
    function_type = world.function_type({"members.manage", "admin.access"}, "test-registrar")
    FunctionFactory(person=user.person, organisation=world.club_a, function_type=function_type)

    response = login(user).get(changelist(table))

    assert response.status_code == 403


# ------------------------------------------------------------------ S-05: read-only


@pytest.mark.parametrize("table", READ_ONLY_TABLES)
def test_s05_money_records_cannot_be_added_changed_or_deleted(world, rows, table):
    client = superuser_client()  # not even a superuser
    row = rows.of(world.club_a, table)[0]
    before = money_state()

    add_page = client.get(reverse(f"admin:billing_{table}_add"))
    add = client.post(reverse(f"admin:billing_{table}_add"), {})
    changed = client.post(change(table, row.pk), {"status": "void", "note": "x"})
    deleted = client.post(reverse(f"admin:billing_{table}_delete", args=[row.pk]), {"post": "yes"})
    bulk = client.post(
        changelist(table), {"action": "delete_selected", "_selected_action": [row.pk]}
    )

    assert (add_page.status_code, add.status_code) == (403, 403)
    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)  # Django: "no action selected", nothing done
    assert money_state() == before


def test_s05_an_old_version_of_an_invoice_cannot_be_saved_back(world, rows):
    """django-simple-history's revert page saves the old version on POST after checking only
    the view permission: the billing admin refuses it."""
    invoice = rows.of(world.club_a, "invoice")[0]
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    invoice.refresh_from_db()
    invoice.save()  # the first version: issued
    invoice.status = "void"
    invoice.save()  # voided (the app does this through invoice_void)
    first = invoice.history.earliest()

    for client in (superuser_client(), login(finance_user(world))):
        response = client.post(
            reverse("admin:billing_invoice_simple_history", args=[invoice.pk, first.history_id]),
            {},
        )
        assert response.status_code == 403

    invoice.refresh_from_db()
    assert invoice.status == "void"


# ------------------------------------------------------------------ invoicing runs


def _stalled_chunk(world: World) -> InvoicingChunk:
    run = InvoicingRun.objects.create(
        club=world.club_a,
        season=SEASON,
        fee_kinds=["membership"],
        issue_date=datetime.date(SEASON, 1, 15),
        state=InvoicingState.RUNNING,
        chunks_total=1,
    )
    return InvoicingChunk.objects.create(
        run=run,
        position=0,
        payer_ids=[1],
        person_ids=[1],
        state=InvoicingState.RUNNING,
        attempts=1,
        claimed_at=timezone.now() - datetime.timedelta(hours=1),
    )


def test_a_superuser_requeues_stalled_chunks_through_the_reconciler(
    world, django_capture_on_commit_callbacks
):
    chunk = _stalled_chunk(world)

    with django_capture_on_commit_callbacks() as queued:
        response = superuser_client().post(
            changelist("invoicingrun"),
            {"action": "requeue_stalled_chunks", "_selected_action": [chunk.run_id]},
        )

    assert response.status_code == 302
    chunk.refresh_from_db()
    assert chunk.state == InvoicingState.PENDING
    assert len(queued) == 1  # the chunk's task, queued after the commit


def test_the_requeue_action_is_for_superusers_only(world):
    chunk = _stalled_chunk(world)
    client = login(finance_user(world))

    listing = client.get(changelist("invoicingrun"))
    response = client.post(
        changelist("invoicingrun"),
        {"action": "requeue_stalled_chunks", "_selected_action": [chunk.run_id]},
    )

    assert listing.context["action_form"] is None  # no action at all on this read-only list
    assert response.status_code == 200  # "no action selected"
    chunk.refresh_from_db()
    assert chunk.state == InvoicingState.RUNNING


def test_the_run_page_shows_counts_errors_and_who_started_it(world, rows):
    run = rows.of(world.club_a, "invoicingrun")[0]

    page = superuser_client().get(change("invoicingrun", run.pk)).content.decode()

    assert "no address" in page  # the run's errors
    assert "treasurer-of-record" in page  # started by
    assert reverse("billing:invoicing-run-detail", args=[run.pk]) in page


# ------------------------------------------------------------------ S-06 dated tables


def _rate_data(valid_from: datetime.date, amount: str = "40.00") -> dict:
    return {
        "valid_from": valid_from.isoformat(),
        "amount_0": amount,
        "amount_1": NOK,
        "source": "Inkassoforskriften § 1-2",
    }


def _next_half_year() -> datetime.date:
    today = timezone.localdate()
    return datetime.date(today.year + 1, 1, 1)


def test_s06_federation_staff_add_a_reminder_fee_from_a_later_date_and_it_is_logged(world):
    staff = world.user("federation_staff", "admin.access")
    valid_from = _next_half_year()

    response = login(staff).post(
        reverse("admin:billing_reminderfeerate_add"), _rate_data(valid_from)
    )

    assert response.status_code == 302
    rate = ReminderFeeRate.objects.get(valid_from=valid_from)
    assert rate.amount == Money("40.00", NOK)
    entry = LogEntry.objects.get(object_id=str(rate.pk), content_type__model="reminderfeerate")
    assert entry.user == staff
    assert "40.00" in entry.get_change_message()


def test_s06_a_rate_not_yet_in_force_is_corrected_with_old_and_new_value_logged(world):
    staff = world.user("federation_staff", "admin.access")
    rate = ReminderFeeRate.objects.create(
        valid_from=_next_half_year(), amount=Money("40.00", NOK), source="draft"
    )

    response = login(staff).post(
        change("reminderfeerate", rate.pk), _rate_data(rate.valid_from, "45.00")
    )

    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.amount == Money("45.00", NOK)
    message = LogEntry.objects.get(object_id=str(rate.pk)).get_change_message()
    assert "40.00" in message and "45.00" in message


def test_s06_a_rate_not_yet_in_force_may_be_deleted(world):
    staff = world.user("federation_staff", "admin.access")
    rate = ReminderFeeRate.objects.create(valid_from=_next_half_year(), amount=Money("40", NOK))

    response = login(staff).post(
        reverse("admin:billing_reminderfeerate_delete", args=[rate.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ReminderFeeRate.objects.filter(pk=rate.pk).exists()
    assert LogEntry.objects.get(object_id=str(rate.pk)).is_deletion()


def test_s06_a_rate_in_force_is_kept_as_it_is(world):
    staff = login(world.user("federation_staff", "admin.access"))
    in_force = ReminderFeeRate.objects.get(valid_from=datetime.date(2025, 1, 1))

    page = staff.get(change("reminderfeerate", in_force.pk))
    changed = staff.post(
        change("reminderfeerate", in_force.pk), _rate_data(in_force.valid_from, "99.00")
    )
    deleted = staff.post(
        reverse("admin:billing_reminderfeerate_delete", args=[in_force.pk]), {"post": "yes"}
    )

    assert page.status_code == 200  # to read
    assert (changed.status_code, deleted.status_code) == (403, 403)
    in_force.refresh_from_db()
    assert in_force.amount == Money("35.00", NOK)


@pytest.mark.parametrize(
    ("case", "amount", "error"),
    [
        ("date taken", "40.00", DATE_TAKEN),
        ("negative", "-1.00", FEE_NOT_NEGATIVE),
        ("in the past", "40.00", NOT_IN_THE_PAST),
    ],
)
def test_s06_an_invalid_reminder_fee_shows_an_error_and_adds_nothing(world, case, amount, error):
    staff = login(world.user("federation_staff", "admin.access"))
    valid_from = _next_half_year()
    if case == "date taken":
        ReminderFeeRate.objects.create(valid_from=valid_from, amount=Money("38.00", NOK))
    if case == "in the past":
        valid_from = datetime.date(2020, 1, 1)
    before = sorted(ReminderFeeRate.objects.values_list("valid_from", "amount"))

    response = staff.post(
        reverse("admin:billing_reminderfeerate_add"), _rate_data(valid_from, amount)
    )

    assert response.status_code == 200
    assert str(error) in str(response.context["adminform"].form.errors)
    assert sorted(ReminderFeeRate.objects.values_list("valid_from", "amount")) == before


@pytest.mark.parametrize(
    ("valid_from", "rate", "error"),
    [
        ("03-01", "12.50", HALF_YEAR_ONLY),
        ("01-01", "-0.50", RATE_NOT_NEGATIVE),
    ],
)
def test_s06_an_invalid_late_interest_rate_shows_an_error(world, valid_from, rate, error):
    staff = login(world.user("federation_staff", "admin.access"))
    year = timezone.localdate().year + 1
    before = LateInterestRate.objects.count()

    response = staff.post(
        reverse("admin:billing_lateinterestrate_add"),
        {"valid_from": f"{year}-{valid_from}", "rate_percent": rate, "source": "x"},
    )

    assert response.status_code == 200
    assert str(error) in str(response.context["adminform"].form.errors)
    assert LateInterestRate.objects.count() == before


def test_s06_a_half_year_late_interest_rate_is_added(world):
    staff = login(world.user("federation_staff", "admin.access"))
    valid_from = _next_half_year()

    response = staff.post(
        reverse("admin:billing_lateinterestrate_add"),
        {"valid_from": valid_from.isoformat(), "rate_percent": "12.25", "source": "Norges Bank"},
    )

    assert response.status_code == 302
    assert LateInterestRate.objects.get(valid_from=valid_from).rate_percent == Decimal("12.25")


def test_s06_a_club_treasurer_reads_the_dated_tables_but_does_not_change_them(world):
    client = login(finance_user(world))
    before = sorted(ReminderFeeRate.objects.values_list("valid_from", "amount"))

    listing = client.get(changelist("reminderfeerate"))
    add = client.post(reverse("admin:billing_reminderfeerate_add"), _rate_data(_next_half_year()))

    assert listing.status_code == 200
    assert add.status_code == 403
    assert sorted(ReminderFeeRate.objects.values_list("valid_from", "amount")) == before


def test_s06_the_list_shows_which_rate_is_in_force_and_until_when(world):
    ReminderFeeRate.objects.create(valid_from=datetime.date(2020, 1, 1), amount=Money("32.00", NOK))

    response = superuser_client().get(changelist("reminderfeerate"))

    shown = {rate.valid_from: rate for rate in response.context["cl"].result_list}
    admin_page = response.context["cl"].model_admin
    assert admin_page.valid_until(shown[datetime.date(2020, 1, 1)]) == "2024-12-31"
    assert admin_page.in_force(shown[datetime.date(2025, 1, 1)]) is True
    assert admin_page.in_force(shown[datetime.date(2020, 1, 1)]) is False


# ------------------------------------------------------------------ D-03 reminder policy


def _policy_data(**changes: object) -> dict:
    data = {
        "is_enabled": "on",
        "days_after_due": "10",
        "deadline_days": "14",
        "max_reminders": "2",
        "notify_team_leaders": "on",
    }
    data.update(changes)
    return data


def test_d03_the_treasurer_changes_the_clubs_reminder_policy_through_the_service(world, rows):
    user = finance_user(world)
    policy = rows.of(world.club_a, "reminderpolicy")[0]

    response = login(user).post(change("reminderpolicy", policy.pk), _policy_data())

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.days_after_due, policy.max_reminders, policy.updated_by) == (10, 2, user)
    message = LogEntry.objects.get(object_id=str(policy.pk), user=user).get_change_message()
    assert "7 → 10" in message


def test_d03_an_invalid_reminder_policy_shows_an_error(world, rows):
    policy = rows.of(world.club_a, "reminderpolicy")[0]

    response = login(finance_user(world)).post(
        change("reminderpolicy", policy.pk), _policy_data(deadline_days="7")
    )

    assert response.status_code == 200
    assert "deadline_days" in response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.deadline_days == 14


def test_d03_the_treasurer_cannot_change_another_clubs_policy(world, rows):
    other = rows.of(world.club_b, "reminderpolicy")[0]

    response = login(finance_user(world)).post(change("reminderpolicy", other.pk), _policy_data())

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.days_after_due == 7


def test_d03_a_policy_is_added_only_for_a_club_of_the_users_scope(world):
    client = login(finance_user(world))

    refused = client.post(
        reverse("admin:billing_reminderpolicy_add"), _policy_data(club=world.club_b.pk)
    )
    added = client.post(
        reverse("admin:billing_reminderpolicy_add"), _policy_data(club=world.club_a.pk)
    )

    assert refused.status_code == 200
    assert "club" in refused.context["adminform"].form.errors
    assert added.status_code == 302
    assert list(ReminderPolicy.objects.values_list("club", "days_after_due")) == [
        (world.club_a.pk, 10)
    ]


# ------------------------------------------------------------------ S-07 report age bands


def test_s07_age_bands_are_set_with_history_and_checked(world):
    user = finance_user(world)
    client = login(user)

    invalid = client.post(
        reverse("admin:billing_reportagebands_add"),
        {"organisation": world.club_a.pk, "band_starts": "0,13,6"},
    )
    valid = client.post(
        reverse("admin:billing_reportagebands_add"),
        {"organisation": world.club_a.pk, "band_starts": "0,6,13,20"},
    )

    assert invalid.status_code == 200
    assert str(BANDS_NOT_ASCENDING) in str(invalid.context["adminform"].form.errors)
    assert valid.status_code == 302
    bands = ReportAgeBands.objects.get(organisation=world.club_a)
    assert bands.band_starts == [0, 6, 13, 20]
    assert bands.history.latest().history_user == user
