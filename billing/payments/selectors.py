"""Payments (issue 6, scope 6): reads, scoped to the user through `clubadmin.access`."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from billing import balances
from billing.models_invoicing import Invoice
from billing.models_payments import TO_RECONCILE, Payment, PaymentFile
from billing.payments import matching
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, User

ZERO = Decimal("0.00")


def payment_files(user: User | None, club: Organisation) -> QuerySet[PaymentFile]:
    return access.scope(
        user, Capability.BILLING_MANAGE, PaymentFile.objects.filter(club=club), include_own=False
    ).select_related("uploaded_by")


def reconciliation_list(user: User | None, club: Organisation) -> QuerySet[Payment]:
    """The club's payments that need a look: unmatched, partial, over and reversals not yet
    reconciled (index `payment_to_reconcile_idx`)."""
    payments = Payment.objects.filter(
        club=club, match_state__in=TO_RECONCILE, reconciled_at__isnull=True
    )
    return (
        access.scope(user, Capability.BILLING_MANAGE, payments, include_own=False)
        .select_related("invoice", "file")
        .order_by("paid_date", "pk")
    )


def with_paid(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Invoices annotated with `paid_amount`: the sum of their payments (reversals count
    negative), `billing.balances.Balance.received` as a join for big querysets (eligibility
    compares it with the invoice total, D-04)."""
    return invoices.annotate(
        paid_amount=Coalesce(
            Sum("payments__amount"),
            Value(ZERO),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def invoice_paid_amount(invoice: Invoice) -> Decimal:
    """The payments on the invoice, reversals negative (`Balance.received`)."""
    balance = balances.invoice_balances([invoice.pk]).get(invoice.pk)
    return balance.received if balance is not None else ZERO


def invoice_paid_status(invoice: Invoice) -> str:
    """Issued, partly paid or paid, from what was paid against the claim (the value of
    InvoiceStatus that `Invoice.status` should hold; `billing.payments.status` sets it)."""
    balance = balances.invoice_balances([invoice.pk]).get(invoice.pk)
    if balance is None:
        return matching.ISSUED
    return matching.claim_status(balance.claim, balance.paid)
