"""Writes for licences (P-12).

A licence is registered through an organisation for a licence type of a period, and needs a
matching function: a function of the type's function type held by the person in that
organisation or below. Status: registered -> issued (invoiced/sent) -> paid; which actions a
status allows is the pure rule `members.licence_rules.allowed_actions`.

Access: every licence action needs `persons.edit` in the organisation the licence is
registered through (that covers the person, whose matching function lies there or below);
seeing licences needs `persons.view` on the person. Activating a passive function on the way
(register with `activate_function=True`, reactivate) also needs `functions.manage` there,
like any activation of a function.

Every change writes a LicenceEvent in the same transaction: who, when, what, from which status
to which (STYLE 5). Money is NOK `Money` (Decimal inside), never a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from clubadmin.capabilities import Capability
from members import licence_rules
from members.licence_rules import LicenceAction
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Licence,
    LicenceEvent,
    LicenceStatus,
    LicenceType,
    Organisation,
    Person,
    SendingMethod,
    User,
)
from members.services.common import require_capability
from members.services.functions import function_activate

CURRENCY = "NOK"

LICENCE_TYPE_INACTIVE = _("This licence type is not offered any more (P-12).")
LICENCE_PERIOD_INACTIVE = _("The licence period is closed (P-12).")
PERIOD_NOT_FOR_ORGANISATION = _(
    "The licence period is issued by an organisation this organisation does not belong to (P-12)."
)
ORGANISATION_INACTIVE = _("Licences are only registered through an active organisation (P-12).")
LICENCE_EXISTS_IN_PERIOD = _("The person already has a licence in this period (P-12).")
NO_MATCHING_FUNCTION = _(
    "The person has no %(function_type)s function in %(organisation)s or below: a licence "
    "needs a function matching the licence type (P-12)."
)
MATCHING_FUNCTION_INACTIVE = _(
    "The person's %(function_type)s function in %(organisation)s has ended: activate it to "
    "register the licence (P-12)."
)
ACTION_NOT_ALLOWED = _("This is not allowed for a licence that is %(status)s (P-12).")
FUNCTION_PASSIVE = _("The licence's function is passive: reactivate the licence first (P-12).")
EMAIL_NEEDS_ADDRESS = _(
    "Sending by e-mail needs an e-mail address in the delivery contact set (P-12)."
)
DELIVERY_SET_OF_ANOTHER_PERSON = _("The delivery address must be one of the person's contact sets.")
TYPE_OF_ANOTHER_PERIOD = _("The new licence type must belong to the licence's period (P-12).")
TYPE_UNCHANGED = _("The licence already has this type.")
PAYMENT_NOT_POSITIVE = _("The amount must be more than zero.")
PAYMENT_NOT_NOK = _("Amounts are in NOK.")
RETURN_MORE_THAN_PAID = _("No more than the amount paid can be returned.")

FUNCTION_INACTIVE_CODE = "function_inactive"


def licence_create_charge(*, actor: User | None, licence: Licence) -> None:
    """Billing hook: issuing (or re-issuing) a licence creates its charge through the billing
    app's service once that exists. Until then the amount due recorded on the licence is the
    charge, and this does nothing."""
    return None


def needs_function_activation(error: ValidationError) -> bool:
    """Did a register/change-type fail only because the matching function has ended? Then the
    user is asked to activate it (P-12) and the call is repeated with activate_function=True."""
    items = getattr(error, "error_dict", {}).get("organisation", [])
    return any(item.code == FUNCTION_INACTIVE_CODE for item in items)


def _record(
    licence: Licence, *, actor: User | None, action: str, from_status: str, **detail: Any
) -> LicenceEvent:
    return LicenceEvent.objects.create(
        licence=licence,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=licence.status,
        detail=detail,
    )


def _nok(amount: Money) -> str:
    return f"{amount.amount:.2f}"


def _matching_functions(
    *, person: Person, organisation: Organisation, function_type: FunctionType
) -> QuerySet[Function]:
    return Function.objects.filter(
        person=person,
        function_type=function_type,
        organisation__path__startswith=organisation.path,
    ).select_related("organisation", "function_type")


def _matching_function(
    *,
    actor: User | None,
    person: Person,
    organisation: Organisation,
    function_type: FunctionType,
    activate_function: bool,
) -> Function:
    """P-12: the function a licence needs. An ended one is activated only when asked to."""
    today = timezone.localdate()
    functions = _matching_functions(
        person=person, organisation=organisation, function_type=function_type
    )
    current = (
        functions.filter(Q(to_date__isnull=True) | Q(to_date__gt=today))
        .order_by("from_date", "pk")
        .first()
    )
    if current is not None:
        return current
    ended = functions.order_by(F("to_date").desc(), "-pk").first()
    names = {"function_type": function_type.name, "organisation": organisation.name}
    if ended is None:
        raise ValidationError(
            {"organisation": ValidationError(NO_MATCHING_FUNCTION % names, code="no_function")}
        )
    if not activate_function:
        raise ValidationError(
            {
                "organisation": ValidationError(
                    MATCHING_FUNCTION_INACTIVE % names, code=FUNCTION_INACTIVE_CODE
                )
            }
        )
    return function_activate(actor=actor, function=ended)


def _check_delivery(
    *, person: Person, sending_method: str, delivery_contact_set: ContactSet | None
) -> None:
    """P-12: e-mail only when the address the licence goes to (the delivery set, else the
    person's standard set) has an e-mail."""
    if delivery_contact_set is not None and delivery_contact_set.person_id != person.pk:
        raise ValidationError({"delivery_contact_set": DELIVERY_SET_OF_ANOTHER_PERSON})
    if sending_method != SendingMethod.EMAIL:
        return
    contact = delivery_contact_set or person.contact_sets.filter(is_standard=True).first()
    if contact is None or not licence_rules.email_sending_allowed(contact.email):
        raise ValidationError({"sending_method": EMAIL_NEEDS_ADDRESS})


def _check_type_offered(licence_type: LicenceType) -> None:
    if not licence_type.is_active:
        raise ValidationError({"licence_type": LICENCE_TYPE_INACTIVE})
    if not licence_type.period.is_active:
        raise ValidationError({"licence_type": LICENCE_PERIOD_INACTIVE})


def _save(licence: Licence, **save_options: Any) -> None:
    licence.full_clean()
    try:
        with transaction.atomic():
            licence.save(**save_options)
    except IntegrityError as error:
        diagnostics = getattr(error.__cause__, "diag", None)
        if getattr(diagnostics, "constraint_name", None) == "licence_one_per_person_and_period":
            raise ValidationError({"licence_type": LICENCE_EXISTS_IN_PERIOD}) from error
        raise


@transaction.atomic
def licence_register(
    *,
    actor: User | None,
    person: Person,
    licence_type: LicenceType,
    organisation: Organisation,
    sending_method: str = SendingMethod.POST,
    delivery_contact_set: ContactSet | None = None,
    activate_function: bool = False,
) -> Licence:
    """P-12: register a licence of `licence_type` (its period follows from the type) through
    `organisation`. Needs a matching function there or below; when the person's matching
    function has ended the call fails with code "function_inactive" unless
    `activate_function` is set, which activates it in the same transaction."""
    require_capability(actor, Capability.PERSONS_EDIT, organisation)
    licence_type = LicenceType.objects.select_related("period__organisation", "function_type").get(
        pk=licence_type.pk
    )
    _check_type_offered(licence_type)
    period = licence_type.period
    if not organisation.is_active:
        raise ValidationError({"organisation": ORGANISATION_INACTIVE})
    if not organisation.path.startswith(period.organisation.path):
        raise ValidationError({"organisation": PERIOD_NOT_FOR_ORGANISATION})
    if (
        Licence.objects.filter(person=person, period=period)
        .exclude(status=LicenceStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError({"licence_type": LICENCE_EXISTS_IN_PERIOD})
    _check_delivery(
        person=person, sending_method=sending_method, delivery_contact_set=delivery_contact_set
    )
    function = _matching_function(
        actor=actor,
        person=person,
        organisation=organisation,
        function_type=licence_type.function_type,
        activate_function=activate_function,
    )
    licence = Licence(
        person=person,
        period=period,
        licence_type=licence_type,
        organisation=organisation,
        function=function,
        sending_method=sending_method,
        delivery_contact_set=delivery_contact_set,
        amount_due=licence_type.price,
        amount_paid=Money(0, CURRENCY),
    )
    licence._history_user = actor
    _save(licence)
    _record(
        licence,
        actor=actor,
        action="registered",
        from_status="",
        licence_type=licence_type.code,
        function=function.pk,
        amount_due=_nok(licence.amount_due),
    )
    return licence


def _lock_licence(actor: User | None, licence: Licence, action: LicenceAction) -> Licence:
    """Lock the row, check the capability and that the licence's state allows `action`."""
    licence = (
        Licence.objects.select_for_update(of=("self",))
        .select_related("organisation", "person", "function", "licence_type__function_type")
        .get(pk=licence.pk)
    )
    require_capability(actor, Capability.PERSONS_EDIT, licence.organisation)
    function_is_active = not _function_is_passive(licence.function)
    if action in licence_rules.allowed_actions(
        licence.status, function_is_active=function_is_active
    ):
        return licence
    if not function_is_active and licence.status != LicenceStatus.CANCELLED:
        raise ValidationError(FUNCTION_PASSIVE, code="function_passive")
    raise ValidationError(
        ACTION_NOT_ALLOWED % {"status": LicenceStatus(licence.status).label.lower()},
        code="not_allowed",
    )


def _function_is_passive(function: Function) -> bool:
    return licence_rules.function_is_passive(function.to_date, timezone.localdate())


@transaction.atomic
def licence_issue(
    *, actor: User | None, licence: Licence, sending_method: str | None = None
) -> Licence:
    """P-12: registered -> issued (invoiced/sent). The amount due is the type's price; the
    charge goes through the billing hook."""
    licence = _lock_licence(actor, licence, LicenceAction.ISSUE)
    before = licence.status
    licence.sending_method = sending_method or licence.sending_method
    _check_delivery(
        person=licence.person,
        sending_method=licence.sending_method,
        delivery_contact_set=licence.delivery_contact_set,
    )
    licence.status = LicenceStatus.ISSUED
    licence.issued_at = timezone.now()
    licence.amount_due = licence.licence_type.price
    _apply_payment_status(licence)
    licence._history_user = actor
    _save(
        licence,
        update_fields=[
            "status",
            "issued_at",
            "paid_at",
            "amount_due",
            "sending_method",
            "updated_at",
        ],
    )
    licence_create_charge(actor=actor, licence=licence)
    _record(
        licence,
        actor=actor,
        action="issued",
        from_status=before,
        sending_method=licence.sending_method,
        amount_due=_nok(licence.amount_due),
    )
    return licence


@transaction.atomic
def licence_resend(
    *, actor: User | None, licence: Licence, sending_method: str | None = None
) -> Licence:
    """P-12: send an issued licence again (by e-mail only when there is an address)."""
    licence = _lock_licence(actor, licence, LicenceAction.RESEND)
    licence.sending_method = sending_method or licence.sending_method
    _check_delivery(
        person=licence.person,
        sending_method=licence.sending_method,
        delivery_contact_set=licence.delivery_contact_set,
    )
    licence._history_user = actor
    _save(licence, update_fields=["sending_method", "updated_at"])
    _record(
        licence,
        actor=actor,
        action="resent",
        from_status=licence.status,
        sending_method=licence.sending_method,
    )
    return licence


@transaction.atomic
def licence_change_type(
    *,
    actor: User | None,
    licence: Licence,
    licence_type: LicenceType,
    activate_function: bool = False,
) -> Licence:
    """P-12: an issued licence can change type until it is paid: a re-issue with a new
    invoice (new amount due, new charge through the billing hook). The new type must belong
    to the same period and needs its own matching function."""
    licence = _lock_licence(actor, licence, LicenceAction.CHANGE_TYPE)
    new_type = LicenceType.objects.select_related("period", "function_type").get(pk=licence_type.pk)
    if new_type.period_id != licence.period_id:
        raise ValidationError({"licence_type": TYPE_OF_ANOTHER_PERIOD})
    if new_type.pk == licence.licence_type_id:
        raise ValidationError({"licence_type": TYPE_UNCHANGED})
    _check_type_offered(new_type)
    if new_type.function_type_id != licence.function.function_type_id:
        licence.function = _matching_function(
            actor=actor,
            person=licence.person,
            organisation=licence.organisation,
            function_type=new_type.function_type,
            activate_function=activate_function,
        )
    before_status, before_type = licence.status, licence.licence_type
    licence.licence_type = new_type
    licence.amount_due = new_type.price
    licence.issued_at = timezone.now()
    _apply_payment_status(licence)
    licence._history_user = actor
    _save(
        licence,
        update_fields=[
            "licence_type",
            "function",
            "amount_due",
            "issued_at",
            "status",
            "paid_at",
            "updated_at",
        ],
    )
    licence_create_charge(actor=actor, licence=licence)
    _record(
        licence,
        actor=actor,
        action="type_changed",
        from_status=before_status,
        from_type=before_type.code,
        to_type=new_type.code,
        amount_due=_nok(licence.amount_due),
        new_invoice=True,
    )
    return licence


def _apply_payment_status(licence: Licence) -> None:
    status = licence_rules.status_after_payments(
        status=licence.status,
        amount_due=licence.amount_due.amount,
        amount_paid=licence.amount_paid.amount,
        was_issued=licence.issued_at is not None,
    )
    if status == LicenceStatus.PAID and licence.status != LicenceStatus.PAID:
        licence.paid_at = timezone.now()
    elif status != LicenceStatus.PAID:
        licence.paid_at = None
    licence.status = status


def _positive_nok(amount: Money | Decimal) -> Money:
    if not isinstance(amount, Money):
        amount = Money(amount, CURRENCY)
    if str(amount.currency) != CURRENCY:
        raise ValidationError({"amount": PAYMENT_NOT_NOK})
    if amount.amount <= 0:
        raise ValidationError({"amount": PAYMENT_NOT_POSITIVE})
    return amount


def _change_payment(
    *, actor: User | None, licence: Licence, amount: Money, action: LicenceAction
) -> Licence:
    licence = _lock_licence(actor, licence, action)
    amount = _positive_nok(amount)
    if action == LicenceAction.RETURN_PAYMENT:
        if amount > licence.amount_paid:
            raise ValidationError({"amount": RETURN_MORE_THAN_PAID})
        amount = -amount
    before = licence.status
    licence.amount_paid = licence.amount_paid + amount
    _apply_payment_status(licence)
    licence._history_user = actor
    _save(licence, update_fields=["amount_paid", "status", "paid_at", "updated_at"])
    _record(
        licence,
        actor=actor,
        action="payment_added" if action == LicenceAction.ADD_PAYMENT else "payment_returned",
        from_status=before,
        amount=_nok(amount),
        amount_paid=_nok(licence.amount_paid),
    )
    return licence


@transaction.atomic
def licence_add_payment(*, actor: User | None, licence: Licence, amount: Money) -> Licence:
    """P-12: record a payment; once the amount due is paid the licence is paid."""
    return _change_payment(
        actor=actor, licence=licence, amount=amount, action=LicenceAction.ADD_PAYMENT
    )


@transaction.atomic
def licence_return_payment(*, actor: User | None, licence: Licence, amount: Money) -> Licence:
    """P-12: return (refund) a payment; a paid licence that is no longer fully paid goes back
    to issued (or registered if it was never issued)."""
    return _change_payment(
        actor=actor, licence=licence, amount=amount, action=LicenceAction.RETURN_PAYMENT
    )


@transaction.atomic
def licence_change_delivery(
    *,
    actor: User | None,
    licence: Licence,
    delivery_contact_set: ContactSet | None,
    sending_method: str | None = None,
) -> Licence:
    """P-12: change where and how the licence is sent (registered or issued licences)."""
    licence = _lock_licence(actor, licence, LicenceAction.CHANGE_DELIVERY)
    licence.delivery_contact_set = delivery_contact_set
    licence.sending_method = sending_method or licence.sending_method
    _check_delivery(
        person=licence.person,
        sending_method=licence.sending_method,
        delivery_contact_set=delivery_contact_set,
    )
    licence._history_user = actor
    _save(licence, update_fields=["delivery_contact_set", "sending_method", "updated_at"])
    _record(
        licence,
        actor=actor,
        action="delivery_changed",
        from_status=licence.status,
        sending_method=licence.sending_method,
        delivery_contact_set=delivery_contact_set.pk if delivery_contact_set else None,
    )
    return licence


@transaction.atomic
def licence_reactivate(*, actor: User | None, licence: Licence) -> Licence:
    """P-12: a licence whose function is passive is reactivated. When the person holds
    another current matching function in the licence's organisation (e.g. a new one after
    a correction) the licence moves to it; otherwise its own function is activated again."""
    licence = _lock_licence(actor, licence, LicenceAction.REACTIVATE)
    old_function = licence.function
    today = timezone.localdate()
    current = (
        _matching_functions(
            person=licence.person,
            organisation=licence.organisation,
            function_type=licence.licence_type.function_type,
        )
        .filter(Q(to_date__isnull=True) | Q(to_date__gt=today))
        .order_by("from_date", "pk")
        .first()
    )
    if current is None:
        licence.function = function_activate(actor=actor, function=old_function)
    else:
        licence.function = current
    licence._history_user = actor
    _save(licence, update_fields=["function", "updated_at"])
    _record(
        licence,
        actor=actor,
        action="reactivated",
        from_status=licence.status,
        function=licence.function.pk,
        previous_function=old_function.pk,
    )
    return licence
