"""Forms of the fee schedule pages (issue 5, scopes 4 and 5). They parse and check input
with clear messages that name the rule; billing.services_schedules applies it and checks the
whole schedule with the price engine."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing import pricing
from billing.models import FeeSchedule
from billing.pricing.config import PARAMS_BY_KIND
from members.models import MembershipCategory, Organisation

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal(0)}
PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal(0), "max_value": Decimal(100)}
CHECKBOXES = forms.CheckboxSelectMultiple

MEMBERSHIP_BELOW_50 = _("M-04: the membership fee is at least NOK 50 a year.")
BELOW_MINIMUM = _("M-04: at least the membership minimum, NOK %(minimum)s.")
FAMILY_FEE_TOO_LOW = _(
    "M-11: the family fee must give each of the %(members)s members at least the minimum "
    "NOK %(minimum)s, so at least NOK %(total)s."
)
FAMILY_LIMIT_WITHOUT_FEE = _("M-11: give the family fee, or leave the family out.")
VOLUNTEER_DATES_REQUIRED = _("M-15: a volunteer-work fee needs its invoicing date and due date.")
DUE_BEFORE_INVOICE = _("The due date cannot be before the invoicing date.")
AGE_BAND_REVERSED = _("M-15: the lowest age cannot be above the highest age.")
INVOICE_FEE_WITHOUT_KINDS = _("M-10: choose the invoices that get the invoice fee.")
AGES_REVERSED = _("The lowest age cannot be above the highest age.")
NO_PRICES = _("D-01: the schedule needs at least one membership fee.")
SEASON_END_BEFORE_START = _("The season cannot end before it starts.")
INSTALMENTS_WITHOUT_DATE = _("D-08: give the date before which the share must be paid.")
YEARS_REVERSED = _("D-07: the first birth year cannot be after the last.")
COHORTS_OVERLAP = _("D-07: the cohorts %(first)s and %(second)s overlap.")
TWO_GROUPS_NEEDED = _("D-09: choose at least two groups.")
SEASON_TAKEN = _("The club already has a fee schedule for %(season)s.")

FEE_KIND_CHOICES = [
    (pricing.FeeKind.MEMBERSHIP.value, _("Membership fee")),
    (pricing.FeeKind.ACTIVITY.value, _("Activity fees")),
    (pricing.FeeKind.VOLUNTEER_WORK.value, _("Volunteer-work fee")),
]
PERIOD_MODE_CHOICES = [
    (pricing.PeriodMode.CALENDAR_YEAR.value, _("Calendar year, due by the due date (D-02)")),
    (pricing.PeriodMode.DATE_TO_DATE.value, _("12 months from purchase (M-12)")),
]
ROUNDING_CHOICES = [("1", _("Whole kroner")), ("0.01", _("Øre"))]
ROLE_CHOICES = [
    (pricing.RoleKind.MAIN_BOARD.value, _("Main board")),
    (pricing.RoleKind.GROUP_BOARD.value, _("Group board")),
    (pricing.RoleKind.TEAM_LEADER.value, _("Team leader")),
    (pricing.RoleKind.HEAD_COACH.value, _("Head coach")),
    (pricing.RoleKind.ASSISTANT_COACH.value, _("Assistant coach")),
    (pricing.RoleKind.COACH.value, _("Coach")),
    (pricing.RoleKind.OFFICIAL.value, _("Official (general manager, treasurer, registrar)")),
    (pricing.RoleKind.VOLUNTEER.value, _("Volunteer")),
    (pricing.RoleKind.REFEREE.value, _("Referee")),
]
BENEFICIARY_CHOICES = [
    (pricing.Beneficiary.SELF.value, _("The role holder")),
    (pricing.Beneficiary.CHILDREN.value, _("The role holder's own children")),
]
SCOPE_CHOICES = [
    (pricing.RoleScope.ALL.value, _("All activity fees")),
    (pricing.RoleScope.GROUP.value, _("Activity fees in the role's group")),
    (pricing.RoleScope.TEAM.value, _("Activity fees on the role's team")),
]
LEAVE_REASON_CHOICES = [
    (pricing.LeaveReason.MOVING.value, _("Moving (school, military service and the like)")),
    (pricing.LeaveReason.CLUB_CHANGE.value, _("Changing club")),
    (pricing.LeaveReason.OTHER.value, _("Other reasons")),
]
RULE_KIND_CHOICES = [
    (pricing.RuleKind.MEMBERSHIP_TYPE_EXEMPTION.value, _("Exemption by membership (D-05)")),
    (pricing.RuleKind.ROLE_EXEMPTION.value, _("Exemption by role (D-10)")),
    (pricing.RuleKind.AGREEMENT_EXEMPTION.value, _("Exemption by agreement (D-11)")),
    (pricing.RuleKind.SIBLINGS.value, _("Siblings (D-09)")),
    (pricing.RuleKind.TWO_SPORTS.value, _("Several sports (D-09)")),
    (pricing.RuleKind.LATE_START.value, _("Late start (D-09)")),
    (pricing.RuleKind.MOVING_AWAY.value, _("Moving away (D-09)")),
]


def _decimal(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.normalize() + 0  # 500.00 -> 500


# ------------------------------------------------------------------ a new season


class ScheduleCreateForm(forms.Form):
    """A schedule for a new season: the example club's, or a copy of one of the club's."""

    season = forms.IntegerField(label=_("Season"), min_value=2000, max_value=2100)
    source = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args: Any, seasons: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken = set(seasons)
        self.fields["source"].choices = [
            *[(str(season), _("A copy of %(season)s") % {"season": season}) for season in seasons],
            ("example", _("The example schedule")),
        ]
        if not self.is_bound and seasons:
            self.initial.setdefault("season", max(seasons) + 1)

    def clean_season(self) -> int:
        season = self.cleaned_data["season"]
        if season in self.taken:
            raise forms.ValidationError(SEASON_TAKEN % {"season": season})
        return season


# ------------------------------------------------------------------ the schedule's settings


class ScheduleSettingsForm(forms.Form):
    """Everything of a schedule that is one value: membership minimum and dates, family,
    invoice fee, volunteer-work fee, rounding, the D-11 help text."""

    membership_minimum = forms.DecimalField(
        label=_("Lowest membership fee (M-04)"),
        help_text=_("Every member's personal membership line is at least this, in a family too."),
        error_messages={"min_value": MEMBERSHIP_BELOW_50},
        **{**MONEY, "min_value": Decimal(50)},
    )
    membership_period_mode = forms.ChoiceField(
        label=_("Membership period"), choices=PERIOD_MODE_CHOICES
    )
    membership_invoice_date = forms.DateField(label=_("Membership fee invoiced on"), **DATE)
    membership_due_date = forms.DateField(
        label=_("Membership fee due on (D-02)"),
        help_text=_("A paid year is valid until next season's due date."),
        **DATE,
    )
    membership_due_days = forms.IntegerField(
        label=_("Days to pay for members who join later"), min_value=0, max_value=365
    )
    family_fee = forms.DecimalField(
        label=_("Family price (M-11, D-01)"),
        required=False,
        help_text=_("A family never pays more than this for membership. Empty: no family price."),
        **MONEY,
    )
    family_max_members = forms.IntegerField(
        label=_("Most members in a family (D-01)"), min_value=1, max_value=50
    )
    trial_days = forms.IntegerField(
        label=_("Trial period in days (D-06)"),
        min_value=1,
        max_value=365,
        help_text=_("How long a new player may train before registering."),
    )
    invoice_fee = forms.DecimalField(
        label=_("Invoice fee (M-10)"),
        required=False,
        help_text=_("Per person and invoice for those who pay by invoice instead of online."),
        **MONEY,
    )
    invoice_fee_kinds = forms.MultipleChoiceField(
        label=_("Invoice fee on invoices of"),
        choices=FEE_KIND_CHOICES,
        required=False,
        widget=CHECKBOXES,
    )
    volunteer_fee = forms.DecimalField(
        label=_("Volunteer-work fee (M-15)"),
        required=False,
        help_text=_("Invoiced on its own early in the year. Empty: no volunteer-work fee."),
        **MONEY,
    )
    volunteer_invoice_date = forms.DateField(
        label=_("Volunteer-work fee invoiced on"), required=False, **DATE
    )
    volunteer_due_date = forms.DateField(
        label=_("Volunteer-work fee due on"), required=False, **DATE
    )
    volunteer_min_age = forms.IntegerField(
        label=_("Volunteer-work fee from age"), min_value=0, max_value=120
    )
    volunteer_max_age = forms.IntegerField(
        label=_("Volunteer-work fee until age"),
        min_value=0,
        max_value=120,
        help_text=_("Ages reached in the calendar year."),
    )
    volunteer_refund_per_hour = forms.DecimalField(
        label=_("Refund per hour of volunteer work"), **MONEY
    )
    volunteer_refund_capped = forms.BooleanField(
        label=_("Refund at most the volunteer-work fee"), required=False
    )
    rounding_unit = forms.ChoiceField(label=_("Round amounts to"), choices=ROUNDING_CHOICES)
    invoice_help_text = forms.CharField(
        label=_("Help text on every invoice (D-11)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For families who cannot pay: public support schemes first, and whom to contact "
            "confidentially."
        ),
    )

    @classmethod
    def initial_for(cls, schedule: FeeSchedule) -> dict[str, Any]:
        money = {"membership_minimum", "family_fee", "invoice_fee", "volunteer_fee"}
        initial: dict[str, Any] = {}
        for name in cls.base_fields:
            value = getattr(schedule, name)
            if name in money or name == "volunteer_refund_per_hour":
                value = None if value is None else _decimal(value.amount)
            initial[name] = value
        initial["rounding_unit"] = "0.01" if schedule.rounding_unit < 1 else "1"
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        invoice, due = data.get("membership_invoice_date"), data.get("membership_due_date")
        if invoice and due and due < invoice:
            self.add_error("membership_due_date", DUE_BEFORE_INVOICE)
        self._clean_family(data)
        if data.get("invoice_fee") is not None and not data.get("invoice_fee_kinds"):
            self.add_error("invoice_fee_kinds", INVOICE_FEE_WITHOUT_KINDS)
        self._clean_volunteer(data)
        return data

    def _clean_family(self, data: dict[str, Any]) -> None:
        fee, members = data.get("family_fee"), data.get("family_max_members")
        minimum = data.get("membership_minimum")
        if fee is not None and members and minimum is not None and fee < minimum * members:
            self.add_error(
                "family_fee",
                FAMILY_FEE_TOO_LOW
                % {"members": members, "minimum": minimum, "total": minimum * members},
            )

    def _clean_volunteer(self, data: dict[str, Any]) -> None:
        invoice, due = data.get("volunteer_invoice_date"), data.get("volunteer_due_date")
        if data.get("volunteer_fee") is not None and (invoice is None or due is None):
            self.add_error("volunteer_fee", VOLUNTEER_DATES_REQUIRED)
        if invoice and due and due < invoice:
            self.add_error("volunteer_due_date", DUE_BEFORE_INVOICE)
        low, high = data.get("volunteer_min_age"), data.get("volunteer_max_age")
        if low is not None and high is not None and low > high:
            self.add_error("volunteer_max_age", AGE_BAND_REVERSED)

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["rounding_unit"] = Decimal(data["rounding_unit"])
        return data


# ------------------------------------------------------------------ membership fees (D-01)


class MembershipPriceForm(forms.Form):
    category = forms.CharField(
        label=_("Name"), max_length=50, help_text=_("Shown on the line, e.g. member, pensioner.")
    )
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    rule_id = forms.CharField(label=_("Rule"), max_length=50, initial="D-01")
    min_age = forms.IntegerField(label=_("From age"), required=False, min_value=0, max_value=120)
    max_age = forms.IntegerField(label=_("Until age"), required=False, min_value=0, max_value=120)
    membership_types = forms.MultipleChoiceField(
        label=_("For memberships of the categories"),
        choices=MembershipCategory.choices,
        widget=CHECKBOXES,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", AGES_REVERSED)
        return data

    def price(self) -> pricing.MembershipPrice:
        data = self.cleaned_data
        return pricing.MembershipPrice(
            category=data["category"],
            amount=data["amount"],
            rule_id=data["rule_id"],
            min_age=data.get("min_age"),
            max_age=data.get("max_age"),
            membership_types=tuple(data["membership_types"]),
        )

    @staticmethod
    def initial_for(price: pricing.MembershipPrice) -> dict[str, Any]:
        return {
            "category": price.category,
            "amount": _decimal(price.amount),
            "rule_id": price.rule_id,
            "min_age": price.min_age,
            "max_age": price.max_age,
            "membership_types": list(price.membership_types),
        }


class BaseMembershipPriceFormSet(forms.BaseFormSet):
    """M-04: every fee at least the schedule's minimum; D-01: at least one fee."""

    def __init__(self, *args: Any, minimum: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.minimum = minimum

    def clean(self) -> None:
        if any(self.errors):
            return
        prices = self.prices()
        if not prices:
            raise forms.ValidationError(NO_PRICES)
        for form in self._kept_forms():
            amount = form.cleaned_data["amount"]
            if amount < self.minimum:
                form.add_error("amount", BELOW_MINIMUM % {"minimum": _decimal(self.minimum)})

    def _kept_forms(self) -> list[forms.Form]:
        """The filled-in rows not marked for removal (a blank extra row is left out)."""
        return [
            form
            for form in self.forms
            if form.cleaned_data.get("amount") is not None
            and not (self.can_delete and self._should_delete_form(form))
        ]

    def prices(self) -> list[pricing.MembershipPrice]:
        return [form.price() for form in self._kept_forms()]


MembershipPriceFormSet = forms.formset_factory(
    MembershipPriceForm, formset=BaseMembershipPriceFormSet, extra=1, can_delete=True
)


# ------------------------------------------------------------------ groups and cohorts (D-07)


class ActivityGroupForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        help_text=_("Rules name the group by it, e.g. football. It cannot change later."),
    )
    name = forms.CharField(label=_("Name on the lines"), max_length=100)
    organisation = forms.ModelChoiceField(
        label=_("The club's group"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("Its players pay the activity fee."),
    )
    season_start = forms.DateField(label=_("Activity season from"), **DATE)
    season_end = forms.DateField(label=_("Activity season until"), **DATE)
    invoice_date = forms.DateField(
        label=_("Invoiced on (D-07)"),
        help_text=_("New players are invoiced when they start."),
        **DATE,
    )
    due_days = forms.IntegerField(label=_("Days to pay"), min_value=0, max_value=365, initial=28)
    instalments_paid_before = forms.DateField(
        label=_("Instalments: share paid before (D-08)"),
        required=False,
        help_text=_("Empty: no instalments for this group."),
        **DATE,
    )
    instalment_counts = forms.TypedMultipleChoiceField(
        label=_("Instalments allowed"),
        choices=[(2, "2"), (3, "3"), (4, "4"), (6, "6")],
        coerce=int,
        required=False,
        widget=CHECKBOXES,
    )
    instalment_min_share_percent = forms.DecimalField(
        label=_("Share paid before that date (%)"), initial=Decimal(70), **PERCENT
    )

    def __init__(self, *args: Any, groups: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = groups
        if editing:
            del self.fields["code"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("season_start"), data.get("season_end")
        if start and end and end < start:
            self.add_error("season_end", SEASON_END_BEFORE_START)
        if data.get("instalment_counts") and not data.get("instalments_paid_before"):
            self.add_error("instalments_paid_before", INSTALMENTS_WITHOUT_DATE)
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["instalment_counts"] = sorted(data.get("instalment_counts") or [])
        return data


class CohortFeeForm(forms.Form):
    birth_year_from = forms.IntegerField(label=_("Born from"), min_value=1900, max_value=2100)
    birth_year_to = forms.IntegerField(label=_("Born until"), min_value=1900, max_value=2100)
    amount = forms.DecimalField(label=_("Activity fee"), **MONEY)
    rule_id = forms.CharField(label=_("Rule"), max_length=50, initial="D-07")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("birth_year_from"), data.get("birth_year_to")
        if first is not None and last is not None and first > last:
            self.add_error("birth_year_to", YEARS_REVERSED)
        return data


class BaseCohortFeeFormSet(forms.BaseFormSet):
    """D-07: a birth year has at most one activity fee in a group."""

    def clean(self) -> None:
        if any(self.errors):
            return
        cohorts = sorted(
            (form.cleaned_data["birth_year_from"], form.cleaned_data["birth_year_to"])
            for form in self._kept_forms()
        )
        for (first_from, first_to), (second_from, second_to) in itertools.pairwise(cohorts):
            if second_from <= first_to:
                raise forms.ValidationError(
                    COHORTS_OVERLAP
                    % {
                        "first": f"{first_from}-{first_to}",
                        "second": f"{second_from}-{second_to}",
                    }
                )

    def _kept_forms(self) -> list[forms.Form]:
        return [
            form
            for form in self.forms
            if form.cleaned_data.get("amount") is not None
            and not (self.can_delete and self._should_delete_form(form))
        ]

    def fees(self, group_code: str) -> list[pricing.ActivityFee]:
        return [
            pricing.ActivityFee(
                group=group_code,
                birth_year_from=form.cleaned_data["birth_year_from"],
                birth_year_to=form.cleaned_data["birth_year_to"],
                amount=form.cleaned_data["amount"],
                rule_id=form.cleaned_data["rule_id"] or "D-07",
            )
            for form in self._kept_forms()
        ]


CohortFeeFormSet = forms.formset_factory(
    CohortFeeForm, formset=BaseCohortFeeFormSet, extra=2, can_delete=True
)


# ------------------------------------------------------------------ rules (D-05, D-09..D-11)


class RuleForm(forms.Form):
    """The fields every rule has; a subclass per kind adds its conditions and effect."""

    KIND: pricing.RuleKind
    rule_id = forms.CharField(
        label=_("Rule id"),
        max_length=50,
        help_text=_("Cited on every line the rule produces, e.g. D-09 two sports."),
    )
    statement = forms.CharField(
        label=_("The rule in plain words"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Its conditions and effect, as members read them."),
    )
    enabled = forms.BooleanField(label=_("The club uses this rule"), required=False, initial=True)

    def __init__(
        self, *args: Any, groups: list[tuple[str, str]], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["rule_id"].disabled = True
        for name in ("groups", "group"):
            if name in self.fields:
                self.fields[name].choices = groups

    def rule(self) -> pricing.Rule:
        data = self.cleaned_data
        params_type = PARAMS_BY_KIND[self.KIND]
        return pricing.Rule(
            rule_id=data["rule_id"],
            params=params_type(**self.params()),
            statement=data["statement"],
            enabled=data["enabled"],
        )

    def params(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def initial_for(cls, rule: pricing.Rule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "rule_id": rule.rule_id,
            "statement": rule.statement,
            "enabled": rule.enabled,
        }
        for name in cls.base_fields:
            if hasattr(rule.params, name):
                value = getattr(rule.params, name)
                if isinstance(value, tuple):
                    value = [str(item) for item in value]
                elif isinstance(value, Decimal):
                    value = _decimal(value)
                initial[name] = value
        return initial


def _percent_field(label: Any = None) -> forms.DecimalField:
    return forms.DecimalField(label=label or _("Percentage off"), initial=Decimal(100), **PERCENT)


class MembershipTypeExemptionForm(RuleForm):
    KIND = pricing.RuleKind.MEMBERSHIP_TYPE_EXEMPTION
    membership_types = forms.MultipleChoiceField(
        label=_("Members of the categories"), choices=MembershipCategory.choices, widget=CHECKBOXES
    )
    fee_kinds = forms.MultipleChoiceField(
        label=_("Pay none of"), choices=FEE_KIND_CHOICES, widget=CHECKBOXES
    )
    percent = _percent_field()

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "membership_types": tuple(data["membership_types"]),
            "fee_kinds": tuple(pricing.FeeKind(kind) for kind in data["fee_kinds"]),
            "percent": data["percent"],
        }


class RoleExemptionForm(RuleForm):
    KIND = pricing.RuleKind.ROLE_EXEMPTION
    role_kinds = forms.MultipleChoiceField(
        label=_("Holders of the roles"), choices=ROLE_CHOICES, widget=CHECKBOXES
    )
    beneficiaries = forms.MultipleChoiceField(
        label=_("Exempts the activity fees of"), choices=BENEFICIARY_CHOICES, widget=CHECKBOXES
    )
    scope = forms.ChoiceField(label=_("Which activity fees"), choices=SCOPE_CHOICES)
    requires_volunteer_contract = forms.BooleanField(
        label=_("Only with a signed volunteer contract on file (D-10)"),
        required=False,
        initial=True,
    )
    agreement_required = forms.BooleanField(
        label=_("Only with a written agreement or an approved application for this rule"),
        required=False,
    )
    max_holders_per_team = forms.IntegerField(
        label=_("At most this many holders per team"),
        required=False,
        min_value=1,
        help_text=_("Empty: no limit (D-10: up to 2 assistant coaches)."),
    )
    percent = _percent_field()

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "role_kinds": tuple(data["role_kinds"]),
            "beneficiaries": tuple(pricing.Beneficiary(b) for b in data["beneficiaries"]),
            "scope": pricing.RoleScope(data["scope"]),
            "agreement_required": data["agreement_required"],
            "max_holders_per_team": data.get("max_holders_per_team"),
            "requires_volunteer_contract": data["requires_volunteer_contract"],
            "percent": data["percent"],
        }


class AgreementExemptionForm(RuleForm):
    KIND = pricing.RuleKind.AGREEMENT_EXEMPTION
    fee_kinds = forms.MultipleChoiceField(
        label=_("Agreements may exempt"), choices=FEE_KIND_CHOICES, widget=CHECKBOXES
    )
    confidential = forms.BooleanField(
        label=_("Confidential: only the general manager sees the reason (D-11)"),
        required=False,
        initial=True,
    )
    percent = _percent_field(_("At most this percentage off"))

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "fee_kinds": tuple(pricing.FeeKind(kind) for kind in data["fee_kinds"]),
            "confidential": data["confidential"],
            "percent": data["percent"],
        }


class SiblingsForm(RuleForm):
    KIND = pricing.RuleKind.SIBLINGS
    paying_players = forms.IntegerField(
        label=_("Only this many of a family's players pay, the oldest"), min_value=1, initial=2
    )
    groups = forms.MultipleChoiceField(
        label=_("Counting activity fees of the groups"),
        required=False,
        widget=CHECKBOXES,
        help_text=_("None chosen: every group."),
    )
    count_exempt_players = forms.BooleanField(
        label=_("A player exempted by another rule still takes a paying place"),
        required=False,
        initial=True,
    )

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "paying_players": data["paying_players"],
            "groups": tuple(data["groups"]),
            "count_exempt_players": data["count_exempt_players"],
        }


class TwoSportsForm(RuleForm):
    KIND = pricing.RuleKind.TWO_SPORTS
    groups = forms.MultipleChoiceField(
        label=_("Players active in all of the groups"), widget=CHECKBOXES
    )
    percent = _percent_field()

    def clean_groups(self) -> list[str]:
        groups = self.cleaned_data["groups"]
        if len(groups) < 2:
            raise forms.ValidationError(TWO_GROUPS_NEEDED)
        return groups

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"groups": tuple(data["groups"]), "percent": data["percent"]}


class LateStartForm(RuleForm):
    KIND = pricing.RuleKind.LATE_START
    group = forms.ChoiceField(label=_("Players of the group"))
    started_after = forms.DateField(label=_("Who start after"), **DATE)
    new_cohort_age = forms.IntegerField(
        label=_("Also new players of this age in their first season"),
        required=False,
        min_value=0,
        max_value=120,
        help_text=_("E.g. 6: the new cohort of six-year-olds. Empty: not used."),
    )
    percent = _percent_field()

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "group": data["group"],
            "started_after": data["started_after"],
            "percent": data["percent"],
            "new_cohort_age": data.get("new_cohort_age"),
        }


class MovingAwayForm(RuleForm):
    KIND = pricing.RuleKind.MOVING_AWAY
    group = forms.ChoiceField(label=_("Players who leave the group"))
    left_before = forms.DateField(label=_("Before"), **DATE)
    reasons = forms.MultipleChoiceField(
        label=_("Because of"), choices=LEAVE_REASON_CHOICES, widget=CHECKBOXES
    )
    documentation_required = forms.BooleanField(
        label=_("Only when documented"), required=False, initial=True
    )
    percent = _percent_field(_("Percentage back"))

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "group": data["group"],
            "left_before": data["left_before"],
            "percent": data["percent"],
            "reasons": tuple(pricing.LeaveReason(reason) for reason in data["reasons"]),
            "documentation_required": data["documentation_required"],
        }


RULE_FORMS: dict[str, type[RuleForm]] = {
    form.KIND.value: form
    for form in (
        MembershipTypeExemptionForm,
        RoleExemptionForm,
        AgreementExemptionForm,
        SiblingsForm,
        TwoSportsForm,
        LateStartForm,
        MovingAwayForm,
    )
}
