"""Who owes dues, for the members app (issue 5 scope 1): the warning when a person joins a
club while owing dues to another club of the register, and the list of members owing dues
for more than a year, to strike off.

Invoices and payments belong to billing, and members must not import billing (billing ->
members, ARCHITECTURE.md). So billing registers a provider here when it starts
(`billing.apps`, implemented in `billing.dues_status`), the way it registers its membership
settings with `members.club_settings`. Without a provider nobody owes anything.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from members.models import Organisation

# Issue 5 scope 1: "owing dues for more than a year".
STRIKE_OFF_AFTER_DAYS = 365


@dataclass(frozen=True)
class OwedDues:
    """What a person owes one club: the sum still owed on their overdue invoices and the
    due date of the oldest of them."""

    club_id: int
    club_name: str
    amount: Decimal
    oldest_due_date: datetime.date


class DuesProvider(Protocol):
    def outstanding_dues(
        self, person_ids: Iterable[int], *, exclude_club: Organisation | None, on: datetime.date
    ) -> dict[int, list[OwedDues]]:
        """Per person, the clubs (other than `exclude_club`) to which they owe overdue dues
        on `on`, oldest debt first; persons owing nothing are absent."""

    def owing_since(
        self, club: Organisation, *, due_before: datetime.date, on: datetime.date
    ) -> dict[int, OwedDues]:
        """Per person, what they owe `club` on `on` on invoices due before `due_before`
        (the persons to strike off)."""


_providers: list[DuesProvider] = []


def register_provider(provider: DuesProvider) -> None:
    """Called once by the app that keeps invoices (billing); safe to call twice."""
    if provider not in _providers:
        _providers.append(provider)


def outstanding_dues(
    person_ids: Iterable[int],
    *,
    exclude_club: Organisation | None = None,
    on: datetime.date,
) -> dict[int, list[OwedDues]]:
    ids = list(person_ids)
    result: dict[int, list[OwedDues]] = {}
    for provider in _providers:
        for person_id, debts in provider.outstanding_dues(
            ids, exclude_club=exclude_club, on=on
        ).items():
            result.setdefault(person_id, []).extend(debts)
    return result


def owing_for_more_than_a_year(club: Organisation, *, on: datetime.date) -> dict[int, OwedDues]:
    """Per person, what they owe `club` on invoices more than a year past their due date."""
    due_before = on - datetime.timedelta(days=STRIKE_OFF_AFTER_DAYS)
    result: dict[int, OwedDues] = {}
    for provider in _providers:
        result.update(provider.owing_since(club, due_before=due_before, on=on))
    return result
