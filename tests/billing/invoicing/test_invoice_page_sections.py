"""The invoicing pages in words (issue 6 scopes 1-3; S-05, S-06, M-10): the run list names
its fees and activity groups; the invoice page shows the payments, reminders, credit notes and
balance of the invoice, its fees by name, its events as "Issued" / "Paid" with who and when,
and the void box as an action; and the lines' descriptions are written in the invoice's
language (the PDF reads them, tests/billing/invoicing/test_pdf.py)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from billing import services as billing_services
from billing import texts
from billing.invoicing import services
from billing.models import (
    ActivityGroup,
    Invoice,
    InvoiceNumberSeries,
    InvoicingRun,
    InvoicingState,
)
from billing.models_delivery import Reminder
from billing.payments import services as payment_services
from members.models import User
from tests.billing.delivery.helpers import invoice_for
from tests.billing.factories import SEASON
from tests.billing.invoicing.invoices import invoice_example_club, invoice_of
from tests.billing.pages import english
from tests.conftest import World
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"


@pytest.fixture(autouse=True)
def _english_interface(settings, tmp_path):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path
    with translation.override("en"):
        yield


def _manager(world: World):  # type: ignore[no-untyped-def]
    return english(world.client("official_this_club", MANAGE))


# ------------------------------------------------------------------ the run list


def _run(world: World, fee_kinds: list[str], selection: dict | None = None) -> InvoicingRun:
    return InvoicingRun.objects.create(
        club=world.club_a,
        season=SEASON,
        fee_kinds=fee_kinds,
        selection=selection or {},
        issue_date=datetime.date(SEASON, 1, 15),
        state=InvoicingState.DONE,
    )


def test_issue6_run_list_names_the_fees_and_the_groups(world, django_assert_max_num_queries):
    billing_services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)
    ActivityGroup.objects.filter(code="football").update(name="Fotball")
    ActivityGroup.objects.filter(code="handball").update(name="Håndball")
    membership = _run(world, ["membership"])
    football = _run(world, ["activity"], {"groups": ["football"]})
    handball = _run(world, ["activity"], {"groups": ["handball"]})
    volunteer = _run(world, ["volunteer_work"], {"person_ids": [1, 2, 3]})
    for _index in range(20):
        _run(world, ["activity"], {"groups": ["football", "handball"]})
    client = _manager(world)
    url = reverse("billing:invoicing-run-list", args=[world.club_a.pk])
    client.get(url)  # warm up the session and grants

    with django_assert_max_num_queries(9):
        response = client.get(url)

    rows = {run.pk: run for run in response.context["page"].object_list}
    assert (rows[membership.pk].fee_labels, rows[membership.pk].selection_text) == (
        "Membership fee",
        "Everyone",
    )
    assert (rows[football.pk].fee_labels, rows[football.pk].selection_text) == (
        "Activity fee",
        "Fotball",
    )
    assert rows[handball.pk].selection_text == "Håndball"
    assert (rows[volunteer.pk].fee_labels, rows[volunteer.pk].selection_text) == (
        "Volunteer work fee",
        "3 persons",
    )
    html = response.content.decode()
    assert "<td>Activity fee</td><td>Fotball</td>" in html
    assert "<td>Activity fee</td><td>Håndball</td>" in html
    assert ">activity<" not in html and "volunteer_work" not in html


def test_issue6_run_page_names_the_fees_and_the_groups(world):
    billing_services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)
    ActivityGroup.objects.filter(code="football").update(name="Fotball")
    run = _run(world, ["activity", "membership"], {"groups": ["football"]})

    html = _manager(world).get(reverse("billing:invoicing-run-detail", args=[run.pk]))

    text = html.content.decode()
    assert "<dd>Activity fee, Membership fee</dd>" in text
    assert "<dd>Fotball</dd>" in text
    assert "activity, membership" not in text


# ------------------------------------------------------------------ the invoice page


@pytest.fixture
def owed(world: World) -> World:
    """Invoice of NOK 500 (two lines of 250): three reminders (fees 0, 35, 35; interest
    1.25 each), a payment of 200 by hand, a credit note of 100."""
    world.admin = world.user("official_this_club", MANAGE)
    InvoiceNumberSeries.objects.create(club=world.club_a, next_number=1000)
    payer, child = PersonFactory(), PersonFactory()
    invoice = invoice_for(world.club_a, payer, [payer, child], total="250.00")
    Invoice.objects.filter(pk=invoice.pk).update(total=Money("500.00", "NOK"))
    invoice.refresh_from_db()
    services._event(invoice, "issued", "", world.admin, "")
    for sequence, fee in enumerate(("0.00", "35.00", "35.00"), start=1):
        Reminder.objects.create(
            invoice=invoice,
            club=world.club_a,
            sequence=sequence,
            reminded_on=datetime.date(SEASON, 3, 8) + datetime.timedelta(days=14 * sequence),
            fee=Money(fee, "NOK"),
            interest=Money("1.25", "NOK"),
            due_date=datetime.date(SEASON, 3, 22) + datetime.timedelta(days=14 * sequence),
            rule_id="S-06",
        )
    payment_services.payment_register_manual(
        actor=world.admin,
        invoice=invoice,
        amount=Decimal("200.00"),
        paid_date=datetime.date(SEASON, 4, 2),
        idempotency_key="kassa-1",
    )
    line = invoice.lines.order_by("position").first()
    world.note = services.invoice_credit(
        actor=world.admin, invoice=invoice, reason="Flyttet", amounts={line.pk: Decimal(100)}
    )
    world.invoice = invoice
    return world


def test_s06_invoice_page_shows_payments_reminders_credit_notes_and_balance(owed):
    response = _manager(owed).get(reverse("billing:invoice-detail", args=[owed.invoice.pk]))

    assert response.status_code == 200
    balance = response.context["balance"]
    # claim = 500 - 100 credited + 70 reminder fees + 3.75 interest; 200 paid
    assert (balance.claim, balance.paid, balance.owed) == (
        Decimal("473.75"),
        Decimal("200.00"),
        Decimal("273.75"),
    )
    html = response.content.decode()
    assert "<h2>Balance</h2>" in html and "<strong>273.75</strong>" in html
    assert "<h2>Payments</h2>" in html
    assert "Registered by hand" in html and "200.00" in html
    assert "<h2>Reminders</h2>" in html
    assert [r.sequence for r in response.context["reminders"]] == [1, 2, 3]
    assert html.count('<td class="num">35.00</td>') == 2
    assert html.count('<td class="num">0.00</td>') == 1  # the same format for every fee
    assert "<h2>Credit notes</h2>" in html
    assert reverse("billing:invoice-detail", args=[owed.note.pk]) in html
    assert '<td class="num">-100.00</td>' in html


def test_s05_invoice_page_names_fees_and_events_in_words(owed):
    response = _manager(owed).get(reverse("billing:invoice-detail", args=[owed.invoice.pk]))

    html = response.content.decode()
    assert "<td>Membership fee</td>" in html and "<td>membership</td>" not in html
    events = [(row.title, row.actor) for row in response.context["events"]]
    name = str(owed.admin.person)
    assert events == [
        ("Issued", name),
        ("Partly paid", name),  # the payment, named by the state it led to
        ("Partly credited", name),
    ]
    assert "→" not in html and "(– " not in html


def test_s05_void_box_is_headed_by_its_action(world):
    payer = PersonFactory()
    invoice = invoice_for(world.club_a, payer)

    html = _manager(world).get(reverse("billing:invoice-detail", args=[invoice.pk]))

    text = html.content.decode()
    assert "<h2>Void invoice</h2>" in text
    assert "<h2>Void</h2>" not in text
    assert "No payments yet." in text and "No reminders." in text


def test_issue6_invoice_page_query_count_stays_with_more_rows(owed, django_assert_max_num_queries):
    client = _manager(owed)
    url = reverse("billing:invoice-detail", args=[owed.invoice.pk])
    client.get(url)
    for number in range(2, 8):
        payment_services.payment_register_manual(
            actor=owed.admin,
            invoice=owed.invoice,
            amount=Decimal("10.00"),
            paid_date=datetime.date(SEASON, 4, number),
            idempotency_key=f"kassa-{number}",
        )

    with django_assert_max_num_queries(13):  # whatever the number of payments and reminders
        response = client.get(url)

    assert len(response.context["payments"]) == 7


# ------------------------------------------------------------------ the lines' language


def test_s05_line_descriptions_are_in_the_invoice_language(club, monkeypatch, settings):
    settings.LANGUAGE_CODE = "nb"  # the site's default: bokmål, unless the payer chose
    User.objects.create(username="pensioner", person=club["pensioner"], language="en")
    switches: list[str] = []
    render_all = texts.render_all

    def counting(found, language):  # type: ignore[no-untyped-def]
        switches.append(language)
        return render_all(found, language)

    monkeypatch.setattr(texts, "render_all", counting)

    invoice_example_club(club)

    english_invoice = invoice_of(club, "pensioner")
    assert english_invoice.language == "en"
    assert list(english_invoice.lines.values_list("description", flat=True)) == [
        f"Membership fee {SEASON} pensioner 200 (D-01 pensioner)",
        "Invoice fee 50 (M-10)",
    ]
    norwegian = Invoice.objects.exclude(pk=english_invoice.pk)
    descriptions = [
        d for invoice in norwegian for d in invoice.lines.values_list("description", flat=True)
    ]
    assert len(norwegian) >= 3 and descriptions
    assert all(not d.startswith(("Membership fee", "Invoice fee")) for d in descriptions)
    assert "Fakturagebyr 50 (M-10)" in descriptions
    assert any(d.startswith(f"Medlemskontingent {SEASON}") for d in descriptions)
    # one language switch per language of the chunk, not one per line
    assert sorted(switches) == ["en", "nb"]
