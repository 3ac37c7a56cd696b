"""What the engine returns: lines with their reasons, and totals per person, family and
season. The dues preview and the invoicing runs both read these (one source)."""

from __future__ import annotations

import bisect
import dataclasses
import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from moneyed import Money

from billing.pricing.values import (
    ZERO,
    FamilyId,
    FeeKind,
    GroupCode,
    LineKind,
    Period,
    PersonId,
    Severity,
    TeamId,
    Text,
    to_money,
)

CONFIDENTIAL_RULE_ID = "confidential"
CONFIDENTIAL_REASON = "Exemption (confidential): {amount}"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of dues. Charges are positive; exemptions, reductions and refunds negative.

    reason: an English text that names the rule ("D-09 two sports -30%: -720"); the
    structured fields next to it (rule_id, percent, base_amount, quantity) let the UI build a
    translated text. base_amount: what a percentage was taken of (the amount still due after
    the earlier steps), or the family price for a family share. source_person_id: whose role
    or agreement produced an exemption (a guardian, for D-10). confidential: D-11 hardship;
    show `redacted()` to everyone but the general manager. for_fee: on an invoice-fee line
    (M-10), the fee whose invoice it is charged on. text: the reason as a translatable Text
    (`str(text) == reason`); the pages render it in the user's language (billing.texts).
    """

    person_id: PersonId
    fee: FeeKind
    kind: LineKind
    amount: Decimal
    rule_id: str
    reason: str
    period: Period
    invoice_date: datetime.date
    due_date: datetime.date
    group: GroupCode | None = None
    cohort: str | None = None
    team_id: TeamId | None = None
    category: str | None = None
    family_id: FamilyId | None = None
    percent: Decimal | None = None
    base_amount: Decimal | None = None
    quantity: Decimal | None = None
    source_person_id: PersonId | None = None
    confidential: bool = False
    for_fee: FeeKind | None = None
    text: Text | None = None

    @property
    def money(self) -> Money:
        return to_money(self.amount)

    @property
    def invoice_key(self) -> tuple[PersonId, FeeKind, GroupCode | None, datetime.date]:
        """Lines with the same key belong to the same invoice: one per person, fee, group and
        period. An invoice-fee line goes on the invoice of the fee it is charged with
        (`for_fee`). Refund lines share the key of the charge they refund; they are paid back
        (credit note or payout), not invoiced."""
        return (self.person_id, self.for_fee or self.fee, self.group, self.period.start)

    def redacted(self) -> Line:
        """The line as anyone but the general manager may see it (D-11)."""
        if not self.confidential:
            return self
        redacted_text = Text(CONFIDENTIAL_REASON, (("amount", self.amount),))
        return dataclasses.replace(
            self,
            rule_id=CONFIDENTIAL_RULE_ID,
            reason=str(redacted_text),
            percent=None,
            source_person_id=None,
            text=redacted_text,
        )


@dataclass(frozen=True, slots=True)
class PricingIssue:
    """A person or family the engine warns about (priced anyway) or could not price."""

    severity: Severity
    rule_id: str
    message: str
    person_id: PersonId | None = None
    family_id: FamilyId | None = None
    text: Text | None = None  # the message as a translatable Text


@dataclass(frozen=True, slots=True)
class PersonDues:
    person_id: PersonId
    family_id: FamilyId | None
    lines: tuple[Line, ...]
    total: Decimal
    issues: tuple[PricingIssue, ...] = ()

    @property
    def money(self) -> Money:
        return to_money(self.total)

    def total_for(self, fee: FeeKind) -> Decimal:
        return sum((line.amount for line in self.lines if line.fee is fee), ZERO)

    def lines_for(self, fee: FeeKind) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.fee is fee)

    def redacted(self) -> PersonDues:
        return dataclasses.replace(self, lines=tuple(line.redacted() for line in self.lines))


@dataclass(frozen=True, slots=True)
class FamilyDues:
    """M-11: a family's members (contact person first) and their totals. `membership_total`
    never exceeds the family price for members of the family membership."""

    family_id: FamilyId
    contact_person_id: PersonId | None
    members: tuple[PersonDues, ...]
    total: Decimal
    membership_total: Decimal

    @property
    def money(self) -> Money:
        return to_money(self.total)

    def member(self, person_id: PersonId) -> PersonDues:
        for dues in self.members:
            if dues.person_id == person_id:
                return dues
        raise KeyError(person_id)


@dataclass(frozen=True, slots=True)
class SeasonDues:
    """Every person's dues for a club's season (persons by id), the families, and the issues
    (a family or person with an error is left out and listed in `issues`)."""

    club_id: str
    season: int
    persons: tuple[PersonDues, ...]
    families: tuple[FamilyDues, ...]
    issues: tuple[PricingIssue, ...]
    total: Decimal

    def lines(self) -> Iterator[Line]:
        for dues in self.persons:
            yield from dues.lines

    def person(self, person_id: PersonId) -> PersonDues:
        """One person's dues (persons are sorted by id: a binary search)."""
        index = bisect.bisect_left(self.persons, person_id, key=_dues_person_id)
        if index < len(self.persons) and self.persons[index].person_id == person_id:
            return self.persons[index]
        raise KeyError(person_id)


def _dues_person_id(dues: PersonDues) -> PersonId:
    return dues.person_id


def _positional_builder(cls: type) -> Callable[..., Any]:
    """A constructor for the engine's hot path: the same frozen instance as `cls(*values)`
    (every field, in declaration order), without the frozen __init__'s `object.__setattr__`
    per field, which costs about a fifth of a 100,000-member season."""
    setters = tuple(cls.__dict__[f.name].__set__ for f in dataclasses.fields(cls))
    new = object.__new__

    def build(*values: Any) -> Any:
        instance = new(cls)
        for setter, value in zip(setters, values, strict=True):
            setter(instance, value)
        return instance

    return build


build_line: Callable[..., Line] = _positional_builder(Line)
build_person_dues: Callable[..., PersonDues] = _positional_builder(PersonDues)
