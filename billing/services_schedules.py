"""Writes of the fee schedule pages (issue 5, scopes 4 and 5): a club's fee schedule for a
season, its membership fees per category (D-01, M-04), activity groups and their cohort fees
(D-07, D-08), its reduction and exemption rules (D-09..D-11, D-05), and a copy of it for
another season. Creating a schedule is billing.services.fee_schedule_create.

Every service needs billing.manage in the club, locks the schedule row, validates, saves
with the acting user in the history, and checks at the end that the whole schedule still
gives the engine a valid season configuration (`FeeSchedule.to_config()`): when it does
not, the ValidationError names the rule and the transaction leaves nothing changed.
D-11: the confidential exemption rules are changed by the club's general manager only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing import pricing, selectors, services, texts
from billing.models import (
    CURRENCY,
    ActivityGroup,
    CohortFee,
    ExemptionAgreement,
    FeeSchedule,
    InstalmentPlan,
    membership_price_data,
)
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, OrganisationType, User

NOT_ALLOWED = services.NOT_ALLOWED
SEASON_TAKEN = _("The club already has a fee schedule for %(season)s.")
NO_MEMBERSHIP_FEE = _("D-01: the schedule needs at least one membership fee.")
VOLUNTEER_DATES_REQUIRED = _("M-15: a volunteer-work fee needs its invoicing date and due date.")
DUE_BEFORE_INVOICE = _("The due date cannot be before the invoicing date.")
AGE_BAND_REVERSED = _("M-15: the lowest age cannot be above the highest age.")
RULE_ID_TAKEN = _("The schedule already has a rule '%(rule_id)s'.")
NO_SUCH_RULE = _("The schedule has no rule '%(rule_id)s'.")
RULE_IN_USE = _(
    "Agreements of %(season)s grant the rule '%(rule_id)s'; switch it off instead of removing it."
)
CONFIDENTIAL_RULES_GENERAL_MANAGER_ONLY = _(
    "D-11: only the club's general manager changes the confidential exemption rules."
)
GROUP_CODE_TAKEN = _("The schedule already has a group with the code '%(code)s'.")
GROUP_NOT_OF_CLUB = _("Choose a group of the club.")
GROUP_HAS_PLANS = _("Instalment plans of %(season)s use the group '%(code)s'; it stays.")

GENERAL_FIELDS = (
    "membership_minimum",
    "membership_invoice_date",
    "membership_due_date",
    "membership_period_mode",
    "membership_due_days",
    "family_fee",
    "family_max_members",
    "trial_days",
    "invoice_fee",
    "invoice_fee_kinds",
    "volunteer_fee",
    "volunteer_invoice_date",
    "volunteer_due_date",
    "volunteer_min_age",
    "volunteer_max_age",
    "volunteer_refund_per_hour",
    "volunteer_refund_capped",
    "rounding_unit",
    "invoice_help_text",
)
MONEY_FIELDS = frozenset(
    {
        "membership_minimum",
        "family_fee",
        "invoice_fee",
        "volunteer_fee",
        "volunteer_refund_per_hour",
    }
)
GROUP_FIELDS = (
    "name",
    "organisation",
    "season_start",
    "season_end",
    "invoice_date",
    "due_days",
    "instalments_paid_before",
    "instalment_counts",
    "instalment_min_share_percent",
)


# ------------------------------------------------------------------ helpers


def _require(actor: User | None, club: Organisation) -> None:
    if actor is not None and not access.has_capability(actor, Capability.BILLING_MANAGE, club):
        raise PermissionDenied(NOT_ALLOWED)


def _locked(actor: User | None, schedule: FeeSchedule) -> FeeSchedule:
    _require(actor, schedule.club)
    return FeeSchedule.objects.select_for_update().select_related("club").get(pk=schedule.pk)


def _save(instance: models.Model, actor: User | None, fields: Iterable[str] | None = None) -> None:
    instance.full_clean()
    instance._history_user = actor  # simple_history: who made the change
    instance.save(update_fields=list(fields) if fields is not None else None)


def _delete(instance: models.Model, actor: User | None) -> None:
    instance._history_user = actor
    instance.delete()


def _nok(amount: Decimal | Money | None) -> Money | None:
    if amount is None or isinstance(amount, Money):
        return amount
    return Money(amount, CURRENCY)


def check_priceable(schedule: FeeSchedule) -> pricing.SeasonConfig:
    """The stored schedule as the engine's configuration; a ValidationError naming the rule
    (in the user's language) when the engine refuses it."""
    stored = selectors.fee_schedule(schedule.club, schedule.season)
    assert stored is not None
    try:
        return stored.to_config()
    except pricing.ConfigError as error:
        raise ValidationError(
            texts.error_message(error), code=error.rule_id or "configuration"
        ) from error


def _touch(schedule: FeeSchedule, actor: User | None) -> None:
    """A change of the schedule's groups or fees is a change of the schedule (its
    `updated_at` and a history row name who made it)."""
    _save(schedule, actor, ["updated_at"])


# ------------------------------------------------------------------ the schedule


@transaction.atomic
def fee_schedule_update(*, actor: User | None, schedule: FeeSchedule, **fields: Any) -> FeeSchedule:
    """Change the schedule's own settings (GENERAL_FIELDS): membership minimum and dates
    (M-04, D-02, M-12), family fee and size limit (D-01, M-11), invoice fee (M-10),
    volunteer-work fee, age band and refund per hour (M-15), rounding, the D-11 help text.
    Amounts are Decimals in NOK (None: no such fee)."""
    unknown = set(fields) - set(GENERAL_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of the schedule's settings: {sorted(unknown)}")
    schedule = _locked(actor, schedule)
    for name, value in fields.items():
        setattr(schedule, name, _nok(value) if name in MONEY_FIELDS else value)
    check_settings(schedule)
    _save(schedule, actor, [*fields, "updated_at"])
    check_priceable(schedule)
    return schedule


def check_settings(schedule: FeeSchedule) -> None:
    """Rules of one schedule's settings that the engine takes for granted."""
    errors: dict[str, list[Any]] = {}
    if schedule.membership_due_date < schedule.membership_invoice_date:
        errors["membership_due_date"] = [DUE_BEFORE_INVOICE]
    if schedule.volunteer_fee is not None:
        if schedule.volunteer_invoice_date is None or schedule.volunteer_due_date is None:
            errors["volunteer_fee"] = [VOLUNTEER_DATES_REQUIRED]
        elif schedule.volunteer_due_date < schedule.volunteer_invoice_date:
            errors["volunteer_due_date"] = [DUE_BEFORE_INVOICE]
    if schedule.volunteer_min_age > schedule.volunteer_max_age:
        errors["volunteer_max_age"] = [AGE_BAND_REVERSED]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def fee_schedule_set_membership_prices(
    *, actor: User | None, schedule: FeeSchedule, prices: Sequence[pricing.MembershipPrice]
) -> FeeSchedule:
    """D-01: the membership fees, each for some membership categories and ages (the lowest
    that applies wins; a category without its own fee pays as ordinary). M-04: each at least
    the minimum."""
    if not prices:
        raise ValidationError(NO_MEMBERSHIP_FEE)
    schedule = _locked(actor, schedule)
    schedule.membership_prices = [membership_price_data(price) for price in prices]
    _save(schedule, actor, ["membership_prices", "updated_at"])
    check_priceable(schedule)
    return schedule


@transaction.atomic
def fee_schedule_copy(*, actor: User | None, schedule: FeeSchedule, season: int) -> FeeSchedule:
    """The schedule as the club's schedule for `season`: dates and birth-year cohorts move
    by the years between (pricing.copied_to_season), groups keep their links to the club's
    groups, and the D-11 help text comes along."""
    _require(actor, schedule.club)
    if FeeSchedule.objects.filter(club=schedule.club, season=season).exists():
        raise ValidationError({"season": [SEASON_TAKEN % {"season": season}]})
    source = selectors.fee_schedule(schedule.club, schedule.season)
    assert source is not None
    try:
        config = pricing.copied_to_season(source.to_config(), season)
    except pricing.ConfigError as error:
        raise ValidationError(texts.error_message(error), code="configuration") from error
    copy = services.fee_schedule_create(
        actor=actor,
        club=source.club,
        config=config,
        group_organisations={
            group.code: group.organisation
            for group in source.activity_groups.all()
            if group.organisation is not None
        },
    )
    if source.invoice_help_text:
        copy.invoice_help_text = source.invoice_help_text
        _save(copy, actor, ["invoice_help_text", "updated_at"])
    return copy


# ------------------------------------------------------------------ rules (D-05, D-09..D-11)


def _rules(schedule: FeeSchedule) -> list[pricing.Rule]:
    return [pricing.rule_from_data(data) for data in schedule.rules]


def _index(rules: list[pricing.Rule], rule_id: str) -> int:
    for index, rule in enumerate(rules):
        if rule.rule_id == rule_id:
            return index
    raise ValidationError(NO_SUCH_RULE % {"rule_id": rule_id})


def is_confidential(rule: pricing.Rule) -> bool:
    """D-11: hardship and working off the fee (exemptions whose reason only the general
    manager sees)."""
    return isinstance(rule.params, pricing.AgreementExemptionParams) and rule.params.confidential


def may_change_rule(actor: User | None, schedule: FeeSchedule, rule: pricing.Rule) -> bool:
    return (
        actor is None
        or not is_confidential(rule)
        or selectors.is_general_manager(actor, schedule.club)
    )


def _require_rule_change(actor: User | None, schedule: FeeSchedule, *rules: pricing.Rule) -> None:
    if not all(may_change_rule(actor, schedule, rule) for rule in rules):
        raise PermissionDenied(CONFIDENTIAL_RULES_GENERAL_MANAGER_ONLY)


def _store_rules(schedule: FeeSchedule, rules: list[pricing.Rule], actor: User | None) -> None:
    schedule.rules = [rule.to_data() for rule in rules]
    _save(schedule, actor, ["rules", "updated_at"])
    check_priceable(schedule)


@transaction.atomic
def fee_schedule_rule_add(
    *, actor: User | None, schedule: FeeSchedule, rule: pricing.Rule
) -> FeeSchedule:
    """A new reduction or exemption rule, applied after the rules of its kind's phase."""
    schedule = _locked(actor, schedule)
    rules = _rules(schedule)
    if any(existing.rule_id == rule.rule_id for existing in rules):
        raise ValidationError({"rule_id": [RULE_ID_TAKEN % {"rule_id": rule.rule_id}]})
    _require_rule_change(actor, schedule, rule)
    rules.append(rule)
    _store_rules(schedule, rules, actor)
    return schedule


@transaction.atomic
def fee_schedule_rule_update(
    *, actor: User | None, schedule: FeeSchedule, rule: pricing.Rule
) -> FeeSchedule:
    """Change the rule with `rule.rule_id` (its conditions, effect, statement, switch). The
    id stays: the lines and agreements cite it."""
    schedule = _locked(actor, schedule)
    rules = _rules(schedule)
    index = _index(rules, rule.rule_id)
    _require_rule_change(actor, schedule, rules[index], rule)
    rules[index] = rule
    _store_rules(schedule, rules, actor)
    return schedule


@transaction.atomic
def fee_schedule_rule_switch(
    *, actor: User | None, schedule: FeeSchedule, rule_id: str, enabled: bool
) -> FeeSchedule:
    """Switch a rule on or off for the club (issue 5, scope 5)."""
    schedule = _locked(actor, schedule)
    rules = _rules(schedule)
    index = _index(rules, rule_id)
    _require_rule_change(actor, schedule, rules[index])
    rules[index] = dataclasses.replace(rules[index], enabled=enabled)
    _store_rules(schedule, rules, actor)
    return schedule


@transaction.atomic
def fee_schedule_rule_move(
    *, actor: User | None, schedule: FeeSchedule, rule_id: str, earlier: bool
) -> FeeSchedule:
    """Apply a rule before (or after) the previous (next) rule of its phase: within a phase
    the engine applies rules in the schedule's order (the first exemption that applies
    takes the fee; percentages are taken one after the other)."""
    schedule = _locked(actor, schedule)
    rules = _rules(schedule)
    index = _index(rules, rule_id)
    same_phase = [i for i, rule in enumerate(rules) if rule.phase == rules[index].phase]
    position = same_phase.index(index) + (-1 if earlier else 1)
    if 0 <= position < len(same_phase):
        other = same_phase[position]
        rules[index], rules[other] = rules[other], rules[index]
        _store_rules(schedule, rules, actor)
    return schedule


@transaction.atomic
def fee_schedule_rule_delete(*, actor: User | None, schedule: FeeSchedule, rule_id: str) -> None:
    """Remove a rule no agreement of the season grants (else switch it off)."""
    schedule = _locked(actor, schedule)
    rules = _rules(schedule)
    index = _index(rules, rule_id)
    _require_rule_change(actor, schedule, rules[index])
    if ExemptionAgreement.objects.filter(
        club=schedule.club, season=schedule.season, rule_id=rule_id
    ).exists():
        raise ValidationError(RULE_IN_USE % {"season": schedule.season, "rule_id": rule_id})
    del rules[index]
    _store_rules(schedule, rules, actor)


# ------------------------------------------------------------------ groups and cohort fees (D-07)


def _check_group_organisation(schedule: FeeSchedule, organisation: Organisation | None) -> None:
    if organisation is None:
        return
    if organisation.organisation_type != OrganisationType.GROUP or not organisation.path.startswith(
        schedule.club.path
    ):
        raise ValidationError({"organisation": [GROUP_NOT_OF_CLUB]})


@transaction.atomic
def activity_group_create(
    *, actor: User | None, schedule: FeeSchedule, code: str, **fields: Any
) -> ActivityGroup:
    """D-07/D-08: a group's activity season, invoicing date, payment term and instalment
    rule (GROUP_FIELDS); its cohort fees follow with cohort_fees_set."""
    schedule = _locked(actor, schedule)
    if schedule.activity_groups.filter(code=code).exists():
        raise ValidationError({"code": [GROUP_CODE_TAKEN % {"code": code}]})
    _check_group_organisation(schedule, fields.get("organisation"))
    last = schedule.activity_groups.aggregate(last=Max("position"))["last"]
    group = ActivityGroup(
        fee_schedule=schedule,
        code=code,
        position=0 if last is None else last + 1,
        **{name: value for name, value in fields.items() if name in GROUP_FIELDS},
    )
    _save(group, actor)
    _touch(schedule, actor)
    check_priceable(schedule)
    return group


@transaction.atomic
def activity_group_update(
    *, actor: User | None, group: ActivityGroup, **fields: Any
) -> ActivityGroup:
    """Change a group's settings (GROUP_FIELDS). The code stays: rules, agreements and
    instalment plans name the group by it."""
    unknown = set(fields) - set(GROUP_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of an activity group: {sorted(unknown)}")
    schedule = _locked(actor, group.fee_schedule)
    group = ActivityGroup.objects.select_for_update().get(pk=group.pk)
    _check_group_organisation(schedule, fields.get("organisation"))
    for name, value in fields.items():
        setattr(group, name, value)
    _save(group, actor, fields)
    _touch(schedule, actor)
    check_priceable(schedule)
    return group


@transaction.atomic
def activity_group_delete(*, actor: User | None, group: ActivityGroup) -> None:
    """Remove a group and its cohort fees; refused while a rule names the group (the
    engine's check) or an instalment plan of the season uses it."""
    schedule = _locked(actor, group.fee_schedule)
    group = ActivityGroup.objects.select_for_update().get(pk=group.pk)
    if InstalmentPlan.objects.filter(
        club=schedule.club, season=schedule.season, group_code=group.code
    ).exists():
        raise ValidationError(GROUP_HAS_PLANS % {"season": schedule.season, "code": group.code})
    for fee in group.cohort_fees.all():
        _delete(fee, actor)
    _delete(group, actor)
    _touch(schedule, actor)
    check_priceable(schedule)


@transaction.atomic
def cohort_fees_set(
    *, actor: User | None, group: ActivityGroup, fees: Sequence[pricing.ActivityFee]
) -> list[CohortFee]:
    """D-07: the group's activity fees per birth-year cohort, as a whole. A cohort kept
    (same birth years) is changed in place, so its history tells how its fee changed."""
    schedule = _locked(actor, group.fee_schedule)
    group = ActivityGroup.objects.select_for_update().get(pk=group.pk)
    existing = {
        (fee.birth_year_from, fee.birth_year_to): fee
        for fee in group.cohort_fees.select_for_update().order_by("pk")
    }
    kept: list[CohortFee] = []
    for wanted in fees:
        row = existing.pop((wanted.birth_year_from, wanted.birth_year_to), None)
        if row is None:
            row = CohortFee(
                activity_group=group,
                birth_year_from=wanted.birth_year_from,
                birth_year_to=wanted.birth_year_to,
            )
        elif row.amount.amount == wanted.amount and row.rule_id == wanted.rule_id:
            kept.append(row)
            continue
        row.amount = _nok(wanted.amount)
        row.rule_id = wanted.rule_id
        _save(row, actor)
        kept.append(row)
    for row in existing.values():
        _delete(row, actor)
    _touch(schedule, actor)
    check_priceable(schedule)
    return kept
