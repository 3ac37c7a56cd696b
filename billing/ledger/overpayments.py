"""Refunds from the reconciliation list (issue 6, scopes 6 and 7): the excess of an
over-payment, or a payment whose KID no invoice has, goes back to the payer.

- `refund_propose_overpayment`: "Refund the excess". A refund of exactly what is left to
  refund of the payment (`overpayment_rules.refund_left`) to the invoice's payer, at the
  account the register has for refunds (`services.refund_accounts`); without one the refund
  waits on the payout list, as M-15 and D-09 refunds do.
- `refund_propose_unmatched`: "Refund to the payer" of a payment without an invoice, to an
  account given by hand (S-04, checked with python-stdnum) and its owner.
- "Assign to invoice" (`billing.payments.services.payment_assign`) is refused while a refund
  of the payment is live: the money cannot go both ways.
- `refund_approve`, `refund_cancel`, `refunds_mark_paid`: the payout list's steps
  (`billing.ledger.services`) for every refund; a payment's refund also writes its
  `PaymentEvent`, an account given by hand is kept (the register has no payee to ask), and
  approving checks again that the money is still there (a reversal may have taken it).

No credit note: nothing was over-invoiced (S-05 keeps the invoice as it is); the money goes
back. The ledger counts it as a refund paid out (`billing.ledger.selectors`: balance =
invoiced + fees + credit notes - payments + refunds), so an over-paid invoice whose excess
is refunded balances to zero.

"The excess can never be refunded twice": each proposal locks the payment (and its invoice
first, the order of `payment_assign`), checks the amount against what is left under the lock,
and a double submit finds the live refund and returns it; the partial unique index
`refund_once_per_payment` (one live refund per payment) is the database's guarantee.
Lock order everywhere here: invoice, payment, refund.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    DecimalField,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils.translation import gettext_lazy as _
from moneyed import Money
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import kontonr

from billing import balances
from billing.ledger import overpayment_rules as rules
from billing.ledger import services as ledger_services
from billing.models_invoicing import Invoice
from billing.models_ledger import Refund, RefundEvent, RefundReason, RefundState
from billing.models_payments import Payment, PaymentEvent
from billing.payments import selectors as payment_selectors
from billing.payments import services as payment_services
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, User

__all__ = [
    "PAYMENT_EVENT_KIND",
    "PaymentRefund",
    "payment_refund",
    "reconciliation_list",
    "refund_approve",
    "refund_cancel",
    "refund_propose_overpayment",
    "refund_propose_unmatched",
    "refunds_mark_paid",
    "with_refund_amounts",
]

CURRENCY = "NOK"
ZERO = rules.ZERO
MONEY = DecimalField(max_digits=12, decimal_places=2)

# The PaymentEvent kind of a refund's step; from_state/to_state are the refund's states.
PAYMENT_EVENT_KIND = PaymentEvent.Kind.REFUND

NOT_ALLOWED = ledger_services.NOT_ALLOWED
NOT_PROPOSED = ledger_services.NOT_PROPOSED
NOTHING_TO_REFUND = _("Nothing of this payment is left to refund.")
AMOUNT_CHANGED = _("What is left to refund of this payment has changed; look at it again.")
HAS_INVOICE = _("This payment belongs to an invoice: refund what it paid too much instead.")
NO_INVOICE = _("This payment has no invoice: refund it to an account given by hand.")
ALREADY_REFUNDING = _("This payment has a refund already; cancel that one first.")
BAD_ACCOUNT = _("Give a valid Norwegian account number (11 digits).")
OWNER_REQUIRED = _("Give the name of the account's owner.")
NO_LONGER_THERE = _(
    "The payment no longer has this much to refund (a reversal or another refund took it): "
    "cancel this refund and propose it again."
)
PAYMENT_REFUNDING = payment_services.PAYMENT_REFUNDING
CHANGED = _("The payment changed meanwhile; try again.")


def _require_billing(actor: User | None, club: Organisation) -> None:
    # The check of the reconciliation list and of the payout list (billing.manage in the
    # club); None is the system.
    if actor is not None and not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _nok(amount: Decimal) -> Money:
    return Money(amount, CURRENCY)


def _live_refunds() -> QuerySet[Refund]:
    return Refund.objects.exclude(state=RefundState.CANCELLED)


# ------------------------------------------------------------------ what is left to refund


class _Sum(Func):
    """SUM over a correlated subquery's rows, without a GROUP BY (one row, NULL when none)."""

    function = "SUM"
    output_field = MONEY


def _sum(queryset: QuerySet, field: str) -> Coalesce:
    rows = queryset.order_by().annotate(summed=_Sum(F(field))).values("summed")
    return Coalesce(Subquery(rows[:1], output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_refund_amounts(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Annotate `refund_excess` (what the invoice did not ask of the payment), `refunded`
    (live refunds of it), `refund_left` (what may still go back) and `live_refund_id` /
    `live_refund_state`: `overpayment_rules` in SQL, for a list in one query."""
    invoice = OuterRef("invoice")
    live = _live_refunds()
    # `overpayment_rules.invoice_claim` of `billing.balances`' claim (S-06), per row.
    claim = Case(
        When(
            invoice__status__in=sorted(rules.PAYABLE_STATUSES),
            then=balances.correlated(balances.CLAIM_SQL, balances.PAYMENT_INVOICE_ID),
        ),
        default=Value(ZERO),
        output_field=MONEY,
    )
    payments = payments.annotate(
        refunded=_sum(live.filter(payment=OuterRef("pk")), "amount"),
        _claim=claim,
        _paid=_sum(Payment.objects.filter(invoice=invoice), "amount"),
        _paid_through=_sum(
            Payment.objects.filter(invoice=invoice, pk__lte=OuterRef("pk")), "amount"
        ),
        _invoice_refunded=_sum(
            live.filter(
                Q(payment__invoice=invoice) | Q(invoice=invoice, credit_note__isnull=False)
            ),
            "amount",
        ),
    ).annotate(
        refund_excess=Case(
            When(amount__lte=0, then=Value(ZERO)),
            When(invoice__isnull=True, then=F("amount")),
            default=Greatest(Value(ZERO), Least(F("amount"), F("_paid_through") - F("_claim"))),
            output_field=MONEY,
        ),
    )
    latest_live = live.filter(payment=OuterRef("pk")).order_by("-pk")
    return payments.annotate(
        refund_left=Greatest(
            Value(ZERO),
            Case(
                When(invoice__isnull=True, then=F("refund_excess") - F("refunded")),
                default=Least(
                    F("refund_excess") - F("refunded"),
                    F("_paid") - F("_claim") - F("_invoice_refunded"),
                ),
                output_field=MONEY,
            ),
        ),
        live_refund_id=Subquery(latest_live.values("pk")[:1]),
        live_refund_state=Subquery(latest_live.values("state")[:1]),
    )


def reconciliation_list(user: User | None, club: Organisation) -> QuerySet[Payment]:
    """The reconciliation list (`billing.payments.selectors.reconciliation_list`) with the
    refund amounts; a payment whose live refunds give back all that may go back has left it
    (a partly refunded one stays and shows what is left)."""
    payments = with_refund_amounts(payment_selectors.reconciliation_list(user, club))
    return payments.exclude(refunded__gt=0, refund_left=0)


def _money_of(
    payment: Payment, *, excluding: Refund | None = None
) -> tuple[Decimal, rules.InvoiceMoney | None]:
    """(live refunds of the payment, its invoice's money) in plain values, for the rules."""
    live = _live_refunds()
    if excluding is not None:
        live = live.exclude(pk=excluding.pk)

    def total(queryset: QuerySet, field: str = "amount") -> Decimal:
        return queryset.aggregate(sum=Sum(field))["sum"] or ZERO

    refunded = total(live.filter(payment=payment))
    invoice = payment.invoice
    if invoice is None:
        return refunded, None
    payments = Payment.objects.filter(invoice=invoice)
    balance = balances.invoice_balances([invoice.pk])[invoice.pk]
    money = rules.InvoiceMoney(
        claim=rules.invoice_claim(balance.claim, balance.status),
        paid=balance.received,
        paid_through=total(payments.filter(pk__lte=payment.pk)),
        refunded=total(
            live.filter(Q(payment__invoice=invoice) | Q(invoice=invoice, credit_note__isnull=False))
        ),
    )
    return refunded, money


@dataclass(frozen=True)
class PaymentRefund:
    """What may go back of a payment, and its live refund (the refund page)."""

    payment: Payment
    invoice: rules.InvoiceMoney | None
    excess: Decimal
    refunded: Decimal
    left: Decimal
    live_refund: Refund | None

    @property
    def may_refund(self) -> bool:
        return self.left > ZERO and self.live_refund is None


def payment_refund(payment: Payment) -> PaymentRefund:
    refunded, invoice = _money_of(payment)
    amount = payment.amount.amount
    return PaymentRefund(
        payment=payment,
        invoice=invoice,
        excess=rules.payment_excess(amount, invoice),
        refunded=refunded,
        left=rules.refund_left(amount, refunded, invoice),
        live_refund=_live_refunds().filter(payment=payment).order_by("-pk").first(),
    )


# ------------------------------------------------------------------ locks and events


def _lock_payment(payment: Payment) -> Payment:
    """Lock the payment's invoice (if any), then the payment: the order of
    `billing.payments.services.payment_assign`."""
    invoice_id = Payment.objects.filter(pk=payment.pk).values_list("invoice_id", flat=True).get()
    if invoice_id is not None:
        list(Invoice.objects.select_for_update().filter(pk=invoice_id).values_list("pk"))
    locked = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("club", "invoice")
        .get(pk=payment.pk)
    )
    if locked.invoice_id != invoice_id:  # assigned between the two statements
        raise ValidationError(CHANGED, code="changed")
    return locked


def _payment_event(
    payment: Payment, refund: Refund, from_state: str, actor: User | None, note: str = ""
) -> PaymentEvent:
    text = f"REF-{refund.pk} {refund.amount}"
    return PaymentEvent(
        payment=payment,
        kind=PAYMENT_EVENT_KIND,
        from_state=from_state,
        to_state=refund.state,
        invoice_id=payment.invoice_id,
        actor=actor,
        note=f"{text}: {note}" if note else text,
    )


def _record(refund: Refund, payment: Payment, actor: User | None, note: str) -> Refund:
    refund._history_user = actor
    refund.full_clean(exclude=["club", "person", "payee", "payment", "created_by"])
    refund.save()
    RefundEvent.objects.create(
        refund=refund, from_state="", to_state=refund.state, actor=actor, note=note
    )
    _payment_event(payment, refund, "", actor, note).save()
    return refund


def _left_or_existing(locked: Payment, amount: Decimal | None) -> tuple[Decimal, Refund | None]:
    """What is left to refund, or the live refund a double submit already made."""
    refunded, invoice = _money_of(locked)
    left = rules.refund_left(locked.amount.amount, refunded, invoice)
    existing = _live_refunds().filter(payment=locked).order_by("-pk").first()
    if existing is not None:
        if left == ZERO:
            return left, existing  # the same proposal again: it is there
        raise ValidationError(ALREADY_REFUNDING, code="already_refunding")
    if left <= ZERO:
        raise ValidationError(NOTHING_TO_REFUND, code="nothing_to_refund")
    if amount is not None and amount != left:
        raise ValidationError(AMOUNT_CHANGED, code="amount_changed")
    return left, None


# ------------------------------------------------------------------ proposing


@transaction.atomic
def refund_propose_overpayment(
    *, actor: User | None, payment: Payment, amount: Decimal | None = None, note: str = ""
) -> Refund:
    """ "Refund the excess" of a payment to an invoice, to the invoice's payer. `amount` is
    what the administrator saw: if what is left differs now, nothing is proposed."""
    locked = _lock_payment(payment)
    _require_billing(actor, locked.club)
    invoice = locked.invoice
    if invoice is None:
        raise ValidationError(NO_INVOICE, code="no_invoice")
    left, existing = _left_or_existing(locked, amount)
    if existing is not None:
        return existing
    number, owner = ledger_services.refund_accounts([invoice.payer_id]).get(
        invoice.payer_id, ("", "")
    )
    refund = Refund(
        club=locked.club,
        payee_id=invoice.payer_id,
        season=invoice.season,
        reason=RefundReason.OVERPAYMENT,
        amount=_nok(left),
        description=(
            f"Over-payment of invoice {invoice.number} (KID {locked.kid or '-'}), "
            f"paid {locked.paid_date.isoformat()}"
        )[:300],
        payment=locked,
        account_number=number,
        account_owner=owner,
        created_by=actor,
    )
    return _record(refund, locked, actor, note)


def _valid_account(number: str, owner: str) -> tuple[str, str]:
    errors = {}
    try:
        number = kontonr.validate(number or "")  # S-04
    except NumberError:
        errors["account_number"] = BAD_ACCOUNT
    owner = (owner or "").strip()
    if not owner:
        errors["account_owner"] = OWNER_REQUIRED
    if errors:
        raise ValidationError(errors)
    return number, owner[:200]


@transaction.atomic
def refund_propose_unmatched(
    *,
    actor: User | None,
    payment: Payment,
    account_number: str,
    account_owner: str,
    amount: Decimal | None = None,
    note: str = "",
) -> Refund:
    """ "Refund to the payer" of a payment whose KID no invoice has: all of it, to the account
    given (S-04). `amount` as for `refund_propose_overpayment`."""
    number, owner = _valid_account(account_number, account_owner)
    locked = _lock_payment(payment)
    _require_billing(actor, locked.club)
    if locked.invoice_id is not None:
        raise ValidationError(HAS_INVOICE, code="has_invoice")
    left, existing = _left_or_existing(locked, amount)
    if existing is not None:
        return existing
    refund = Refund(
        club=locked.club,
        season=locked.paid_date.year,
        reason=RefundReason.UNMATCHED_PAYMENT,
        amount=_nok(left),
        description=(
            f"Payment without an invoice (KID {locked.kid or '-'}), "
            f"paid {locked.paid_date.isoformat()}"
        )[:300],
        payment=locked,
        account_number=number,
        account_owner=owner,
        created_by=actor,
    )
    return _record(refund, locked, actor, note)


# ------------------------------------------------------------------ the payout list


def _locked_refund(refund: Refund) -> Refund:
    return Refund.objects.select_for_update(of=("self",)).select_related("club").get(pk=refund.pk)


@transaction.atomic
def refund_approve(*, actor: User | None, refund: Refund, note: str = "") -> Refund:
    """Approve any refund (`services.refund_approve`); a payment's refund must still fit in
    what the payment has to refund, and keeps an account given by hand."""
    if refund.payment_id is None:
        return ledger_services.refund_approve(actor=actor, refund=refund, note=note)
    payment = _lock_payment(Payment(pk=refund.payment_id))
    locked = _locked_refund(refund)
    _require_billing(actor, locked.club)
    if locked.state != RefundState.PROPOSED:
        raise ValidationError(NOT_PROPOSED, code="not_proposed")
    refunded, invoice = _money_of(payment, excluding=locked)
    if rules.refund_left(payment.amount.amount, refunded, invoice) < locked.amount.amount:
        raise ValidationError(NO_LONGER_THERE, code="no_longer_there")
    if locked.payee_id is None:  # the account was given by hand: the register has none
        locked.state = RefundState.APPROVED
        locked._history_user = actor
        locked.save(update_fields=["state"])
        RefundEvent.objects.create(
            refund=locked,
            from_state=RefundState.PROPOSED,
            to_state=locked.state,
            actor=actor,
            note=note,
        )
    else:
        locked = ledger_services.refund_approve(actor=actor, refund=locked, note=note)
    _payment_event(payment, locked, RefundState.PROPOSED, actor, note).save()
    return locked


@transaction.atomic
def refund_cancel(*, actor: User | None, refund: Refund, note: str = "") -> Refund:
    """Cancel a proposed refund (`services.refund_cancel`); a payment's refund puts the
    payment back on the reconciliation list."""
    if refund.payment_id is None:
        return ledger_services.refund_cancel(actor=actor, refund=refund, note=note)
    payment = _lock_payment(Payment(pk=refund.payment_id))
    cancelled = ledger_services.refund_cancel(actor=actor, refund=refund, note=note)
    _payment_event(payment, cancelled, RefundState.PROPOSED, actor, note).save()
    return cancelled


@transaction.atomic
def refunds_mark_paid(
    *,
    actor: User | None,
    club: Organisation,
    refund_ids: Sequence[int],
    paid_on: datetime.date | None = None,
) -> int:
    """`services.refunds_mark_paid`, with a `PaymentEvent` for each payment's refund (the
    payments locked first, in primary-key order)."""
    _require_billing(actor, club)
    payment_ids = sorted(
        set(
            Refund.objects.filter(club=club, pk__in=refund_ids, payment__isnull=False).values_list(
                "payment_id", flat=True
            )
        )
    )
    payments = {
        payment.pk: payment
        for payment in Payment.objects.select_for_update().filter(pk__in=payment_ids).order_by("pk")
    }
    count = ledger_services.refunds_mark_paid(
        actor=actor, club=club, refund_ids=refund_ids, paid_on=paid_on
    )
    paid = Refund.objects.filter(pk__in=refund_ids, payment__isnull=False).order_by("pk")
    PaymentEvent.objects.bulk_create(
        _payment_event(payments[refund.payment_id], refund, RefundState.APPROVED, actor)
        for refund in paid
    )
    return count
