"""The change history of a person card: the person, their contact sets and (for those who
may see them) their bank accounts, read from django-simple-history: who changed what, when,
from which value to which. Three queries whatever the number of records (no N+1)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from stdnum.no import kontonr

from members.models import BankAccount, BankAccountType, ContactSet, Person

# Not worth showing: derived columns and timestamps the history has anyway.
EXCLUDED_FIELDS = ("id", "person", "created_at", "updated_at")


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: str
    subject: str
    action: str  # "created", "changed", "deleted"
    reason: str
    # True for the first recorded change of a row created without history (e.g. imported):
    # what it was before is unknown.
    earlier_unknown: bool = False
    changes: list[FieldChange] = field(default_factory=list)
    sort_key: tuple = ()


def _display(model_field: models.Field, value: object) -> str:
    if value in (None, ""):
        return "–"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if model_field.name == "account_number":
        return kontonr.format(str(value))
    return str(value)


def _label(model: type[models.Model], name: str) -> str:
    return str(capfirst(model._meta.get_field(name).verbose_name))


def _who(record: models.Model) -> str:
    user = record.history_user
    if user is None:
        return _("System")
    return user.person.full_name if user.person_id else user.get_username()


def _subject(model: type[models.Model], record: models.Model) -> str:
    if model is Person:
        return _("Person")
    if model is ContactSet:
        return _("Contact set “%(label)s”") % {"label": record.label}
    return _("Bank account (%(type)s)") % {"type": BankAccountType(record.account_type).label}


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [
        each
        for each in model._meta.concrete_fields
        if each.editable and each.name not in EXCLUDED_FIELDS
    ]


def _entries(model: type[models.Model], records: Iterable[models.Model]) -> list[HistoryEntry]:
    by_object: dict[int, list[models.Model]] = defaultdict(list)
    for record in records:
        by_object[record.id].append(record)
    fields = {each.name: each for each in _fields(model)}
    entries = []
    for versions in by_object.values():
        versions.sort(key=lambda record: (record.history_date, record.history_id))
        previous = None
        for record in versions:
            entry = HistoryEntry(
                when=record.history_date,
                who=_who(record),
                subject=_subject(model, record),
                action={"+": "created", "-": "deleted"}.get(record.history_type, "changed"),
                reason=record.history_change_reason or "",
                sort_key=(record.history_date, model.__name__, record.history_id),
            )
            if previous is None and record.history_type == "+":
                entry.changes = [
                    FieldChange(_label(model, name), "–", _display(each, getattr(record, name)))
                    for name, each in fields.items()
                    if getattr(record, name) not in (None, "", False)
                ]
            elif previous is None and record.history_type == "~":
                entry.earlier_unknown = True
            elif previous is not None and record.history_type != "-":
                delta = record.diff_against(previous, included_fields=list(fields))
                entry.changes = [
                    FieldChange(
                        _label(model, change.field),
                        _display(fields[change.field], change.old),
                        _display(fields[change.field], change.new),
                    )
                    for change in delta.changes
                ]
            previous = record
            if entry.action != "changed" or entry.changes or entry.earlier_unknown:
                entries.append(entry)
    return entries


def person_history(person: Person, *, include_bank_accounts: bool) -> list[HistoryEntry]:
    """Every recorded change of the person card, newest first."""
    sources: list[tuple[type[models.Model], models.QuerySet]] = [
        (Person, Person.history.filter(id=person.pk)),
        (ContactSet, ContactSet.history.filter(person_id=person.pk)),
    ]
    if include_bank_accounts:
        sources.append((BankAccount, BankAccount.history.filter(person_id=person.pk)))
    entries = []
    for model, queryset in sources:
        entries += _entries(model, queryset.select_related("history_user__person"))
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    return entries
