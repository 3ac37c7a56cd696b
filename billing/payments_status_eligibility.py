"""Eligibility from what is actually paid (D-04, D-06; issue 6 scope 5 "eligibility updates
with payments"): the `billing.eligibility.PaymentStatus` of the team pages.

A fee (membership, or an activity fee of one group) of a person in a season counts as paid
when either
- the price engine says nothing is owed for it: an exemption, an agreement, an honorary
  membership or the D-09 sibling rule took the whole amount (D-05, D-09, D-10, D-11): an
  exempted person is eligible without any invoice; or
- it was invoiced (charge lines for the person and fee on billed invoices of the club and
  season, neither void nor credited) and EVERY invoice carrying such a line is covered:
  - the invoice is paid: its payments (reversals negative) reach its total, or its status
    is `paid` (kept by the invoicing and payment services); reminder fees (S-06) are a claim
    of their own and do not take away eligibility; or
  - M-11 "pay for my membership only": the person paid online for themself (a paid
    `CheckoutSession` with scope "self" and the person as payer) at least the sum of their
    own lines on that invoice - the rest of the family stays unpaid and gets reminders.

A partly paid family invoice counts as unpaid for every person on it: a bank payment names
the invoice (KID), not the person, so the club cannot tell whose fee a part pays. A fee that
is owed but not invoiced yet is unpaid (eligible only until its due date, D-04).

The trial period (D-06) stays the pure module's `TRIAL_DAYS` (21 days): the fee schedule
has no field for it yet.

Queries: four, whatever the number of persons (lines, invoice totals with payments, self
checkouts, nothing per person).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum

from billing import pricing
from billing.models_invoicing import (
    NOT_BILLED_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from billing.models_online import CheckoutLine, CheckoutScope, CheckoutState
from billing.payments.selectors import with_paid
from members.models import Organisation

ZERO = Decimal(0)
ELIGIBILITY_FEES = (pricing.FeeKind.MEMBERSHIP, pricing.FeeKind.ACTIVITY)

# (person id, fee, group) -> the invoices with a charge line for it; group "" for membership
FeeKey = tuple[int, str, str]


class InvoicePaymentStatus:
    """`PaymentStatus` from the club's invoices and payments of a season (see the module)."""

    def __init__(
        self,
        *,
        club: Organisation,
        season: int,
        person_ids: Iterable[int],
        dues: pricing.SeasonDues | None = None,
    ) -> None:
        self.dues = dues
        ids = sorted(set(person_ids))
        lines = InvoiceLine.objects.filter(
            club=club,
            person_id__in=ids,
            is_billed=True,
            invoice__season=season,
            invoice__kind=InvoiceKind.INVOICE,
        ).exclude(invoice__status__in=NOT_BILLED_STATUSES)
        self.invoices_of: dict[FeeKey, set[int]] = defaultdict(set)
        own_totals: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
        for person_id, fee, group, kind, invoice_id, amount in lines.values_list(
            "person_id", "fee", "group", "line_kind", "invoice_id", "amount"
        ):
            own_totals[(person_id, invoice_id)] += amount  # M-11: the person's own share
            if fee in ELIGIBILITY_FEES and kind == pricing.LineKind.CHARGE:
                key_group = group if fee == pricing.FeeKind.ACTIVITY else ""
                self.invoices_of[(person_id, fee, key_group)].add(invoice_id)
        invoice_ids = sorted({pk for pks in self.invoices_of.values() for pk in pks})
        self.paid_invoices = {
            pk
            for pk, status, total, paid in with_paid(
                Invoice.objects.filter(pk__in=invoice_ids)
            ).values_list("pk", "status", "total", "paid_amount")
            if status == InvoiceStatus.PAID or paid >= total
        }
        self_paid = (
            CheckoutLine.objects.filter(
                invoice_id__in=invoice_ids,
                session__payer_id__in=ids,
                session__scope=CheckoutScope.SELF,
                session__state=CheckoutState.PAID,
            )
            .values_list("session__payer_id", "invoice_id")
            .annotate(amount=Sum("amount"))
        )
        self.covered_for: set[tuple[int, int]] = {
            (person_id, invoice_id)
            for person_id, invoice_id, amount in self_paid
            if amount >= own_totals[(person_id, invoice_id)]
        }

    # ------------------------------------------------------------------ PaymentStatus

    def membership_paid(self, person_id: int) -> bool:
        return self._paid(person_id, pricing.FeeKind.MEMBERSHIP, "")

    def activity_paid(self, person_id: int, group: str) -> bool:
        return self._paid(person_id, pricing.FeeKind.ACTIVITY, group)

    # ------------------------------------------------------------------ helpers

    def invoiced(self, person_id: int, fee: str, group: str = "") -> bool:
        return bool(self.invoices_of.get((person_id, fee, group)))

    def _paid(self, person_id: int, fee: str, group: str) -> bool:
        invoices = self.invoices_of.get((person_id, fee, group))
        if invoices:
            return all(
                pk in self.paid_invoices or (person_id, pk) in self.covered_for for pk in invoices
            )
        return self._nothing_owed(person_id, fee, group)

    def _nothing_owed(self, person_id: int, fee: str, group: str) -> bool:
        """D-05/D-09/D-10/D-11: the engine charged the fee and took it all away again."""
        if self.dues is None:
            return False
        try:
            lines = [
                line
                for line in self.dues.person(person_id).lines_for(pricing.FeeKind(fee))
                if line.kind is not pricing.LineKind.REFUND
                and (fee != pricing.FeeKind.ACTIVITY or line.group == group)
            ]
        except KeyError:
            return False  # not priced: not a member (M-16), never "paid"
        return bool(lines) and sum((line.amount for line in lines), ZERO) <= ZERO
