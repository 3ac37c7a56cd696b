"""Reads of delivery and reminders (issue 6, scopes 4 and 5), scoped through
`clubadmin.access`.

For other parts of billing:
- `with_delivery_status(invoices)` annotates an invoice queryset with the state, channel,
  time and error of the invoice's own delivery (one query; for the invoice pages).
- `reminder_fees(invoice_ids)`: the reminder fees charged on
  each invoice (S-06). What a payer owes (`amounts_owed`) is `billing.balances`' answer:
  billed - credit notes + reminder fees + late interest - paid, never below zero.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from billing import balances
from billing.delivery import reminders as rules
from billing.models_delivery import (
    DeliveryChannel,
    DeliveryState,
    InvoiceDelivery,
    LateInterestRate,
    Reminder,
    ReminderFeeRate,
    ReminderPolicy,
    TeamUnpaidNotice,
)
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import ContactSet, Function, Organisation, OrganisationType, User

UNPAID_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
PLAYER_CODES = ("player", "licensed-player")
TEAM_LEADER_CODE = "team-leader"
POLICY_FIELDS = (
    "is_enabled",
    "days_after_due",
    "deadline_days",
    "max_reminders",
    "charge_fee",
    "charge_interest",
    "notify_team_leaders",
)
ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=12, decimal_places=2)


# ------------------------------------------------------------------ delivery status


def with_delivery_status(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `delivery_state`, `delivery_channel`, `delivery_sent_at` and
    `delivery_error` of each invoice's own delivery (not its reminders'); None when none."""
    own = InvoiceDelivery.objects.filter(invoice_id=OuterRef("pk"), reminder__isnull=True).order_by(
        "-pk"
    )
    return invoices.annotate(
        delivery_state=Subquery(own.values("state")[:1]),
        delivery_channel=Subquery(own.values("channel")[:1]),
        delivery_sent_at=Subquery(own.values("sent_at")[:1]),
        delivery_error=Subquery(own.values("error")[:1]),
    )


def deliveries_of_invoice(invoice: Invoice) -> QuerySet[InvoiceDelivery]:
    return invoice.deliveries.select_related("reminder").order_by("pk")


@dataclass(frozen=True)
class DeliveryFilters:
    state: str = ""
    channel: str = ""
    kind: str = ""  # "invoice", "reminder" or "" for both
    number: int | None = None


def deliveries_visible_to(
    user: User | None, club: Organisation, filters: DeliveryFilters | None = None
) -> QuerySet[InvoiceDelivery]:
    filters = filters or DeliveryFilters()
    rows = InvoiceDelivery.objects.filter(club=club)
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.kind == "invoice":
        rows = rows.filter(reminder__isnull=True)
    elif filters.kind == "reminder":
        rows = rows.filter(reminder__isnull=False)
    if filters.number is not None:
        rows = rows.filter(invoice__number=filters.number)
    return (
        access.scope(user, Capability.BILLING_MANAGE, rows, include_own=False)
        .select_related("invoice", "reminder")
        .order_by("-created_at", "-pk")
    )


def paper_list(user: User | None, club: Organisation) -> QuerySet[InvoiceDelivery]:
    """The club's letters still to print and post (members without e-mail)."""
    rows = InvoiceDelivery.objects.filter(
        club=club, channel=DeliveryChannel.PAPER, state=DeliveryState.PENDING
    )
    return (
        access.scope(user, Capability.BILLING_MANAGE, rows, include_own=False)
        .select_related("invoice", "reminder")
        .order_by("invoice__number", "pk")
    )


def state_counts(user: User | None, club: Organisation) -> dict[str, int]:
    rows = access.scope(
        user,
        Capability.BILLING_MANAGE,
        InvoiceDelivery.objects.filter(club=club),
        include_own=False,
    )
    return dict(rows.values("state").annotate(count=Count("pk")).values_list("state", "count"))


# ------------------------------------------------------------------ reminders


def reminders_visible_to(user: User | None, club: Organisation) -> QuerySet[Reminder]:
    rows = Reminder.objects.filter(club=club)
    own = InvoiceDelivery.objects.filter(reminder_id=OuterRef("pk")).order_by("-pk")
    return (
        access.scope(user, Capability.BILLING_MANAGE, rows, include_own=False)
        .select_related("invoice")
        .annotate(delivery_state=Subquery(own.values("state")[:1]))
        .order_by("-reminded_on", "-pk")
    )


def team_notices_visible_to(user: User | None, club: Organisation) -> QuerySet[TeamUnpaidNotice]:
    rows = TeamUnpaidNotice.objects.filter(club=club)
    return (
        access.scope(user, Capability.BILLING_MANAGE, rows, include_own=False)
        .select_related("team", "leader")
        .order_by("-notice_date", "team__name", "pk")
    )


def reminder_policy(club: Organisation) -> ReminderPolicy:
    """The club's policy, or the defaults (unsaved) when it has none (D-03)."""
    return ReminderPolicy.objects.filter(club=club).first() or ReminderPolicy(club=club)


# S-06: late interest is added to a member's claim only where the club decided so
# (`ReminderPolicy.charge_interest`, off by default), as for the reminder fee (`charge_fee`).
def charges_interest(policy: ReminderPolicy) -> bool:
    """S-06: whether the club charges late interest on its reminders."""
    return policy.charge_interest


def policy_values(policy: ReminderPolicy) -> rules.Policy:
    return rules.Policy(
        days_after_due=policy.days_after_due,
        deadline_days=policy.deadline_days,
        max_reminders=policy.max_reminders,
        charge_fee=policy.charge_fee,
        charge_interest=charges_interest(policy),
    )


def fee_rates() -> list[rules.DatedValue]:
    return [
        rules.DatedValue(valid_from, amount)
        for valid_from, amount in ReminderFeeRate.objects.values_list("valid_from", "amount")
    ]


def interest_rates() -> list[rules.DatedValue]:
    return [
        rules.DatedValue(valid_from, rate)
        for valid_from, rate in LateInterestRate.objects.values_list("valid_from", "rate_percent")
    ]


def overdue_invoices(today: datetime.date) -> QuerySet[Invoice]:
    """Invoices (not credit notes) not paid, void or credited, due before `today`."""
    return Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status__in=UNPAID_STATUSES, due_date__lt=today
    ).prefetch_related("reminders")


def past_reminders(invoice: Invoice) -> list[rules.PastReminder]:
    """The invoice's reminders as rule values (uses a prefetched `reminders`)."""
    return [
        rules.PastReminder(r.sequence, r.reminded_on, r.fee.amount, r.due_date)
        for r in invoice.reminders.all()
    ]


def reminder_fees(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """S-06: the reminder fees charged on each invoice that still claims them (absent:
    none). One query (`billing.balances`)."""
    return {
        pk: balance.fees
        for pk, balance in balances.invoice_balances(invoice_ids).items()
        if balance.fees
    }


def amounts_owed(invoice_ids: Sequence[int]) -> dict[int, Decimal]:
    """What is still owed on each invoice (`billing.balances.Balance.owed`: billed - credit
    notes + reminder fees + late interest - paid, never below zero). One query."""
    return {pk: balance.owed for pk, balance in balances.invoice_balances(invoice_ids).items()}


# ------------------------------------------------------------------ team leaders (D-03)


@dataclass(frozen=True)
class Leader:
    person_id: int
    email: str
    language: str


def _active(on: datetime.date) -> Q:
    return Q(from_date__lte=on) & (Q(to_date__isnull=True) | Q(to_date__gte=on))


def unpaid_players_by_team(
    club: Organisation, owing_invoice_ids: set[int], on: datetime.date
) -> dict[int, list[dict]]:
    """D-03: per team of the club, its players (active player function in the team) with an
    invoice line on an invoice of `owing_invoice_ids`. Two queries."""
    players = (
        Function.objects.filter(
            _active(on),
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code__in=PLAYER_CODES,
        )
        .values_list("organisation_id", "person_id")
        .distinct()
    )
    teams_of: dict[int, set[int]] = {}
    for team_id, person_id in players:
        teams_of.setdefault(person_id, set()).add(team_id)
    lines = (
        InvoiceLine.objects.filter(
            invoice_id__in=sorted(owing_invoice_ids), person_id__in=list(teams_of)
        )
        .values_list(
            "person_id",
            "person__first_name",
            "person__last_name",
            "invoice_id",
            "invoice__number",
        )
        .order_by("person__last_name", "person__first_name", "person_id", "invoice__number")
    )
    by_person: dict[int, dict] = {}
    for person_id, first, last, invoice_id, number in lines:
        entry = by_person.setdefault(
            person_id,
            {
                "person_id": person_id,
                "name": f"{first} {last}".strip(),
                "invoice_ids": [],
                "invoice_numbers": [],
            },
        )
        if invoice_id not in entry["invoice_ids"]:
            entry["invoice_ids"].append(invoice_id)
            entry["invoice_numbers"].append(number)
    result: dict[int, list[dict]] = {}
    for person_id, entry in by_person.items():  # already in name order
        for team_id in sorted(teams_of[person_id]):
            result.setdefault(team_id, []).append(entry)
    return result


def team_leaders(team_ids: Sequence[int], on: datetime.date) -> dict[int, list[Leader]]:
    """The active team leaders of each team with their standard e-mail. Three queries."""
    rows = list(
        Function.objects.filter(
            _active(on), organisation_id__in=list(team_ids), function_type__code=TEAM_LEADER_CODE
        )
        .values_list("organisation_id", "person_id")
        .distinct()
        .order_by("organisation_id", "person_id")
    )
    person_ids = {person_id for _team, person_id in rows}
    emails = dict(
        ContactSet.objects.filter(person_id__in=person_ids, is_standard=True).values_list(
            "person_id", "email"
        )
    )
    languages = dict(
        User.objects.filter(person_id__in=person_ids).values_list("person_id", "language")
    )
    result: dict[int, list[Leader]] = {}
    for team_id, person_id in rows:
        result.setdefault(team_id, []).append(
            Leader(person_id, emails.get(person_id, ""), languages.get(person_id, ""))
        )
    return result
