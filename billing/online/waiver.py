"""M-10: paying online waives the invoice fee (the rule and its reads).

The pricing engine adds an invoice fee (NOK 50 per member, per person in a family too) to the
dues of persons who pay by invoice (`PaymentPreference`): a line of kind charge, fee
`invoice_fee`, on the invoice of the fee it comes with. M-10 makes the fee the price of paying
by invoice, so a member who pays such an invoice online through the pay page does not pay it:
the checkout leaves out the invoice-fee lines of the persons paid for (the whole family's, or
only the member's own, M-11), and when the provider confirms the payment those lines are
credited with a credit note in the payment's transaction (`services`), so the invoice ends
paid and the books balance.

- `online_amount` (pure): the fee lines are left out when something else is still to pay after
  them. When only the fee (or less) is left - the rest was paid by bank, that is by invoice -
  the fee stands and is paid as it is.
- `online_amounts(payer, invoice_ids, scope)`: per invoice, what paying online costs and
  which fee lines it waives; the checkout asks it, and the webhook asks it again (invoices
  locked) to credit the same lines.
- `payable_online(person)`: the pay page's rows, with both scopes' amounts and savings.

Whether a club waives is not a setting: `FeeSchedule` has none, so the fee is always waived
when paying online (M-10: the fee is for paying by invoice).

What an invoice owes and the member's own share of it come from `billing.balances` (credit
notes count: a waived fee is credited, so it is not owed again); the own share less what the
member paid of it online before (M-11).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing import balances
from billing.models_invoicing import Invoice, InvoiceLine
from billing.models_online import CheckoutLine, CheckoutScope, CheckoutState
from billing.online import selectors
from billing.pricing import FeeKind, LineKind
from members.models import Person

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=12, decimal_places=2)


@dataclass(frozen=True)
class OnlineAmount:
    """What paying online costs (`amount`) and the invoice fees it leaves out (`waived`:
    `fee_lines`, (line id, amount) pairs, credited when the payment arrives)."""

    amount: Decimal
    waived: Decimal = ZERO
    fee_lines: tuple[tuple[int, Decimal], ...] = ()


def online_amount(due: Decimal, fees: Sequence[tuple[int, Decimal]]) -> OnlineAmount:
    """M-10: `due` less the invoice fees `fees` ((line id, amount still open) of the persons
    paid for), when something besides the fees is left to pay; else `due` as it is (the fee
    stands)."""
    waived = sum((amount for _, amount in fees), ZERO)
    if waived > ZERO and due - waived > ZERO:
        return OnlineAmount(due - waived, waived, tuple(sorted(fees)))
    return OnlineAmount(max(due, ZERO))


# ------------------------------------------------------------------ reads


def _fee_lines(invoice_ids: Sequence[int]) -> dict[int, list[tuple[int, int, Decimal]]]:
    """The invoice-fee lines still open on each invoice: (person, line, amount less what
    credit notes took off it already, e.g. waived before). One query."""
    credited = (
        InvoiceLine.objects.filter(credited_line_id=OuterRef("pk"))
        .values("credited_line_id")
        .annotate(credited=Sum("amount"))
        .values("credited")
    )
    fees: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
    rows = (
        InvoiceLine.objects.filter(
            invoice_id__in=invoice_ids,
            is_billed=True,
            fee=FeeKind.INVOICE_FEE,
            line_kind=LineKind.CHARGE,
        )
        .annotate(
            open=F("amount")
            + Coalesce(Subquery(credited, output_field=_MONEY), Value(ZERO), output_field=_MONEY)
        )
        .order_by("invoice_id", "position")
        .values_list("invoice_id", "person_id", "pk", "open")
    )
    for invoice_id, person_id, pk, amount in rows:
        if amount > ZERO:
            fees[invoice_id].append((person_id, pk, amount))
    return fees


def _paid_own_before(invoice_ids: Sequence[int], payer: Person) -> dict[int, Decimal]:
    """What the payer paid of their own lines online before (M-11). One query."""
    return dict(
        CheckoutLine.objects.filter(
            invoice_id__in=invoice_ids,
            session__payer=payer,
            session__scope=CheckoutScope.SELF,
            session__state=CheckoutState.PAID,
        )
        .values("invoice_id")
        .annotate(paid=Sum("amount"))
        .values_list("invoice_id", "paid")
    )


@dataclass(frozen=True)
class OnlinePlan:
    """Paying one invoice online: for the whole family and for the payer only (M-11)."""

    owed: Decimal  # what the invoice owes, with the invoice fees
    own_share: Decimal  # the payer's own lines still owed, with their invoice fee
    family: OnlineAmount
    own: OnlineAmount


def online_plans(payer: Person, invoice_ids: Iterable[int]) -> dict[int, OnlinePlan]:
    """M-10, M-11: per invoice, what paying online costs for the whole family and for the
    payer only, and which invoice-fee lines each leaves out. Four queries."""
    ids = sorted(set(invoice_ids))
    if not ids:
        return {}
    owed = balances.invoice_balances(ids)
    shares = balances.person_shares(ids, [payer.pk])
    fees = _fee_lines(ids)
    paid_before = _paid_own_before(ids, payer)
    plans = {}
    for pk in ids:
        owes = owed[pk].owed if pk in owed else ZERO
        own = shares[pk].get(payer.pk, ZERO) - (paid_before.get(pk) or ZERO)
        own_share = min(max(own, ZERO), owes)
        plans[pk] = OnlinePlan(
            owed=owes,
            own_share=own_share,
            family=online_amount(owes, [(line, amount) for _, line, amount in fees[pk]]),
            own=online_amount(
                own_share,
                [(line, amount) for person, line, amount in fees[pk] if person == payer.pk],
            ),
        )
    return plans


def online_amounts(
    payer: Person, invoice_ids: Iterable[int], scope: str
) -> dict[int, OnlineAmount]:
    """What a checkout of `scope` (family / self) pays on each invoice, fees left out."""
    plans = online_plans(payer, invoice_ids)
    if scope == CheckoutScope.SELF:
        return {pk: plan.own for pk, plan in plans.items()}
    return {pk: plan.family for pk, plan in plans.items()}


@dataclass(frozen=True)
class PayableOnline:
    invoice: Invoice
    plan: OnlinePlan


def payable_online(person: Person, *, club_id: int | None = None) -> list[PayableOnline]:
    """The pay page's rows: the member's open invoices (`selectors.payable_invoices`) with
    what paying each online costs, for both scopes."""
    rows = selectors.payable_invoices(person, club_id=club_id)
    plans = online_plans(person, [row.invoice.pk for row in rows])
    return [
        PayableOnline(row.invoice, plans[row.invoice.pk])
        for row in rows
        if plans[row.invoice.pk].owed > ZERO
    ]
