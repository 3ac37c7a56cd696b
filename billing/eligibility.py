"""Eligibility (D-04, D-06): may a player train, may a player play? A pure function of plain
values, plus the `PaymentStatus` protocol through which the register answers "paid?".

Rules (the example club's):
- D-04: a player whose membership fee is unpaid may not train or play after its due date
  (1 March); a new player is eligible once the membership (and activity) fee are paid.
- D-07: likewise for the activity fee after its due date (4 weeks after invoicing).
- D-06: a new player may train (not play) for up to 3 weeks from the start of a trial
  period; a player from another club only once the former club agreed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

TRIAL_DAYS = 21

MEMBERSHIP_UNPAID = "D-04: membership fee unpaid after {date}"
NEW_PLAYER_UNPAID = "D-04: new player, membership or activity fee not paid yet"
ACTIVITY_UNPAID = "D-07: activity fee unpaid after {date}"
IN_TRIAL = "D-06: trial period until {date} (may train, not play)"
TRIAL_NEEDS_FORMER_CLUB = "D-06: trial period waits for the former club's agreement"
TRIAL_OVER = "D-06: trial period ended {date}"
PAID = "Membership and activity fee paid"
NOT_DUE_YET = "Fees not due yet"


@dataclass(frozen=True, slots=True)
class Trial:
    start: datetime.date
    from_other_club: bool = False
    former_club_agreed: bool = False
    days: int = TRIAL_DAYS  # the club's trial length for the season (D-06)

    @property
    def last_day(self) -> datetime.date:
        return self.start + datetime.timedelta(days=self.days - 1)


@dataclass(frozen=True, slots=True)
class PlayerPayments:
    """What eligibility needs to know about one player on day `on`."""

    membership_paid: bool
    membership_due_date: datetime.date
    activity_paid: bool = True
    activity_due_date: datetime.date | None = None  # None: no activity fee
    new_player: bool = False
    trial: Trial | None = None


@dataclass(frozen=True, slots=True)
class Eligibility:
    may_train: bool
    may_play: bool
    reasons: tuple[str, ...]


def eligibility(payments: PlayerPayments, on: datetime.date) -> Eligibility:
    """D-04/D-06/D-07: may the player train and play on `on`?"""
    reasons: list[str] = []
    membership_ok = payments.membership_paid or (
        not payments.new_player and on <= payments.membership_due_date
    )
    if not membership_ok:
        reasons.append(
            NEW_PLAYER_UNPAID
            if payments.new_player
            else MEMBERSHIP_UNPAID.format(date=payments.membership_due_date.isoformat())
        )
    activity_ok = payments.activity_paid or payments.activity_due_date is None
    if not activity_ok and not payments.new_player:
        activity_ok = on <= payments.activity_due_date
        if not activity_ok:
            reasons.append(ACTIVITY_UNPAID.format(date=payments.activity_due_date.isoformat()))
    elif not activity_ok and NEW_PLAYER_UNPAID not in reasons:
        reasons.append(NEW_PLAYER_UNPAID)
    if membership_ok and activity_ok:
        paid = payments.membership_paid and (
            payments.activity_paid or not payments.activity_due_date
        )
        return Eligibility(True, True, (PAID if paid else NOT_DUE_YET,))
    return _trial(payments.trial, on, tuple(reasons))


def _trial(trial: Trial | None, on: datetime.date, reasons: tuple[str, ...]) -> Eligibility:
    if trial is None or on < trial.start:
        return Eligibility(False, False, reasons)
    if trial.from_other_club and not trial.former_club_agreed:
        return Eligibility(False, False, (*reasons, TRIAL_NEEDS_FORMER_CLUB))
    if on > trial.last_day:
        return Eligibility(False, False, (*reasons, TRIAL_OVER.format(date=trial.last_day)))
    return Eligibility(True, False, (*reasons, IN_TRIAL.format(date=trial.last_day)))


class PaymentStatus(Protocol):
    """Has a person paid a fee of the season? Answered from the invoices and payments by
    `billing.payments_status_eligibility.InvoicePaymentStatus` (an exempted fee, on which
    nothing is owed, counts as paid)."""

    def membership_paid(self, person_id: int) -> bool: ...

    def activity_paid(self, person_id: int, group: str) -> bool: ...
