"""Issue 6 scope 6: a payment meets its invoice (pure rules)."""

from decimal import Decimal

import pytest

from billing.payments import matching
from billing.payments.matching import InvoiceBalance

D = Decimal


@pytest.mark.parametrize(
    ("amount", "balance", "expected"),
    [
        (D("500.00"), InvoiceBalance(D("500.00"), D("0")), matching.MATCHED),
        (D("200.00"), InvoiceBalance(D("500.00"), D("0")), matching.PARTIAL),
        (D("300.00"), InvoiceBalance(D("500.00"), D("200.00")), matching.MATCHED),
        (D("600.00"), InvoiceBalance(D("500.00"), D("0")), matching.OVER),
        (D("1.00"), InvoiceBalance(D("500.00"), D("500.00")), matching.OVER),
        (D("500.00"), None, matching.UNMATCHED),
        (D("-500.00"), InvoiceBalance(D("500.00"), D("500.00")), matching.REVERSAL),
        (D("-500.00"), None, matching.REVERSAL),
        (D("500.00"), InvoiceBalance(D("500.00"), D("0"), "void"), matching.OVER),
        (D("500.00"), InvoiceBalance(D("500.00"), D("0"), "credited"), matching.OVER),
    ],
)
def test_match_states(amount, balance, expected):
    assert matching.match(amount, balance) == expected


def test_balance_after_a_payment():
    assert InvoiceBalance(D("500"), D("0")).after(D("200")).owed == D("300")


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        (D("0"), matching.ISSUED),
        (D("1"), matching.PARTLY_PAID),
        (D("500"), matching.PAID),
        (D("501"), matching.PAID),
    ],
)
def test_invoice_paid_status(paid, expected):
    assert matching.invoice_paid_status(D("500"), paid) == expected
