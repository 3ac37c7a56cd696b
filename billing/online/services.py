"""Online card payment (issue 6 scope 6; M-10, M-11): every write.

- `checkout_start`: a member starts paying their open invoices of one club at the provider:
  the whole family's (what the invoices owe) or only their own lines (M-11: the others stay
  unpaid and get reminders). M-10: paying online, the invoice fees of the persons paid for
  are left out (`waiver`). A `CheckoutSession` row holds what is paid on each invoice.
- `online_payment_record(event)`: a verified webhook event. Idempotent on the provider's
  event id (`provider_event_once`); with the checkout and its invoices locked, a paid
  checkout credits the invoice fees it left out (one credit note per invoice, M-10), records
  one `Payment` (source online) per invoice - the key `<session>:<invoice>` under
  `payment_once` makes a second event for the same checkout record nothing - and activates
  the paid persons' pending memberships at once (M-10, through
  `members.services.memberships.memberships_activate`), all in one transaction.
- `webhook_receive`: verify (raises `provider.InvalidSignature`) and record, for the view.

The payments helpers (`billing.payments.services`) register OCR and manual payments; online
payments are written here with the same model, constraint and `PaymentEvent` rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing import balances, texts
from billing.invoicing import services as invoicing_services
from billing.models_invoicing import Invoice, InvoiceLine
from billing.models_online import (
    CheckoutLine,
    CheckoutScope,
    CheckoutSession,
    CheckoutState,
    EventOutcome,
    ProviderEvent,
)
from billing.models_payments import Payment, PaymentEvent, PaymentSource
from billing.online import selectors, waiver
from billing.online.file_adapter import SandboxProvider
from billing.online.provider import (
    CheckoutRequest,
    EventStatus,
    PaymentProvider,
    WebhookEvent,
)
from billing.online.stripe_adapter import StripeProvider
from billing.payments import matching
from billing.payments import status as payment_status
from billing.pricing import FeeKind
from members.models import Membership, Person, User
from members.services import memberships as membership_services

CURRENCY = "NOK"
ZERO = Decimal("0.00")

NOT_YOUR_INVOICE = _("You can only pay your own or your family's invoices.")
NOTHING_TO_PAY = _("There is nothing to pay on these invoices.")
ONE_CLUB = _("Pay the invoices of one club at a time.")
UNKNOWN_SCOPE = _("Choose whether you pay for the whole family or only for yourself.")
NO_PERSON = _("Your login is not linked to a person in the register. Ask your club to link it.")
AMOUNT_MISMATCH = "The event's amount {amount} {currency} differs from the checkout's {total}."
UNKNOWN_SESSION = "No checkout has this provider session id."
# The reason on the credit note of the invoice fees waived (M-10), in the invoice's language.
FEE_WAIVED_REASON = _("Invoice fee waived: paid online (M-10).")


def get_provider(name: str | None = None) -> PaymentProvider:
    """The adapter `name` names (default: `settings.PAYMENT_PROVIDER`)."""
    chosen = name or settings.PAYMENT_PROVIDER
    if chosen == StripeProvider.name:
        return StripeProvider()
    if chosen == SandboxProvider.name:
        return SandboxProvider()
    raise ValueError(f"Unknown PAYMENT_PROVIDER {chosen!r}")


# ------------------------------------------------------------------ checkout


def _amounts(
    payer: Person, invoices: Sequence[Invoice], scope: str
) -> tuple[dict[int, Decimal], list[int]]:
    """What the checkout pays on each invoice (M-10: the invoice fees of the persons paid for
    left out, `waiver`), and whose memberships it activates (M-10)."""
    payable = {row.invoice.pk for row in selectors.payable_invoices(payer)}
    ids = [invoice.pk for invoice in invoices if invoice.pk in payable]
    planned = waiver.online_amounts(payer, ids, scope)
    amounts = {pk: plan.amount for pk, plan in planned.items() if plan.amount > ZERO}
    if scope == CheckoutScope.SELF:
        return amounts, [payer.pk]
    persons = InvoiceLine.objects.filter(invoice_id__in=list(amounts)).values_list(
        "person_id", flat=True
    )
    return amounts, sorted(set(persons))


def _check(actor: User | None, payer: Person, invoices: Sequence[Invoice], scope: str) -> None:
    if scope not in CheckoutScope.values:
        raise ValidationError({"scope": UNKNOWN_SCOPE})
    person_id = getattr(actor, "person_id", None)
    if person_id is None:
        raise PermissionDenied(NO_PERSON)
    if payer.pk != person_id:
        raise PermissionDenied(NOT_YOUR_INVOICE)
    ids = {invoice.pk for invoice in invoices}
    if selectors.own_invoices(payer).filter(pk__in=ids).count() != len(ids):
        raise PermissionDenied(NOT_YOUR_INVOICE)
    if len({invoice.club_id for invoice in invoices}) > 1:
        raise ValidationError(ONE_CLUB)


@transaction.atomic
def checkout_start(
    *,
    actor: User | None,
    payer: Person,
    invoices: Sequence[Invoice],
    scope: str = CheckoutScope.FAMILY,
    base_url: str = "",
    provider: PaymentProvider | None = None,
) -> CheckoutSession:
    """Start paying `invoices` (of one club, the payer's own or family's) at the provider.
    Returns the `CheckoutSession` with `redirect_url`, the provider's payment page; the
    provider sends the member back to our pages under `base_url` (scheme and host)."""
    _check(actor, payer, invoices, scope)
    amounts, person_ids = _amounts(payer, invoices, scope)
    if not amounts:
        raise ValidationError(NOTHING_TO_PAY)
    adapter = provider or get_provider()
    total = sum(amounts.values(), ZERO)
    session = CheckoutSession.objects.create(
        provider=adapter.name,
        club_id=invoices[0].club_id,
        payer=payer,
        scope=scope,
        person_ids=person_ids,
        total=Money(total, CURRENCY),
        created_by=actor,
    )
    CheckoutLine.objects.bulk_create(
        CheckoutLine(session=session, invoice_id=pk, amount=Money(amount, CURRENCY))
        for pk, amount in sorted(amounts.items())
    )
    numbers = ", ".join(str(i.number) for i in sorted(invoices, key=lambda i: i.number))
    created = adapter.create_checkout(
        CheckoutRequest(
            reference=str(session.pk),
            amount=total,
            currency=CURRENCY,
            description=str(_("Invoice %(numbers)s") % {"numbers": numbers}),
            success_url=base_url + reverse("billing:online-done", args=[session.pk]),
            cancel_url=base_url + reverse("billing:online-cancelled", args=[session.pk]),
            customer_email=getattr(actor, "email", "") or "",
        )
    )
    session.provider_session_id = created.session_id
    session.redirect_url = created.redirect_url
    session.save(update_fields=["provider_session_id", "redirect_url"])
    return session


# ------------------------------------------------------------------ webhook


def _store_event(event: WebhookEvent) -> ProviderEvent | None:
    """The event's row, or None when the provider sent this event before."""
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=event.provider,
                event_id=event.event_id,
                event_type=event.event_type,
                outcome=EventOutcome.IGNORED,
                payload=event.payload,
            )
    except IntegrityError:
        return None


def _lock_invoices(session: CheckoutSession) -> tuple[list[CheckoutLine], dict[int, Invoice]]:
    lines = list(session.lines.order_by("invoice_id"))
    ids = [line.invoice_id for line in lines]
    locked = Invoice.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return lines, {invoice.pk: invoice for invoice in locked}  # STYLE 4: primary-key order


def _invoice_fees_credit(invoice: Invoice, fee_lines: dict[int, Decimal]) -> Invoice:
    """M-10: a credit note of exactly the invoice fees `fee_lines` (line id -> amount still
    open) of the locked `invoice`. An amount credit (`amounts=`), not a whole-line credit
    (`lines=`): that credits every line sharing a key with a chosen one, and an invoice-fee
    line shares the key of the fee it comes with (`key_fee`), so it would take the
    membership fee with it. The fee line stays billed (the charge is not invoiced again)."""
    with translation.override(texts.invoice_language(invoice.language)):
        reason = str(FEE_WAIVED_REASON)
    return invoicing_services.invoice_credit(
        actor=None,  # the payment provider: the system
        invoice=invoice,
        reason=reason,
        amounts=fee_lines,
        rule_id="M-10",
    )


def _waive_invoice_fees(
    session: CheckoutSession, lines: list[CheckoutLine], invoices: dict[int, Invoice]
) -> list[Invoice]:
    """M-10: credit the invoice fees the checkout left out. Asked again now, with the invoices
    locked: a fee is waived when the payment is what paying online costs without it (if what
    is owed changed since the checkout - a bank payment came in - the payment is recorded as
    it is, and the fee stands)."""
    planned = waiver.online_amounts(session.payer, list(invoices), session.scope)
    notes = []
    for line in lines:
        plan = planned.get(line.invoice_id)
        if plan is not None and plan.fee_lines and plan.amount == line.amount.amount:
            notes.append(_invoice_fees_credit(invoices[line.invoice_id], dict(plan.fee_lines)))
    return notes


def _record_payments(
    session: CheckoutSession,
    event: WebhookEvent,
    lines: list[CheckoutLine],
    invoices: dict[int, Invoice],
) -> list[Payment]:
    # What the payer was asked: the claim with reminder fees (S-06) and credit notes (M-10).
    before = balances.invoice_balances(list(invoices))
    payments = []
    for line in lines:
        invoice = invoices[line.invoice_id]
        payment = Payment.objects.create(
            club_id=session.club_id,
            invoice=invoice,
            source=PaymentSource.ONLINE,
            transaction_key=f"{session.provider}:{session.provider_session_id}:{invoice.pk}",
            amount=line.amount,
            paid_date=timezone.localdate(),
            kid=invoice.kid,
            payer_name=session.payer.full_name[:200],
            match_state=matching.match(line.amount.amount, before[invoice.pk].for_matching()),
            note=f"{session.provider} {event.event_id}",
        )
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEvent.Kind.RECORDED,
            to_state=payment.match_state,
            invoice=invoice,
            note=payment.note,
        )
        payments.append(payment)
    return payments


def _membership_persons(session: CheckoutSession) -> list[int]:
    """M-10: the paid persons with a membership fee on the paid invoices."""
    with_fee = InvoiceLine.objects.filter(
        invoice_id__in=session.lines.values("invoice_id"),
        person_id__in=session.person_ids,
        fee=FeeKind.MEMBERSHIP,
    ).values_list("person_id", flat=True)
    return sorted(set(with_fee))


def memberships_activate_paid(session: CheckoutSession) -> list[Membership]:
    """M-10: online payment activates the membership at once: the paid persons' memberships
    in the club that wait for activation become active (the members app's change, with its
    history record; the payment provider is the actor: None)."""
    return membership_services.memberships_activate(
        actor=None,
        club_id=session.club_id,
        person_ids=_membership_persons(session),
        reason=membership_services.ACTIVATED_BY_ONLINE_PAYMENT,
    )


def _pay(session: CheckoutSession, event: WebhookEvent, stored: ProviderEvent) -> None:
    if session.state == CheckoutState.PAID:
        stored.outcome = EventOutcome.ALREADY_PAID
        return
    if event.amount != session.total.amount or event.currency != CURRENCY:
        stored.outcome = EventOutcome.REJECTED
        stored.note = AMOUNT_MISMATCH.format(
            amount=event.amount, currency=event.currency, total=session.total.amount
        )
        return
    lines, invoices = _lock_invoices(session)
    notes = _waive_invoice_fees(session, lines, invoices)
    payments = _record_payments(session, event, lines, invoices)
    activated = memberships_activate_paid(session)
    paid_ids = [payment.invoice_id for payment in payments]
    payment_status.invoices_refresh_paid_status(actor=None, invoice_ids=paid_ids)
    session.state = CheckoutState.PAID
    session.finished_at = timezone.now()
    session.save(update_fields=["state", "finished_at"])
    stored.outcome = EventOutcome.RECORDED
    stored.note = (
        f"payments {[p.pk for p in payments]}, credit notes {[n.pk for n in notes]}, "
        f"memberships {[m.pk for m in activated]}"
    )


def _close(session: CheckoutSession, event: WebhookEvent, stored: ProviderEvent) -> None:
    if session.state != CheckoutState.OPEN:
        stored.outcome = EventOutcome.IGNORED
        return
    session.state = (
        CheckoutState.FAILED if event.status == EventStatus.FAILED else CheckoutState.EXPIRED
    )
    session.finished_at = timezone.now()
    session.save(update_fields=["state", "finished_at"])
    stored.outcome = EventOutcome.CLOSED


@transaction.atomic
def online_payment_record(event: WebhookEvent) -> ProviderEvent:
    """Record a verified provider event once. A redelivered event returns its first row with
    `is_duplicate = True` and changes nothing."""
    stored = _store_event(event)
    if stored is None:
        first = ProviderEvent.objects.get(provider=event.provider, event_id=event.event_id)
        first.is_duplicate = True  # type: ignore[attr-defined]
        return first
    stored.is_duplicate = False  # type: ignore[attr-defined]
    session = (
        CheckoutSession.objects.select_for_update()
        .select_related("payer")
        .filter(provider=event.provider, provider_session_id=event.session_id)
        .first()
        if event.session_id
        else None
    )
    stored.session = session
    if session is None:
        stored.note = UNKNOWN_SESSION if event.status != EventStatus.OTHER else ""
    elif event.status == EventStatus.PAID:
        _pay(session, event, stored)
    elif event.status in (EventStatus.FAILED, EventStatus.EXPIRED):
        _close(session, event, stored)
    stored.save(update_fields=["session", "outcome", "note"])
    return stored


def webhook_receive(provider_name: str, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
    """Verify a webhook of `provider_name` (raises `provider.InvalidSignature`) and record it."""
    event = get_provider(provider_name).parse_webhook(body, headers)
    return online_payment_record(event)
