"""Delivery of invoices and reminders (issue 6, scopes 4 and 5): every write.

The outbox (`InvoiceDelivery`, `TeamUnpaidNotice`)
- `deliveries_plan` creates one row per invoice (or reminder) and channel: e-mail when the
  invoice has the buyer's e-mail, else paper. The unique constraints make planning twice a
  no-op; the sender is queued when the transaction commits.
- `deliveries_send` sends the pending e-mail rows, one message per payer and recipient (a
  guardian paying for three children gets one e-mail; several invoices of one payer go as
  several PDFs in one e-mail). For each message:
    1. claim (own transaction): lock the rows with `SELECT ... FOR UPDATE SKIP LOCKED`, mark
       them `sending` with `claimed_at` (our token) and count the attempt;
    2. render the PDFs (nothing is sent yet: an error here puts the rows back);
    3. commit `send_started_at` (only if our claim still holds);
    4. hand the message to SMTP (`EmailMessage.send()` through Django's backend);
    5. commit `handed_over_at`, `sent_at` and state `sent`.
  An exception from step 4 means the SMTP server did not confirm the message: the rows go
  back to pending (failed after MAX_ATTEMPTS).
- `deliveries_reconcile` (beat) looks at rows stuck in `sending` longer than SEND_TIMEOUT
  (their worker died): claimed but never started to hand over (no `send_started_at`) ->
  pending again (retried: the mail certainly did not go out); handed over -> sent; started
  but not confirmed -> `uncertain`: never re-sent automatically, an administrator checks and
  may "send again".
  The remaining window, honestly: a worker that dies after the SMTP server accepted the
  message (step 4) but before step 5 committed leaves the row `uncertain`; so does one that
  dies during step 4 before the server accepted. The outbox cannot tell these apart (SMTP has
  no idempotency key), so it neither loses nor duplicates silently: it asks a person. A
  server that accepts a message but whose "250 OK" is lost on the network makes step 4 raise,
  and that message is sent again (SMTP's own at-least-once).
- `deliveries_mark_posted`: the paper list's "mark as posted".

Reminders (D-03, S-06)
- `reminders_run` (daily beat): for each club, every unpaid invoice whose reminder is due by
  the club's `ReminderPolicy` gets a `Reminder` row (rules in `billing.delivery.reminders`;
  unique (invoice, sequence): running twice creates nothing new) with its fee and, where the
  policy charges it, the late interest since the previous reminder (S-06; what is owed comes
  from `billing.balances`, which adds both to the claim), delivered through the outbox
  like an invoice; each team leader of a team with a reminded player gets the team's unpaid
  list (`TeamUnpaidNotice`, unique per team, leader and day).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing import balances
from billing.delivery import reminders as rules
from billing.delivery import selectors
from billing.invoicing import pdf
from billing.models_delivery import (
    DeliveryChannel,
    DeliveryState,
    InvoiceDelivery,
    Reminder,
    ReminderPolicy,
    TeamUnpaidNotice,
)
from billing.models_invoicing import Invoice, InvoiceKind, InvoicingRun, InvoicingState
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, User

logger = logging.getLogger(__name__)

NOT_ALLOWED = _("You may not manage billing in this club.")
NOTHING_CHOSEN = _("Choose at least one letter to mark as posted.")
NOT_RESENDABLE = _("Only a failed delivery or one that may not have been sent can be sent again.")

SEND_TASK = "billing.deliveries_send"
SEND_TIMEOUT = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 5
SEND_BATCH = 200  # messages per task run
CURRENCY = "NOK"
RETRY_STATES = (DeliveryState.FAILED, DeliveryState.UNCERTAIN)
DONE_INVOICE_STATES = ("void", "credited")


def _require_billing(actor: User | None, club: Organisation) -> None:
    # actor None: the system itself (the scheduled jobs)
    if actor is not None and not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _queue_send() -> None:
    transaction.on_commit(lambda: current_app.send_task(SEND_TASK))


# ------------------------------------------------------------------ planning


@transaction.atomic
def deliveries_plan(
    *,
    run: InvoicingRun | None = None,
    invoices: Iterable[Invoice] | None = None,
    queue: bool = True,
) -> int:
    """One delivery per invoice of `run` (or `invoices`) that is issued and has none yet:
    e-mail to the buyer's address at issue, paper without one. Returns how many were created."""
    queryset = Invoice.objects.filter(kind=InvoiceKind.INVOICE).exclude(
        status__in=DONE_INVOICE_STATES
    )
    if run is not None:
        queryset = queryset.filter(run=run)
    if invoices is not None:
        queryset = queryset.filter(pk__in=[invoice.pk for invoice in invoices])
    rows = [
        InvoiceDelivery(
            invoice_id=pk,
            club_id=club_id,
            payer_id=payer_id,
            channel=DeliveryChannel.EMAIL if email else DeliveryChannel.PAPER,
            recipient=email,
        )
        for pk, club_id, payer_id, email in queryset.filter(deliveries__isnull=True)
        .values_list("pk", "club_id", "payer_id", "buyer_email")
        .order_by("pk")
    ]
    created = InvoiceDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    if rows and queue:
        _queue_send()
    return len(created)


def deliveries_plan_finished_runs() -> int:
    """Plan the deliveries of invoicing runs that finished (beat): a run's invoices are
    delivered once the whole run is done."""
    finished = InvoicingRun.objects.filter(
        state=InvoicingState.DONE,
        invoices__deliveries__isnull=True,
        invoices__kind=InvoiceKind.INVOICE,
    ).distinct()
    return sum(deliveries_plan(run=run) for run in finished.order_by("pk"))


def _plan_reminders(reminder_ids: Sequence[int]) -> int:
    rows = [
        InvoiceDelivery(
            invoice_id=invoice_id,
            reminder_id=pk,
            club_id=club_id,
            payer_id=payer_id,
            channel=DeliveryChannel.EMAIL if email else DeliveryChannel.PAPER,
            recipient=email,
        )
        for pk, invoice_id, club_id, payer_id, email in Reminder.objects.filter(
            pk__in=list(reminder_ids), deliveries__isnull=True
        )
        .values_list("pk", "invoice_id", "club_id", "invoice__payer_id", "invoice__buyer_email")
        .order_by("pk")
    ]
    return len(InvoiceDelivery.objects.bulk_create(rows, ignore_conflicts=True))


# ------------------------------------------------------------------ the sender


@dataclass(frozen=True)
class _Outbox:
    """How one outbox table is claimed and turned into a message."""

    model: type[models.Model]
    pending: Q
    group_fields: tuple[str, ...]
    build: Callable[[list], EmailMessage | None]


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    messages: int = 0


def _claim(outbox: _Outbox, now: datetime.datetime) -> list | None:
    """Lock and mark `sending` the next group of pending rows (one future message)."""
    model = outbox.model
    with transaction.atomic():
        first = (
            model.objects.select_for_update(skip_locked=True)
            .filter(outbox.pending, state=DeliveryState.PENDING)
            .order_by("pk")
            .first()
        )
        if first is None:
            return None
        same = {name: getattr(first, name) for name in outbox.group_fields}
        rows = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(outbox.pending, state=DeliveryState.PENDING, **same)
            .order_by("pk")
        )
        model.objects.filter(pk__in=[row.pk for row in rows]).update(
            state=DeliveryState.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            send_started_at=None,
            error="",
        )
    for row in rows:
        row.state, row.claimed_at, row.attempts = DeliveryState.SENDING, now, row.attempts + 1
    return rows


def _ours(model: type[models.Model], rows: list, claimed_at: datetime.datetime):
    return model.objects.filter(
        pk__in=[row.pk for row in rows], state=DeliveryState.SENDING, claimed_at=claimed_at
    )


def _put_back(model: type[models.Model], rows: list, error: Exception, report: SendReport) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    claimed_at = rows[0].claimed_at
    for row in rows:
        state = DeliveryState.FAILED if row.attempts >= MAX_ATTEMPTS else DeliveryState.PENDING
        _ours(model, [row], claimed_at).update(state=state, send_started_at=None, error=message)
        if state == DeliveryState.FAILED:
            report.failed.append(row.pk)


def _send_one(outbox: _Outbox, report: SendReport) -> bool:
    now = timezone.now()
    rows = _claim(outbox, now)
    if rows is None:
        return False
    model = outbox.model
    try:
        message = outbox.build(rows)
    except Exception as error:  # a PDF or template error: nothing was sent
        logger.exception("Building the message of %s failed", rows)
        _put_back(model, rows, error, report)
        return True
    if message is None:  # every invoice of the group was voided or credited meanwhile
        _ours(model, rows, now).update(state=DeliveryState.CANCELLED)
        report.cancelled.extend(row.pk for row in rows)
        return True
    if _ours(model, rows, now).update(send_started_at=timezone.now()) != len(rows):
        return True  # the reconciler took the rows back: another worker sends them
    try:
        message.send()
    except Exception as error:  # SMTP did not confirm: not handed over
        logger.warning("Sending %s failed: %s", rows, error)
        _put_back(model, rows, error, report)
        return True
    handed_over = timezone.now()
    _ours(model, rows, now).update(
        state=DeliveryState.SENT, handed_over_at=handed_over, sent_at=handed_over
    )
    report.sent.extend(row.pk for row in rows)
    report.messages += 1
    return True


def deliveries_send(*, limit: int = SEND_BATCH) -> SendReport:
    """Send up to `limit` messages from the outbox (invoices, reminders, team leader lists).
    Safe to run in many workers at once: each message's rows are claimed by one."""
    report = SendReport()
    for outbox in _outboxes():
        for _index in range(limit):
            if not _send_one(outbox, report):
                break
    return report


def _outboxes() -> list[_Outbox]:
    email = Q(channel=DeliveryChannel.EMAIL)
    return [
        _Outbox(
            InvoiceDelivery,
            email & Q(reminder__isnull=True),
            ("club_id", "payer_id", "recipient"),
            _invoice_message,
        ),
        _Outbox(
            InvoiceDelivery,
            email & Q(reminder__isnull=False),
            ("club_id", "payer_id", "recipient"),
            _reminder_message,
        ),
        _Outbox(
            TeamUnpaidNotice,
            Q(),
            ("club_id", "leader_id", "notice_date", "recipient"),
            _team_message,
        ),
    ]


# ------------------------------------------------------------------ messages


def _language(code: str) -> str:
    codes = {language for language, _name in settings.LANGUAGES}
    return code if code in codes else settings.LANGUAGE_CODE


def _message(
    *, template: str, context: dict, language: str, to: str, club: Organisation
) -> EmailMessage:
    with translation.override(_language(language)):
        subject = render_to_string(f"billing/email/{template}_subject.txt", context)
        body = render_to_string(f"billing/email/{template}_body.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[club.email] if club.email else None,
    )


def _attach_pdfs(message: EmailMessage, invoices: Sequence[Invoice], language: str) -> None:
    with translation.override(_language(language)):
        for invoice in invoices:
            name = _("invoice-%(number)s.pdf") % {"number": invoice.number}
            message.attach(str(name), pdf.invoice_pdf_bytes(invoice), "application/pdf")


def _live_invoices(rows: list[InvoiceDelivery]) -> list[InvoiceDelivery]:
    """The rows whose invoice may still be sent; the others are cancelled."""
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_related("club").filter(
            pk__in=[row.invoice_id for row in rows]
        )
    }
    live, dead = [], []
    for row in rows:
        row.invoice = invoices[row.invoice_id]
        (dead if row.invoice.status in DONE_INVOICE_STATES else live).append(row)
    if dead:
        InvoiceDelivery.objects.filter(pk__in=[row.pk for row in dead]).update(
            state=DeliveryState.CANCELLED
        )
    return live


def _invoice_message(rows: list[InvoiceDelivery]) -> EmailMessage | None:
    live = _live_invoices(rows)
    if not live:
        return None
    invoices = [row.invoice for row in live]
    first = invoices[0]
    message = _message(
        template="invoice",
        context={"invoices": invoices, "club": first.club, "buyer_name": first.buyer_name},
        language=first.language,
        to=live[0].recipient,
        club=first.club,
    )
    _attach_pdfs(message, invoices, first.language)
    return message


def _reminder_message(rows: list[InvoiceDelivery]) -> EmailMessage | None:
    live = _live_invoices(rows)
    if not live:
        return None
    reminder_ids = [row.reminder_id for row in live]
    reminded = list(Reminder.objects.filter(pk__in=reminder_ids).order_by("invoice_id"))
    owed = selectors.amounts_owed([row.invoice_id for row in live])
    invoices = {row.invoice_id: row.invoice for row in live}
    items = [
        {
            "invoice": invoices[reminder.invoice_id],
            "reminder": reminder,
            "owed": Money(owed.get(reminder.invoice_id, Decimal(0)), CURRENCY),
        }
        for reminder in reminded
    ]
    first = items[0]["invoice"]
    message = _message(
        template="reminder",
        context={"items": items, "club": first.club, "buyer_name": first.buyer_name},
        language=first.language,
        to=live[0].recipient,
        club=first.club,
    )
    _attach_pdfs(message, [item["invoice"] for item in items], first.language)
    return message


def _team_message(rows: list[TeamUnpaidNotice]) -> EmailMessage | None:
    """D-03: one e-mail per team leader and day, with a section per team they lead."""
    notices = list(
        TeamUnpaidNotice.objects.select_related("club", "team", "leader")
        .filter(pk__in=[row.pk for row in rows])
        .order_by("team__name", "pk")
    )
    first = notices[0]
    return _message(
        template="team_unpaid",
        context={"notices": notices, "club": first.club, "leader": first.leader},
        language=first.language,
        to=first.recipient,
        club=first.club,
    )


# ------------------------------------------------------------------ the reconciler


@dataclass(frozen=True)
class ReconcileReport:
    retried: tuple[int, ...] = ()
    sent: tuple[int, ...] = ()
    uncertain: tuple[int, ...] = ()


def deliveries_reconcile(*, timeout: datetime.timedelta = SEND_TIMEOUT) -> ReconcileReport:
    """Rows stuck in `sending` past `timeout` (their worker died), see the module docstring.
    The report lists the ids of both outbox tables together."""
    stale = Q(state=DeliveryState.SENDING, claimed_at__lt=timezone.now() - timeout)
    retried: list[int] = []
    sent: list[int] = []
    uncertain: list[int] = []
    with transaction.atomic():
        for model in (InvoiceDelivery, TeamUnpaidNotice):
            rows = model.objects.select_for_update(skip_locked=True).filter(stale).order_by("pk")
            for row in rows:
                if row.handed_over_at is not None:
                    row.state, row.sent_at = DeliveryState.SENT, row.sent_at or row.handed_over_at
                    sent.append(row.pk)
                elif row.send_started_at is None:
                    row.state = DeliveryState.PENDING  # certainly not handed to SMTP
                    if row.attempts >= MAX_ATTEMPTS:
                        row.state = DeliveryState.FAILED
                    retried.append(row.pk)
                else:
                    row.state = DeliveryState.UNCERTAIN
                    uncertain.append(row.pk)
                row.save(update_fields=["state", "sent_at"])
        if retried:
            _queue_send()
    return ReconcileReport(tuple(retried), tuple(sent), tuple(uncertain))


# ------------------------------------------------------------------ pages


@transaction.atomic
def deliveries_mark_posted(
    *, actor: User | None, club: Organisation, delivery_ids: Iterable[int]
) -> int:
    """The paper list: these pending paper letters were printed and posted."""
    _require_billing(actor, club)
    ids = sorted({int(pk) for pk in delivery_ids})
    if not ids:
        raise ValidationError(NOTHING_CHOSEN, code="nothing_chosen")
    rows = list(
        InvoiceDelivery.objects.select_for_update()
        .filter(pk__in=ids, club=club, channel=DeliveryChannel.PAPER, state=DeliveryState.PENDING)
        .order_by("pk")
    )
    now = timezone.now()
    return InvoiceDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
        state=DeliveryState.POSTED, sent_at=now, posted_by=actor
    )


@transaction.atomic
def delivery_resend(*, actor: User | None, delivery: InvoiceDelivery) -> InvoiceDelivery:
    """A failed delivery, or one that may not have gone out, is sent again (an
    administrator's decision: an uncertain one may then arrive twice)."""
    locked = InvoiceDelivery.objects.select_for_update().get(pk=delivery.pk)
    _require_billing(actor, locked.club)
    if locked.state not in RETRY_STATES:
        raise ValidationError(NOT_RESENDABLE, code="not_resendable")
    locked.state, locked.attempts, locked.error = DeliveryState.PENDING, 0, ""
    locked.send_started_at = locked.claimed_at = None
    locked.save(update_fields=["state", "attempts", "error", "send_started_at", "claimed_at"])
    _queue_send()
    return locked


@transaction.atomic
def reminder_policy_save(
    *, actor: User | None, club: Organisation, data: dict[str, object]
) -> ReminderPolicy:
    """D-03: change the club's reminder settings (`data`: ReminderPolicy field values)."""
    _require_billing(actor, club)
    ReminderPolicy.objects.bulk_create([ReminderPolicy(club=club)], ignore_conflicts=True)
    policy = ReminderPolicy.objects.select_for_update().get(club=club)
    editable = selectors.POLICY_FIELDS
    for name in editable:
        if name in data:
            setattr(policy, name, data[name])
    policy.updated_by = actor
    policy.full_clean(exclude=["club", "updated_by"])
    policy.save(update_fields=[*editable, "updated_by", "updated_at"])
    return policy


# ------------------------------------------------------------------ reminders


@dataclass
class RemindersReport:
    reminders: list[int] = field(default_factory=list)
    with_fee: int = 0
    with_interest: int = 0
    notices: int = 0
    leaders_without_email: int = 0


def reminders_run(*, today: datetime.date | None = None) -> RemindersReport:
    """D-03, S-06: the daily reminder job for every club with unpaid invoices past due.
    Idempotent: a second run the same day creates nothing new."""
    today = today or timezone.localdate()
    report = RemindersReport()
    club_ids = (
        selectors.overdue_invoices(today)
        .values_list("club_id", flat=True)
        .distinct()
        .order_by("club_id")
    )
    for club in Organisation.objects.filter(pk__in=list(club_ids)).order_by("pk"):
        club_reminders(club=club, today=today, report=report)
    return report


@transaction.atomic
def club_reminders(
    *, club: Organisation, today: datetime.date, report: RemindersReport | None = None
) -> RemindersReport:
    """One club's reminders of `today` (see `reminders_run`)."""
    report = report if report is not None else RemindersReport()
    policy_row = selectors.reminder_policy(club)
    if not policy_row.is_enabled:
        return report
    policy = selectors.policy_values(policy_row)
    fee_rates = selectors.fee_rates()
    invoices = list(selectors.overdue_invoices(today).filter(club=club).order_by("pk"))
    owed = balances.invoice_balances([invoice.pk for invoice in invoices])
    decided: list[tuple[Invoice, rules.Decision]] = []
    for invoice in invoices:
        balance = owed.get(invoice.pk)
        if balance is None or balance.owed <= 0:
            continue
        decision = rules.next_reminder(
            due_date=invoice.due_date,
            today=today,
            previous=selectors.past_reminders(invoice),
            policy=policy,
            fee_rates=fee_rates,
        )
        if decision is not None:
            decided.append((invoice, decision))
    interest = _interest(decided, owed, policy, today)
    new = [_reminder(inv, decision, today, interest.get(inv.pk)) for inv, decision in decided]
    todays_reminders = Reminder.objects.filter(club=club, reminded_on=today)
    before = set(todays_reminders.values_list("pk", flat=True))
    Reminder.objects.bulk_create(new, ignore_conflicts=True)  # reminder_once: no doubles
    todays = {pk: (fee, charged) for pk, fee, charged in todays_reminders.values_list(
        "pk", "fee", "interest")}  # fmt: skip
    _plan_reminders(sorted(todays))
    created = sorted(set(todays) - before)
    report.reminders.extend(created)
    report.with_fee += sum(1 for pk in created if todays[pk][0] > 0)
    report.with_interest += sum(1 for pk in created if todays[pk][1] > 0)
    if policy_row.notify_team_leaders and todays:
        _team_notices(club, today, owing={pk for pk, b in owed.items() if b.owed > 0},
                      reminded=set(Reminder.objects.filter(pk__in=todays)
                                   .values_list("invoice_id", flat=True)),
                      report=report)  # fmt: skip
    _queue_send()
    return report


def _interest(
    decided: Sequence[tuple[Invoice, rules.Decision]],
    owed: dict[int, balances.Balance],
    policy: rules.Policy,
    today: datetime.date,
) -> dict[int, Decimal]:
    """S-06: the late interest each new reminder charges (two queries, none when the
    club's policy charges no interest)."""
    if not policy.charge_interest or not decided:
        return {}
    rates = selectors.interest_rates()
    changes = balances.principal_changes([invoice.pk for invoice, _decision in decided])
    return {
        invoice.pk: rules.reminder_interest(
            principal=owed[invoice.pk].billed - owed[invoice.pk].credited,
            changes=changes.get(invoice.pk, []),
            due_date=invoice.due_date,
            today=today,
            previous=selectors.past_reminders(invoice),
            policy=policy,
            rates=rates,
        )
        for invoice, _decision in decided
    }


def _reminder(
    invoice: Invoice, decision: rules.Decision, today: datetime.date, interest: Decimal | None
) -> Reminder:
    return Reminder(
        invoice=invoice,
        club_id=invoice.club_id,
        sequence=decision.sequence,
        reminded_on=today,
        fee=Money(decision.fee, CURRENCY),
        interest=Money(interest or Decimal(0), CURRENCY),
        due_date=decision.due_date,
        rule_id=decision.rule_id,
    )


def _team_notices(
    club: Organisation,
    today: datetime.date,
    *,
    owing: set[int],
    reminded: set[int],
    report: RemindersReport,
) -> None:
    """D-03: each team leader of a team with a player reminded today gets the team's list of
    unpaid players (all players with an invoice line on an invoice still owing)."""
    teams = selectors.unpaid_players_by_team(club, owing, today)
    leaders = selectors.team_leaders(list(teams), today)
    rows = []
    for team_id, players in teams.items():
        if not any(set(player["invoice_ids"]) & reminded for player in players):
            continue
        listed = [
            {
                "person_id": player["person_id"],
                "name": player["name"],
                "invoice_numbers": player["invoice_numbers"],
            }
            for player in players
        ]
        for leader in leaders.get(team_id, []):
            if not leader.email:
                report.leaders_without_email += 1
                continue
            rows.append(
                TeamUnpaidNotice(
                    club=club,
                    team_id=team_id,
                    leader_id=leader.person_id,
                    notice_date=today,
                    players=listed,
                    recipient=leader.email,
                    language=leader.language,
                )
            )
    existing = TeamUnpaidNotice.objects.filter(club=club, notice_date=today)
    before = existing.count()
    TeamUnpaidNotice.objects.bulk_create(rows, ignore_conflicts=True)
    report.notices += existing.count() - before
