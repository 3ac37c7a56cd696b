"""Refunds and the payout list (issue 6, scope 7; M-15, D-09).

- `refunds_propose_volunteer_work`: for every member with volunteer hours in the season and
  a paid volunteer-work fee, a proposed refund of the season's rate per hour, at most what
  was paid for the fee (`rules.volunteer_refund_amount`). Proposing again creates nothing new:
  an advisory lock per club serialises proposals, existing refunds are skipped and the unique
  constraint `refund_once` is the database's guarantee.
- `refund_propose_moving_away`: D-09 for one player. The register has no reason for leaving,
  so the club gives it here (reason, date, documented) and the refund keeps it.
- `refund_approve`: needs an account to pay to (the payee's refunds account, else the default
  one); issues the credit note of the refunded amount against the paid invoice and moves the
  refund to approved. `refunds_mark_paid`: approved -> paid after the bank run.
  `refund_cancel`: a proposal the club rejects (it stays, so it is not proposed again).

Credit notes: a refund is a part of a line (30% of the activity fee, hours x rate of the
volunteer fee), so its credit note is `billing.invoicing.services.invoice_credit` with
`amounts`: one line of kind "refund" crediting that part of the charge, numbered in the
club's series. Unlike a whole-line credit (a correction, which frees the key so a later run
may invoice the person again), the charged line stays billed: the fee was rightly invoiced,
and no later run may bill it again.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from moneyed import Money
from simple_history.utils import bulk_create_with_history

from billing import pricing, texts
from billing import selectors as dues_selectors
from billing.invoicing import selectors as invoicing_selectors
from billing.invoicing import services as invoicing_services
from billing.ledger import rules
from billing.models import FeeSchedule
from billing.models_invoicing import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from billing.models_ledger import Refund, RefundEvent, RefundReason, RefundState
from billing.models_payments import Payment
from billing.pricing.config import PHASE_MOVING_AWAY
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import BankAccount, BankAccountType, Organisation, Person, User

NOT_ALLOWED = _("You may not manage refunds in this club.")
NO_VOLUNTEER_FEE = _("The season has no volunteer-work fee (M-15).")
NO_MOVING_RULE = _("The season has no moving-away rule (D-09) for this group.")
NOTHING_PAID = _("There is no paid activity fee of this group to refund.")
NO_ACCOUNT = _("The payee has no bank account for refunds on file.")
NOT_PROPOSED = _("Only a proposed refund can be approved or cancelled.")
NOT_APPROVED = _("Only approved refunds can be marked as paid.")
NOTHING_CHOSEN = _("Choose the refunds.")
CHARGE_NOT_BILLED = _("The refunded fee is no longer billed on the paid invoice.")

ZERO = Decimal(0)


def _require_billing(actor: User | None, club: Organisation) -> None:
    if actor is not None and not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _nok(amount: Decimal) -> Money:
    return Money(amount, pricing.CURRENCY)


def _lock_club_refunds(club: Organisation) -> None:
    with connection.cursor() as cursor:  # one proposal per club at a time (double clicks)
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.refunds'), %s)", [club.pk])


def _event(refund: Refund, from_state: str, actor: User | None, note: str = "") -> RefundEvent:
    return RefundEvent(
        refund=refund, from_state=from_state, to_state=refund.state, actor=actor, note=note
    )


# ------------------------------------------------------------------ what was paid


def paid_invoices(club: Organisation) -> Q:
    """Invoices of the club paid in full: marked paid, or payments (reversals negative)
    covering the total."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Q(
        pk__in=Invoice.objects.filter(club=club, kind=InvoiceKind.INVOICE)
        .exclude(status__in=[InvoiceStatus.VOID, InvoiceStatus.CREDITED])
        .annotate(paid=Coalesce(Subquery(paid), Value(ZERO)))
        .filter(Q(status=InvoiceStatus.PAID) | Q(paid__gte=F("total"), total__gt=0))
        .values("pk")
    )


@dataclass(frozen=True)
class PaidFee:
    """What a person paid for one fee (and group) on one paid invoice: the charge net of its
    exemptions and reductions, and the charge line a credit note credits."""

    person_id: int
    invoice_id: int
    payer_id: int
    net: Decimal
    charge_line_id: int


def paid_fees(
    club: Organisation, season: int, fee: str, person_ids: Iterable[int], group: str = ""
) -> dict[int, PaidFee]:
    """Per person, the paid fee of the season (two queries); the lines still billed only."""
    lines = (
        InvoiceLine.objects.filter(
            club=club,
            person_id__in=list(person_ids),
            fee=fee,
            group=group,
            is_billed=True,
            invoice__season=season,
        )
        .filter(invoice_id__in=Invoice.objects.filter(paid_invoices(club)).values("pk"))
        .exclude(line_kind=pricing.LineKind.REFUND)
    )
    nets = lines.values("person_id", "invoice_id", "invoice__payer_id").annotate(net=Sum("amount"))
    charges = {
        (row["person_id"], row["invoice_id"]): row["pk"]
        for row in lines.filter(line_kind=pricing.LineKind.CHARGE).values(
            "pk", "person_id", "invoice_id"
        )
    }
    found: dict[int, PaidFee] = {}
    for row in nets.order_by("person_id", "invoice_id"):
        charge = charges.get((row["person_id"], row["invoice_id"]))
        if charge is None or row["person_id"] in found:
            continue
        found[row["person_id"]] = PaidFee(
            row["person_id"], row["invoice_id"], row["invoice__payer_id"], row["net"], charge
        )
    return found


def refund_accounts(person_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Per person, (account number, owner) of the refunds account, else the default account
    (P-09: at most one per type). A foreign account (IBAN only) counts as none."""
    accounts: dict[int, tuple[str, str]] = {}
    rows = (
        BankAccount.objects.filter(person_id__in=list(person_ids))
        .filter(Q(account_type=BankAccountType.REFUNDS) | Q(is_default=True))
        .exclude(account_number="")
        .values_list("person_id", "account_type", "account_number", "owner_name")
    )
    for person_id, account_type, number, owner in rows:
        if account_type == BankAccountType.REFUNDS or person_id not in accounts:
            accounts[person_id] = (number, owner)
    return accounts


# ------------------------------------------------------------------ M-15 volunteer work


@dataclass(frozen=True)
class Proposal:
    created: list[Refund]
    already_proposed: int


@transaction.atomic
def refunds_propose_volunteer_work(
    *, actor: User | None, club: Organisation, season: int
) -> Proposal:
    """M-15: propose the volunteer-work refunds of the season (see the module docstring)."""
    _require_billing(actor, club)
    schedule = dues_selectors.fee_schedule(club, season)
    if schedule is None or schedule.volunteer_fee is None:
        raise ValidationError(NO_VOLUNTEER_FEE, code="no_volunteer_fee")
    _lock_club_refunds(club)
    from billing.models import VolunteerHours  # billing.models imports this app's models

    hours = dict(
        VolunteerHours.objects.filter(club=club, season=season, hours__gt=0).values_list(
            "person_id", "hours"
        )
    )
    done = set(
        Refund.objects.filter(
            club=club, season=season, reason=RefundReason.VOLUNTEER_WORK, person_id__in=hours
        ).values_list("person_id", flat=True)
    )
    paid = paid_fees(club, season, pricing.FeeKind.VOLUNTEER_WORK, set(hours) - done)
    accounts = refund_accounts({fee.payer_id for fee in paid.values()})
    rate = schedule.volunteer_refund_per_hour.amount
    refunds = []
    for person_id, fee in sorted(paid.items()):
        amount = rules.volunteer_refund_amount(
            hours=hours[person_id],
            refund_per_hour=rate,
            paid_for_fee=fee.net,
            capped=schedule.volunteer_refund_capped,
            unit=schedule.rounding_unit,
        )
        if amount <= ZERO:
            continue
        number, owner = accounts.get(fee.payer_id, ("", ""))
        refunds.append(
            Refund(
                club=club,
                person_id=person_id,
                payee_id=fee.payer_id,
                season=season,
                reason=RefundReason.VOLUNTEER_WORK,
                rule_id="M-15",
                amount=_nok(amount),
                description=f"M-15 {hours[person_id]} h x {rate} ({season})",
                invoice_id=fee.invoice_id,
                hours=hours[person_id],
                account_number=number,
                account_owner=owner,
                created_by=actor,
            )
        )
    created = bulk_create_with_history(refunds, Refund, default_user=actor)
    RefundEvent.objects.bulk_create(_event(refund, "", actor) for refund in created)
    return Proposal(created=list(created), already_proposed=len(done))


# ------------------------------------------------------------------ D-09 moving away


def _moving_rule(club: Organisation, season: int, group: str) -> pricing.MovingAwayParams:
    config = dues_selectors.season_config(club, season)
    for rule in config.active_rules(PHASE_MOVING_AWAY):
        if isinstance(rule.params, pricing.MovingAwayParams) and rule.params.group == group:
            return rule.params
    raise ValidationError(NO_MOVING_RULE, code="no_moving_rule")


@transaction.atomic
def refund_propose_moving_away(
    *,
    actor: User | None,
    club: Organisation,
    person: Person,
    season: int,
    group: str,
    left_on: datetime.date,
    leave_reason: str,
    documented: bool,
    note: str = "",
) -> Refund:
    """D-09: propose the moving-away refund of one player's activity fee in `group`; the
    same refund again returns the existing one. Raises PermissionDenied, ValidationError
    (the rule's refusal), billing.selectors.NoFeeSchedule."""
    _require_billing(actor, club)
    _lock_club_refunds(club)
    existing = Refund.objects.filter(
        club=club, person=person, season=season, reason=RefundReason.MOVING_AWAY, group=group
    ).first()
    if existing is not None:
        return existing
    params = _moving_rule(club, season, group)
    fee = paid_fees(club, season, pricing.FeeKind.ACTIVITY, [person.pk], group=group).get(person.pk)
    if fee is None:
        raise ValidationError(NOTHING_PAID, code="nothing_paid")
    schedule = dues_selectors.fee_schedule(club, season)
    decision = rules.moving_away_refund(
        params=params,
        left_on=left_on,
        leave_reason=leave_reason,
        documented=documented,
        paid_for_fee=fee.net,
        unit=schedule.rounding_unit if schedule is not None else rules.WHOLE_KRONER,
    )
    if decision.refusal is not None:
        raise ValidationError(decision.refusal, code="rule_refused")
    if not decision.applies:
        raise ValidationError(NOTHING_PAID, code="nothing_paid")
    number, owner = refund_accounts([fee.payer_id]).get(fee.payer_id, ("", ""))
    refund = Refund(
        club=club,
        person=person,
        payee_id=fee.payer_id,
        season=season,
        reason=RefundReason.MOVING_AWAY,
        group=group,
        rule_id="D-09",
        amount=_nok(decision.amount),
        description=f"D-09 {params.percent}% {group} ({season}), left {left_on.isoformat()}",
        invoice_id=fee.invoice_id,
        left_on=left_on,
        leave_reason=leave_reason,
        leave_documented=documented,
        account_number=number,
        account_owner=owner,
        created_by=actor,
    )
    refund._history_user = actor
    refund.full_clean(exclude=["club", "person", "payee", "invoice", "created_by"])
    refund.save()
    _event(refund, "", actor, note).save()
    return refund


# ------------------------------------------------------------------ the payout list


def _locked(refund: Refund) -> Refund:
    return Refund.objects.select_for_update().select_related("club").get(pk=refund.pk)


@transaction.atomic
def refund_approve(*, actor: User | None, refund: Refund, note: str = "") -> Refund:
    """Approve a proposed refund: the account is taken again from the register (it may have
    been added since), the credit note is issued, the refund is approved."""
    locked = _locked(refund)
    _require_billing(actor, locked.club)
    if locked.state != RefundState.PROPOSED:
        raise ValidationError(NOT_PROPOSED, code="not_proposed")
    number, owner = refund_accounts([locked.payee_id]).get(locked.payee_id, ("", ""))
    if not number:
        raise ValidationError(NO_ACCOUNT, code="no_account")
    if locked.invoice_id is not None and locked.credit_note_id is None:
        locked.credit_note = _credit_note(actor, locked)
    locked.account_number, locked.account_owner = number, owner
    locked.state = RefundState.APPROVED
    locked._history_user = actor
    locked.save(update_fields=["account_number", "account_owner", "state", "credit_note"])
    _event(locked, RefundState.PROPOSED, actor, note).save()
    return locked


@transaction.atomic
def refund_cancel(*, actor: User | None, refund: Refund, note: str = "") -> Refund:
    locked = _locked(refund)
    _require_billing(actor, locked.club)
    if locked.state != RefundState.PROPOSED:
        raise ValidationError(NOT_PROPOSED, code="not_proposed")
    locked.state = RefundState.CANCELLED
    locked._history_user = actor
    locked.save(update_fields=["state"])
    _event(locked, RefundState.PROPOSED, actor, note).save()
    return locked


@transaction.atomic
def refunds_mark_paid(
    *,
    actor: User | None,
    club: Organisation,
    refund_ids: Sequence[int],
    paid_on: datetime.date | None = None,
) -> int:
    """The bank has paid these approved refunds of the club (locked in id order). All or
    nothing: a refund that is not approved fails the whole call."""
    _require_billing(actor, club)
    if not refund_ids:
        raise ValidationError(NOTHING_CHOSEN, code="nothing_chosen")
    refunds = list(
        Refund.objects.select_for_update().filter(club=club, pk__in=refund_ids).order_by("pk")
    )
    if len(refunds) != len(set(refund_ids)) or any(
        refund.state != RefundState.APPROVED for refund in refunds
    ):
        raise ValidationError(NOT_APPROVED, code="not_approved")
    paid_on = paid_on or timezone.localdate()
    for refund in refunds:
        refund.state, refund.paid_on = RefundState.PAID, paid_on
        refund._history_user = actor
        refund.save(update_fields=["state", "paid_on"])
    RefundEvent.objects.bulk_create(_event(r, RefundState.APPROVED, actor) for r in refunds)
    return len(refunds)


# ------------------------------------------------------------------ the credit note


def _credit_note(actor: User | None, refund: Refund) -> Invoice:
    """A credit note of the refunded part of the paid invoice's charge (see the module
    docstring): `invoice_credit` with the refunded amount of the charge, which stays billed."""
    charge = (
        InvoiceLine.objects.filter(
            invoice_id=refund.invoice_id,
            person_id=refund.person_id,
            group=refund.group,
            line_kind=pricing.LineKind.CHARGE,
            is_billed=True,
            fee=(
                pricing.FeeKind.VOLUNTEER_WORK
                if refund.reason == RefundReason.VOLUNTEER_WORK
                else pricing.FeeKind.ACTIVITY
            ),
        )
        .order_by("position")
        .first()
    )
    if charge is None:
        raise ValidationError(CHARGE_NOT_BILLED, code="charge_not_billed")
    invoice = charge.invoice
    # The credit note is written in its invoice's language, like the invoice's own lines.
    with translation.override(texts.invoice_language(invoice.language)):
        description = texts.refund_description(
            refund,
            rate=_refund_rate(refund),
            group_name=invoicing_selectors.activity_group_names(refund.club_id).get(refund.group),
        )
        reason = f"{refund.rule_id}: {description}"
    return invoicing_services.invoice_credit(
        actor=actor,
        invoice=invoice,
        reason=reason[:1000],
        amounts={charge.pk: refund.amount.amount},
        line_kind=pricing.LineKind.REFUND,
        description=description,
        rule_id=refund.rule_id,
    )


def _refund_rate(refund: Refund) -> Decimal | None:
    """M-15: the club's refund per hour worked in the refund's season (None without one)."""
    rate = (
        FeeSchedule.objects.filter(club_id=refund.club_id, season=refund.season)
        .values_list("volunteer_refund_per_hour", flat=True)
        .first()
    )
    return rate
