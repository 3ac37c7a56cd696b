"""How much of a payment the club may give back (issue 6, scopes 6 and 7): pure functions, no
ORM. `billing.ledger.overpayments` feeds them under a lock (the services) and repeats them in
SQL for the reconciliation list (`with_refund_amounts`; the tests check that both agree).

- A payment whose KID no invoice has is all excess: the whole amount may go back.
- A payment to an invoice is excess as far as the invoice's payments up to and including
  this one (in the order they were recorded, the order `billing.payments.matching` met them)
  pass what the invoice claims. The claim is `billing.balances.Balance.claim`, the one
  `billing.payments.status` settles the invoice by and the matching compares payments with
  (S-06: billed - credited + reminder fees + late interest); a void or credited invoice
  claims nothing (S-05), so all money paid to it is excess.
- What is left to refund takes off what live refunds already give back: of this payment,
  and - as a second cap - of the invoice as a whole (refunds of its other payments, and the
  M-15/D-09 refunds whose credit note lowered the claim: their money goes back already).

A reversal (a negative payment, S-02) has no excess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.payments.matching import PAYABLE_STATUSES

ZERO = Decimal("0.00")


def invoice_claim(claim: Decimal, status: str) -> Decimal:
    """What the invoice asks: its `claim` (S-06: billed - credited + reminder fees + late
    interest, `billing.balances.Balance.claim`), or nothing when it is void or credited
    (S-05; as `billing.payments.matching.InvoiceBalance.owed`)."""
    if status not in PAYABLE_STATUSES:
        return ZERO
    return claim


@dataclass(frozen=True)
class InvoiceMoney:
    """An invoice as a refund of one of its payments sees it."""

    claim: Decimal
    paid: Decimal  # all its payments (reversals negative)
    paid_through: Decimal  # its payments recorded up to and including the refunded one
    refunded: Decimal  # live refunds of its payments + credit-noted refunds of the invoice

    @property
    def excess(self) -> Decimal:
        return self.paid - self.claim


def payment_excess(amount: Decimal, invoice: InvoiceMoney | None) -> Decimal:
    """The part of a payment of `amount` that the invoice (None: no invoice has its KID) did
    not ask for."""
    if amount <= ZERO:
        return ZERO
    if invoice is None:
        return amount
    return max(ZERO, min(amount, invoice.paid_through - invoice.claim))


def refund_left(amount: Decimal, refunded: Decimal, invoice: InvoiceMoney | None) -> Decimal:
    """What may still go back of a payment of `amount` of which live refunds give back
    `refunded` already (never below zero)."""
    left = payment_excess(amount, invoice) - refunded
    if invoice is not None:
        left = min(left, invoice.excess - invoice.refunded)
    return max(ZERO, left)
