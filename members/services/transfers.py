"""Writes for transfers (P-15): a person's function in one organisation becomes a new function
in another.

- Types: standard (permanent), loan (temporary), correction (registered in the wrong club).
- Status: registered, approved, correction, missing information; every change writes a
  TransferEvent (who, when, from which status to which).
- The target organisation is active and of the same type as the source; the function type
  and the source organisation are locked once the transfer exists.
- Only transfer administrators act: `transfers.admin` in the from- or the to-organisation's
  tree.
- A deceased person's transfers cannot be added or changed (P-06).
- A person holds at most one licensed function of a type at a time: approval ends the source
  function the day before the new one starts (and the exclusion constraint on functions
  guards it).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Function,
    Organisation,
    OrganisationType,
    Transfer,
    TransferEvent,
    TransferStatus,
    TransferType,
    User,
)
from members.services.common import NOT_ALLOWED
from members.services.competences import lock_living_person
from members.services.functions import function_insert, function_is_ended

TRANSFER_FIELD_LOCKED = _(
    "The person, function, function type and from organisation of a transfer are locked (P-15)."
)
TRANSFER_FIELD_UNKNOWN = _("This field cannot be changed on a transfer.")
TO_ORGANISATION_SAME = _("A transfer goes to another organisation (P-15).")
TO_ORGANISATION_INACTIVE = _("The to organisation must be active (P-15).")
TO_ORGANISATION_OTHER_TYPE = _(
    "The to organisation must be of the same type as the from organisation (%(type)s) (P-15)."
)
FUNCTION_ENDED = _("Only a current function can be transferred (P-15).")
TRANSFER_IN_PROGRESS = _("This function already has a transfer that is not approved (P-15).")
TRANSFER_APPROVED_READ_ONLY = _("An approved transfer cannot be changed (P-15).")
LOAN_NEEDS_END = _("A loan needs an end date (loan until) on or after the transfer date (P-15).")
LOAN_UNTIL_ONLY_FOR_LOANS = _("Only a loan has an end date (loan until) (P-15).")
TRANSFER_DATE_TOO_EARLY = _(
    "The transfer date must be after the start of the function (%(date)s) (P-15)."
)
STATUS_UNCHANGED = _("The transfer already has this status.")

EDITABLE_FIELDS = frozenset(
    {"to_organisation", "transfer_type", "transfer_date", "loan_until", "comment"}
)
LOCKED_FIELDS = frozenset({"person", "function", "function_type", "from_organisation"})


def transfer_may_administer(
    user: User | None, *, from_organisation: Organisation, to_organisation: Organisation
) -> bool:
    """P-15: transfer administrators of the from- or the to-organisation's tree."""
    if user is None:  # the system itself
        return True
    return access.has_capability(
        user, Capability.TRANSFERS_ADMIN, from_organisation
    ) or access.has_capability(user, Capability.TRANSFERS_ADMIN, to_organisation)


def _require_admin(user: User | None, transfer: Transfer) -> None:
    if not transfer_may_administer(
        user,
        from_organisation=transfer.from_organisation,
        to_organisation=transfer.to_organisation,
    ):
        raise PermissionDenied(NOT_ALLOWED)


def _check_target(transfer: Transfer) -> None:
    """P-15: the to-organisation is another, active organisation of the source's type."""
    source, target = transfer.from_organisation, transfer.to_organisation
    if target.pk == source.pk:
        raise ValidationError({"to_organisation": TO_ORGANISATION_SAME})
    if not target.is_active:
        raise ValidationError({"to_organisation": TO_ORGANISATION_INACTIVE})
    if target.organisation_type != source.organisation_type:
        label = OrganisationType(source.organisation_type).label
        raise ValidationError({"to_organisation": TO_ORGANISATION_OTHER_TYPE % {"type": label}})


def _check_dates(transfer: Transfer) -> None:
    if transfer.transfer_type == TransferType.LOAN:
        if transfer.loan_until is None or transfer.loan_until < transfer.transfer_date:
            raise ValidationError({"loan_until": LOAN_NEEDS_END})
    elif transfer.loan_until is not None:
        raise ValidationError({"loan_until": LOAN_UNTIL_ONLY_FOR_LOANS})
    # The source function ends the day before the transfer date, and not before it began.
    if transfer.transfer_date <= transfer.function.from_date:
        raise ValidationError(
            {"transfer_date": TRANSFER_DATE_TOO_EARLY % {"date": transfer.function.from_date}}
        )


def _record(
    transfer: Transfer, *, actor: User | None, from_status: str, comment: str = ""
) -> TransferEvent:
    return TransferEvent.objects.create(
        transfer=transfer,
        actor=actor,
        from_status=from_status,
        to_status=transfer.status,
        comment=comment,
    )


@transaction.atomic
def transfer_create(
    *,
    actor: User | None,
    function: Function,
    to_organisation: Organisation,
    transfer_type: str,
    transfer_date: datetime.date,
    loan_until: datetime.date | None = None,
    comment: str = "",
) -> Transfer:
    """P-15: register the transfer of one of a living person's current functions (P-06)."""
    lock_living_person(actor=actor, person=function.person)
    function = (
        Function.objects.select_for_update(of=("self",))
        .select_related("organisation", "function_type", "person")
        .get(pk=function.pk)
    )
    transfer = Transfer(
        person=function.person,
        function=function,
        function_type=function.function_type,
        from_organisation=function.organisation,
        to_organisation=to_organisation,
        transfer_type=transfer_type,
        transfer_date=transfer_date,
        loan_until=loan_until,
        comment=comment.strip(),
        created_by=actor,
    )
    _require_admin(actor, transfer)
    if function_is_ended(function):
        raise ValidationError({"function": FUNCTION_ENDED})
    if function.transfers_out.exclude(status=TransferStatus.APPROVED).exists():
        raise ValidationError({"function": TRANSFER_IN_PROGRESS})
    _check_target(transfer)
    _check_dates(transfer)
    transfer.full_clean()
    transfer.save()
    _record(transfer, actor=actor, from_status="", comment=transfer.comment)
    return transfer


def _lock_transfer(actor: User | None, transfer: Transfer) -> Transfer:
    """Person first (P-06), then the transfer row: one lock order for every transfer write."""
    lock_living_person(actor=actor, person=transfer.person)
    transfer = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_organisation", "to_organisation", "function", "function_type")
        .get(pk=transfer.pk)
    )
    _require_admin(actor, transfer)
    return transfer


@transaction.atomic
def transfer_update(*, actor: User | None, transfer: Transfer, **changes: Any) -> Transfer:
    """Change a transfer that is not approved: to-organisation, type, dates, comment. The
    person, function, function type and from-organisation are locked (P-15)."""
    locked = dict.fromkeys(sorted(set(changes) & LOCKED_FIELDS), TRANSFER_FIELD_LOCKED)
    unknown = dict.fromkeys(
        sorted(set(changes) - EDITABLE_FIELDS - LOCKED_FIELDS), TRANSFER_FIELD_UNKNOWN
    )
    if locked or unknown:
        raise ValidationError({**locked, **unknown})
    transfer = _lock_transfer(actor, transfer)
    if transfer.status == TransferStatus.APPROVED:
        raise ValidationError(TRANSFER_APPROVED_READ_ONLY, code="approved")
    if isinstance(changes.get("comment"), str):
        changes["comment"] = changes["comment"].strip()
    if changes.get("transfer_type", TransferType.LOAN) != TransferType.LOAN:
        changes.setdefault("loan_until", None)  # only a loan has an end date
    for name, value in changes.items():
        setattr(transfer, name, value)
    _require_admin(actor, transfer)  # also in the new to-organisation's terms
    _check_target(transfer)
    _check_dates(transfer)
    transfer.full_clean()
    transfer.save(update_fields=[*changes, "updated_at"])
    _record(
        transfer,
        actor=actor,
        from_status=transfer.status,
        comment=_("Changed: %(fields)s") % {"fields": ", ".join(sorted(changes))},
    )
    return transfer


@transaction.atomic
def transfer_set_status(
    *, actor: User | None, transfer: Transfer, status: str, comment: str = ""
) -> Transfer:
    """P-15: registered, correction or missing information; "approved" goes through
    transfer_approve. An approved transfer is final."""
    if status == TransferStatus.APPROVED:
        return transfer_approve(actor=actor, transfer=transfer, comment=comment)
    transfer = _lock_transfer(actor, transfer)
    if transfer.status == TransferStatus.APPROVED:
        raise ValidationError(TRANSFER_APPROVED_READ_ONLY, code="approved")
    if transfer.status == status:
        raise ValidationError({"status": STATUS_UNCHANGED})
    before = transfer.status
    transfer.status = status
    transfer.full_clean()
    transfer.save(update_fields=["status", "updated_at"])
    _record(transfer, actor=actor, from_status=before, comment=comment.strip())
    return transfer


@transaction.atomic
def transfer_approve(*, actor: User | None, transfer: Transfer, comment: str = "") -> Transfer:
    """P-15: approve a transfer and move the function.

    - standard and correction: the source function ends the day before the transfer date
      and a new function of the same type starts in the to-organisation on the transfer
      date, open-ended;
    - loan: the new function in the to-organisation runs from the transfer date until
      `loan_until`, and a follow-up function back in the source organisation starts the day
      after `loan_until` (until the source function's own to-date, if it had one).

    So the person never holds two licensed functions of the type on the same day (the
    exclusion constraint on functions guards it too). Idempotent: the transfer row is locked,
    and approving an approved transfer returns it unchanged.
    """
    transfer = _lock_transfer(actor, transfer)
    if transfer.status == TransferStatus.APPROVED:
        return transfer
    _check_target(transfer)
    source = (
        Function.objects.select_for_update(of=("self",))
        .select_related("person", "function_type", "organisation")
        .get(pk=transfer.function_id)
    )
    transfer.function = source
    _check_dates(transfer)
    original_to_date = source.to_date
    day_before = transfer.transfer_date - datetime.timedelta(days=1)
    if source.to_date is None or source.to_date > day_before:
        source.to_date = day_before
        source.full_clean()
        source._history_user = actor
        source.save(update_fields=["to_date", "updated_at"])
    is_loan = transfer.transfer_type == TransferType.LOAN
    transfer.new_function = function_insert(
        actor=actor,
        person=source.person,
        organisation=transfer.to_organisation,
        function_type=source.function_type,
        from_date=transfer.transfer_date,
        to_date=transfer.loan_until if is_loan else None,
    )
    if is_loan and (original_to_date is None or original_to_date > transfer.loan_until):
        function_insert(
            actor=actor,
            person=source.person,
            organisation=source.organisation,
            function_type=source.function_type,
            from_date=transfer.loan_until + datetime.timedelta(days=1),
            to_date=original_to_date,
        )
    before = transfer.status
    transfer.status = TransferStatus.APPROVED
    transfer.save(update_fields=["status", "new_function", "updated_at"])
    _record(transfer, actor=actor, from_status=before, comment=comment.strip())
    return transfer
