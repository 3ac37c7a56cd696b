"""Reads of the ledger, the payout list and the annual membership report (issue 6, scopes 7
and 8). Every list is scoped to the user through `clubadmin.access` and takes a fixed number
of queries (tests assert the counts).

Balances: what a payer owes = invoices (not void) + reminder fees (S-06) + credit notes
(negative) - payments (reversals negative) + refunds paid out. A void invoice never counted
(S-05: it stays, marked void); a credited invoice is cancelled by its credit note.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear

from billing.delivery.selectors import MONEY_FIELD, with_reminder_fees
from billing.ledger import rules
from billing.models_delivery import Reminder
from billing.models_invoicing import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.models_ledger import Refund, RefundState, ReportAgeBands
from billing.models_payments import Payment
from billing.pricing import FeeKind, LineKind
from billing.selectors import PLAYER_CODES
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Function,
    Membership,
    MembershipCategory,
    Organisation,
    OrganisationType,
    User,
)

ZERO = Decimal(0)
UserLike = User | AnonymousUser | None


def _paid_subquery() -> Subquery:
    return Subquery(
        Payment.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=MONEY_FIELD,
    )


# ------------------------------------------------------------------ the payout list


def refunds_of_club(user: UserLike, club: Organisation, state: str = "") -> QuerySet[Refund]:
    """The club's refunds (payout list), for a user with billing.manage in the club."""
    if not access.has_capability(user, Capability.BILLING_MANAGE, club):
        return Refund.objects.none()
    refunds = Refund.objects.filter(club=club).select_related(
        "person", "payee", "invoice", "credit_note"
    )
    if state:
        refunds = refunds.filter(state=state)
    return refunds.order_by("state", "-season", "pk")


def refund_state_counts(user: UserLike, club: Organisation) -> dict[str, int]:
    return dict(
        refunds_of_club(user, club)
        .order_by()
        .values("state")
        .annotate(count=Count("pk"))
        .values_list("state", "count")
    )


# ------------------------------------------------------------------ the ledger


@dataclass(frozen=True)
class LedgerFilters:
    season: int | None = None
    status: str = ""
    kind: str = ""
    query: str = ""  # buyer name or invoice number


def ledger_invoices(
    user: UserLike, club: Organisation, filters: LedgerFilters | None = None
) -> QuerySet[Invoice]:
    """The club's invoices and credit notes with `paid`, `reminder_fees` and `balance`
    annotated (one query per page, plus the count)."""
    filters = filters or LedgerFilters()
    invoices = access.scope(
        user, Capability.BILLING_MANAGE, Invoice.objects.filter(club=club), include_own=False
    )
    if filters.season:
        invoices = invoices.filter(season=filters.season)
    if filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.kind:
        invoices = invoices.filter(kind=filters.kind)
    if filters.query:
        text = filters.query.strip()
        condition = Q(buyer_name__icontains=text)
        if text.isdigit():
            condition |= Q(number=int(text)) | Q(kid=text)
        invoices = invoices.filter(condition)
    invoices = with_reminder_fees(invoices).annotate(
        paid=Coalesce(_paid_subquery(), Value(ZERO), output_field=MONEY_FIELD)
    )
    return invoices.annotate(balance=F("total") + F("reminder_fees") - F("paid")).order_by(
        "-number"
    )


@dataclass
class SeasonTotals:
    season: int
    invoiced: Decimal = ZERO
    reminder_fees: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.invoiced + self.reminder_fees + self.credited - self.paid + self.refunded


@dataclass(frozen=True)
class LedgerTotals:
    seasons: list[SeasonTotals]
    unallocated: Decimal  # payments with no invoice (the reconciliation list)


def season_totals(user: UserLike, club: Organisation) -> LedgerTotals:
    """Totals per season (five queries)."""
    if not access.has_capability(user, Capability.BILLING_MANAGE, club):
        return LedgerTotals([], ZERO)
    counted = Invoice.objects.filter(club=club).exclude(status=InvoiceStatus.VOID)
    seasons: dict[int, SeasonTotals] = {}

    def add(rows: Iterable[tuple[int, Decimal | None]], name: str) -> None:
        for season, amount in rows:
            totals = seasons.setdefault(season, SeasonTotals(season))
            setattr(totals, name, getattr(totals, name) + (amount or ZERO))

    for kind, name in ((InvoiceKind.INVOICE, "invoiced"), (InvoiceKind.CREDIT_NOTE, "credited")):
        add(
            counted.filter(kind=kind)
            .order_by()
            .values("season")
            .annotate(sum=Sum("total"))
            .values_list("season", "sum"),
            name,
        )
    add(
        Reminder.objects.filter(invoice__in=counted)
        .order_by()
        .values("invoice__season")
        .annotate(sum=Sum("fee"))
        .values_list("invoice__season", "sum"),
        "reminder_fees",
    )
    payments = Payment.objects.filter(club=club).order_by()
    add(
        payments.filter(invoice__isnull=False)
        .values("invoice__season")
        .annotate(sum=Sum("amount"))
        .values_list("invoice__season", "sum"),
        "paid",
    )
    add(
        Refund.objects.filter(club=club, state=RefundState.PAID)
        .order_by()
        .values("season")
        .annotate(sum=Sum("amount"))
        .values_list("season", "sum"),
        "refunded",
    )
    unallocated = payments.filter(invoice__isnull=True).aggregate(sum=Sum("amount"))["sum"]
    return LedgerTotals(
        sorted(seasons.values(), key=lambda totals: -totals.season), unallocated or ZERO
    )


def payer_rows(user: UserLike, club: Organisation, season: int | None = None) -> QuerySet:
    """Per payer: invoiced and credited (one grouped query; page it, then `payer_balances`)."""
    invoices = access.scope(
        user, Capability.BILLING_MANAGE, Invoice.objects.filter(club=club), include_own=False
    ).exclude(status=InvoiceStatus.VOID)
    if season:
        invoices = invoices.filter(season=season)
    return (
        invoices.order_by()
        .values("payer_id", "payer__first_name", "payer__last_name")
        .annotate(
            invoiced=Coalesce(
                Sum("total", filter=Q(kind=InvoiceKind.INVOICE)),
                Value(ZERO),
                output_field=MONEY_FIELD,
            ),
            credited=Coalesce(
                Sum("total", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
                Value(ZERO),
                output_field=MONEY_FIELD,
            ),
            invoices=Count("pk", filter=Q(kind=InvoiceKind.INVOICE)),
        )
        .order_by("payer__last_name", "payer__first_name", "payer_id")
    )


def payer_balances(
    club: Organisation, rows: Iterable[dict], season: int | None = None
) -> list[dict]:
    """The page's payer rows with reminder fees, paid, refunded and balance (three queries)."""
    rows = list(rows)
    ids = [row["payer_id"] for row in rows]
    scope = {"invoice__season": season} if season else {}
    fees = dict(
        Reminder.objects.filter(invoice__club=club, invoice__payer_id__in=ids, **scope)
        .exclude(invoice__status=InvoiceStatus.VOID)
        .order_by()
        .values("invoice__payer_id")
        .annotate(sum=Sum("fee"))
        .values_list("invoice__payer_id", "sum")
    )
    paid = dict(
        Payment.objects.filter(club=club, invoice__payer_id__in=ids, **scope)
        .order_by()
        .values("invoice__payer_id")
        .annotate(sum=Sum("amount"))
        .values_list("invoice__payer_id", "sum")
    )
    refunded = dict(
        Refund.objects.filter(
            club=club,
            payee_id__in=ids,
            state=RefundState.PAID,
            **({"season": season} if season else {}),
        )
        .order_by()
        .values("payee_id")
        .annotate(sum=Sum("amount"))
        .values_list("payee_id", "sum")
    )
    for row in rows:
        pk = row["payer_id"]
        row["reminder_fees"] = fees.get(pk) or ZERO
        row["paid"] = paid.get(pk) or ZERO
        row["refunded"] = refunded.get(pk) or ZERO
        row["balance"] = (
            row["invoiced"] + row["reminder_fees"] + row["credited"] - row["paid"] + row["refunded"]
        )
        row["name"] = f"{row['payer__first_name']} {row['payer__last_name']}".strip()
    return rows


# ------------------------------------------------------------------ the export


def export_invoices(club: Organisation, season: int | None) -> QuerySet[Invoice]:
    invoices = Invoice.objects.filter(club=club)
    if season:
        invoices = invoices.filter(season=season)
    return invoices.order_by("number")


def export_lines(club: Organisation, season: int | None) -> QuerySet[InvoiceLine]:
    lines = InvoiceLine.objects.filter(club=club).select_related("invoice", "person")
    if season:
        lines = lines.filter(invoice__season=season)
    return lines.order_by("invoice__number", "position")


def export_payments(club: Organisation, season: int | None) -> QuerySet[Payment]:
    payments = Payment.objects.filter(club=club).select_related("invoice")
    if season:
        payments = payments.filter(invoice__season=season)
    return payments.order_by("paid_date", "pk")


def export_refunds(club: Organisation, season: int | None) -> QuerySet[Refund]:
    refunds = Refund.objects.filter(club=club).select_related("person", "payee", "credit_note")
    if season:
        refunds = refunds.filter(season=season)
    return refunds.order_by("pk")


# ------------------------------------------------------------------ S-07 annual report


def may_see_report(user: UserLike, organisation: Organisation) -> bool:
    """A club's report: billing.manage or members.manage in the club; a region's or a
    federation's: the same capabilities there (federation staff, over their subtree)."""
    return access.has_capability(
        user, Capability.BILLING_MANAGE, organisation
    ) or access.has_capability(user, Capability.MEMBERS_MANAGE, organisation)


def band_starts(organisation: Organisation) -> tuple[int, ...]:
    """S-07: the bands of the organisation or its nearest ancestor, else the default."""
    prefixes = [
        organisation.path[:length]
        for length in range(Organisation.steplen, len(organisation.path) + 1, Organisation.steplen)
    ]
    found = (
        ReportAgeBands.objects.filter(organisation__path__in=prefixes)
        .order_by("-organisation__depth")
        .values_list("band_starts", flat=True)
        .first()
    )
    return tuple(found) if found else rules.DEFAULT_BAND_STARTS


def _year_end(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


def paying_memberships(organisation: Organisation, year: int) -> QuerySet[Membership]:
    """S-07: memberships in the organisation's clubs valid on 31 December of `year` whose
    membership-fee charge covering that day is on an invoice paid in full (or marked paid).
    Honorary members pay no fee (D-05) and so are not paying members: they are left out even
    when a charge exists (their exemption leaves nothing to pay)."""
    end = _year_end(year)
    paid = Coalesce(
        Subquery(
            Payment.objects.filter(invoice=OuterRef("invoice_id"))
            .values("invoice")
            .annotate(total=Sum("amount"))
            .values("total"),
            output_field=MONEY_FIELD,
        ),
        Value(ZERO),
        output_field=MONEY_FIELD,
    )
    paid_lines = (
        InvoiceLine.objects.filter(
            person_id=OuterRef("person_id"),
            club_id=OuterRef("club_id"),
            fee=FeeKind.MEMBERSHIP,
            line_kind=LineKind.CHARGE,
            is_billed=True,
            period_start__lte=end,
            period_end__gte=end,
            invoice__kind=InvoiceKind.INVOICE,
        )
        .annotate(invoice_paid=paid)
        .filter(
            Q(invoice__status=InvoiceStatus.PAID)
            | Q(invoice_paid__gte=F("invoice__total"), invoice__total__gt=0)
        )
    )
    return (
        Membership.objects.filter(
            club__path__startswith=organisation.path,
            start_date__lte=end,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=end))
        .exclude(membership_type__category=MembershipCategory.HONORARY)
        .filter(Exists(paid_lines))
    )


@dataclass
class MembershipReport:
    organisation: Organisation
    year: int
    table: rules.ReportTable
    sports: list[tuple[str, int]] = field(default_factory=list)
    honorary: int = 0


def membership_report(organisation: Organisation, year: int) -> MembershipReport:
    """S-07 for a club, or summed over a region's or federation's clubs (five queries)."""
    bands = rules.age_bands(band_starts(organisation))
    memberships = paying_memberships(organisation, year)
    by_birth_year = (
        memberships.order_by()
        .values("person__gender", birth_year=ExtractYear("person__birth_date"))
        .annotate(count=Count("person_id", distinct=True))
        .values_list("person__gender", "birth_year", "count")
    )
    table = rules.tally(year, bands, by_birth_year)
    honorary = (
        Membership.objects.filter(
            club__path__startswith=organisation.path,
            start_date__lte=_year_end(year),
            membership_type__category=MembershipCategory.HONORARY,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=_year_end(year)))
        .count()
    )
    return MembershipReport(
        organisation, year, table, active_per_sport(organisation, year, memberships), honorary
    )


def active_per_sport(
    organisation: Organisation, year: int, memberships: QuerySet[Membership]
) -> list[tuple[str, int]]:
    """S-07: paying members with an active player function on 31 December in a group (sport
    section) of the club or below it, per sport (the group's sport, else its name). Two
    queries."""
    end = _year_end(year)
    groups = list(
        Organisation.objects.filter(
            path__startswith=organisation.path, organisation_type=OrganisationType.GROUP
        ).values_list("path", "sport", "name")
    )
    if not groups:
        return []
    players = (
        Function.objects.filter(
            organisation__path__startswith=organisation.path,
            function_type__code__in=PLAYER_CODES,
            from_date__lte=end,
            person_id__in=memberships.values("person_id"),
        )
        .filter(Q(to_date__isnull=True) | Q(to_date__gte=end))
        .values_list("person_id", "organisation__path")
        .distinct()
    )
    sport_of = {path: (sport or name) for path, sport, name in groups}
    step = Organisation.steplen
    persons: dict[str, set[int]] = defaultdict(set)
    for person_id, path in players:
        for length in range(step, len(path) + 1, step):
            sport = sport_of.get(path[:length])
            if sport is not None:
                persons[sport].add(person_id)
                break
    return sorted(((sport, len(ids)) for sport, ids in persons.items()), key=lambda s: s[0])
