"""Small pure rules the engine is built from; each is tested on its own with its rule id."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from billing.pricing.config import InstalmentRule, InvoiceFee, VolunteerFee
from billing.pricing.values import (
    HUNDRED,
    WHOLE_KRONER,
    ZERO,
    InstalmentError,
    PaymentMethod,
    Period,
    format_nok,
    format_percent,
    round_to,
)

PENSIONER_AGE = 67  # D-01, the example club's value (configured as MembershipPrice.min_age)

COHORT_PREFIXES = {"male": "G", "female": "J"}  # gutter / jenter, as Norwegian clubs write

INSTALMENT_COUNT_NOT_ALLOWED = "D-08: {count} instalments are not allowed; choose one of {allowed}."
INSTALMENT_SHARE_TOO_LOW = (
    "D-08: only {share}% of NOK {amount} falls due before {date}; at least {minimum}% must."
)
INSTALMENT_SUM_MISMATCH = "D-08: the instalments add up to NOK {total}, not NOK {amount}."


def age_in_year(birth_date: datetime.date, year: int) -> int:
    """The age a person reaches in the calendar year `year` (S-07; D-01; M-15)."""
    return year - birth_date.year


def is_pensioner(birth_date: datetime.date, year: int, pensioner_age: int = PENSIONER_AGE) -> bool:
    """D-01: the pensioner fee applies from the calendar year the person turns 67."""
    return age_in_year(birth_date, year) >= pensioner_age


def cohort_label(birth_date: datetime.date, gender: str = "unknown") -> str:
    """D-07: the birth-year cohort, e.g. "G2015" (boys), "J2015" (girls), "2015" (unknown)."""
    return f"{COHORT_PREFIXES.get(gender, '')}{birth_date.year}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anniversary_in(start: datetime.date, year: int) -> datetime.date:
    """The date-to-date renewal day of a membership begun on `start`, in `year` (M-12);
    29 February becomes 1 March in a common year."""
    try:
        return start.replace(year=year)
    except ValueError:
        return datetime.date(year, 3, 1)


def date_to_date_period(start: datetime.date, year: int) -> Period:
    """M-12: the 12-month period that begins on the membership's anniversary in `year`."""
    first_day = anniversary_in(start, year)
    return Period(first_day, anniversary_in(start, year + 1) - datetime.timedelta(days=1))


# ---------------------------------------------------------------- M-15, M-10


def volunteer_refund(hours: Decimal, fee: VolunteerFee, unit: Decimal = WHOLE_KRONER) -> Decimal:
    """M-15: NOK 100 back per hour of volunteer work, at most the fee (when capped)."""
    if hours <= ZERO:
        return ZERO
    refund = round_to(hours * fee.refund_per_hour, unit)
    return min(refund, fee.amount) if fee.refund_capped_at_fee else refund


def invoice_fee_amount(payment_method: PaymentMethod, fee: InvoiceFee | None) -> Decimal:
    """M-10: paying online costs nothing; paying by invoice adds the invoice fee (per person,
    also for each member of a family)."""
    if fee is None or payment_method is not PaymentMethod.INVOICE:
        return ZERO
    return fee.amount


# ---------------------------------------------------------------- D-08 instalments


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    amount: Decimal
    due_date: datetime.date


def build_instalment_plan(
    amount: Decimal,
    count: int,
    first_due_date: datetime.date,
    rule: InstalmentRule,
    *,
    months_between: int = 1,
    unit: Decimal = WHOLE_KRONER,
) -> tuple[Instalment, ...]:
    """D-08: split `amount` into `count` equal instalments (rounded to `unit`; the rounding
    remainder goes on the first, so the plan is front-loaded), due `months_between` months
    apart from `first_due_date`. Raises InstalmentError for a plan that breaks the rule."""
    if count not in rule.allowed_counts:
        raise InstalmentError.of(
            INSTALMENT_COUNT_NOT_ALLOWED,
            rule="D-08",
            count=count,
            allowed=" or ".join(str(c) for c in rule.allowed_counts),
        )
    share = (amount / count).quantize(unit, rounding=ROUND_DOWN)
    first = amount - share * (count - 1)
    plan = tuple(
        Instalment(
            number=index + 1,
            amount=first if index == 0 else share,
            due_date=add_months(first_due_date, index * months_between),
        )
        for index in range(count)
    )
    check_instalment_plan(amount, plan, rule)
    return plan


def check_instalment_plan(
    amount: Decimal, instalments: tuple[Instalment, ...], rule: InstalmentRule
) -> None:
    """D-08: the instalments add up to the amount, their number is allowed, and at least
    `min_share_percent` of it falls due strictly before `paid_before`."""
    if len(instalments) not in rule.allowed_counts:
        raise InstalmentError.of(
            INSTALMENT_COUNT_NOT_ALLOWED,
            rule="D-08",
            count=len(instalments),
            allowed=" or ".join(str(c) for c in rule.allowed_counts),
        )
    total = sum((instalment.amount for instalment in instalments), ZERO)
    if total != amount:
        raise InstalmentError.of(
            INSTALMENT_SUM_MISMATCH,
            rule="D-08",
            total=format_nok(total),
            amount=format_nok(amount),
        )
    early = sum((i.amount for i in instalments if i.due_date < rule.paid_before), ZERO)
    if amount > ZERO and early * HUNDRED < rule.min_share_percent * amount:
        raise InstalmentError.of(
            INSTALMENT_SHARE_TOO_LOW,
            rule="D-08",
            share=format_percent(round_to(early * HUNDRED / amount, Decimal("0.1"))),
            amount=format_nok(amount),
            date=rule.paid_before.isoformat(),
            minimum=format_percent(rule.min_share_percent),
        )
