"""Fee schedules, exemptions and the facts the price engine needs beyond the member register
(issue 5): a club's fee schedule per season (the stored form of `billing.pricing.SeasonConfig`),
activity fees per group and birth-year cohort (D-07), volunteer contracts (D-10), written
agreements and hardship exemptions (D-10, D-11), volunteer hours (M-15), trial periods (D-06),
payment preferences (M-10) and instalment plans (D-08).

The engine (`billing.pricing`) stays pure: `FeeSchedule.to_config()` and
`billing.selectors.person_facts()` turn these rows into its plain values.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from simple_history.models import HistoricalRecords

from billing import pricing
from members.models import Organisation, Person

CURRENCY = pricing.CURRENCY
MONEY = {"max_digits": 12, "decimal_places": 2, "default_currency": CURRENCY}
TRIAL_DAYS = 21  # D-06: a new player may train up to 3 weeks before registering


class FeeSchedule(models.Model):
    """A club's fee schedule for one season (issue 5, scope 4): what the annual meeting and
    the group boards decided. Every amount, age limit, date and percentage is data here;
    reductions and exemptions are `Rule` records stored with `Rule.to_data()`."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="fee_schedules", verbose_name=_("club")
    )
    season = models.PositiveSmallIntegerField(
        _("season"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    # D-01: [{"category", "amount", "rule_id", "min_age", "max_age", "membership_types"}];
    # the pensioner fee is the category with min_age 67.
    membership_prices = models.JSONField(_("membership prices"), default=list)
    membership_minimum = MoneyField(_("membership minimum (M-04)"), **MONEY)
    membership_invoice_date = models.DateField(_("membership invoice date"))
    membership_due_date = models.DateField(_("membership due date"))
    membership_period_mode = models.CharField(
        _("membership period"),
        max_length=20,
        choices=[(mode.value, mode.value) for mode in pricing.PeriodMode],
        default=pricing.PeriodMode.CALENDAR_YEAR,
    )
    membership_due_days = models.PositiveSmallIntegerField(_("days to pay"), default=14)
    family_fee = MoneyField(_("family fee"), null=True, blank=True, **MONEY)
    family_max_members = models.PositiveSmallIntegerField(_("family size limit"), default=7)
    # D-06: how long a new player may train before registering (3 weeks in the example).
    trial_days = models.PositiveSmallIntegerField(
        _("trial period (days)"), default=TRIAL_DAYS, validators=[MinValueValidator(1)]
    )
    invoice_fee = MoneyField(_("invoice fee (M-10)"), null=True, blank=True, **MONEY)
    invoice_fee_kinds = ArrayField(
        models.CharField(max_length=20),
        default=list,
        blank=True,
        verbose_name=_("invoice fee on invoices of"),
    )
    volunteer_fee = MoneyField(_("volunteer-work fee (M-15)"), null=True, blank=True, **MONEY)
    volunteer_invoice_date = models.DateField(
        _("volunteer-work invoice date"), null=True, blank=True
    )
    volunteer_due_date = models.DateField(_("volunteer-work due date"), null=True, blank=True)
    volunteer_min_age = models.PositiveSmallIntegerField(_("volunteer-work from age"), default=12)
    volunteer_max_age = models.PositiveSmallIntegerField(_("volunteer-work until age"), default=80)
    volunteer_refund_per_hour = MoneyField(_("refund per hour"), default=Decimal(100), **MONEY)
    volunteer_refund_capped = models.BooleanField(_("refund at most the fee"), default=True)
    rules = models.JSONField(_("reductions and exemptions"), default=list)
    # D-11: the fixed help text printed on every invoice (public support schemes, whom to ask)
    invoice_help_text = models.TextField(_("help text on every invoice (D-11)"), blank=True)
    rounding_unit = models.DecimalField(
        _("rounding unit"), max_digits=4, decimal_places=2, default=Decimal(1)
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.UniqueConstraint(fields=["club", "season"], name="fee_schedule_club_season"),
            # M-04: the membership fee is at least NOK 50 a year.
            models.CheckConstraint(
                condition=Q(membership_minimum__gte=50), name="fee_schedule_minimum_50"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.club} {self.season}"

    def to_config(self) -> pricing.SeasonConfig:
        """The engine's SeasonConfig (groups and cohort fees from the prefetched
        `activity_groups` and their `cohort_fees`). Raises pricing.ConfigError."""
        groups = list(self.activity_groups.all())
        return pricing.SeasonConfig(
            club_id=str(self.club_id),
            season=self.season,
            membership_prices=tuple(_membership_price(data) for data in self.membership_prices),
            membership_schedule=pricing.MembershipSchedule(
                invoice_date=self.membership_invoice_date,
                due_date=self.membership_due_date,
                period_mode=pricing.PeriodMode(self.membership_period_mode),
                due_days=self.membership_due_days,
            ),
            membership_minimum=self.membership_minimum.amount,
            family_fee=(
                pricing.FamilyFee(
                    amount=self.family_fee.amount, max_members=self.family_max_members
                )
                if self.family_fee is not None
                else None
            ),
            groups=tuple(group.to_config() for group in groups),
            activity_fees=tuple(
                fee.to_config(group.code) for group in groups for fee in group.cohort_fees.all()
            ),
            volunteer_fee=self._volunteer_config(),
            invoice_fee=(
                pricing.InvoiceFee(
                    amount=self.invoice_fee.amount,
                    fee_kinds=tuple(pricing.FeeKind(kind) for kind in self.invoice_fee_kinds),
                )
                if self.invoice_fee is not None
                else None
            ),
            rules=tuple(pricing.rule_from_data(data) for data in self.rules),
            rounding_unit=self.rounding_unit.normalize(),
        )

    def _volunteer_config(self) -> pricing.VolunteerFee | None:
        if self.volunteer_fee is None:
            return None
        return pricing.VolunteerFee(
            amount=self.volunteer_fee.amount,
            invoice_date=self.volunteer_invoice_date,
            due_date=self.volunteer_due_date,
            min_age=self.volunteer_min_age,
            max_age=self.volunteer_max_age,
            refund_per_hour=self.volunteer_refund_per_hour.amount,
            refund_capped_at_fee=self.volunteer_refund_capped,
        )


def _membership_price(data: dict[str, Any]) -> pricing.MembershipPrice:
    return pricing.MembershipPrice(
        category=data["category"],
        amount=Decimal(str(data["amount"])),
        rule_id=data.get("rule_id", "D-01"),
        min_age=data.get("min_age"),
        max_age=data.get("max_age"),
        membership_types=tuple(data.get("membership_types") or ("ordinary", "family", "honorary")),
    )


def membership_price_data(price: pricing.MembershipPrice) -> dict[str, Any]:
    return {
        "category": price.category,
        "amount": str(price.amount),
        "rule_id": price.rule_id,
        "min_age": price.min_age,
        "max_age": price.max_age,
        "membership_types": list(price.membership_types),
    }


class ActivityGroup(models.Model):
    """D-07/D-08: a group's (sport section's) activity season, invoicing date, payment term and
    instalment rule in a fee schedule. `code` is the engine's group code (e.g. "football");
    `organisation` is the group in the tree whose players pay it."""

    fee_schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.CASCADE, related_name="activity_groups"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    season_start = models.DateField(_("season start"))
    season_end = models.DateField(_("season end"))
    invoice_date = models.DateField(_("invoice date"))
    due_days = models.PositiveSmallIntegerField(_("days to pay"), default=28)
    instalments_paid_before = models.DateField(_("70% paid before"), null=True, blank=True)
    instalment_counts = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    instalment_min_share_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(70)
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("activity group")
        verbose_name_plural = _("activity groups")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["fee_schedule", "code"], name="activity_group_code"),
            models.CheckConstraint(
                condition=Q(season_end__gte=F("season_start")), name="activity_group_season"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def to_config(self) -> pricing.ActivityGroup:
        instalments = None
        if self.instalments_paid_before is not None:
            instalments = pricing.InstalmentRule(
                paid_before=self.instalments_paid_before,
                allowed_counts=tuple(self.instalment_counts) or (2, 4),
                min_share_percent=self.instalment_min_share_percent.normalize(),
            )
        return pricing.ActivityGroup(
            group=self.code,
            name=self.name,
            season_start=self.season_start,
            season_end=self.season_end,
            invoice_date=self.invoice_date,
            due_days=self.due_days,
            instalments=instalments,
        )


class CohortFee(models.Model):
    """D-07: the activity fee of a group for birth years `birth_year_from`..`birth_year_to`."""

    activity_group = models.ForeignKey(
        ActivityGroup, on_delete=models.CASCADE, related_name="cohort_fees"
    )
    birth_year_from = models.PositiveSmallIntegerField(_("born from"))
    birth_year_to = models.PositiveSmallIntegerField(_("born until"))
    amount = MoneyField(_("amount"), **MONEY)
    rule_id = models.CharField(max_length=50, default="D-07")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("activity fee")
        verbose_name_plural = _("activity fees")
        ordering = ["-birth_year_to", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year_to__gte=F("birth_year_from")), name="cohort_fee_years"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="cohort_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_group} {self.birth_year_from}-{self.birth_year_to}"

    def to_config(self, group_code: str) -> pricing.ActivityFee:
        return pricing.ActivityFee(
            group=group_code,
            birth_year_from=self.birth_year_from,
            birth_year_to=self.birth_year_to,
            amount=self.amount.amount,
            rule_id=self.rule_id,
        )


class VolunteerContract(models.Model):
    """D-10: role exemptions require a signed volunteer contract on file."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("volunteer contract")
        verbose_name_plural = _("volunteer contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("signed_on")),
                name="volunteer_contract_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.signed_on}"

    def covers(self, start: datetime.date, end: datetime.date) -> bool:
        return self.signed_on <= end and (self.valid_until is None or self.valid_until >= start)


class AgreementKind(models.TextChoices):
    """Which kind of written agreement; each grants one of the club's rules (`rule_id`)."""

    ROLE = "role", _("Coach or volunteer agreement (D-10)")
    ASSISTANT_COACH = "assistant_coach", _("Assistant coach application (D-10)")
    REFEREE = "referee", _("Referee agreement (D-10)")
    HARDSHIP = "hardship", _("Hardship exemption (D-11, confidential)")
    WORK_INSTEAD = "work_instead", _("Work instead of paying (D-11, confidential)")


# The example club's rule for each kind (billing.pricing.example); a club may choose another.
DEFAULT_RULE_IDS = {
    AgreementKind.ROLE: "D-10 other coaches and volunteers",
    AgreementKind.ASSISTANT_COACH: "D-10 assistant coaches",
    AgreementKind.REFEREE: "D-10 referees",
    AgreementKind.HARDSHIP: "D-11 hardship",
    AgreementKind.WORK_INSTEAD: "D-11 work instead of paying",
}
CONFIDENTIAL_KINDS = (AgreementKind.HARDSHIP, AgreementKind.WORK_INSTEAD)


class ExemptionAgreement(models.Model):
    """A written agreement or approved application (D-10) or a hardship exemption decided by
    the general manager (D-11, confidential): for the person and/or their children, in one
    group or team or the whole club, for the season."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    season = models.PositiveSmallIntegerField(_("season"))
    kind = models.CharField(_("kind"), max_length=20, choices=AgreementKind.choices)
    rule_id = models.CharField(_("rule"), max_length=50)
    for_self = models.BooleanField(_("for the person"), default=True)
    for_children = models.BooleanField(_("for their children"), default=False)
    children = models.ManyToManyField(
        Person, blank=True, related_name="+", verbose_name=_("children")
    )
    group = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    team = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    fee_kinds = ArrayField(models.CharField(max_length=20), default=list, verbose_name=_("fees"))
    percent = models.DecimalField(
        _("percentage"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[children])

    class Meta:
        verbose_name = _("exemption agreement")
        verbose_name_plural = _("exemption agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(for_self=True) | Q(for_children=True), name="agreement_beneficiary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.season}"

    @property
    def is_confidential(self) -> bool:
        return self.kind in CONFIDENTIAL_KINDS


class VolunteerHours(models.Model):
    """M-15: hours of volunteer work in a season (NOK 100 back per hour in the example)."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    season = models.PositiveSmallIntegerField(_("season"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, default=Decimal(0))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("volunteer hours")
        verbose_name_plural = _("volunteer hours")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "club", "season"], name="volunteer_hours_once"
            ),
            models.CheckConstraint(condition=Q(hours__gte=0), name="volunteer_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.season}: {self.hours}"


class PaymentPreference(models.Model):
    """M-10: how a person pays the club; without a row the person pays by invoice."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("club")
    )
    method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=[(method.value, method.value) for method in pricing.PaymentMethod],
        default=pricing.PaymentMethod.INVOICE,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payment preference")
        verbose_name_plural = _("payment preferences")
        constraints = [
            models.UniqueConstraint(fields=["person", "club"], name="payment_preference_once")
        ]

    def __str__(self) -> str:
        return self.method


class TrialPeriod(models.Model):
    """D-06: a new player may train with a team for up to 3 weeks before registering; one who
    comes from another club only after the former club agreed."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    team = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    start_date = models.DateField(_("start"))
    from_other_club = models.BooleanField(_("comes from another club"), default=False)
    former_club_agreed = models.BooleanField(_("former club agreed"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trial period")
        verbose_name_plural = _("trial periods")

    def __str__(self) -> str:
        return f"{self.person} {self.start_date}"


class InstalmentPlan(models.Model):
    """D-08: a person's activity fee of one group split into 2 or 4 instalments."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    club = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    season = models.PositiveSmallIntegerField(_("season"))
    group_code = models.SlugField(_("group"), max_length=50)
    total = MoneyField(_("total"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("instalment plan")
        verbose_name_plural = _("instalment plans")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "club", "season", "group_code"], name="instalment_plan_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.group_code} {self.season}"


class Instalment(models.Model):
    plan = models.ForeignKey(InstalmentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    amount = MoneyField(_("amount"), **MONEY)
    due_date = models.DateField(_("due date"))

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.amount}"


from billing.models_delivery import *  # noqa: E402, F403  (issue 6: delivery and reminders)
from billing.models_invoicing import *  # noqa: E402, F403  (issue 6)
from billing.models_ledger import *  # noqa: E402, F403  (issue 6: refunds and the annual report)
from billing.models_online import *  # noqa: E402, F403  (issue 6: online payment)
from billing.models_payments import *  # noqa: E402, F403  (issue 6: payments)
