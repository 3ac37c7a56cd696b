"""The billing app's part of `manage.py seed_demo` (called through
`BillingConfig.seed_demo_data`, see clubadmin.demo_hooks), after members.demo gave the clubs
their memberships and families.

The demo club gets, through the billing services and by its general manager:
- the example fee schedule (billing.pricing.example) for the current and the next season,
  its activity groups linked to the club's football and handball groups, plus ski with
  example cohort fees (D-07);
- signed volunteer contracts (D-10) for the `lagleder` login and for a parent who leads
  or coaches their own child's team, so that the team-leader exemption shows in the dues;
- one hardship exemption for a child's activity fee (D-11, confidential: only the general
  manager sees its lines);
- a trial period (D-06) for every player who joined the club in the last three weeks;
- volunteer hours (M-15) for `forelder` and her husband, so that their refunds show.

Then the season's billing history (issue 6) up to today, written through the invoicing,
delivery, payment and refund services on the days it happened (see `billing_history`): the
membership run in January (D-02), the volunteer-work run (M-15) and each group's activity run
(D-07); weekly OCR Giro files with most of the payments (S-02), a few paid at the club office,
one paid twice, one with an unknown KID, some paid half, some after the first reminder and
some never; the reminder job on its days (D-03, S-06) with the team leaders' unpaid lists; a
void invoice and a credit note (S-05); the M-15 refunds, one approved. `forelder` paid
everything but the family's membership: that invoice is open on her online pay page (M-10)
and her daughter is on `lagleder`'s unpaid list.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import TYPE_CHECKING

import netsgiro
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from billing import kid as kid_rules
from billing import pricing, services
from billing import selectors as dues_selectors
from billing.delivery import reminders as reminder_rules
from billing.delivery import selectors as delivery_selectors
from billing.delivery import services as delivery
from billing.invoicing import services as invoicing
from billing.ledger import services as ledger
from billing.models import TRIAL_DAYS, AgreementKind
from billing.models_delivery import (
    DeliveryChannel,
    DeliveryState,
    InvoiceDelivery,
    Reminder,
    TeamUnpaidNotice,
)
from billing.models_invoicing import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoicingRun,
    InvoicingState,
)
from billing.models_ledger import Refund, RefundState
from billing.models_payments import TO_RECONCILE, MatchState, Payment, PaymentFile, PaymentSource
from billing.payments import ocr
from billing.payments import services as payment_services
from billing.pricing import example
from clubadmin import demo_data
from members.models import (
    BankAccountType,
    Function,
    GuardianRelation,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
    User,
)
from members.services import accounts

if TYPE_CHECKING:
    from clubadmin.demo_hooks import DemoContext

SKI = "ski"
# The demo register's sports (the groups' `sport`) as the engine's group codes.
GROUP_CODES = {
    demo_data.FOOTBALL: example.FOOTBALL,
    demo_data.HANDBALL: example.HANDBALL,
    demo_data.SKI: SKI,
}
# D-07: ski's activity fees (example amounts): children 6-12, youth 13-19, adults.
SKI_FEES = ((12, 6, Decimal(1200)), (19, 13, Decimal(1500)), (99, 20, Decimal(1800)))
CONTRACTS_SIGNED_ON = datetime.date(2025, 8, 15)
TEAM_ROLE_CODES = ("team-leader", "head-coach")
HARDSHIP_NOTES = "Demo: granted after public support schemes were tried."
# M-15: hours of volunteer work this season, by login (and her husband, the next adult of
# her family): the second is more than the fee, so the refund is capped.
VOLUNTEER_HOURS = (Decimal(3), Decimal(8))


def seed(context: DemoContext) -> None:
    club = context.demo_club
    manager = context.users.get("dagligleder")
    groups = club_groups(club)
    season = context.today.year
    schedules = [
        services.fee_schedule_create(
            actor=manager,
            club=club,
            config=demo_season_config(year, club, groups),
            group_organisations=groups,
        )
        for year in (season, season + 1)
    ]
    contracts = _volunteer_contracts(context, manager)
    hardship = _hardship_exemption(context, manager, season, other_than=contracts)
    trials = _trial_periods(context, manager)
    hours = _volunteer_hours(context, manager, season)
    context.report(
        f"{club.name} fee schedules {' and '.join(str(s.season) for s in schedules)} "
        f"({', '.join(sorted(groups))}); volunteer contracts: {len(contracts)}, hardship "
        f"exemptions: {hardship}, trial periods: {trials}, persons with volunteer hours: {hours}."
    )
    context.report(billing_history(context, manager, season).summary(club, season))


def club_groups(club: Organisation) -> dict[str, Organisation]:
    """The club's sport groups by the engine's group code."""
    groups = Organisation.objects.filter(
        path__startswith=club.path, organisation_type=OrganisationType.GROUP
    ).order_by("path")
    return {GROUP_CODES[group.sport]: group for group in groups if group.sport in GROUP_CODES}


def demo_season_config(
    season: int, club: Organisation, groups: dict[str, Organisation]
) -> pricing.SeasonConfig:
    """The example club's season for the demo club: its groups named as the club names
    them, and ski when the club has it."""
    config = pricing.example_season_config(season, str(club.pk))
    activity_groups = [
        dataclasses.replace(group, name=groups[group.group].sport)
        if group.group in groups
        else group
        for group in config.groups
    ]
    fees = list(config.activity_fees)
    if SKI in groups:
        activity_groups.append(
            pricing.ActivityGroup(
                group=SKI,
                name=groups[SKI].sport,
                season_start=datetime.date(season, 1, 1),
                season_end=datetime.date(season, 12, 31),
                invoice_date=datetime.date(season, 1, 15),
                due_days=28,
            )
        )
        fees += [
            pricing.ActivityFee(SKI, season - oldest, season - youngest, amount)
            for oldest, youngest, amount in SKI_FEES
        ]
    return dataclasses.replace(config, groups=tuple(activity_groups), activity_fees=tuple(fees))


def _volunteer_contracts(context: DemoContext, actor: User | None) -> list[int]:
    """D-10: the team leader login, and a parent leading or coaching their child's team.
    Returns the ids of the persons who signed."""
    club = context.demo_club
    holders = [context.login_person_id("lagleder")]
    parent = (
        Function.objects.filter(
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code__in=TEAM_ROLE_CODES,
            to_date__isnull=True,
            person__children_relations__child__functions__organisation=F("organisation"),
            person__children_relations__child__functions__function_type__code="player",
            person__children_relations__child__functions__to_date__isnull=True,
        )
        .exclude(person_id__in=holders)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    if parent is not None:
        holders.append(parent)
    for person in Person.objects.filter(pk__in=holders).order_by("pk"):
        services.volunteer_contract_create(
            actor=actor, person=person, club=club, signed_on=CONTRACTS_SIGNED_ON
        )
    return holders


def _hardship_exemption(
    context: DemoContext, actor: User | None, season: int, *, other_than: list[int]
) -> int:
    """D-11: a parent's application for a playing child, decided by the general manager.
    Not in `forelder`'s family (her dues show the ordinary lines), nor a child of a parent
    in `other_than` (whose contract already exempts the child's team, D-10)."""
    club = context.demo_club
    parent_family = Membership.objects.filter(
        person_id=context.login_person_id("forelder"), club=club, family__isnull=False
    ).values("family_id")
    relation = (
        GuardianRelation.objects.filter(
            child__memberships__club=club,
            child__memberships__family__isnull=False,
            child__functions__organisation__path__startswith=club.path,
            child__functions__function_type__code="player",
            child__functions__to_date__isnull=True,
        )
        .filter(child__birth_date__year__range=(season - 19, season - 6))  # D-07 cohorts
        .exclude(child__memberships__family__in=parent_family)
        .exclude(child__guardian_relations__guardian_id__in=other_than)
        .exclude(child__memberships__status=MembershipStatus.ENDED)
        .select_related("guardian", "child")
        # D-09: the oldest player of a family always pays, so the exemption shows.
        .order_by("child__birth_date", "child_id", "guardian_id")
        .first()
    )
    if relation is None:
        return 0
    services.exemption_agreement_create(
        actor=actor,
        person=relation.guardian,
        club=club,
        season=season,
        kind=AgreementKind.HARDSHIP,
        for_self=False,
        for_children=True,
        children=(relation.child,),
        fee_kinds=(pricing.FeeKind.ACTIVITY,),
        notes=HARDSHIP_NOTES,
    )
    return 1


def _trial_periods(context: DemoContext, actor: User | None) -> int:
    """D-06: players who joined in the last three weeks train on trial with their team."""
    club = context.demo_club
    since = context.today - datetime.timedelta(days=TRIAL_DAYS - 1)
    joined = dict(
        Membership.objects.filter(club=club, start_date__gte=since).values_list(
            "person_id", "start_date"
        )
    )
    functions = (
        Function.objects.filter(
            person_id__in=list(joined),
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code="player",
            to_date__isnull=True,
        )
        .select_related("person", "organisation")
        .order_by("person_id", "pk")
    )
    for function in functions:
        services.trial_period_start(
            actor=actor,
            person=function.person,
            team=function.organisation,
            start_date=joined[function.person_id],
        )
    return len(functions)


def _volunteer_hours(context: DemoContext, actor: User | None, season: int) -> int:
    """M-15: the adults of `forelder`'s family worked for the club this season."""
    parent_id = context.login_person_id("forelder")
    family = (
        Membership.objects.filter(person_id=parent_id, family__isnull=False)
        .values_list("family_id", flat=True)
        .first()
    )
    adults = [parent_id]
    if family is not None:
        born_before = context.reference_date.replace(year=context.reference_date.year - 18)
        adults += list(
            Membership.objects.filter(family_id=family, person__birth_date__lte=born_before)
            .exclude(person_id=parent_id)
            .order_by("person_id")
            .values_list("person_id", flat=True)
        )
    persons = Person.objects.in_bulk(adults)
    for person_id, hours in zip(adults, VOLUNTEER_HOURS, strict=False):
        services.volunteer_hours_set(
            actor=actor,
            person=persons[person_id],
            club=context.demo_club,
            season=season,
            hours=hours,
        )
    return min(len(adults), len(VOLUNTEER_HOURS))


# ------------------------------------------------------------------ billing history (issue 6)

# What happened to each run's invoices, as shares of them (at least one each); the rest was
# paid through the bank before the due date and came in an OCR Giro file (S-02).
UNPAID_SHARE = 0.05  # never paid: reminded up to the policy's maximum (D-03, S-06)
LATE_SHARE = 0.08  # paid within a week of the first reminder (which has no fee)
BY_HAND_SHARE = 0.02  # paid at the club office, registered by hand
PARTLY_SHARE = 0.005  # paid half: partly paid, reminded for the rest
FIRST_PAYMENT_DAYS = 3  # the first payments come in three days after the invoices
BY_HAND_DAYS_BEFORE_DUE = 14
LATE_WITHIN_DAYS = 7
VOID_AFTER = datetime.timedelta(days=7)
CREDIT_AFTER = datetime.timedelta(days=14)
PAID_TWICE_AFTER_REMINDER = datetime.timedelta(days=3)
UNKNOWN_KID_AFTER_REMINDER = datetime.timedelta(days=2)
UNKNOWN_KID_AMOUNT = Decimal(500)
SATURDAY = 5  # date.weekday()
WEEKEND_DAYS = 2
# M-15: the board proposes the refunds once the spring's volunteer work is reported, and
# approves the first a week later.
REFUNDS_PROPOSED = (6, 15)
APPROVED_AFTER = datetime.timedelta(days=7)
STEP_TIME = datetime.time(9, 0)  # the office hour each step of the history happens at
VOID_REASON = "Demo: sent by mistake; the member had left before the season."
CREDIT_REASON = "Demo: moved abroad in January; the board waived the fee."
BY_HAND_NOTE = "Demo: paid in cash at the club office."
RUN_FAILED = "The demo's invoicing run %(run)s ended %(state)s: %(errors)s"
# S-02: the bank's OCR Giro file: giro payments debited from the payers' accounts.
OCR_TRANSACTION_TYPE = 10
OCR_DATA_TRANSMITTER = "00008080"
OCR_AGREEMENT_ID = "000000000"
OCR_CENTRE_ID = "13"
OCR_FORM_NUMBER = "9636827194"

# The order of the steps of one day (steps of the same order: in the order planned).
RUN, CORRECTION, PAYMENT, REMINDERS, REFUNDS = range(5)


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    fee_kind: str
    issue_date: datetime.date
    groups: tuple[str, ...] = ()  # activity fees: the group's own run (D-07)


@dataclasses.dataclass(frozen=True)
class BankPayment:
    """A payment the bank delivers in an OCR Giro file (S-02)."""

    day: datetime.date
    kid: str
    amount: Decimal
    payer_account: str


@dataclasses.dataclass
class Fates:
    """What happened to each invoice of a run (see `billing_history`)."""

    on_time: list[Invoice]
    late: list[Invoice]
    by_hand: list[Invoice]
    partly: list[Invoice]
    unpaid: list[Invoice]
    void: list[Invoice]
    credited: list[Invoice]


def billing_history(context: DemoContext, actor: User | None, season: int) -> HistorySummary:
    """The demo club's billing of `season` so far, each step through the services on the day
    it happened (Django's clock says that day, `_clock`), in date order, until today:

    - the runs on the schedule's invoice dates, for the members who had joined by then,
      worked in this process: the membership fee (D-02), the volunteer-work fee on its own
      (M-15) and each group's activity fee (D-07); their invoices were e-mailed (or posted)
      that day;
    - payments: most by the bank before the due date (the club imports the bank's OCR Giro
      file every Monday, S-02), a few by hand at the club office, some half, some within a
      week of the first reminder, one invoice twice (an over-payment to reconcile) and one
      payment with a KID that no invoice has;
    - the daily reminder job (D-03, S-06: with fees, the club charges them) on the days
      reminders fall due, with the team leaders' unpaid lists;
    - one invoice voided and one credited (S-05); the M-15 refunds proposed in June (to
      `forelder`, who gave her account), the first approved a week later.

    What the services queue for the commit (PDFs, the outbox's sender) is dropped: the PDFs
    are rendered when first opened, and the outbox went out on its day (`_delivered`)."""
    history = _History(context, actor, season)
    with transaction.atomic(), _without_queued_tasks():
        history.run()
    return HistorySummary(history.runs)


class _History:
    """The timeline: steps (day, order of the day) run in date order; a run schedules what
    happens to its invoices."""

    def __init__(self, context: DemoContext, actor: User | None, season: int) -> None:
        self.context, self.actor, self.season = context, actor, season
        self.club = context.demo_club
        self.rng = context.rng("billing-history")
        self.runs: list[InvoicingRun] = []
        self.steps: list[tuple[datetime.date, int, int, Callable[[], object]]] = []
        self.sequence = itertools.count()
        self.bank: list[BankPayment] = []  # paid, not yet imported
        self.accounts: dict[int, str] = {}  # the payers' bank accounts
        self.policy = reminder_rules.Policy()
        self.reminder_days: set[datetime.date] = set()
        self.files = 0
        self.priced: list[int] | None = None  # the persons the engine prices for the season

    def at(self, day: datetime.date, order: int, action: Callable[[], object]) -> None:
        heapq.heappush(self.steps, (day, order, next(self.sequence), action))

    def run(self) -> None:
        planned = _planned_runs(dues_selectors.season_config(self.club, self.season))
        first = planned[0].issue_date
        with _clock(min(first, self.context.today)):  # S-06: the club charges the fees
            policy = delivery.reminder_policy_save(
                actor=self.actor, club=self.club, data={"charge_fee": True}
            )
        self.policy = delivery_selectors.policy_values(policy)
        for plan in planned:
            self.at(plan.issue_date, RUN, partial(self.invoice, plan))
        monday = first + datetime.timedelta(days=7 - first.weekday())
        while monday < self.context.today:
            self.at(monday, PAYMENT, partial(self.import_bank_file, monday))
            monday += datetime.timedelta(days=7)
        proposed = datetime.date(self.season, *REFUNDS_PROPOSED)
        self.at(proposed, REFUNDS, partial(_refund_account, self.context, self.actor))
        self.at(
            proposed,
            REFUNDS,
            partial(
                ledger.refunds_propose_volunteer_work,
                actor=self.actor,
                club=self.club,
                season=self.season,
            ),
        )
        self.at(
            proposed + APPROVED_AFTER,
            REFUNDS,
            partial(_approve_first_refund, self.actor, self.club, self.season),
        )
        while self.steps:
            day, _order, _sequence, action = heapq.heappop(self.steps)
            if day >= self.context.today:
                return  # the rest is the future
            with _clock(day):
                action()

    def invoice(self, plan: PlannedRun) -> None:
        run = _invoicing_run(self.club, self.actor, self.season, plan, self.selection(plan))
        self.runs.append(run)
        invoices = list(
            Invoice.objects.filter(run=run)
            .annotate(persons=Count("lines__person", distinct=True))
            .order_by("number")
        )
        if not invoices:
            return
        membership = plan.fee_kind == pricing.FeeKind.MEMBERSHIP
        fates = _fates(self.context, invoices, self.rng, membership=membership)
        self.schedule_reminders({invoice.due_date for invoice in invoices})
        for invoice in fates.void:
            self.at(
                invoice.issue_date + VOID_AFTER,
                CORRECTION,
                partial(
                    invoicing.invoice_void, actor=self.actor, invoice=invoice, reason=VOID_REASON
                ),
            )
        for invoice in fates.credited:
            self.at(
                invoice.issue_date + CREDIT_AFTER,
                CORRECTION,
                partial(
                    invoicing.invoice_credit,
                    actor=self.actor,
                    invoice=invoice,
                    reason=CREDIT_REASON,
                ),
            )
        for invoice in fates.by_hand:
            day = max(
                invoice.issue_date + datetime.timedelta(days=FIRST_PAYMENT_DAYS),
                invoice.due_date
                - datetime.timedelta(days=self.rng.randint(0, BY_HAND_DAYS_BEFORE_DUE)),
            )
            self.at(day, PAYMENT, partial(_pay_by_hand, self.actor, invoice, day))
        self.bank += self.bank_payments(fates, membership=membership)

    def selection(self, plan: PlannedRun) -> dict | None:
        """The run's selection: its group, and without the persons who had not joined by
        the issue date (D-06: `trial_periods`' newcomer is invoiced when registered)."""
        selection: dict = {"groups": list(plan.groups)} if plan.groups else {}
        later = set(
            Membership.objects.filter(club=self.club, start_date__gt=plan.issue_date).values_list(
                "person_id", flat=True
            )
        )
        if later:
            if self.priced is None:  # the same for every run: the register does not change
                self.priced = dues_selectors.club_person_ids(self.club, self.season)
            selection["person_ids"] = [pk for pk in self.priced if pk not in later]
        return selection or None

    def schedule_reminders(self, due_dates: set[datetime.date]) -> None:
        """The reminder job runs on the days its reminders of invoices due then fall due."""
        for due_date in sorted(due_dates):
            for day in _reminder_days(self.policy, due_date):
                if day not in self.reminder_days:
                    self.reminder_days.add(day)
                    self.at(day, REMINDERS, partial(_remind, self.actor, self.club, day))

    def bank_payments(self, fates: Fates, *, membership: bool) -> list[BankPayment]:
        """The run's payments by the bank: on time (and half of the partly paid ones)
        before the due date, the late ones within a week of the first reminder; in the
        membership run one invoice twice, and a payment with a KID the club never issued."""
        rng = self.rng
        payments = [self.paid(invoice, _on_time(invoice, rng)) for invoice in fates.on_time]
        payments += [
            self.paid(invoice, _on_time(invoice, rng), _half(invoice.total.amount))
            for invoice in fates.partly
        ]
        for invoice in fates.late:
            days = datetime.timedelta(days=rng.randint(1, LATE_WITHIN_DAYS))
            payments.append(self.paid(invoice, self.first_reminder(invoice) + days))
        if membership and fates.on_time:
            twice = fates.on_time[-1]
            payments.append(
                self.paid(twice, self.first_reminder(twice) + PAID_TWICE_AFTER_REMINDER)
            )
            unknown_day = _bank_day(self.first_reminder(twice) + UNKNOWN_KID_AFTER_REMINDER)
            payments.append(
                BankPayment(
                    unknown_day,
                    _unknown_kid(self.club),
                    UNKNOWN_KID_AMOUNT,
                    demo_data.random_bank_account(rng),
                )
            )
        return payments

    def paid(
        self, invoice: Invoice, day: datetime.date, amount: Decimal | None = None
    ) -> BankPayment:
        if invoice.payer_id not in self.accounts:
            self.accounts[invoice.payer_id] = demo_data.random_bank_account(self.rng)
        amount = invoice.total.amount if amount is None else amount
        return BankPayment(_bank_day(day), invoice.kid, amount, self.accounts[invoice.payer_id])

    def first_reminder(self, invoice: Invoice) -> datetime.date:
        return _reminder_days(self.policy, invoice.due_date)[0]

    def import_bank_file(self, monday: datetime.date) -> None:
        """Monday: the club imports the bank's OCR file of the week before (S-02)."""
        week = sorted(
            (p for p in self.bank if p.day < monday), key=lambda p: (p.day, p.kid, p.amount)
        )
        if not week:
            return
        self.bank = [payment for payment in self.bank if payment.day >= monday]
        self.files += 1
        payment_services.payment_file_import(
            actor=self.actor,
            club=self.club,
            content=ocr_file(self.club, self.files, monday, week),
            file_name=f"OCR.D{monday:%d%m%y}.{self.files:03d}.txt",
        )


def _planned_runs(config: pricing.SeasonConfig) -> list[PlannedRun]:
    """The season's runs: D-02 the membership fee in January, M-15 the volunteer-work fee
    separately, D-07 each group's activity fee on the group's invoice date."""
    runs = [PlannedRun(pricing.FeeKind.MEMBERSHIP.value, config.membership_schedule.invoice_date)]
    if config.volunteer_fee is not None:
        runs.append(
            PlannedRun(pricing.FeeKind.VOLUNTEER_WORK.value, config.volunteer_fee.invoice_date)
        )
    runs += [
        PlannedRun(pricing.FeeKind.ACTIVITY.value, group.invoice_date, (group.group,))
        for group in config.groups
    ]
    return sorted(runs, key=lambda run: run.issue_date)  # stable: membership first on its day


@contextlib.contextmanager
def _without_queued_tasks() -> Iterator[None]:
    """Drop the Celery tasks the history's services queue for the commit (their
    `transaction.on_commit` callbacks, which Django keeps in `connection.run_on_commit`):
    rendering every PDF now and sending the outbox again would redo the past."""
    connection = transaction.get_connection()
    before = len(connection.run_on_commit)
    try:
        yield
    finally:
        del connection.run_on_commit[before:]


@contextlib.contextmanager
def _clock(day: datetime.date) -> Iterator[None]:
    """Django's clock (`django.utils.timezone.now`, read by the services, `auto_now_add` and
    the history rows) says `day` at STEP_TIME, so that events, imports and histories carry
    the day the step happened."""
    moment = timezone.make_aware(datetime.datetime.combine(day, STEP_TIME))
    real_now = timezone.now
    timezone.now = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        timezone.now = real_now  # type: ignore[assignment]


def _invoicing_run(
    club: Organisation, actor: User | None, season: int, plan: PlannedRun, selection: dict | None
) -> InvoicingRun:
    """A run worked in this process (no Celery worker), and its invoices delivered."""
    run = invoicing.invoicing_run_start(
        actor=actor,
        club=club,
        season=season,
        fee_kinds=[plan.fee_kind],
        selection=selection,
        issue_date=plan.issue_date,
        queue=False,
    )
    invoicing.invoicing_work(run=run)
    run.refresh_from_db()
    if run.state != InvoicingState.DONE:
        raise RuntimeError(RUN_FAILED % {"run": run.pk, "state": run.state, "errors": run.errors})
    delivery.deliveries_plan(run=run, queue=False)
    _delivered(club, actor, InvoiceDelivery.objects.filter(invoice__run=run))
    return run


def _delivered(club: Organisation, actor: User | None, rows: QuerySet[InvoiceDelivery]) -> None:
    """The outbox rows the services planned went out that day: the letters posted (the paper
    list's service), the e-mails sent (`_sent`)."""
    pending = rows.filter(state=DeliveryState.PENDING)
    paper = list(pending.filter(channel=DeliveryChannel.PAPER).values_list("pk", flat=True))
    if paper:
        delivery.deliveries_mark_posted(actor=actor, club=club, delivery_ids=paper)
    _sent(pending.filter(channel=DeliveryChannel.EMAIL))


def _sent(rows: QuerySet[InvoiceDelivery] | QuerySet[TeamUnpaidNotice]) -> None:
    """E-mails of the past were sent then: no service sends into the past (and the worker
    must not send them now), so the outbox rows are marked as the sender marks them."""
    now = timezone.now()
    rows.update(
        state=DeliveryState.SENT,
        attempts=1,
        claimed_at=now,
        send_started_at=now,
        handed_over_at=now,
        sent_at=now,
    )


# ------------------------------------------------------------------ who paid what, when


def _fates(
    context: DemoContext, invoices: list[Invoice], rng: random.Random, *, membership: bool
) -> Fates:
    """Draw what happened to each invoice of a run; `_forced` decides a few. In the
    membership run a member's own invoice is voided and another's credited (S-05)."""
    unpaid, paid = _forced(context, invoices, membership=membership)
    forced = {invoice.pk for invoice in unpaid + paid}
    free = [invoice for invoice in invoices if invoice.pk not in forced]
    rng.shuffle(free)
    singles = [invoice for invoice in free if invoice.persons == 1][:2] if membership else []
    free = [invoice for invoice in free if invoice not in singles]
    counts = [
        max(1, round(len(free) * share))
        for share in (UNPAID_SHARE, LATE_SHARE, BY_HAND_SHARE, PARTLY_SHARE)
    ]
    taken = []
    for count in counts:
        taken.append(free[:count])
        free = free[count:]
    never, late, by_hand, partly = taken
    return Fates(
        on_time=paid + free,
        late=late,
        by_hand=by_hand,
        partly=partly,
        unpaid=unpaid + never,
        void=singles[:1],
        credited=singles[1:],
    )


def _forced(
    context: DemoContext, invoices: list[Invoice], *, membership: bool
) -> tuple[list[Invoice], list[Invoice]]:
    """(unpaid, paid on time): `forelder` paid everything (M-15: her family's refunds) but
    the membership (M-10: her open invoice; D-03: her daughter on `lagleder`'s unpaid list),
    and nor did the payer of a team-mate of her daughter's."""
    parent = context.login_person_id("forelder")
    hers = [invoice for invoice in invoices if invoice.payer_id == parent]
    if not membership:
        return [], hers
    leader_teams = Function.objects.filter(
        person_id=context.login_person_id("lagleder"),
        function_type__code=delivery_selectors.TEAM_LEADER_CODE,
        to_date__isnull=True,
    ).values("organisation_id")
    players = Function.objects.filter(
        organisation_id__in=leader_teams,
        function_type__code__in=delivery_selectors.PLAYER_CODES,
        to_date__isnull=True,
    ).values("person_id")
    team_mate = (
        InvoiceLine.objects.filter(
            invoice_id__in=[invoice.pk for invoice in invoices], person_id__in=players
        )
        .exclude(invoice__payer_id=parent)
        .order_by("invoice__number")
        .values_list("invoice_id", flat=True)
        .first()
    )
    return hers + [invoice for invoice in invoices if invoice.pk == team_mate], []


def _reminder_days(policy: reminder_rules.Policy, due_date: datetime.date) -> list[datetime.date]:
    """D-03: the days the daily reminder job reminds an invoice due on `due_date` that nobody
    pays (`billing.delivery.reminders.next_reminder`). The history runs the job on these
    days only: on the others it has nothing to do."""
    after_due = datetime.timedelta(days=max(policy.days_after_due, 1))
    deadline = datetime.timedelta(days=max(policy.deadline_days, reminder_rules.MIN_DEADLINE_DAYS))
    days = [due_date + after_due]
    while len(days) < policy.max_reminders:
        days.append(days[-1] + deadline + after_due)
    return days


def _on_time(invoice: Invoice, rng: random.Random) -> datetime.date:
    """A day to pay on time: by the due date also when it falls on a weekend (`_bank_day`),
    so the Monday import has it before the first reminder."""
    last = max(FIRST_PAYMENT_DAYS, (invoice.due_date - invoice.issue_date).days - WEEKEND_DAYS)
    days = rng.randint(FIRST_PAYMENT_DAYS, last)
    return invoice.issue_date + datetime.timedelta(days=days)


def _bank_day(day: datetime.date) -> datetime.date:
    """The banks settle on weekdays: a payment made on a Saturday or Sunday is Monday's."""
    if day.weekday() >= SATURDAY:
        return day + datetime.timedelta(days=7 - day.weekday())
    return day


def _half(amount: Decimal) -> Decimal:
    """Half, in whole tens of kroner below it."""
    return max(Decimal(10), (amount / 20).to_integral_value(ROUND_DOWN) * 10)


def _unknown_kid(club: Organisation) -> str:
    """A well-formed KID (S-01) far beyond the club's series: no invoice has it."""
    sequence = 10 ** (club.kid_length - 1) - 100
    return kid_rules.next_kid(sequence, club.kid_length, club.kid_algorithm)[0]


def ocr_file(
    club: Organisation, number: int, day: datetime.date, payments: Sequence[BankPayment]
) -> bytes:
    """S-02: the bank's OCR Giro file (ISO-8859-1) of `payments`, built with netsgiro;
    transmission `number` gives the archive references."""
    transmission = netsgiro.Transmission(
        number=f"{number:07d}",
        data_transmitter=OCR_DATA_TRANSMITTER,
        data_recipient=OCR_DATA_TRANSMITTER,
        date=day,
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id=OCR_AGREEMENT_ID,
        number=f"{number:07d}",
        account=club.bank_account,
    )
    for position, payment in enumerate(payments, start=1):
        assignment.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=OCR_TRANSACTION_TYPE,
                number=position,
                date=payment.day,
                amount=payment.amount,
                kid=payment.kid,
                reference=f"{number:04d}{position:05d}",
                text=None,
                centre_id=OCR_CENTRE_ID,
                day_code=payment.day.day,
                partial_settlement_number=1,
                partial_settlement_serial_number=f"{number:05d}",
                sign="0",
                form_number=OCR_FORM_NUMBER,
                bank_date=payment.day,
                debit_account=payment.payer_account,
                filler=None,
            )
        )
    return (transmission.to_ocr() + "\n").encode(ocr.ENCODING)


def _pay_by_hand(actor: User | None, invoice: Invoice, day: datetime.date) -> None:
    payment_services.payment_register_manual(
        actor=actor,
        invoice=invoice,
        amount=invoice.total.amount,
        paid_date=day,
        idempotency_key=f"demo-{invoice.number}",
        note=BY_HAND_NOTE,
    )


def _refund_account(context: DemoContext, actor: User | None) -> None:
    """P-09: `forelder` gives the club her account for refunds (M-15)."""
    accounts.account_create(
        actor=actor,
        person=Person.objects.get(pk=context.login_person_id("forelder")),
        account_type=BankAccountType.REFUNDS,
        account_number=demo_data.random_bank_account(context.rng("billing-refunds")),
    )


def _approve_first_refund(actor: User | None, club: Organisation, season: int) -> None:
    """M-15: the board approves the first proposal (its credit note is issued); the other
    waits for the user to try."""
    refund = (
        Refund.objects.filter(club=club, season=season, state=RefundState.PROPOSED)
        .order_by("pk")
        .first()
    )
    if refund is not None:
        ledger.refund_approve(actor=actor, refund=refund)


def _remind(actor: User | None, club: Organisation, day: datetime.date) -> None:
    """The daily reminder job (D-03, S-06) for the club, and its e-mails and letters."""
    delivery.club_reminders(club=club, today=day)
    _delivered(club, actor, InvoiceDelivery.objects.filter(club=club, reminder__reminded_on=day))
    _sent(TeamUnpaidNotice.objects.filter(club=club, notice_date=day, state=DeliveryState.PENDING))


# ------------------------------------------------------------------ the summary line


@dataclasses.dataclass(frozen=True)
class HistorySummary:
    runs: list[InvoicingRun]

    def summary(self, club: Organisation, season: int) -> str:
        """The command's line about the billing history (a dozen counting queries)."""
        if not self.runs:
            return f"{club.name} billing {season}: no invoicing run yet."
        invoices = Invoice.objects.filter(club=club, season=season).aggregate(
            invoices=Count("pk", filter=Q(kind=InvoiceKind.INVOICE)),
            credit_notes=Count("pk", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
            void=Count("pk", filter=Q(status=InvoiceStatus.VOID)),
            unpaid=Count(
                "pk",
                filter=Q(kind=InvoiceKind.INVOICE, status__in=delivery_selectors.UNPAID_STATUSES),
            ),
        )
        payments = Payment.objects.filter(club=club)
        to_reconcile = Counter(
            payments.filter(match_state__in=TO_RECONCILE, reconciled_at__isnull=True).values_list(
                "match_state", flat=True
            )
        )
        reminders = Reminder.objects.filter(club=club).aggregate(
            count=Count("pk"), with_fee=Count("pk", filter=Q(fee__gt=0))
        )
        return (
            f"{club.name} billing {season}: {len(self.runs)} invoicing runs, "
            f"{invoices['invoices']} invoices ({invoices['unpaid']} not paid in full, "
            f"{invoices['void']} void), {invoices['credit_notes']} credit notes; "
            f"{PaymentFile.objects.filter(club=club).count()} OCR files, "
            f"{payments.count()} payments "
            f"({payments.filter(source=PaymentSource.MANUAL).count()} by hand); "
            f"{reminders['count']} reminders ({reminders['with_fee']} with a fee), "
            f"{TeamUnpaidNotice.objects.filter(club=club).count()} team leader lists; "
            f"to reconcile: {to_reconcile[MatchState.OVER]} overpaid, "
            f"{to_reconcile[MatchState.UNMATCHED]} unmatched, "
            f"{to_reconcile[MatchState.PARTIAL]} partly paid; "
            f"refund proposals: {Refund.objects.filter(club=club, season=season).count()}."
        )
