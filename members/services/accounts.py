"""Writes and the one read for bank accounts (P-09): at most one account per type, one
default account, owner name defaulting to the person's name, a Norwegian account number
(S-04, MOD11) or, for a foreign account, an IBAN (with an optional BIC), never both. A
deceased person's accounts are locked (P-06).

Bank accounts are sensitive: only those who may edit the person (persons.edit) and the person
themself may see them (`may_view_bank_accounts`); only persons.edit may change them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import kontonr

from clubadmin import access
from clubadmin.capabilities import Capability
from members import validators
from members.models import BankAccount, BankAccountType, Person, User
from members.services.persons import (
    FIELD_CANNOT_BE_CHANGED,
    ensure_not_deceased,
    lock_person,
    require_person_edit,
)

BANK_ACCOUNT_FIELDS = frozenset({"account_type", "account_number", "iban", "bic", "owner_name"})

ACCOUNT_NUMBER_OR_IBAN = _(
    "Give either a Norwegian account number or, for a foreign account, an IBAN (P-09)."
)
NOT_BOTH_NUMBER_AND_IBAN = _("Give a Norwegian account number or an IBAN, not both (P-09).")
INVALID_ACCOUNT_NUMBER = _(
    "%(value)s is not a valid Norwegian account number: 11 digits with a MOD11 check digit (S-04)."
)
INVALID_IBAN = _("%(value)s is not a valid IBAN (P-09).")
INVALID_BIC = _("%(value)s is not a valid BIC (8 or 11 characters) (P-09).")
BIC_ONLY_WITH_IBAN = _("A BIC belongs to a foreign account: give it with an IBAN (P-09).")
INVALID_ACCOUNT_TYPE = _("Choose an account type.")
ACCOUNT_TYPE_TAKEN = _("The person already has a %(type)s account: one account per type (P-09).")
ALREADY_DEFAULT = _("This account is already the default account.")


def may_view_bank_accounts(user: User | None, person: Person) -> bool:
    """P-09: bank accounts are sensitive: persons.edit on the person, or the person themself."""
    if user is None:
        return True
    if user.is_authenticated and user.person_id is not None and user.person_id == person.pk:
        return True
    return access.can(user, Capability.PERSONS_EDIT, person)


def bank_account_list(*, person: Person) -> QuerySet[BankAccount]:
    """The person's accounts, the default first. Check `may_view_bank_accounts` first."""
    return BankAccount.objects.filter(person=person).order_by("-is_default", "account_type", "pk")


def _validate_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """S-04 / IBAN / BIC checks; returns the values with the numbers in compact form."""
    result = dict(values)
    number = kontonr.compact(result.get("account_number") or "")
    iban = stdnum_iban.compact(result.get("iban") or "")
    bic = stdnum_bic.compact(result.get("bic") or "")
    if number and iban:
        raise ValidationError(
            {"iban": ValidationError(NOT_BOTH_NUMBER_AND_IBAN, code="number_and_iban")}
        )
    if not number and not iban:
        raise ValidationError(
            {"account_number": ValidationError(ACCOUNT_NUMBER_OR_IBAN, code="required")}
        )
    errors: dict[str, ValidationError] = {}
    if number:
        try:
            validators.validate_bank_account(number)
        except ValidationError:
            errors["account_number"] = ValidationError(
                INVALID_ACCOUNT_NUMBER, code="invalid_account_number", params={"value": number}
            )
        if bic:
            errors["bic"] = ValidationError(BIC_ONLY_WITH_IBAN, code="bic_without_iban")
    if iban and not stdnum_iban.is_valid(iban):
        errors["iban"] = ValidationError(INVALID_IBAN, code="invalid_iban", params={"value": iban})
    if bic and not errors.get("bic"):
        try:
            stdnum_bic.validate(bic)
        except StdnumError:
            errors["bic"] = ValidationError(INVALID_BIC, code="invalid_bic", params={"value": bic})
    if errors:
        raise ValidationError(errors)
    result.update(account_number=number, iban=iban, bic=bic)
    return result


def _check_type_free(person: Person, account_type: str, exclude_pk: int | None = None) -> None:
    if account_type not in BankAccountType.values:
        raise ValidationError(
            {"account_type": ValidationError(INVALID_ACCOUNT_TYPE, code="invalid_choice")}
        )
    taken = BankAccount.objects.filter(person=person, account_type=account_type)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        label = BankAccountType(account_type).label
        raise ValidationError(
            {
                "account_type": ValidationError(
                    ACCOUNT_TYPE_TAKEN, code="account_type_taken", params={"type": label}
                )
            }
        )


def _reject_unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - BANK_ACCOUNT_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), FIELD_CANNOT_BE_CHANGED))


def _locked_for_change(actor: User | None, person: Person | int) -> Person:
    person = lock_person(person)
    require_person_edit(actor, person)
    ensure_not_deceased(person)
    return person


def _save(account: BankAccount, actor: User | None, fields: list[str] | None = None) -> None:
    account.full_clean()
    account._history_user = actor
    if fields is None:
        account.save()
    else:
        account.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def account_create(*, actor: User | None, person: Person, **fields: Any) -> BankAccount:
    """P-09: a new bank account; the person's first account becomes the default account; the
    owner name defaults to the person's full name."""
    _reject_unknown(fields)
    person = _locked_for_change(actor, person)
    values = _validate_numbers(fields)
    values["account_type"] = values.get("account_type") or BankAccountType.PRIVATE
    values["owner_name"] = (values.get("owner_name") or "").strip() or person.full_name
    _check_type_free(person, values["account_type"])
    has_default = BankAccount.objects.filter(person=person, is_default=True).exists()
    account = BankAccount(person=person, is_default=not has_default, **values)
    _save(account, actor)
    return account


@transaction.atomic
def account_update(*, actor: User | None, account: BankAccount, **fields: Any) -> BankAccount:
    """P-09: change an account's type, number, IBAN/BIC or owner. It stays with its person."""
    _reject_unknown(fields)
    person = _locked_for_change(actor, account.person_id)
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    current = {name: getattr(account, name) for name in BANK_ACCOUNT_FIELDS}
    values = _validate_numbers({**current, **fields})
    values["owner_name"] = (values.get("owner_name") or "").strip() or person.full_name
    if values["account_type"] != current["account_type"]:
        _check_type_free(person, values["account_type"], exclude_pk=account.pk)
    changed = [name for name in sorted(BANK_ACCOUNT_FIELDS) if values[name] != current[name]]
    if not changed:
        return account
    for name in changed:
        setattr(account, name, values[name])
    _save(account, actor, changed)
    return account


@transaction.atomic
def account_delete(*, actor: User | None, account: BankAccount) -> None:
    """Delete an account; when it was the default, the oldest remaining account becomes the
    default (P-09: one default account while there are accounts)."""
    _locked_for_change(actor, account.person_id)
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    account._history_user = actor
    account.delete()
    if account.is_default:
        successor = BankAccount.objects.filter(person_id=account.person_id).order_by("pk").first()
        if successor is not None:
            successor.is_default = True
            _save(successor, actor, ["is_default"])


@transaction.atomic
def account_set_default(*, actor: User | None, account: BankAccount) -> BankAccount:
    """P-09: make this the default account; the flag moves in one transaction."""
    _locked_for_change(actor, account.person_id)
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    if account.is_default:
        raise ValidationError(ALREADY_DEFAULT, code="already_default")
    for previous in BankAccount.objects.filter(person_id=account.person_id, is_default=True):
        previous.is_default = False
        _save(previous, actor, ["is_default"])
    account.is_default = True
    _save(account, actor, ["is_default"])
    return account
