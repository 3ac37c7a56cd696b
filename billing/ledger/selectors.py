"""Reads of the ledger, the payout list and the annual membership report (issue 6, scopes 7
and 8). Every list is scoped to the user through `clubadmin.access` and takes a fixed number
of queries (tests assert the counts).

Balances are `billing.balances`' (the one definition): what a payer owes = invoices (not
void) + credit notes (negative) + reminder fees and late interest (S-06) - payments
(reversals negative) + refunds paid out. A void invoice never counted (S-05: it stays,
marked void); a credited invoice is cancelled by its credit note (with its fees and
interest). The season and payer totals are sums of the invoices' balances, plus the refunds
paid out that belong to no invoice.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db import connection
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

from billing import balances
from billing.delivery.selectors import MONEY_FIELD
from billing.ledger import rules
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

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
UserLike = User | AnonymousUser | None


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
    """The club's invoices and credit notes the user may see, filtered, newest first (page
    it, then `ledger_rows` for their money)."""
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
    return invoices.order_by("-number")


@dataclass(frozen=True)
class LedgerRow:
    """A row of the ledger: an invoice or credit note with its money (`billing.balances`).
    The figures add up as the season totals' do (S-05, S-06):
        balance = invoiced + credited + reminder fees + late interest - paid + refunded
    with `credited` negative (what the invoice's credit notes took off), `paid` the payments
    (reversals negative) and `balance` what is still owed (negative when overpaid). A void
    invoice invoices nothing (its `total` stays on it, S-05), a credited one claims no fees
    or interest; a credit note's amount is in its invoice's `credited`, so its own figures
    are zero."""

    invoice: Invoice
    money: balances.Balance

    @property
    def total(self) -> Decimal:
        """The document's total as issued (a credit note's is negative)."""
        return self.invoice.total.amount

    @property
    def invoiced(self) -> Decimal:
        return _cents(self.money.billed)

    @property
    def total_counts(self) -> bool:
        """Whether the total is what the row invoices (not for void invoices and credit notes)."""
        return self.invoiced == self.total

    @property
    def credited(self) -> Decimal:
        return _cents(-self.money.credited)

    @property
    def reminder_fees(self) -> Decimal:
        return _cents(self.money.fees)

    @property
    def late_interest(self) -> Decimal:
        return _cents(self.money.interest)

    @property
    def paid(self) -> Decimal:
        return _cents(self.money.received)

    @property
    def refunded(self) -> Decimal:
        return _cents(self.money.refunded)

    @property
    def balance(self) -> Decimal:
        return _cents(self.money.balance)


def ledger_rows(invoices: Iterable[Invoice]) -> list[LedgerRow]:
    """The page's invoices with their money, in their order (one query)."""
    invoices = list(invoices)
    money = balances.invoice_balances(invoice.pk for invoice in invoices)
    return [LedgerRow(invoice, money[invoice.pk]) for invoice in invoices]


@dataclass
class SeasonTotals:
    season: int
    invoiced: Decimal = ZERO
    reminder_fees: Decimal = ZERO
    credited: Decimal = ZERO  # negative, as the credit notes' totals
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    late_interest: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return (
            self.invoiced
            + self.reminder_fees
            + self.late_interest
            + self.credited
            - self.paid
            + self.refunded
        )


@dataclass(frozen=True)
class LedgerTotals:
    seasons: list[SeasonTotals]
    unallocated: Decimal  # payments with no invoice (the reconciliation list), net of refunds


# The club's invoices' balances summed per `group` (an expression over `invoice`).
_SUMS = """
WITH {ctes}
SELECT {group}, SUM(balance.billed), -SUM(balance.credited), SUM(balance.fees),
    SUM(balance.interest), SUM(balance.received), SUM(balance.refunded)
FROM balance JOIN billing_invoice AS invoice ON invoice.id = balance.id
GROUP BY 1
"""
_CLUB_INVOICES = (
    "(SELECT invoice.id FROM billing_invoice AS invoice"
    " WHERE invoice.club_id = %(club)s AND invoice.kind = %(kind)s{narrow}) AS wanted(id)"
)


def _summed(group: str, narrow: str, params: dict) -> dict[int, tuple[Decimal, ...]]:
    """{group value: (invoiced, credited, fees, interest, paid, refunded)} of the club's
    invoices (one query)."""
    source = _CLUB_INVOICES.format(narrow=narrow)
    sql = _SUMS.format(ctes=balances.balance_ctes(source), group=group)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "kind": InvoiceKind.INVOICE})
        return {row[0]: tuple(_cents(value) for value in row[1:]) for row in cursor.fetchall()}


def _cents(amount: Decimal) -> Decimal:
    """In øre, as shown ("0.00", not the "0" of a sum of nothing)."""
    return amount.quantize(CENT)


def _paid_refunds(club: Organisation) -> QuerySet[Refund]:
    return Refund.objects.filter(club=club, state=RefundState.PAID, invoice__isnull=True)


def _refunds_without_invoice(club: Organisation, group: str, **narrow) -> dict[int, Decimal]:
    """Refunds paid out that belong to no invoice (neither directly nor through a payment:
    `billing.balances` counts those) by `group`."""
    refunds = _paid_refunds(club).filter(payment__isnull=True)
    return dict(
        refunds.filter(**narrow)
        .order_by()
        .values(group)
        .annotate(sum=Sum("amount"))
        .values_list(group, "sum")
    )


def season_totals(user: UserLike, club: Organisation) -> LedgerTotals:
    """Totals per season (four queries)."""
    if not access.has_capability(user, Capability.BILLING_MANAGE, club):
        return LedgerTotals([], ZERO)
    seasons: dict[int, SeasonTotals] = {}
    for season, sums in _summed("invoice.season", "", {"club": club.pk}).items():
        invoiced, credited, fees, interest, paid, refunded = sums
        seasons[season] = SeasonTotals(season, invoiced, fees, credited, paid, refunded, interest)
    for season, amount in _refunds_without_invoice(club, "season").items():
        totals = seasons.setdefault(season, SeasonTotals(season))
        totals.refunded += amount
    unallocated = (
        Payment.objects.filter(club=club, invoice__isnull=True).aggregate(sum=Sum("amount"))["sum"]
        or ZERO
    )
    unallocated -= (  # what went back of payments without an invoice
        _paid_refunds(club)
        .filter(payment__isnull=False, payment__invoice__isnull=True)
        .aggregate(sum=Sum("amount"))["sum"]
        or ZERO
    )
    return LedgerTotals(sorted(seasons.values(), key=lambda totals: -totals.season), unallocated)


def payer_rows(user: UserLike, club: Organisation, season: int | None = None) -> QuerySet:
    """Per payer with an invoice that is not void: the number of invoices, invoiced and
    credited (one grouped query; page it, then `payer_balances`, which adds the money)."""
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
    """The page's payer rows with the sums of their invoices' money (`billing.balances`):
    invoiced, credited (negative), reminder fees, late interest, paid, refunded (plus the
    refunds paid out to the payer that belong to no invoice) and balance, which they add up
    to: invoiced + credited + fees + interest - paid + refunded (two queries)."""
    rows = list(rows)
    ids = [row["payer_id"] for row in rows]
    narrow = " AND invoice.payer_id = ANY(%(payers)s)"
    if season:
        narrow += " AND invoice.season = %(season)s"
    sums = _summed("invoice.payer_id", narrow, {"club": club.pk, "payers": ids, "season": season})
    refunded = _refunds_without_invoice(
        club, "payee_id", payee_id__in=ids, **({"season": season} if season else {})
    )
    for row in rows:
        pk = row["payer_id"]
        invoiced, credited, fees, interest, paid, refunds = sums.get(pk, (ZERO,) * 6)
        # The balances' figures (a credit note of an invoice voided later credits nothing).
        row["invoiced"] = invoiced
        row["credited"] = credited
        row["reminder_fees"] = fees
        row["late_interest"] = interest
        row["paid"] = paid
        row["refunded"] = refunds + refunded.get(pk, ZERO)
        row["balance"] = (
            row["invoiced"] + fees + interest + row["credited"] - row["paid"] + row["refunded"]
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
