"""How a payment meets its invoice (issue 6 scope 6, S-02): pure functions, no ORM.

`match(amount, invoice)` gives the payment's `MatchState`: a reversal (a negative amount,
S-02 types 18 and 20), unmatched (no invoice has the KID), or - from what the invoice still
owes before this payment - matched (pays exactly the rest), partial (less) or over (more).
A void or credited invoice owes nothing, so money paid to it is an overpayment.

`invoice_paid_status(total, paid)` says whether an invoice's payments leave it issued,
partly paid or paid.

The numbers come from `billing.balances` (the one definition of what an invoice claims and
what was paid on it): `Balance.for_matching()` gives the `InvoiceBalance` of an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")

# The values of billing.models_payments.MatchState and of models_invoicing.InvoiceStatus.
MATCHED = "matched"
PARTIAL = "partial"
OVER = "over"
UNMATCHED = "unmatched"
REVERSAL = "reversal"

ISSUED = "issued"
PARTLY_PAID = "partly_paid"
PAID = "paid"
PAYABLE_STATUSES = frozenset({ISSUED, PARTLY_PAID, PAID})


@dataclass(frozen=True)
class InvoiceBalance:
    """An invoice as the matching sees it: what it claims (`total`: billed - credited +
    reminder fees + late interest, `billing.balances.Balance.claim`) and what was paid
    before (`Balance.paid`). `owed` is signed here (negative when overpaid): the matching
    compares a payment with it."""

    total: Decimal
    paid: Decimal
    status: str = ISSUED

    @property
    def owed(self) -> Decimal:
        asked = self.total if self.status in PAYABLE_STATUSES else ZERO
        return asked - self.paid

    def after(self, amount: Decimal) -> InvoiceBalance:
        return InvoiceBalance(self.total, self.paid + amount, self.status)


def match(amount: Decimal, invoice: InvoiceBalance | None) -> str:
    """The match state of a payment of `amount` to `invoice` (None: no invoice has its KID)."""
    if amount < ZERO:
        return REVERSAL
    if invoice is None:
        return UNMATCHED
    owed = invoice.owed
    if amount == owed:
        return MATCHED
    return PARTIAL if amount < owed else OVER


def invoice_paid_status(total: Decimal, paid: Decimal) -> str:
    """Issued (nothing paid), partly paid, or paid (the total or more)."""
    if paid >= total:
        return PAID
    return PARTLY_PAID if paid > ZERO else ISSUED


def claim_status(claim: Decimal, paid: Decimal) -> str:
    """The status an invoice's payments give it (`billing.payments.status`, whose SQL does
    the same): paid when something was paid and it covers the claim (total + reminder fees
    + credit notes, S-06), partly paid when something was paid, else issued."""
    if paid > ZERO:
        return PAID if paid >= claim else PARTLY_PAID
    return ISSUED
