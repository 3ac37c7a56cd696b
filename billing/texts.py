"""The price engine's texts in the user's language (issue 5).

The engine (`billing.pricing`) stays free of Django: every reason on a line, every issue and
every error carries a `pricing.Text`, an English template with named values (the message
id). This module holds the same templates marked for translation (so `makemessages` finds
them) and renders a Text in the active language, with amounts, numbers and labels formatted
for it. In English the rendering equals the engine's own text (`Line.reason`, the error's
message): tests/billing/test_texts.py checks both.

A template the catalogue does not know, or a translation whose placeholders do not fit, is
shown in English rather than breaking a page.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum

from django.conf import settings
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing import pricing, selectors
from billing.models_ledger import RefundReason
from billing.pricing import config, engine, helpers, lines
from billing.pricing.values import NUMBER_VALUES, format_percent

# The engine's templates and their translatable twins (the literal text is the message id).
TEMPLATES: dict[str, Promise] = {
    # reasons on lines
    engine.MEMBERSHIP_REASON: _("Membership fee {period} {category} {amount} ({rule_id})"),
    engine.FAMILY_CONTACT_SHARE_REASON: _(
        "Membership fee {period} family {family_id}, contact person's share {amount} of {total} "
        "({rule_id})"
    ),
    engine.FAMILY_MEMBER_SHARE_REASON: _(
        "Membership fee {period} family {family_id}, member's share {amount} of {total} ({rule_id})"
    ),
    engine.FAMILY_UNDER_PRICE_REASON: _(
        "Membership fee {period} family {family_id}, {category} {amount} (family total {total}, "
        "under the family price {family_fee}; {rule_id})"
    ),
    engine.ACTIVITY_REASON: _("Activity fee {cohort} {group} {amount} ({rule_id})"),
    engine.VOLUNTEER_REASON: _("Volunteer-work fee {period} {amount} ({rule_id})"),
    engine.INVOICE_FEE_REASON: _("Invoice fee {amount} ({rule_id})"),
    engine.VOLUNTEER_REFUND_REASON: _("{rule_id} {hours} h x {rate}: -{amount}"),
    engine.ADJUSTMENT_REASON: _("{rule_id} -{percent}%: -{amount}"),
    engine.ADJUSTMENT_DETAIL_REASON: _("{rule_id} ({detail}) -{percent}%: -{amount}"),
    engine.MEMBERSHIP_TYPE_DETAIL: _("{membership_type} member"),
    engine.ROLE_OWN_DETAIL: _("{role}, own"),
    engine.ROLE_GUARDIAN_DETAIL: _("{role}, guardian {guardian_id}"),
    engine.SIBLING_DETAIL: _("player {rank} of {count} by age, only the {paying} oldest pay"),
    engine.STARTED_DETAIL: _("started {date}"),
    engine.NEW_COHORT_DETAIL: _("new cohort, age {age}"),
    engine.LEFT_DETAIL: _("left {date}, {leave_reason}"),
    engine.LEFT_REFUND_DETAIL: _("left {date}, {leave_reason}, refund"),
    lines.CONFIDENTIAL_REASON: _("Exemption (confidential): {amount}"),
    # issues and errors of the engine
    engine.DUPLICATE_PERSON: _("Person {person_id} is given twice."),
    engine.UNKNOWN_PERSON: _("Person {person_id} is not among the persons given."),
    engine.UNKNOWN_FAMILY: _("Family {family_id} has no members among the persons given."),
    engine.SINGLE_AND_FAMILY: _(
        "M-11: person {person_id} would hold single and family dues for the same period "
        "({period}); end one of the memberships first."
    ),
    engine.DOUBLE_MEMBERSHIP: _(
        "Person {person_id} has two memberships for the same period ({period}); end one first."
    ),
    engine.FAMILY_TOO_LARGE: _(
        "D-01: family {family_id} has {count} members in its family membership; "
        "at most {maximum} are allowed."
    ),
    engine.FAMILY_MEMBERSHIP_WITHOUT_FAMILY: _(
        "M-11: person {person_id} has a family membership but belongs to no family."
    ),
    engine.NO_FAMILY_FEE: _(
        "M-11: person {person_id} has a family membership, but the season has no family fee."
    ),
    engine.TWO_FAMILY_CONTACTS: _("M-11: family {family_id} has more than one contact person."),
    engine.NO_MEMBERSHIP_PRICE: _(
        "D-01: no membership fee applies to type '{membership_type}' at age {age} "
        "(person {person_id})."
    ),
    engine.NOT_A_MEMBER: _(
        "D-05/M-16: person {person_id} plays or holds a function but has no membership for "
        "{season}."
    ),
    engine.NO_ACTIVITY_FEE: _(
        "D-07: no activity fee is set for {group} cohort {cohort} (person {person_id}); "
        "nothing charged."
    ),
    engine.UNKNOWN_ACTIVITY_GROUP: _(
        "D-07: person {person_id} is active in '{group}', which the season does not define; "
        "nothing charged."
    ),
    engine.NO_INSTALMENT_RULE: _("D-08: the group '{group}' has no instalment rule."),
    engine.NO_ACTIVITY_FEE_TO_SPLIT: _("D-08: there is no activity fee for '{group}' to split."),
    # the season configuration
    config.MEMBERSHIP_BELOW_MINIMUM: _(
        "M-04: the membership fee '{category}' is NOK {amount}; it must be at least NOK {minimum}."
    ),
    config.FAMILY_FEE_BELOW_SHARES: _(
        "M-11: the family fee NOK {fee} cannot give each of {members} members the minimum "
        "NOK {minimum}."
    ),
    config.DUPLICATE_RULE_ID: _("Rule id '{rule_id}' is used twice in the season configuration."),
    config.UNKNOWN_GROUP: _(
        "'{where}' refers to the group '{group}', which the season does not define."
    ),
    config.OVERLAPPING_ACTIVITY_FEES: _(
        "D-07: the activity fees of group '{group}' overlap for birth year {year}."
    ),
    config.PERCENT_OUT_OF_RANGE: _(
        "Rule '{rule_id}': the percentage {percent} is not between 0 and 100."
    ),
    config.NOT_A_MULTIPLE_OF_UNIT: _(
        "'{where}' is NOK {amount}, which is not a whole multiple of the rounding unit {unit}."
    ),
    config.UNKNOWN_RULE: _("The season configuration has no rule '{rule_id}'."),
    config.UNKNOWN_RULE_KIND: _("Unknown rule kind '{kind}'."),
    selectors.NO_FEE_SCHEDULE: _("The club has no fee schedule for {season}."),
    # D-08 instalments
    helpers.INSTALMENT_COUNT_NOT_ALLOWED: _(
        "D-08: {count} instalments are not allowed; choose one of {allowed}."
    ),
    helpers.INSTALMENT_SHARE_TOO_LOW: _(
        "D-08: only {share}% of NOK {amount} falls due before {date}; at least {minimum}% must."
    ),
    helpers.INSTALMENT_SUM_MISMATCH: _(
        "D-08: the instalments add up to NOK {total}, not NOK {amount}."
    ),
}

# Values that are codes with a label per language (the English label is the code itself, so
# the English rendering stays the engine's text).
LABELS: dict[str, dict[str, Promise]] = {
    "role": {
        pricing.RoleKind.MAIN_BOARD: pgettext_lazy("role in a dues reason", "main_board"),
        pricing.RoleKind.GROUP_BOARD: pgettext_lazy("role in a dues reason", "group_board"),
        pricing.RoleKind.TEAM_LEADER: pgettext_lazy("role in a dues reason", "team_leader"),
        pricing.RoleKind.HEAD_COACH: pgettext_lazy("role in a dues reason", "head_coach"),
        pricing.RoleKind.ASSISTANT_COACH: pgettext_lazy("role in a dues reason", "assistant_coach"),
        pricing.RoleKind.COACH: pgettext_lazy("role in a dues reason", "coach"),
        pricing.RoleKind.OFFICIAL: pgettext_lazy("role in a dues reason", "official"),
        pricing.RoleKind.VOLUNTEER: pgettext_lazy("role in a dues reason", "volunteer"),
        pricing.RoleKind.REFEREE: pgettext_lazy("role in a dues reason", "referee"),
    },
    "leave_reason": {
        pricing.LeaveReason.MOVING: pgettext_lazy("why a player left", "moving"),
        pricing.LeaveReason.CLUB_CHANGE: pgettext_lazy("why a player left", "club_change"),
        pricing.LeaveReason.OTHER: pgettext_lazy("why a player left", "other"),
    },
    "membership_type": {
        pricing.MembershipType.ORDINARY: pgettext_lazy("membership in a dues reason", "ordinary"),
        pricing.MembershipType.JUNIOR: pgettext_lazy("membership in a dues reason", "junior"),
        pricing.MembershipType.SENIOR: pgettext_lazy("membership in a dues reason", "senior"),
        pricing.MembershipType.PENSIONER: pgettext_lazy("membership in a dues reason", "pensioner"),
        pricing.MembershipType.OTHER: pgettext_lazy("membership in a dues reason", "other"),
        pricing.MembershipType.FAMILY: pgettext_lazy("membership in a dues reason", "family"),
        pricing.MembershipType.HONORARY: pgettext_lazy("membership in a dues reason", "honorary"),
    },
}


# S-05: "what is sold": a fee's name on invoices, their lines and the invoicing pages (the PDF,
# the run form, the run list, the invoice page: one map).
FEE_LABELS: dict[str, Promise] = {
    pricing.FeeKind.MEMBERSHIP.value: _("Membership fee"),
    pricing.FeeKind.ACTIVITY.value: _("Activity fee"),
    pricing.FeeKind.VOLUNTEER_WORK.value: _("Volunteer work fee"),
    pricing.FeeKind.INVOICE_FEE.value: _("Invoice fee"),
}


def fee_label(fee: str) -> str:
    """A fee kind's name in the active language; an unknown code as it is."""
    label = FEE_LABELS.get(str(fee))
    return str(label) if label is not None else str(fee)


def render(text: pricing.Text | None, fallback: str = "") -> str:
    """`text` in the active language; `fallback` when there is none."""
    if text is None:
        return fallback
    template = TEMPLATES.get(text.template)
    if template is None:
        return str(text)
    values = {name: _value(name, value) for name, value in text.values}
    try:
        return str(template).format(**values)
    except (KeyError, IndexError, ValueError):  # a translation that does not fit
        return str(text)


def line_reason(line: pricing.Line) -> str:
    return render(line.text, line.reason)


def issue_message(issue: pricing.PricingIssue) -> str:
    return render(issue.text, issue.message)


def error_message(error: Exception) -> str:
    """A PricingError (or ConfigError, InstalmentError) in the active language; any other
    error as its text."""
    return render(getattr(error, "text", None), str(error))


def invoice_language(code: str | None) -> str:
    """The language an invoice is written in: the payer's choice (`User.language`, copied to
    `Invoice.language` at issue) when the site offers it, else the site's default (bokmål)."""
    codes = {language for language, _name in settings.LANGUAGES}
    return code if code in codes else settings.LANGUAGE_CODE


def render_all(found: Iterable[pricing.Text], language: str) -> dict[pricing.Text, str]:
    """Each of `found` rendered in `language`, switching the language once (an invoicing run
    renders the reasons of thousands of lines: one switch per language, each text once)."""
    with translation.override(language):
        return {text: render(text) for text in set(found)}


def _value(name: str, value: object) -> str:
    if isinstance(value, pricing.Text):
        return render(value)
    if isinstance(value, Decimal):
        if name in NUMBER_VALUES:
            return _number(value)
        return money(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    labels = LABELS.get(name)
    if labels is not None:
        key = value.value if isinstance(value, Enum) else value
        label = labels.get(key)  # type: ignore[call-overload]
        if label is not None:
            return str(label)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def money(amount: Decimal) -> str:
    """An amount as the active language writes it: 2,400 / 2 400; øre only when there are."""
    places = 0 if amount == amount.to_integral_value() else 2
    return formats.number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)


def amount_with_ore(amount: Decimal | int) -> str:
    """An amount with øre, as the active language writes it: 1,250.00 / 1 250,00 (columns of
    amounts, invoices)."""
    return formats.number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)


# ------------------------------------------------------------------ refunds (issue 6 scope 7)

# A refund's details, built from its fields when shown (its stored `description` is the
# English text of when it was proposed).
VOLUNTEER_REFUND_TEXT = _("{hours} h × NOK {rate}")
VOLUNTEER_HOURS_TEXT = _("{hours} h")
MOVING_AWAY_TEXT = _("{group}, left {date}: {leave_reason}")
PAYMENT_REFUND_TEXT = _("KID {kid}, paid {date}")


def _number(value: Decimal) -> str:
    """3 / 2,5 as the active language writes it (hours: no trailing zeros)."""
    return formats.number_format(Decimal(format_percent(Decimal(value))), use_l10n=True)


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def refund_description(
    refund: object, *, rate: Decimal | None = None, group_name: str | None = None
) -> str:
    """The details of a refund (`billing.models_ledger.Refund`) in the active language: M-15
    hours (times the season's refund per hour `rate`, when known), D-09 group, date and reason
    for leaving, or the KID and date of the payment given back; else its stored text."""
    reason = getattr(refund, "reason", "")
    hours = getattr(refund, "hours", None)
    if reason == RefundReason.VOLUNTEER_WORK and hours is not None:
        if rate is not None:
            return str(VOLUNTEER_REFUND_TEXT).format(
                hours=_number(hours), rate=money(Decimal(rate))
            )
        return str(VOLUNTEER_HOURS_TEXT).format(hours=_number(hours))
    left_on = getattr(refund, "left_on", None)
    if reason == RefundReason.MOVING_AWAY and left_on is not None:
        leave_reason = refund.leave_reason  # type: ignore[attr-defined]
        label = LABELS["leave_reason"].get(leave_reason)
        return str(MOVING_AWAY_TEXT).format(
            group=group_name or refund.group,  # type: ignore[attr-defined]
            date=_date(left_on),
            leave_reason=str(label) if label is not None else leave_reason,
        )
    payment = getattr(refund, "payment", None) if getattr(refund, "payment_id", None) else None
    if payment is not None:
        return str(PAYMENT_REFUND_TEXT).format(
            kid=payment.kid or "–", date=_date(payment.paid_date)
        )
    return str(getattr(refund, "description", ""))
