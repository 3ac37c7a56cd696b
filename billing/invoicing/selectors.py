"""Reads of invoicing (issue 6): who pays for whom, the engine's dues of a block of persons,
and the plan of invoices a run creates. The dues come from `billing.selectors` and
`billing.pricing`, exactly as the dues preview computes them (issue 5: one source).

Who pays (M-11, issue 6 scope 4: one invoice per payer):
- a member of a family pays through the family's contact person (the first registered);
- a person under PAYER_AGE in the season without a family is invoiced to a guardian (the
  lowest id; through that guardian's family contact when the guardian is in a family), so
  a guardian paying for several children gets one invoice;
- everyone else pays for themself.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from billing import pricing
from billing import selectors as dues_selectors
from billing.models import ActivityGroup, FeeSchedule
from billing.models_invoicing import Invoice, InvoiceLine, InvoicingRun
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import GuardianRelation, Organisation, User

PAYER_AGE = 18  # a person this old in the season pays for themself (unless in a family)
DEFAULT_PAYMENT_DAYS = 14  # a due date the engine put before the issue date moves here
PREVIEW_INVOICES = 50  # invoices shown in a dry run

ChargeKey = tuple[int, str, str, str, datetime.date]  # person, fee, key fee, group, start


@dataclass(frozen=True)
class PlannedLine:
    line: pricing.Line
    key_fee: str

    @property
    def charge_key(self) -> ChargeKey:
        line = self.line
        return (
            line.person_id,
            _FEE_VALUES[line.fee],
            self.key_fee,
            line.group or "",
            line.period.start,
        )


@dataclass
class PlannedInvoice:
    """One invoice a run would create: a payer, a due date and the lines of the persons the
    payer pays for (engine order)."""

    payer_id: int
    due_date: datetime.date
    lines: list[PlannedLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((planned.line.amount for planned in self.lines), Decimal(0))

    @property
    def person_ids(self) -> list[int]:
        return sorted({planned.line.person_id for planned in self.lines})


# `member.value` is a descriptor call; a run reads it for every line.
_FEE_VALUES = {kind: kind.value for kind in pricing.FeeKind}


@dataclass(frozen=True)
class Selection:
    """Which of the season's dues a run invoices: fee kinds, optionally only some activity
    groups or some persons."""

    fee_kinds: frozenset[str]
    groups: frozenset[str] = frozenset()
    person_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, fee_kinds: Iterable[str], selection: dict | None) -> Selection:
        selection = selection or {}
        return cls(
            fee_kinds=frozenset(pricing.FeeKind(kind).value for kind in fee_kinds),
            groups=frozenset(selection.get("groups") or ()),
            person_ids=frozenset(int(pk) for pk in selection.get("person_ids") or ()),
        )

    def as_data(self) -> dict:
        data: dict = {}
        if self.groups:
            data["groups"] = sorted(self.groups)
        if self.person_ids:
            data["person_ids"] = sorted(self.person_ids)
        return data

    def takes(self, line: pricing.Line) -> bool:
        key_fee = _FEE_VALUES[line.for_fee or line.fee]
        if key_fee not in self.fee_kinds or line.kind is pricing.LineKind.REFUND:
            return False  # refunds are paid back (credit note or payout), not invoiced
        if self.groups and key_fee == pricing.FeeKind.ACTIVITY and line.group not in self.groups:
            return False
        return not self.person_ids or line.person_id in self.person_ids


# ------------------------------------------------------------------ payers


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def payers(club: Organisation, season: int, person_ids: Sequence[int]) -> dict[int, int]:
    """Each person's payer (see the module docstring), in three queries."""
    ids = list(person_ids)
    guardians: dict[int, int] = {}
    for child_id, guardian_id in (
        GuardianRelation.objects.filter(dues_selectors.any_of("child_id", ids))
        .order_by("child_id", "-guardian_id")
        .values_list("child_id", "guardian_id")
    ):
        guardians[child_id] = guardian_id  # the lowest guardian id comes last and wins
    memberships = dues_selectors._season_memberships(club, season)
    family_contact = dict(
        memberships.filter(
            dues_selectors.any_of("person_id", {*ids, *guardians.values()}), family__isnull=False
        )
        .order_by("person_id", "start_date")
        .values_list("person_id", "family__contact_person_id")
    )
    births = dict(_rows("SELECT id, birth_date FROM members_person WHERE id = ANY(%s)", [ids]))
    result: dict[int, int] = {}
    for person_id in ids:
        guardian = guardians.get(person_id)
        birth = births.get(person_id)
        if person_id in family_contact:
            result[person_id] = family_contact[person_id]
        elif guardian is not None and birth and pricing.age_in_year(birth, season) < PAYER_AGE:
            result[person_id] = family_contact.get(guardian, guardian)
        else:
            result[person_id] = person_id
    return result


def invoiceable_person_ids(club: Organisation, season: int, selection: Selection) -> list[int]:
    """The persons the engine prices for the season (members and function holders; ended
    members are never invoiced, issue 5 scope 1), narrowed to the selection."""
    ids = dues_selectors.club_person_ids(club, season)
    if selection.person_ids:
        ids = [pk for pk in ids if pk in selection.person_ids]
    return ids


# ------------------------------------------------------------------ dues and the plan


def dues_of(
    club: Organisation, season: int, config: pricing.SeasonConfig, person_ids: Sequence[int]
) -> tuple[list[pricing.PersonDues], list[pricing.PricingIssue]]:
    """The engine's dues of `person_ids`, priced with their families, guardians and team role
    holders exactly as the dues preview prices a person (`billing.selectors`)."""
    wanted = set(person_ids)
    related = dues_selectors.related_person_ids(club, season, wanted)
    facts = dues_selectors.person_facts(club, season, related)
    season_dues = pricing.price_season(config, facts)
    dues = [d for d in season_dues.persons if d.person_id in wanted]
    issues = [
        issue
        for issue in season_dues.issues
        if issue.person_id in wanted
        or (
            issue.family_id is not None
            and issue.person_id is None
            and _family_wanted(issue, facts, wanted)
        )
    ]
    return dues, issues


def _family_wanted(
    issue: pricing.PricingIssue, facts: list[pricing.PersonFacts], wanted: set[int]
) -> bool:
    return any(f.family_id == issue.family_id and f.person_id in wanted for f in facts)


def plan_invoices(
    dues: Iterable[pricing.PersonDues],
    payer_of: dict[int, int],
    selection: Selection,
    issue_date: datetime.date,
) -> list[PlannedInvoice]:
    """Group the selected lines into invoices: one per payer and due date (a run of one fee
    kind gives one invoice per payer). A key (person, fee, group, period) whose lines add up
    to nothing (a full exemption) is left out. D-11 confidential lines are shown redacted."""
    keys: dict[tuple, list[pricing.Line]] = defaultdict(list)
    for person_dues in dues:
        for line in person_dues.lines:
            if selection.takes(line):
                keys[line.invoice_key].append(line.redacted())
    invoices: dict[tuple[int, datetime.date], PlannedInvoice] = {}
    earliest_due = issue_date + datetime.timedelta(days=DEFAULT_PAYMENT_DAYS)
    for key, lines in keys.items():
        if sum((line.amount for line in lines), Decimal(0)) <= 0:
            continue
        person_id, key_fee = key[0], key[1]
        due = max(min(line.due_date for line in lines), issue_date)
        if due == issue_date:
            due = earliest_due
        payer_id = payer_of.get(person_id, person_id)
        invoice = invoices.setdefault((payer_id, due), PlannedInvoice(payer_id, due))
        invoice.lines.extend(PlannedLine(line, _FEE_VALUES[key_fee]) for line in lines)
    ordered = sorted(invoices.values(), key=lambda inv: (inv.payer_id, inv.due_date))
    for invoice in ordered:
        invoice.lines.sort(key=lambda planned: planned.line.person_id)  # stable: engine order
    return ordered


def billed_keys(club: Organisation, person_ids: Iterable[int]) -> set[ChargeKey]:
    """The charge keys of `person_ids` already on an invoice that counts (not void or
    credited): what a run must not invoice again."""
    rows = InvoiceLine.objects.filter(
        dues_selectors.any_of("person_id", person_ids),
        club=club,
        is_billed=True,
        line_kind=pricing.LineKind.CHARGE,
    ).values_list("person_id", "fee", "key_fee", "group", "period_start")
    return set(rows)


def without_billed(
    planned: list[PlannedInvoice], billed: set[ChargeKey]
) -> tuple[list[PlannedInvoice], int]:
    """The plan without the keys already invoiced, and how many keys were dropped."""
    result: list[PlannedInvoice] = []
    dropped = 0
    for invoice in planned:
        skip_keys = {
            planned_line.line.invoice_key
            for planned_line in invoice.lines
            if planned_line.line.kind is pricing.LineKind.CHARGE
            and planned_line.charge_key in billed
        }
        dropped += len(skip_keys)
        lines = [pl for pl in invoice.lines if pl.line.invoice_key not in skip_keys]
        if lines:
            result.append(PlannedInvoice(invoice.payer_id, invoice.due_date, lines))
    return result, dropped


def help_text(club: Organisation, season: int) -> str:
    """D-11: the fixed help text the club wants on every invoice of the season."""
    return (
        FeeSchedule.objects.filter(club=club, season=season)
        .values_list("invoice_help_text", flat=True)
        .first()
        or ""
    )


# ------------------------------------------------------------------ lists for the pages


def runs_visible_to(user: User | None) -> QuerySet[InvoicingRun]:
    return access.scope(user, Capability.BILLING_MANAGE, InvoicingRun.objects.all()).select_related(
        "club", "started_by"
    )


def invoices_visible_to(user: User | None) -> QuerySet[Invoice]:
    """Invoices the user may see: billing.manage in the club, and a payer their own."""
    return access.scope(user, Capability.BILLING_MANAGE, Invoice.objects.all()).select_related(
        "club", "payer"
    )


def activity_group_names(club: Organisation | int) -> dict[str, str]:
    """The club's activity groups, code -> name (the newest season's name), in one query: a
    run's selection names its groups (issue 6 scope 1)."""
    names: dict[str, str] = {}
    for code, name in (
        ActivityGroup.objects.filter(fee_schedule__club=club)
        .order_by("code", "-fee_schedule__season")
        .values_list("code", "name")
    ):
        names.setdefault(code, name)
    return names
