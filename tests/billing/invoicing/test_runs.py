"""Invoicing runs (issue 6 scope 1, S-05, S-01): dry run and commit from the same engine as
the dues preview, one invoice per payer (M-11), gap-free numbers, KIDs, idempotency by the
database constraint, void and credit notes, access."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from billing import kid, selectors
from billing.invoicing import services
from billing.invoicing.selectors import Selection
from billing.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceStatus,
    InvoicingRun,
    InvoicingState,
)
from members.models import KidAlgorithm, MembershipStatus, Organisation
from tests.billing.factories import SEASON
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

pytestmark = pytest.mark.django_db
ISSUE_DATE = datetime.date(SEASON, 1, 15)
MEMBERSHIP = ["membership"]


def run(club, fee_kinds=MEMBERSHIP, actor=None, **kwargs) -> InvoicingRun:
    started = services.invoicing_run_start(
        actor=actor,
        club=club.world.club_a,
        season=SEASON,
        fee_kinds=fee_kinds,
        issue_date=ISSUE_DATE,
        queue=False,
        **kwargs,
    )
    services.invoicing_work(run=started)
    started.refresh_from_db()
    return started


def expected_lines(club, fee_kinds) -> dict[int, Decimal]:
    """Per person, what the dues preview of the whole club says the run invoices."""
    preview = selectors.dues_preview(None, club.world.club_a, SEASON)
    chosen = Selection.of(fee_kinds, None)
    totals: dict[tuple, Decimal] = {}
    for line in preview.season_dues.lines():
        if chosen.takes(line):
            totals[line.invoice_key] = totals.get(line.invoice_key, Decimal(0)) + line.amount
    per_person: dict[int, Decimal] = {}
    for key, amount in totals.items():
        if amount > 0:
            per_person[key[0]] = per_person.get(key[0], Decimal(0)) + amount
    return per_person


def invoiced(club) -> dict[int, Decimal]:
    per_person: dict[int, Decimal] = {}
    for person_id, amount in InvoiceLine.objects.filter(
        club=club.world.club_a, is_billed=True
    ).values_list("person_id", "amount"):
        per_person[person_id] = per_person.get(person_id, Decimal(0)) + amount
    return per_person


def test_issue6_run_invoices_what_the_dues_preview_shows(club):
    preview = services.invoicing_run_preview(
        actor=None,
        club=club.world.club_a,
        season=SEASON,
        fee_kinds=MEMBERSHIP,
        issue_date=ISSUE_DATE,
    )
    done = run(club)

    expected = expected_lines(club, MEMBERSHIP)
    assert invoiced(club) == expected
    assert done.state == InvoicingState.DONE
    assert done.invoices_created == preview.summary["invoices"] == Invoice.objects.count()
    assert done.lines_created == preview.summary["lines"] == InvoiceLine.objects.count()
    assert Decimal(preview.summary["total"]) == sum(expected.values())
    assert sum(i.total.amount for i in Invoice.objects.all()) == sum(expected.values())


def test_m11_one_invoice_per_payer(club):
    run(club)

    mother_invoice = Invoice.objects.get(payer=club["mother"])
    family = {club[n].pk for n in ("mother", "father", "girl", "boy", "toddler")}
    assert set(mother_invoice.lines.values_list("person_id", flat=True)) == family
    board_invoice = Invoice.objects.get(payer=club["board"])  # a guardian pays for the children
    assert set(board_invoice.lines.values_list("person_id", flat=True)) == {
        club["board"].pk,
        club["board_child_1"].pk,
        club["board_child_2"].pk,
    }
    assert not Invoice.objects.filter(payer=club["girl"]).exists()
    assert Invoice.objects.values("payer").distinct().count() == Invoice.objects.count()


def test_s05_invoice_content(club):
    club.world.club_a.street, club.world.club_a.postcode = "Kierschows gate 1", "0477"
    club.world.club_a.city = "Oslo"
    club.world.club_a.save()
    run(club)

    invoice = Invoice.objects.get(payer=club["pensioner"])
    assert invoice.seller_name == "Sagene IF"
    assert invoice.seller_organisation_number == "988077917"
    assert invoice.seller_account == "86011117947"
    assert invoice.seller_address == "Kierschows gate 1, 0477 Oslo"
    assert invoice.buyer_name == club["pensioner"].full_name
    assert invoice.issue_date == ISSUE_DATE
    assert invoice.due_date == datetime.date(SEASON, 3, 1)  # D-02
    assert invoice.status == InvoiceStatus.ISSUED
    line, invoice_fee = invoice.lines.order_by("position")
    assert line.period_start == datetime.date(SEASON, 1, 1)
    assert line.period_end == datetime.date(SEASON, 12, 31)
    assert line.fee == "membership" and line.line_kind == "charge"
    assert line.amount.amount == Decimal(200)  # D-01 pensioner from the year they turn 67
    assert line.rule_id.startswith("D-01")
    assert (invoice_fee.fee, invoice_fee.key_fee) == ("invoice_fee", "membership")  # M-10
    assert invoice_fee.amount.amount == Decimal(50)
    assert invoice.total.amount == Decimal(250)
    event = InvoiceEvent.objects.get(invoice=invoice)
    assert (event.kind, event.from_status, event.to_status) == ("issued", "", "issued")
    assert invoice.history.count() == 1


def test_s05_numbers_gap_free_and_s01_kids_valid(club):
    run(club, chunk_payers=2)

    invoices = list(Invoice.objects.order_by("number"))
    assert [i.number for i in invoices] == list(range(1, len(invoices) + 1))
    assert all(kid.is_valid(i.kid, "MOD10") and len(i.kid) == 10 for i in invoices)
    assert len({i.kid for i in invoices}) == len(invoices)
    series = InvoiceNumberSeries.objects.get(club=club.world.club_a)
    assert series.next_number == len(invoices) + 1


def test_s01_mod11_club_skips_dash_kids(club):
    Organisation.objects.filter(pk=club.world.club_a.pk).update(
        kid_algorithm=KidAlgorithm.MOD11, kid_length=3
    )
    club.world.club_a.refresh_from_db()
    InvoiceNumberSeries.objects.create(club=club.world.club_a, next_kid_sequence=6)
    run(club)

    kids = list(Invoice.objects.order_by("number").values_list("kid", flat=True))
    assert all(kid.is_valid(value, "MOD11") for value in kids)
    assert kids[0] == "078"  # sequence 6 would end in '-': skipped


def test_issue6_second_run_creates_nothing(club):
    first = run(club)
    count = Invoice.objects.count()

    second = run(club)

    assert Invoice.objects.count() == count
    assert second.state == InvoicingState.DONE
    assert second.invoices_created == 0
    # every membership key once (an invoice fee shares its membership fee's key)
    assert second.skipped_existing == InvoiceLine.objects.filter(fee="membership").count()
    assert first.skipped_existing == 0
    assert InvoiceNumberSeries.objects.get().next_number == count + 1


def test_issue6_constraint_forbids_a_second_charge(club):
    run(club)
    line = InvoiceLine.objects.filter(line_kind="charge").first()
    line.pk = None
    line.position = 99

    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


def test_s05_rolled_back_chunk_takes_no_number(club, monkeypatch):
    started = services.invoicing_run_start(
        actor=None,
        club=club.world.club_a,
        season=SEASON,
        fee_kinds=MEMBERSHIP,
        issue_date=ISSUE_DATE,
        queue=False,
    )
    original = services._create_invoices

    def failing(**kwargs):
        original(**kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_create_invoices", failing)
    chunk = started.chunks.get()
    assert services.invoicing_chunk_process(chunk_id=chunk.pk, retry_delay=None) is False
    assert Invoice.objects.count() == 0
    assert not InvoiceNumberSeries.objects.filter(next_number__gt=1).exists()
    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempts) == ("pending", 1)
    assert chunk.error == "RuntimeError: the database went away"

    monkeypatch.setattr(services, "_create_invoices", original)
    services.invoicing_work(run=started)
    assert sorted(Invoice.objects.values_list("number", flat=True))[0] == 1


def test_issue5_ended_members_never_invoiced(club):
    types = default_types(club.world.club_a)
    ended = PersonFactory(first_name="Sluttet", birth_date=datetime.date(1990, 1, 1))
    MembershipFactory(
        person=ended,
        club=club.world.club_a,
        membership_type=types["ordinary"],
        status=MembershipStatus.ENDED,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2026, 6, 1),
    )
    run(club)

    assert not InvoiceLine.objects.filter(person=ended).exists()


def test_s05_void_frees_the_key_and_the_next_run_invoices_again(club):
    run(club)
    invoice = Invoice.objects.get(payer=club["pensioner"])
    last = Invoice.objects.order_by("-number").first().number

    voided = services.invoice_void(actor=None, invoice=invoice, reason="Wrong address")
    again = run(club)

    assert voided.status == InvoiceStatus.VOID
    assert Invoice.objects.filter(pk=invoice.pk, status="void").exists()  # a void invoice stays
    new = Invoice.objects.get(payer=club["pensioner"], status=InvoiceStatus.ISSUED)
    assert new.number == last + 1
    assert again.invoices_created == 1
    event = InvoiceEvent.objects.get(invoice=invoice, kind="voided")
    assert (event.from_status, event.to_status, event.note) == ("issued", "void", "Wrong address")


def test_s05_void_refuses_without_reason_and_changes_nothing(club):
    run(club)
    invoice = Invoice.objects.get(payer=club["pensioner"])

    with pytest.raises(ValidationError) as error:
        services.invoice_void(actor=None, invoice=invoice, reason=" ")

    assert error.value.messages == [str(services.REASON_REQUIRED)]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert not InvoiceEvent.objects.filter(kind="voided").exists()


def test_s05_credit_note_for_a_whole_invoice(club):
    run(club)
    invoice = Invoice.objects.get(payer=club["mother"])
    last = Invoice.objects.order_by("-number").first().number

    note = services.invoice_credit(actor=None, invoice=invoice, reason="Moved away")

    invoice.refresh_from_db()
    assert note.number == last + 1
    assert note.kind == "credit_note" and note.credited_invoice == invoice
    assert note.total == -invoice.total
    assert note.kid == ""
    assert invoice.status == InvoiceStatus.CREDITED
    assert not invoice.lines.filter(is_billed=True).exists()
    assert note.lines.count() == invoice.lines.count()
    with pytest.raises(ValidationError):
        services.invoice_credit(actor=None, invoice=invoice, reason="twice")
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_s05_credit_note_for_some_lines_keeps_the_invoice(club):
    run(club)
    invoice = Invoice.objects.get(payer=club["board"])
    child_line = invoice.lines.get(
        person=club["board_child_1"], line_kind="charge", fee="membership"
    )

    note = services.invoice_credit(
        actor=None, invoice=invoice, reason="Left before invoicing", lines=[child_line]
    )

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert set(note.lines.values_list("person_id", flat=True)) == {club["board_child_1"].pk}
    assert note.total.amount == -sum(
        line.amount.amount for line in invoice.lines.filter(person=club["board_child_1"])
    )
    assert invoice.lines.filter(is_billed=True).exclude(person=club["board_child_1"]).exists()
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="partly_credited").exists()


def test_issue6_access_billing_manage_in_the_club(club):
    without = club.world.user("official_without_capability", "billing.manage")
    other = club.world.user("official_other_club")
    allowed = club.world.user("official_this_club")

    for actor in (without, other):
        with pytest.raises(PermissionDenied):
            services.invoicing_run_start(
                actor=actor, club=club.world.club_a, season=SEASON, fee_kinds=MEMBERSHIP
            )
        with pytest.raises(PermissionDenied):
            services.invoicing_run_preview(
                actor=actor, club=club.world.club_a, season=SEASON, fee_kinds=MEMBERSHIP
            )
    assert not InvoicingRun.objects.exists()
    done = run(club, actor=allowed)
    assert done.started_by == allowed
    assert Invoice.objects.filter(created_by=allowed).count() == done.invoices_created
    with pytest.raises(PermissionDenied):
        services.invoice_void(actor=without, invoice=Invoice.objects.first(), reason="x")
    assert not Invoice.objects.filter(status="void").exists()


def test_issue6_a_double_click_returns_the_same_run(club):
    first = services.invoicing_run_start(
        actor=None, club=club.world.club_a, season=SEASON, fee_kinds=MEMBERSHIP, queue=False
    )
    second = services.invoicing_run_start(
        actor=None, club=club.world.club_a, season=SEASON, fee_kinds=MEMBERSHIP, queue=False
    )
    assert second.pk == first.pk
    with pytest.raises(ValidationError) as error:
        services.invoicing_run_start(
            actor=None, club=club.world.club_a, season=SEASON, fee_kinds=["activity"], queue=False
        )
    assert error.value.messages == [str(services.OTHER_RUN_IN_PROGRESS)]
    assert InvoicingRun.objects.count() == 1


def test_issue6_activity_run_by_group(club):
    done = run(club, fee_kinds=["activity"], selection={"groups": ["handball"]})

    assert done.state == InvoicingState.DONE
    groups = set(InvoiceLine.objects.values_list("group", flat=True))
    assert groups == {"handball"}
    assert invoiced(club)[club["girl"].pk] > 0


def test_issue6_reconciler_requeues_stalled_chunks(club, django_capture_on_commit_callbacks):
    started = services.invoicing_run_start(
        actor=None, club=club.world.club_a, season=SEASON, fee_kinds=MEMBERSHIP, queue=False
    )
    chunk = started.chunks.get()
    services._claim(chunk.pk, services.CHUNK_TIMEOUT)  # a worker took it and died

    with django_capture_on_commit_callbacks() as callbacks:
        report = services.invoicing_reconcile(timeout=datetime.timedelta(0))

    assert report.requeued == (chunk.pk,)
    assert len(callbacks) == 1  # queued on commit
    chunk.refresh_from_db()
    assert chunk.state == "pending"
    assert services.invoicing_chunk_process(chunk_id=chunk.pk) is True
    started.refresh_from_db()
    assert started.state == InvoicingState.DONE
