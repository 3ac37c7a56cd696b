"""Invoicing pages (issue 6 scopes 1-3): the access matrix of every page and the PDF download
(STYLE 17), the dry run that creates nothing, the commit that is safe to double-submit, the
HTMX progress partial, the invoice list's filters and query counts, void and credit note from
the invoice page, and the member's own invoices in the portal."""

import datetime

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing import services as billing_services
from billing.invoicing import services
from billing.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoicingRun,
    InvoicingState,
)
from tests.access_matrix import HTML_DENIED, Case, check_case, get, post
from tests.billing.factories import SEASON
from tests.billing.invoicing.invoices import invoice_example_club
from tests.billing.pages import english
from tests.conftest import ROLES, World
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_invoice(world: World, payer, number: int, **extra) -> Invoice:
    invoice = Invoice.objects.create(
        club=world.club_a,
        number=number,
        season=extra.pop("season", SEASON),
        payer=payer,
        buyer_name=payer.full_name,
        seller_name=world.club_a.name,
        seller_organisation_number=world.club_a.organisation_number,
        seller_account=world.club_a.bank_account,
        issue_date=datetime.date(SEASON, 1, 15),
        due_date=datetime.date(SEASON, 3, 1),
        kid=extra.pop("kid", f"{number:07d}"),
        total=Money("500", "NOK"),
        **extra,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        club=world.club_a,
        person=payer,
        position=1,
        fee="membership",
        key_fee="membership",
        group=f"g{number}",  # one charge per person and key: several invoices of one payer
        line_kind="charge",
        period_start=datetime.date(SEASON, 1, 1),
        period_end=datetime.date(SEASON, 12, 31),
        description="Membership fee 2027",
        rule_id="D-01",
        amount=Money("500", "NOK"),
    )
    InvoiceEvent.objects.create(invoice=invoice, kind="issued", to_status="issued")
    return invoice


@pytest.fixture
def pages_world(world: World) -> World:
    billing_services.fee_schedule_create_from_example(actor=None, club=world.club_a, season=SEASON)
    InvoiceNumberSeries.objects.create(club=world.club_a, next_number=1000)
    world.invoice = make_invoice(world, world.player_a, 1)
    world.run = InvoicingRun.objects.create(
        club=world.club_a,
        season=SEASON,
        fee_kinds=["membership"],
        issue_date=datetime.date(SEASON, 1, 15),
        state=InvoicingState.RUNNING,
        chunks_total=4,
        chunks_done=1,
    )
    return world


def state(world: World) -> object:
    return (
        sorted(Invoice.objects.values_list("pk", "status", "number")),
        InvoicingRun.objects.count(),
        InvoiceEvent.objects.count(),
    )


def club_url(name: str, query: str = ""):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.club_a.pk]) + query


def invoice_url(name: str):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.invoice.pk])


def run_url(name: str):  # type: ignore[no-untyped-def]
    return lambda w: reverse(name, args=[w.run.pk])


RUN_DATA = {"season": SEASON, "fee_kinds": ["membership"], "issue_date": f"{SEASON}-01-15"}

CASES = [
    Case("run form", MANAGE, get(club_url("billing:invoicing-run-new")), 200, HTML_DENIED, 302),
    Case(
        "dry run",
        MANAGE,
        get(
            club_url(
                "billing:invoicing-run-new", f"?preview=1&season={SEASON}&fee_kinds=membership"
            )
        ),
        200,
        HTML_DENIED,
        302,
    ),
    Case("run list", MANAGE, get(club_url("billing:invoicing-run-list")), 200, HTML_DENIED, 302),
    Case("run page", MANAGE, get(run_url("billing:invoicing-run-detail")), 200, HTML_DENIED, 302),
    Case("progress", MANAGE, get(run_url("billing:invoicing-run-progress")), 200, HTML_DENIED, 302),
    Case("invoice list", MANAGE, get(club_url("billing:invoice-list")), 200, HTML_DENIED, 302),
    Case("invoice page", MANAGE, get(invoice_url("billing:invoice-detail")), 200, HTML_DENIED, 302),
    Case("invoice pdf", MANAGE, get(invoice_url("billing:invoice-pdf")), 200, HTML_DENIED, 302),
    Case(
        "void",
        MANAGE,
        post(invoice_url("billing:invoice-void"), lambda w: {"void-reason": "Feil"}),
        302,
        HTML_DENIED,
        302,
        state,
    ),
    Case(
        "credit",
        MANAGE,
        post(invoice_url("billing:invoice-credit"), lambda w: {"credit-reason": "Flyttet"}),
        302,
        HTML_DENIED,
        302,
        state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_issue6_invoicing_pages_access(pages_world, case, role):
    check_case(pages_world, case, role)


def test_issue6_commit_starts_a_run_once(pages_world):
    InvoicingRun.objects.all().delete()
    client = english(pages_world.client("official_this_club", MANAGE))
    url = reverse("billing:invoicing-run-new", args=[pages_world.club_a.pk])

    first = client.post(url, RUN_DATA)
    second = client.post(url, RUN_DATA)  # a double submit

    run = InvoicingRun.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("billing:invoicing-run-detail", args=[run.pk])
    assert run.started_by == pages_world.user("official_this_club", MANAGE)


def test_issue6_member_downloads_own_invoice_not_others(pages_world):
    member = pages_world.user("member", MANAGE)
    own = make_invoice(pages_world, member.person, 2)
    other_person = PersonFactory()
    child_invoice = make_invoice(pages_world, other_person, 3)
    InvoiceLine.objects.filter(invoice=child_invoice).update(person=member.person)
    client = pages_world.client("member", MANAGE)

    own_response = client.get(reverse("billing:invoice-pdf", args=[own.pk]))
    for_them = client.get(reverse("billing:invoice-pdf", args=[child_invoice.pk]))
    other = client.get(reverse("billing:invoice-pdf", args=[pages_world.invoice.pk]))
    page = client.get(reverse("billing:my-invoices"))

    assert own_response.status_code == 200
    assert own_response["Content-Type"] == "application/pdf"
    assert own_response.content.startswith(b"%PDF")
    assert for_them.status_code == 200  # lines for the member: e.g. a parent pays
    assert other.status_code == 404
    assert page.status_code == 200
    numbers = [invoice.number for invoice in page.context["page"].object_list]
    assert sorted(numbers) == [2, 3]
    assert "0000002" in page.content.decode()


def test_issue6_portal_invoices_need_login(client):
    response = client.get(reverse("billing:my-invoices"))
    assert response.status_code == 302


def test_issue6_dry_run_creates_nothing(club):
    invoice_example_club(club)  # a first run: the dry run now shows the activity fee only
    before = (Invoice.objects.count(), InvoicingRun.objects.count(), InvoiceLine.objects.count())
    client = english(club.world.client("official_this_club", MANAGE))
    url = reverse("billing:invoicing-run-new", args=[club.world.club_a.pk])

    response = client.get(url, {"preview": 1, "season": SEASON, "fee_kinds": ["activity"]})

    assert response.status_code == 200
    summary = response.context["preview"].summary
    assert summary["invoices"] > 0 and summary["already_invoiced"] == 0
    assert "Dry run: nothing is created yet" in response.content.decode()
    assert club["girl"].full_name in response.content.decode()
    after = (Invoice.objects.count(), InvoicingRun.objects.count(), InvoiceLine.objects.count())
    assert after == before


def test_issue6_dry_run_pages(club, monkeypatch):
    monkeypatch.setattr(services.selectors, "PREVIEW_INVOICES", 2)
    client = english(club.world.client("official_this_club", MANAGE))
    url = reverse("billing:invoicing-run-new", args=[club.world.club_a.pk])
    query = {"preview": 1, "season": SEASON, "fee_kinds": ["membership"]}

    first = client.get(url, query)
    second = client.get(url, {**query, "page": 2})

    total = first.context["preview"].summary["invoices"]
    assert first.context["preview_page"].paginator.num_pages == (total + 1) // 2
    payers = [i.payer_id for i in first.context["preview"].invoices]
    later = [i.payer_id for i in second.context["preview"].invoices]
    assert len(payers) == len(later) == 2 and not set(payers) & set(later)
    assert "page=2" in first.content.decode()


def test_issue6_dry_run_without_fee_schedule_says_so(pages_world):
    client = english(pages_world.client("official_this_club", MANAGE))
    url = reverse("billing:invoicing-run-new", args=[pages_world.club_a.pk])

    response = client.get(url, {"preview": 1, "season": 2031, "fee_kinds": ["membership"]})

    assert response.status_code == 200
    assert response.context["form"].errors["season"]
    assert InvoicingRun.objects.count() == 1


def test_issue6_progress_partial_polls_while_running(pages_world):
    client = english(pages_world.client("official_this_club", MANAGE))
    url = reverse("billing:invoicing-run-progress", args=[pages_world.run.pk])

    running = client.get(url).content.decode()
    InvoicingRun.objects.filter(pk=pages_world.run.pk).update(
        state=InvoicingState.DONE, chunks_done=4, invoices_created=7
    )
    done = client.get(url).content.decode()

    assert 'hx-trigger="every 2s"' in running and "<progress" in running
    assert 'value="25"' in running
    assert "hx-trigger" not in done and 'value="100"' in done
    assert "<script" not in running and "style=" not in running  # strict CSP


def test_issue6_run_page_shows_who_started_it_and_errors(pages_world):
    manager = pages_world.user("official_this_club", MANAGE)
    InvoicingRun.objects.filter(pk=pages_world.run.pk).update(
        started_by=manager, errors=[{"message": "No price for cohort 2019", "rule_id": "D-07"}]
    )
    client = english(pages_world.client("official_this_club", MANAGE))

    page = client.get(reverse("billing:invoicing-run-detail", args=[pages_world.run.pk]))

    text = page.content.decode()
    assert str(manager.person) in text
    assert "No price for cohort 2019" in text
    assert 'id="run-progress"' in text


def test_issue6_invoice_list_filters_and_query_count(pages_world, django_assert_max_num_queries):
    for number in range(2, 32):
        make_invoice(pages_world, PersonFactory(last_name=f"Navn{number}"), number)
    make_invoice(pages_world, PersonFactory(last_name="Søkbar"), 40, season=SEASON - 1)
    Invoice.objects.filter(number=5).update(status="void")
    client = english(pages_world.client("official_this_club", MANAGE))
    url = reverse("billing:invoice-list", args=[pages_world.club_a.pk])
    client.get(url)  # warm up the session and grants

    with django_assert_max_num_queries(8):
        everything = client.get(url)
    by_season = client.get(url, {"season": SEASON - 1})
    void = client.get(url, {"status": "void"})
    by_kid = client.get(url, {"q": "0000007"})
    by_name = client.get(url, {"q": "søkbar"})
    by_number = client.get(url, {"q": "12"})

    def numbers(response):  # type: ignore[no-untyped-def]
        return [invoice.number for invoice in response.context["page"].object_list]

    assert len(numbers(everything)) == 32
    assert numbers(by_season) == [40]
    assert numbers(void) == [5]
    assert numbers(by_kid) == [7]
    assert numbers(by_name) == [40]
    assert 12 in numbers(by_number)


def test_issue6_portal_query_count(pages_world, django_assert_max_num_queries):
    member = pages_world.user("member", MANAGE)
    for number in range(2, 12):
        make_invoice(pages_world, member.person, number)
    client = pages_world.client("member", MANAGE)
    client.get(reverse("billing:my-invoices"))

    with django_assert_max_num_queries(6):
        response = client.get(reverse("billing:my-invoices"))

    assert len(response.context["page"].object_list) == 10


def test_s05_void_from_the_invoice_page_needs_a_reason(pages_world):
    client = english(pages_world.client("official_this_club", MANAGE))
    url = reverse("billing:invoice-void", args=[pages_world.invoice.pk])

    refused = client.post(url, {"void-reason": " "})
    pages_world.invoice.refresh_from_db()
    assert refused.status_code == 400
    assert str(services.REASON_REQUIRED) in refused.content.decode()
    assert pages_world.invoice.status == "issued"

    done = client.post(url, {"void-reason": "Feil adresse"})
    pages_world.invoice.refresh_from_db()
    assert done.status_code == 302
    assert pages_world.invoice.status == "void"
    page = client.get(reverse("billing:invoice-detail", args=[pages_world.invoice.pk]))
    assert "Feil adresse" in page.content.decode()


def test_s05_credit_some_lines_from_the_invoice_page(club):
    invoice_example_club(club)
    invoice = Invoice.objects.get(payer=club["board"])
    line = invoice.lines.get(person=club["board_child_1"], line_kind="charge", fee="membership")
    client = english(club.world.client("official_this_club", MANAGE))

    response = client.post(
        reverse("billing:invoice-credit", args=[invoice.pk]),
        {"credit-reason": "Sluttet", "lines": [line.pk]},
    )

    note = Invoice.objects.get(kind="credit_note")
    assert response.status_code == 302
    assert response.url == reverse("billing:invoice-detail", args=[note.pk])
    assert set(note.lines.values_list("person_id", flat=True)) == {club["board_child_1"].pk}
    invoice.refresh_from_db()
    assert invoice.status == "issued"  # partly credited
    page = client.get(response.url).content.decode()
    assert "Sluttet" in page and str(invoice.number) in page
