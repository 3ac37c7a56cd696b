"""Invoicing runs, invoices and credit notes (issue 6, scopes 1 and 2; S-01, S-05).

The run
- `invoicing_run_preview` is the dry run: recipients, lines and totals from the same engine
  and adapter as the dues preview (`billing.selectors`, `billing.pricing`); nothing is saved.
- `invoicing_run_start` fixes the payers (one invoice per payer and due date, M-11) and
  splits them into chunks (rows), queued when the transaction commits. Starting the same run
  again while it is in progress (a double click, six starts at once) returns that run: an
  advisory lock per club serialises the starts.
- `invoicing_chunk_process` claims a chunk with `SELECT ... FOR UPDATE SKIP LOCKED` (pending,
  or running but stale), prices its persons outside any transaction (the slow part, which
  workers share), then in one short transaction locks the club's number series, drops the
  keys already invoiced, takes the next numbers and KIDs and bulk-inserts invoices, lines,
  events and history, and marks the chunk done. Numbers therefore stay gap-free and
  contiguous per club: a rolled-back transaction takes none. The partial unique index
  `invoice_line_once` is the database's guarantee behind the check: whatever path tries to
  bill a key twice fails, the transaction rolls back (no number taken) and the chunk retries.
- `invoicing_reconcile` (Celery beat) re-queues chunks that stalled: running longer than
  CHUNK_TIMEOUT (their worker died; we do not rely on the broker's visibility timeout) or
  pending in a run nothing happened to for CHUNK_TIMEOUT (the message was lost); a chunk
  claimed MAX_ATTEMPTS times fails.

Invoices are never edited (S-05): `invoice_void` marks one void, `invoice_credit` issues a
credit note (numbered in the same series) for all or some of its lines, or for amounts of
lines. Voiding and whole-line credits free the credited keys, so the person can be invoiced
again correctly; an amount credit (a refund of part of a paid fee) leaves the charge billed.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing import kid as kid_rules
from billing import pricing, texts
from billing import selectors as dues_selectors
from billing.invoicing import selectors
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceStatus,
    InvoicingChunk,
    InvoicingRun,
    InvoicingState,
)
from billing.models_payments import Payment
from billing.payments import status as paid_status
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import ContactSet, Organisation, Person, User

logger = logging.getLogger(__name__)

NOT_ALLOWED = _("You may not invoice in this club.")
NO_FEE_KINDS = _("Choose at least one fee to invoice.")
OTHER_RUN_IN_PROGRESS = _(
    "Another invoicing run of this club is in progress; wait until it has finished."
)
NOT_VOIDABLE = _("Only an issued invoice without payments can be voided.")
HAS_PAYMENTS = _(
    "This invoice has payments and cannot be voided: correct it with a credit note and "
    "refund what was paid (S-05)."
)
NOT_CREDITABLE = _("This invoice cannot be credited: it is void or credited already.")
LINES_NOT_ON_INVOICE = _("Credit only lines of this invoice that are still billed.")
LINES_OR_AMOUNTS = _("Credit either whole lines or amounts of lines, not both.")
AMOUNT_NOT_VALID = _("Each amount to credit must be more than zero, in kroner and øre.")
AMOUNT_ABOVE_OPEN = _("At most %(open)s is left to credit on the line “%(line)s”.")
REASON_REQUIRED = _("Give a reason.")
CHUNK_GAVE_UP = "Gave up after %(attempts)s attempts."
CHUNKS_FAILED = "%(count)s chunks failed; see their errors."
MAX_RUN_ERRORS = 200

# Celery task names (billing/invoicing/tasks.py), queued by name to avoid an import cycle.
CHUNK_TASK = "billing.invoicing_chunk"
RECONCILE_TASK = "billing.invoicing_reconcile"
PDF_TASK = "billing.render_invoice_pdfs"  # billing/invoicing/tasks_pdf.py (scope 3)

# A chunk costs a dozen queries and one commit whatever its size; 2,000 payers (some 3,300
# persons) keep that overhead small and still give a 100,000-member run 30 chunks to share.
CHUNK_PAYERS = 2000
CHUNK_TIMEOUT = datetime.timedelta(minutes=5)
MAX_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 20


def _require_billing(actor: User | None, club: Organisation) -> None:
    # actor None: the system itself (a management command, a scheduled run)
    if actor is not None and not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _selection(fee_kinds: Iterable[str], selection: dict | None) -> selectors.Selection:
    chosen = selectors.Selection.of(fee_kinds, selection)
    if not chosen.fee_kinds:
        raise ValidationError(NO_FEE_KINDS, code="no_fee_kinds")
    return chosen


# ------------------------------------------------------------------ dry run


@dataclass(frozen=True)
class RunPreview:
    """The dry run: the invoices a run would create now, and their totals."""

    summary: dict
    invoices: list[selectors.PlannedInvoice]
    names: dict[int, str]
    issues: list[pricing.PricingIssue]


def _summary(
    invoices: Sequence[selectors.PlannedInvoice],
    issues: Sequence[pricing.PricingIssue],
    already_invoiced: int,
) -> dict:
    by_fee: dict[str, Decimal] = {}
    persons: set[int] = set()
    lines = 0
    for invoice in invoices:
        for planned in invoice.lines:
            by_fee[planned.key_fee] = by_fee.get(planned.key_fee, Decimal(0)) + planned.line.amount
            persons.add(planned.line.person_id)
            lines += 1
    return {
        "recipients": len({invoice.payer_id for invoice in invoices}),
        "invoices": len(invoices),
        "persons": len(persons),
        "lines": lines,
        "total": str(sum(by_fee.values(), Decimal(0))),
        "by_fee": {fee: str(amount) for fee, amount in sorted(by_fee.items())},
        "already_invoiced": already_invoiced,
        "errors": sum(1 for issue in issues if issue.severity is pricing.Severity.ERROR),
    }


def invoicing_run_preview(
    *,
    actor: User | None,
    club: Organisation,
    season: int,
    fee_kinds: Iterable[str],
    selection: dict | None = None,
    issue_date: datetime.date | None = None,
    offset: int = 0,
) -> RunPreview:
    """What a run would invoice now (nothing is saved). Raises PermissionDenied,
    ValidationError, billing.selectors.NoFeeSchedule."""
    _require_billing(actor, club)
    chosen = _selection(fee_kinds, selection)
    issue_date = issue_date or timezone.localdate()
    config = dues_selectors.season_config(club, season)
    person_ids = selectors.invoiceable_person_ids(club, season, chosen)
    dues, issues = selectors.dues_of(club, season, config, person_ids)
    payer_of = selectors.payers(club, season, person_ids)
    planned = selectors.plan_invoices(dues, payer_of, chosen, issue_date)
    planned, dropped = selectors.without_billed(planned, selectors.billed_keys(club, person_ids))
    shown = planned[offset : offset + selectors.PREVIEW_INVOICES]  # a page of the dry run
    names = dues_selectors._names(
        {invoice.payer_id for invoice in shown}
        | {pl.line.person_id for invoice in shown for pl in invoice.lines}
    )
    return RunPreview(_summary(planned, issues, dropped), shown, names, issues)


# ------------------------------------------------------------------ starting a run


def _queue_chunk(chunk_id: int, *, countdown: int | None = None) -> None:
    options = {"countdown": countdown} if countdown else {}
    transaction.on_commit(
        lambda: current_app.send_task(CHUNK_TASK, kwargs={"chunk_id": chunk_id}, **options)
    )


def _chunks(payer_of: dict[int, int], size: int) -> list[tuple[list[int], list[int]]]:
    """(payer ids, person ids) blocks of `size` payers, in payer order."""
    persons_of: dict[int, list[int]] = {}
    for person_id, payer_id in sorted(payer_of.items()):
        persons_of.setdefault(payer_id, []).append(person_id)
    ordered = sorted(persons_of)
    blocks = []
    for index in range(0, len(ordered), size):
        block = ordered[index : index + size]
        blocks.append((block, sorted(pk for payer in block for pk in persons_of[payer])))
    return blocks


@transaction.atomic
def invoicing_run_start(
    *,
    actor: User | None,
    club: Organisation,
    season: int,
    fee_kinds: Iterable[str],
    selection: dict | None = None,
    issue_date: datetime.date | None = None,
    chunk_payers: int = CHUNK_PAYERS,
    queue: bool = True,
) -> InvoicingRun:
    """Start (or, when the same run is in progress, return) an invoicing run. Its chunks are
    queued when the transaction commits (`queue=False`: the caller works them, see
    `invoicing_work`). Raises PermissionDenied, ValidationError, NoFeeSchedule."""
    _require_billing(actor, club)
    chosen = _selection(fee_kinds, selection)
    issue_date = issue_date or timezone.localdate()
    with connection.cursor() as cursor:  # one start per club at a time (double clicks)
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.invoicing'), %s)", [club.pk])
    fee_list = sorted(chosen.fee_kinds)
    in_progress = InvoicingRun.objects.filter(
        club=club, state__in=[InvoicingState.PENDING, InvoicingState.RUNNING]
    ).first()
    if in_progress is not None:
        same = (in_progress.season, sorted(in_progress.fee_kinds), in_progress.selection) == (
            season,
            fee_list,
            chosen.as_data(),
        )
        if same:
            return in_progress
        raise ValidationError(OTHER_RUN_IN_PROGRESS, code="run_in_progress")
    dues_selectors.season_config(club, season)  # raises NoFeeSchedule before anything is saved
    person_ids = selectors.invoiceable_person_ids(club, season, chosen)
    blocks = _chunks(selectors.payers(club, season, person_ids), chunk_payers)
    run = InvoicingRun.objects.create(
        club=club,
        season=season,
        fee_kinds=fee_list,
        selection=chosen.as_data(),
        issue_date=issue_date,
        started_by=actor,
        chunks_total=len(blocks),
        summary={"persons": len(person_ids), "payers": sum(len(b[0]) for b in blocks)},
    )
    chunks = InvoicingChunk.objects.bulk_create(
        InvoicingChunk(run=run, position=index, payer_ids=payers, person_ids=persons)
        for index, (payers, persons) in enumerate(blocks)
    )
    if not chunks:
        now = timezone.now()
        InvoicingRun.objects.filter(pk=run.pk).update(
            state=InvoicingState.DONE, started_at=now, finished_at=now
        )
        run.refresh_from_db()
    elif queue:
        for chunk in chunks:
            _queue_chunk(chunk.pk)
    return run


def invoicing_work(*, run: InvoicingRun) -> int:
    """Process the run's pending chunks in this process (no worker needed); how many this
    process finished."""
    finished = 0
    while True:
        chunk_id = (
            InvoicingChunk.objects.filter(run=run, state=InvoicingState.PENDING)
            .order_by("position")
            .values_list("pk", flat=True)
            .first()
        )
        if chunk_id is None:
            return finished
        finished += invoicing_chunk_process(chunk_id=chunk_id, retry_delay=None)


# ------------------------------------------------------------------ a chunk


def _claim(chunk_id: int, timeout: datetime.timedelta) -> InvoicingChunk | None:
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            InvoicingChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run__club")
            .filter(pk=chunk_id)
            .filter(
                Q(state=InvoicingState.PENDING)
                | Q(state=InvoicingState.RUNNING, claimed_at__lt=now - timeout)
            )
            .first()
        )
        if chunk is None:
            return None  # done, failed, or a live worker has it
        chunk.state, chunk.claimed_at, chunk.attempts = (
            InvoicingState.RUNNING,
            now,
            chunk.attempts + 1,
        )
        chunk.save(update_fields=["state", "claimed_at", "attempts"])
        InvoicingRun.objects.filter(pk=chunk.run_id, state=InvoicingState.PENDING).update(
            state=InvoicingState.RUNNING, started_at=now
        )
    return chunk


# language -> the engine's reason texts rendered in it (`_descriptions`)
Descriptions = dict[str, dict[pricing.Text, str]]


@dataclass(frozen=True)
class ChunkWork:
    planned: list[selectors.PlannedInvoice]
    issues: list[pricing.PricingIssue]
    buyers: dict[int, dict]
    descriptions: Descriptions | None = None


def _compute(chunk: InvoicingChunk) -> ChunkWork:
    """Everything that needs no lock: the dues, the plan, the buyers' addresses and the lines'
    descriptions, read before the series is locked so that the other workers wait only for
    the inserts."""
    run = chunk.run
    chosen = selectors.Selection.of(run.fee_kinds, run.selection)
    config = dues_selectors.season_config(run.club, run.season)
    dues, issues = selectors.dues_of(run.club, run.season, config, chunk.person_ids)
    payer_of = selectors.payers(run.club, run.season, chunk.person_ids)
    planned = selectors.plan_invoices(dues, payer_of, chosen, run.issue_date)
    buyers = _buyers({invoice.payer_id for invoice in planned})
    return ChunkWork(planned, issues, buyers, _descriptions(planned, buyers))


def invoicing_chunk_process(
    *,
    chunk_id: int,
    timeout: datetime.timedelta = CHUNK_TIMEOUT,
    retry_delay: int | None = RETRY_DELAY_SECONDS,
) -> bool:
    """Claim the chunk, price it and create its invoices. False when there was nothing to do
    (done, failed, or another worker has it). An error puts the chunk back (re-queued after
    `retry_delay` seconds times its attempts; not at all with None) until MAX_ATTEMPTS."""
    chunk = _claim(chunk_id, timeout)
    if chunk is None:
        return False
    try:
        with _cyclic_gc_paused():
            work = _compute(chunk)
            return _finish(chunk, work)
    except Exception as error:
        logger.exception("Invoicing chunk %s failed", chunk)
        _release_after_error(chunk, error, retry_delay)
        return False


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A chunk allocates some half a million small acyclic objects (facts, lines, rows);
    the cyclic garbage collector would walk them again and again (a fifth of a chunk's
    Python time). Reference counting still frees them; the collector's state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _lock_series(club: Organisation) -> InvoiceNumberSeries:
    InvoiceNumberSeries.objects.bulk_create([InvoiceNumberSeries(club=club)], ignore_conflicts=True)
    return InvoiceNumberSeries.objects.select_for_update().get(club=club)


def _finish(chunk: InvoicingChunk, work: ChunkWork) -> bool:
    run = chunk.run
    with transaction.atomic():
        locked = InvoicingChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state != InvoicingState.RUNNING or locked.claimed_at != chunk.claimed_at:
            return False  # the reconciler gave it to another worker, which may have finished it
        series = _lock_series(run.club)  # serialises invoice creation per club (gap-free)
        billed = selectors.billed_keys(run.club, chunk.person_ids)
        planned, dropped = selectors.without_billed(work.planned, billed)
        created = _create_invoices(
            series=series,
            club=run.club,
            season=run.season,
            issue_date=run.issue_date,
            planned=planned,
            run=run,
            actor=run.started_by,
            buyers=work.buyers,
            descriptions=work.descriptions,
        )
        if created:  # scope 3: their PDFs are rendered in the background
            transaction.on_commit(
                lambda: current_app.send_task(PDF_TASK, kwargs={"invoice_ids": created})
            )
        locked.state, locked.finished_at, locked.error = InvoicingState.DONE, timezone.now(), ""
        locked.invoices_created = len(created)
        locked.save(update_fields=["state", "finished_at", "error", "invoices_created"])
        locked_run = InvoicingRun.objects.select_for_update().get(pk=run.pk)
        locked_run.errors = (locked_run.errors + [_issue_data(i) for i in work.issues])[
            :MAX_RUN_ERRORS
        ]
        locked_run.save(update_fields=["errors"])
        InvoicingRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1,
            invoices_created=F("invoices_created") + len(created),
            lines_created=F("lines_created") + sum(len(i.lines) for i in planned),
            skipped_existing=F("skipped_existing") + dropped,
        )
        _finish_run_if_complete(run.pk)
    return True


def _issue_data(issue: pricing.PricingIssue) -> dict:
    return {
        "severity": issue.severity.value,
        "rule_id": issue.rule_id,
        "message": issue.message,
        "person_id": issue.person_id,
        "family_id": issue.family_id,
    }


def _release_after_error(chunk: InvoicingChunk, error: Exception, retry_delay: int | None) -> None:
    with transaction.atomic():
        locked = InvoicingChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state != InvoicingState.RUNNING:
            return
        locked.error = f"{type(error).__name__}: {error}"[:2000]
        if locked.attempts >= MAX_ATTEMPTS:
            locked.state, locked.finished_at = InvoicingState.FAILED, timezone.now()
            locked.save(update_fields=["error", "state", "finished_at"])
            InvoicingRun.objects.select_for_update().get(pk=locked.run_id)
            _finish_run_if_complete(locked.run_id)
            return
        locked.state, locked.claimed_at = InvoicingState.PENDING, None
        locked.save(update_fields=["error", "state", "claimed_at"])
        if retry_delay is not None:
            _queue_chunk(locked.pk, countdown=retry_delay * locked.attempts)


def _finish_run_if_complete(run_id: int) -> None:
    """Called with the run row locked: end the run when no chunk is left to do."""
    states = set(
        InvoicingChunk.objects.filter(run_id=run_id).values_list("state", flat=True).distinct()
    )
    if states & {InvoicingState.PENDING, InvoicingState.RUNNING}:
        return
    failed = InvoicingChunk.objects.filter(run_id=run_id, state=InvoicingState.FAILED).count()
    run = InvoicingRun.objects.get(pk=run_id)
    run.state = InvoicingState.FAILED if failed else InvoicingState.DONE
    run.finished_at = timezone.now()
    if failed:
        run.errors = [*run.errors, {"message": CHUNKS_FAILED % {"count": failed}}]
    run.save(update_fields=["state", "finished_at", "errors"])


# ------------------------------------------------------------------ creating invoices


@dataclass(frozen=True)
class _Seller:
    name: str
    organisation_number: str
    address: str
    account: str
    help_text: str


def _seller(club: Organisation, season: int) -> _Seller:
    place = " ".join(part for part in (club.postcode, club.city) if part)
    return _Seller(
        name=club.name,
        organisation_number=club.organisation_number,
        address=", ".join(part for part in (club.street, place) if part),
        account=club.bank_account,
        help_text=selectors.help_text(club, season),
    )


def _buyers(payer_ids: Iterable[int]) -> dict[int, dict]:
    """S-05: the buyers' names and addresses (standard contact set), in two queries."""
    ids = list(payer_ids)
    buyers = {
        person.pk: {"buyer_name": person.full_name, "language": ""}
        for person in Person.objects.filter(dues_selectors.any_of("pk", ids)).only(
            "pk", "first_name", "middle_name", "last_name"
        )
    }
    for row in ContactSet.objects.filter(
        dues_selectors.any_of("person_id", ids), is_standard=True
    ).values("person_id", "street", "postcode", "city", "country", "email"):
        buyers[row["person_id"]].update(
            buyer_street=row["street"],
            buyer_postcode=row["postcode"],
            buyer_city=row["city"],
            buyer_country=row["country"],
            buyer_email=row["email"],
        )
    for person_id, language in User.objects.filter(
        dues_selectors.any_of("person_id", ids)
    ).values_list("person_id", "language"):
        buyers[person_id]["language"] = language
    return buyers


def _take_kids(series: InvoiceNumberSeries, club: Organisation, count: int) -> list[str]:
    kids = []
    sequence = series.next_kid_sequence
    for _index in range(count):
        value, sequence = kid_rules.next_kid(sequence, club.kid_length, club.kid_algorithm)
        kids.append(value)
    series.next_kid_sequence = sequence
    return kids


# The plain values of the engine's enums: `member.value` is a descriptor call, and a run
# reads it half a million times.
_VALUES: dict = {member: member.value for member in (*pricing.FeeKind, *pricing.LineKind)}


def _nok(amount: Decimal) -> Money:
    return Money(amount, pricing.CURRENCY)


def _descriptions(
    planned: Sequence[selectors.PlannedInvoice], buyers: Mapping[int, dict]
) -> Descriptions:
    """S-05: the lines' descriptions in their invoice's language (the payer's choice, else
    the site's default, bokmål), so that the page and the PDF of a Norwegian invoice read
    Norwegian. The reasons are grouped by language and each rendered once: a run switches the
    language once per language, not per line (`billing.texts.render_all`)."""
    wanted: dict[str, set[pricing.Text]] = {}
    for plan in planned:
        language = texts.invoice_language(buyers[plan.payer_id]["language"])
        found = wanted.setdefault(language, set())
        found.update(pl.line.text for pl in plan.lines if pl.line.text is not None)
    return {language: texts.render_all(found, language) for language, found in wanted.items()}


def _create_invoices(
    *,
    series: InvoiceNumberSeries,
    club: Organisation,
    season: int,
    issue_date: datetime.date,
    planned: Sequence[selectors.PlannedInvoice],
    run: InvoicingRun | None,
    actor: User | None,
    buyers: dict[int, dict] | None = None,
    descriptions: Descriptions | None = None,
) -> list[int]:
    """Insert the planned invoices with the next numbers and KIDs of the locked series (S-05,
    S-01), their lines, an "issued" event and a history row each (STYLE 5, audit; `buyers`
    as `_buyers` returns them, read before the lock, or None to read them now; the same for
    `descriptions`, the lines' texts in the invoices' languages, `_descriptions`), with
    PostgreSQL COPY: a 100,000-member run inserts some 400,000 rows while the series is
    locked, which the ORM's bulk_create would take ten times longer to do. Returns the ids."""
    if not planned:
        return []
    seller = _seller(club, season)
    if buyers is None:
        buyers = _buyers({invoice.payer_id for invoice in planned})
    if descriptions is None:
        descriptions = _descriptions(planned, buyers)
    kids = _take_kids(series, club, len(planned))
    first_number = series.next_number
    ids = _next_ids(Invoice, len(planned))
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    run_id = run.pk if run is not None else None
    invoice_rows = []
    line_rows = []
    kind, status = InvoiceKind.INVOICE.value, InvoiceStatus.ISSUED.value
    for index, plan in enumerate(planned):
        buyer = buyers[plan.payer_id]
        described = descriptions[texts.invoice_language(buyer["language"])]
        invoice_rows.append(
            (
                ids[index], club.pk, first_number + index, kind, None,
                status, run_id, season, plan.payer_id,
                buyer["buyer_name"][:300], buyer.get("buyer_street", ""),
                buyer.get("buyer_postcode", ""), buyer.get("buyer_city", ""),
                buyer.get("buyer_country", ""), buyer.get("buyer_email", ""),
                seller.name, seller.organisation_number, seller.address, seller.account,
                issue_date, plan.due_date, kids[index], plan.total, pricing.CURRENCY,
                seller.help_text, buyer["language"], "", actor_id, now,
            )
        )  # fmt: skip
        for position, planned_line in enumerate(plan.lines, start=1):
            line = planned_line.line
            description = line.reason if line.text is None else described[line.text]
            line_rows.append(
                (
                    ids[index], club.pk, line.person_id, position, _VALUES[line.fee],
                    planned_line.key_fee, line.group or "", _VALUES[line.kind], line.period.start,
                    line.period.end, description[:300], line.rule_id, line.amount,
                    pricing.CURRENCY, True, None,
                )
            )  # fmt: skip
    _copy(Invoice, INVOICE_COLUMNS, invoice_rows)
    _copy(InvoiceLine, LINE_COLUMNS, line_rows)
    _copy(
        InvoiceEvent,
        EVENT_COLUMNS,
        [(pk, "issued", "", "issued", actor_id, "", now) for pk in ids],
    )
    _copy(
        Invoice.history.model,
        (*INVOICE_COLUMNS, "history_date", "history_change_reason", "history_type", "history_user"),
        [(*row, now, None, "+", actor_id) for row in invoice_rows],
    )
    series.next_number = first_number + len(planned)
    series.save(update_fields=["next_number", "next_kid_sequence"])
    return ids


INVOICE_COLUMNS = (
    "id", "club", "number", "kind", "credited_invoice", "status", "run", "season", "payer",
    "buyer_name", "buyer_street", "buyer_postcode", "buyer_city", "buyer_country",
    "buyer_email", "seller_name", "seller_organisation_number", "seller_address",
    "seller_account", "issue_date", "due_date", "kid", "total", "total_currency", "help_text",
    "language", "reason", "created_by", "created_at",
)  # fmt: skip
LINE_COLUMNS = (
    "invoice", "club", "person", "position", "fee", "key_fee", "group", "line_kind",
    "period_start", "period_end", "description", "rule_id", "amount", "amount_currency",
    "is_billed", "credited_line",
)  # fmt: skip
EVENT_COLUMNS = ("invoice", "kind", "from_status", "to_status", "actor", "note", "created_at")


def _next_ids(model: type[Invoice], count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model: type, fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """COPY `rows` (values in the order of `fields`, model field names) into the model's
    table."""
    if not rows:
        return
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name).column) for name in fields
    )
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# ------------------------------------------------------------------ the reconciler


@dataclass(frozen=True)
class ReconcileReport:
    requeued: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


def invoicing_reconcile(
    *, timeout: datetime.timedelta = CHUNK_TIMEOUT, max_attempts: int = MAX_ATTEMPTS
) -> ReconcileReport:
    """Re-queue stalled chunks (see the module docstring). Chunks another transaction holds
    are left for the next round."""
    now = timezone.now()
    stale_before = now - timeout
    requeued: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        chunks = InvoicingChunk.objects.select_for_update(skip_locked=True).filter(
            Q(state=InvoicingState.RUNNING, claimed_at__lt=stale_before)
            | Q(state=InvoicingState.PENDING, run__in=_idle_runs(stale_before))
        )
        for chunk in chunks.order_by("pk"):
            if chunk.state == InvoicingState.RUNNING and chunk.attempts >= max_attempts:
                chunk.state, chunk.finished_at = InvoicingState.FAILED, now
                chunk.error = CHUNK_GAVE_UP % {"attempts": chunk.attempts}
                chunk.save(update_fields=["state", "finished_at", "error"])
                failed.append(chunk.pk)
                continue
            # On a pending chunk, claimed_at is when it was last re-queued.
            chunk.state, chunk.claimed_at = InvoicingState.PENDING, now
            chunk.save(update_fields=["state", "claimed_at"])
            _queue_chunk(chunk.pk)
            requeued.append(chunk.pk)
        run_ids = sorted(
            set(InvoicingChunk.objects.filter(pk__in=failed).values_list("run_id", flat=True))
        )
        for run_id in run_ids:
            InvoicingRun.objects.select_for_update().get(pk=run_id)
            _finish_run_if_complete(run_id)
    return ReconcileReport(requeued=tuple(requeued), failed=tuple(failed))


def _idle_runs(stale_before: datetime.datetime):
    recent = InvoicingChunk.objects.filter(
        Q(claimed_at__gte=stale_before) | Q(finished_at__gte=stale_before)
    ).values("run_id")
    return (
        InvoicingRun.objects.filter(
            state__in=[InvoicingState.PENDING, InvoicingState.RUNNING],
            created_at__lt=stale_before,
        )
        .exclude(pk__in=recent)
        .values("pk")
    )


# ------------------------------------------------------------------ void and credit


def _event(invoice: Invoice, kind: str, from_status: str, actor: User | None, note: str) -> None:
    InvoiceEvent.objects.create(
        invoice=invoice,
        kind=kind,
        from_status=from_status,
        to_status=invoice.status,
        actor=actor,
        note=note,
    )


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("club").get(pk=invoice.pk)


@transaction.atomic
def invoice_void(*, actor: User | None, invoice: Invoice, reason: str) -> Invoice:
    """S-05: mark an issued, unpaid invoice void (it stays, with its number); its keys may be
    invoiced again."""
    locked = _locked(invoice)
    _require_billing(actor, locked.club)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, code="reason_required")
    if Payment.objects.filter(invoice=locked).aggregate(paid=Sum("amount"))["paid"]:
        raise ValidationError(HAS_PAYMENTS, code="has_payments")  # S-05: credit and refund
    if locked.kind != InvoiceKind.INVOICE or locked.status != InvoiceStatus.ISSUED:
        raise ValidationError(NOT_VOIDABLE, code="not_voidable")
    from_status = locked.status
    locked.status = InvoiceStatus.VOID
    locked._history_user = actor
    locked.save(update_fields=["status"])
    locked.lines.update(is_billed=False)
    _event(locked, InvoiceEvent.Kind.VOIDED, from_status, actor, reason.strip())
    return locked


@transaction.atomic
def invoice_credit(
    *,
    actor: User | None,
    invoice: Invoice,
    reason: str,
    lines: Sequence[InvoiceLine] | None = None,
    amounts: Mapping[int, Decimal] | None = None,
    issue_date: datetime.date | None = None,
    line_kind: str = "",
    description: str = "",
    rule_id: str = "",
) -> Invoice:
    """S-05: a credit note, numbered in the club's series, for all of the invoice, for the
    keys (person, fee, group, period) of `lines`, or for `amounts`: part of lines (line id ->
    amount to credit, more than zero and at most what is still open on the line, e.g. a
    refund of part of a paid fee, M-15/D-09). Whole-line credits free the keys (the lines
    are no longer billed: the person may be invoiced again); an amount credit leaves the
    line billed, so the unique index `invoice_line_once` still blocks invoicing the charge
    again. The credit lines of an amount credit take `line_kind`, `description` and
    `rule_id` when given, else the credited line's. Writes the events (the note issued, the
    invoice credited or partly credited) and lets the invoice's paid status follow its
    smaller claim. Returns the credit note."""
    locked = _locked(invoice)
    _require_billing(actor, locked.club)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, code="reason_required")
    if lines is not None and amounts is not None:
        raise ValidationError(LINES_OR_AMOUNTS, code="lines_or_amounts")
    if locked.kind != InvoiceKind.INVOICE or locked.status in (
        InvoiceStatus.VOID,
        InvoiceStatus.CREDITED,
    ):
        raise ValidationError(NOT_CREDITABLE, code="not_creditable")
    billed = list(locked.lines.filter(is_billed=True).order_by("position"))
    open_amounts = _open_amounts(billed)
    if amounts is not None:
        credited = _credited_amounts(billed, open_amounts, amounts, line_kind)
    else:
        credited = [(line, open_amounts[line.pk]) for line in _credited_lines(billed, lines)]
    issue_date = issue_date or timezone.localdate()
    note = _credit_note(locked, actor, reason.strip(), issue_date, credited)
    new_lines = [
        _credit_line(note, position, line, amount)
        for position, (line, amount) in enumerate(credited, start=1)
    ]
    if amounts is not None:
        for credit_line in new_lines:
            credit_line.line_kind = line_kind or credit_line.line_kind
            credit_line.description = (description or credit_line.description)[:300]
            credit_line.rule_id = (rule_id or credit_line.rule_id)[:50]
    InvoiceLine.objects.bulk_create(new_lines)
    if amounts is None:
        InvoiceLine.objects.filter(pk__in=[line.pk for line, _amount in credited]).update(
            is_billed=False
        )
    _event(note, InvoiceEvent.Kind.ISSUED, "", actor, reason.strip())
    from_status = locked.status
    if amounts is None and len(credited) == len(billed):
        locked.status = InvoiceStatus.CREDITED
        locked._history_user = actor
        locked.save(update_fields=["status"])
        _event(locked, InvoiceEvent.Kind.CREDITED, from_status, actor, reason.strip())
    else:
        _event(locked, InvoiceEvent.Kind.PARTLY_CREDITED, from_status, actor, reason.strip())
        paid_status.invoices_refresh_paid_status(actor=actor, invoice_ids=[locked.pk])  # S-06
    return note


def _credit_note(
    invoice: Invoice,
    actor: User | None,
    reason: str,
    issue_date: datetime.date,
    credited: Sequence[tuple[InvoiceLine, Decimal]],
) -> Invoice:
    """The credit note of `credited` ((line, amount) pairs) of the locked `invoice`, with
    the next number of the club's locked series (S-05)."""
    series = _lock_series(invoice.club)
    note = Invoice(
        club=invoice.club,
        number=series.next_number,
        kind=InvoiceKind.CREDIT_NOTE,
        credited_invoice=invoice,
        season=invoice.season,
        payer=invoice.payer,
        **{f: getattr(invoice, f) for f in _COPIED_FIELDS},
        issue_date=issue_date,
        due_date=issue_date,
        total=_nok(-sum((amount for _line, amount in credited), Decimal(0))),
        reason=reason,
        created_by=actor,
    )
    note._history_user = actor
    note.full_clean(exclude=["club", "payer", "credited_invoice", "created_by", "run"])
    note.save()
    series.next_number += 1
    series.save(update_fields=["next_number"])
    return note


_COPIED_FIELDS = (
    "buyer_name",
    "buyer_street",
    "buyer_postcode",
    "buyer_city",
    "buyer_country",
    "buyer_email",
    "seller_name",
    "seller_organisation_number",
    "seller_address",
    "seller_account",
    "help_text",
    "language",
)


def _key(line: InvoiceLine) -> tuple:
    return (line.person_id, line.key_fee, line.group, line.period_start)


def _credited_lines(
    billed: list[InvoiceLine], chosen: Sequence[InvoiceLine] | None
) -> list[InvoiceLine]:
    """The billed lines to credit: all, or every line sharing a key with a chosen one (a
    charge is credited with its reductions and invoice fee)."""
    if chosen is None:
        return billed
    billed_ids = {line.pk for line in billed}
    if not chosen or any(line.pk not in billed_ids for line in chosen):
        raise ValidationError(LINES_NOT_ON_INVOICE, code="lines_not_on_invoice")
    keys = {_key(line) for line in chosen}
    return [line for line in billed if _key(line) in keys]


def _open_amounts(billed: Sequence[InvoiceLine]) -> dict[int, Decimal]:
    """What is still open on each billed line: its amount less what credit notes of part of
    it took off already (their lines are negative). One query."""
    credited = dict(
        InvoiceLine.objects.filter(credited_line_id__in=[line.pk for line in billed])
        .values("credited_line_id")
        .annotate(amount=Sum("amount"))
        .values_list("credited_line_id", "amount")
    )
    return {line.pk: line.amount.amount + credited.get(line.pk, Decimal(0)) for line in billed}


def _credited_amounts(
    billed: Sequence[InvoiceLine],
    open_amounts: Mapping[int, Decimal],
    amounts: Mapping[int, Decimal],
    line_kind: str,
) -> list[tuple[InvoiceLine, Decimal]]:
    """The (line, amount) pairs of an amount credit, in line order, validated: lines of the
    invoice still billed, amounts in øre, more than zero, at most what is open."""
    by_id = {line.pk: line for line in billed}
    if not amounts or any(pk not in by_id for pk in amounts):
        raise ValidationError(LINES_NOT_ON_INVOICE, code="lines_not_on_invoice")
    if line_kind and line_kind not in {kind.value for kind in pricing.LineKind}:
        raise ValueError(f"Unknown line kind {line_kind!r}")
    credited = []
    for line in billed:
        if line.pk not in amounts:
            continue
        amount = Decimal(amounts[line.pk])
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(AMOUNT_NOT_VALID, code="amount_not_valid")
        if amount > open_amounts[line.pk]:
            raise ValidationError(
                AMOUNT_ABOVE_OPEN,
                code="amount_above_open",
                params={"open": open_amounts[line.pk], "line": line.description},
            )
        credited.append((line, amount))
    return credited


def _credit_line(
    note: Invoice, position: int, line: InvoiceLine, amount: Decimal | None = None
) -> InvoiceLine:
    """The credit note's line crediting `amount` of `line` (default: all of it)."""
    return InvoiceLine(
        invoice=note,
        club_id=note.club_id,
        person_id=line.person_id,
        position=position,
        fee=line.fee,
        key_fee=line.key_fee,
        group=line.group,
        line_kind=line.line_kind,
        period_start=line.period_start,
        period_end=line.period_end,
        description=line.description,
        rule_id=line.rule_id,
        amount=_nok(-amount) if amount is not None else -line.amount,
        is_billed=False,
        credited_line=line,
    )
