"""The admin of delivery and reminders (issue 6, scopes 4 and 5; D-03, S-06).

- Reminders, invoice deliveries and team leaders' unpaid lists are records of what was
  charged and sent: read-only (sending again is on the club's delivery page).
- A club's reminder policy is changed here through the same service as on the club's
  reminder page (`reminder_policy_save`: billing.manage in the club, validated, who changed
  it recorded); the admin log keeps the old and new values.
- S-06's dated tables (reminder fee, late-interest rate per half-year) are national: every
  billing user may read them, federation staff (superusers and billing.manage in a
  federation) add rows. A row already in force is kept as it is, since fees and interest
  were charged with it: a new rate is a new row from a later date. Rows not yet in force may
  be corrected or deleted. The admin log keeps who changed what from what to what.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin_base import (
    BillingAdmin,
    ClubFilter,
    ClubRowAdmin,
    IndexedSearchMixin,
    MoneyAdmin,
    ValueChangeLogMixin,
    is_federation_staff,
    pretty_json,
)
from billing.delivery import selectors as delivery_selectors
from billing.delivery import services as delivery_services
from billing.models_delivery import (
    InvoiceDelivery,
    LateInterestRate,
    Reminder,
    ReminderFeeRate,
    ReminderPolicy,
    TeamUnpaidNotice,
)
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, OrganisationType

FEE_NOT_NEGATIVE = _("S-06: the reminder fee cannot be negative.")
RATE_NOT_NEGATIVE = _("S-06: the late-interest rate cannot be negative.")
HALF_YEAR_ONLY = _("S-06: the late-interest rate is set per half-year: from 1 January or 1 July.")
DATE_TAKEN = _("There is already a row valid from this date.")
NOT_IN_THE_PAST = _(
    "S-06: a rate cannot start in the past: fees and interest already charged were computed "
    "with the rates then in force. Add a row from today or later."
)
OPEN_ENDED = _("until further notice")


# ------------------------------------------------------------------ records (read-only)


@admin.register(Reminder)
class ReminderAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "__str__",
        "invoice",
        "club_column",
        "sequence",
        "reminded_on",
        "fee",
        "interest",
        "due_date",
        "rule_id",
    )
    list_select_related = ("invoice", "club")
    list_filter = (ClubFilter, "sequence")
    date_hierarchy = "reminded_on"
    ordering = ("-pk",)
    number_lookups = ("invoice__number",)
    code_lookups = ("invoice__kid",)
    person_prefixes = ("invoice__payer__",)
    search_help_text = _("Invoice number, KID, or the start of the payer's first or last name.")


@admin.register(InvoiceDelivery)
class InvoiceDeliveryAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "__str__",
        "invoice",
        "reminder",
        "club_column",
        "channel",
        "state",
        "recipient",
        "attempts",
        "sent_at",
    )
    list_select_related = ("invoice", "reminder", "club")
    list_filter = (ClubFilter, "state", "channel")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    number_lookups = ("invoice__number",)
    code_lookups = ("recipient",)
    person_prefixes = ("payer__",)
    search_help_text = _(
        "Invoice number, the recipient's e-mail address, or the start of the payer's name."
    )


@admin.register(TeamUnpaidNotice)
class TeamUnpaidNoticeAdmin(IndexedSearchMixin, MoneyAdmin):
    """D-03: the unpaid list sent to a team leader; `players` as it was that day."""

    list_display = ("notice_date", "team", "leader", "club_column", "player_count", "state")
    list_select_related = ("team", "leader", "club")
    list_filter = (ClubFilter, "state")
    date_hierarchy = "notice_date"
    ordering = ("-pk",)
    person_prefixes = ("leader__",)
    text_lookups = ("team__name",)
    search_help_text = _("The team's name or the start of the team leader's name.")
    hidden_fields = ("players",)
    readonly_extra = ("players_shown",)

    @admin.display(description=_("unpaid players"))
    def player_count(self, obj: TeamUnpaidNotice) -> int:
        return len(obj.players)

    @admin.display(description=_("unpaid players"))
    def players_shown(self, obj: TeamUnpaidNotice) -> str:
        return pretty_json(obj.players)


# ------------------------------------------------------------------ the club's policy


class ReminderPolicyForm(forms.ModelForm):
    class Meta:
        model = ReminderPolicy
        fields = ["club", *delivery_selectors.POLICY_FIELDS]


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(ValueChangeLogMixin, ClubRowAdmin):
    """D-03: changed through `reminder_policy_save`, like on the club's reminder page."""

    read_only = False
    allow_add = True
    allow_delete = False  # without a row the defaults apply; a row is changed, not removed
    owner_fields = ("club",)
    form = ReminderPolicyForm
    list_display = (
        "club",
        "is_enabled",
        "days_after_due",
        "deadline_days",
        "max_reminders",
        "charge_fee",
        "notify_team_leaders",
        "updated_at",
        "updated_by",
    )
    list_select_related = ("club", "updated_by")
    list_filter = (ClubFilter, "is_enabled", "charge_fee")
    search_fields = ("club__name",)
    ordering = ("club__name",)
    autocomplete_fields = ("club",)
    readonly_fields = ("updated_at", "updated_by", "in_the_app")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "club":
            clubs = Organisation.objects.filter(organisation_type=OrganisationType.CLUB)
            kwargs["queryset"] = access.scope(request.user, self.change_capability, clubs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("In the app"))
    def in_the_app(self, obj: ReminderPolicy) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("billing:reminder-policy", args=[obj.club_id])
        return format_html('<a href="{}">{}</a>', url, _("Reminder settings page"))

    def save_model(self, request: HttpRequest, obj: ReminderPolicy, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        data = {
            name: form.cleaned_data[name]
            for name in delivery_selectors.POLICY_FIELDS
            if name in form.cleaned_data
        }
        saved = delivery_services.reminder_policy_save(actor=request.user, club=obj.club, data=data)
        obj.pk, obj.updated_at, obj.updated_by = saved.pk, saved.updated_at, saved.updated_by


# ------------------------------------------------------------------ S-06 dated tables


def _today() -> datetime.date:
    return timezone.localdate()


class DatedRateForm(forms.ModelForm):
    """S-06: one row per start date, never starting in the past; the model's constraints
    check again when the row is saved."""

    def clean_valid_from(self) -> datetime.date:
        valid_from = self.cleaned_data["valid_from"]
        if valid_from < _today() and "valid_from" in self.changed_data:
            raise forms.ValidationError(NOT_IN_THE_PAST, code="in_the_past")
        taken = self._meta.model.objects.filter(valid_from=valid_from)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(DATE_TAKEN, code="date_taken")
        return valid_from


class ReminderFeeRateForm(DatedRateForm):
    class Meta:
        model = ReminderFeeRate
        fields = ["valid_from", "amount", "source"]

    def clean_amount(self) -> Any:
        amount = self.cleaned_data["amount"]
        if amount is not None and amount.amount < 0:
            raise forms.ValidationError(FEE_NOT_NEGATIVE, code="negative")
        return amount


class LateInterestRateForm(DatedRateForm):
    class Meta:
        model = LateInterestRate
        fields = ["valid_from", "rate_percent", "source"]

    def clean_valid_from(self) -> datetime.date:
        valid_from = super().clean_valid_from()
        if valid_from.day != 1 or valid_from.month not in (1, 7):
            raise forms.ValidationError(HALF_YEAR_ONLY, code="half_year")
        return valid_from

    def clean_rate_percent(self) -> Decimal:
        rate = self.cleaned_data["rate_percent"]
        if rate is not None and rate < 0:
            raise forms.ValidationError(RATE_NOT_NEGATIVE, code="negative")
        return rate


class DatedRateAdmin(ValueChangeLogMixin, BillingAdmin):
    """A national table: not scoped to organisations (every billing user reads it)."""

    read_only = False
    allow_add = True
    ordering = ("-valid_from",)
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        model = self.model
        later = model.objects.filter(valid_from__gt=OuterRef("valid_from")).order_by("valid_from")
        return model.objects.annotate(next_valid_from=Subquery(later.values("valid_from")[:1]))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin_user(request) and access.has_capability_anywhere(
            request.user, Capability.BILLING_MANAGE
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin_user(request) and is_federation_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not (self._is_admin_user(request) and is_federation_staff(request)):
            return False
        # A row in force (or past) was used to charge fees and interest: kept as it is.
        return obj is None or obj.valid_from > _today()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    @admin.display(description=_("valid until"))
    def valid_until(self, obj: Any) -> str:
        following = getattr(obj, "next_valid_from", None)
        if following is None:
            return str(OPEN_ENDED)
        return str(following - datetime.timedelta(days=1))

    @admin.display(description=_("in force"), boolean=True)
    def in_force(self, obj: Any) -> bool:
        today = _today()
        following = getattr(obj, "next_valid_from", None)
        return obj.valid_from <= today and (following is None or following > today)


@admin.register(ReminderFeeRate)
class ReminderFeeRateAdmin(DatedRateAdmin):
    form = ReminderFeeRateForm
    list_display = ("valid_from", "valid_until", "amount", "source", "in_force")


@admin.register(LateInterestRate)
class LateInterestRateAdmin(DatedRateAdmin):
    form = LateInterestRateForm
    list_display = ("valid_from", "valid_until", "rate_percent", "source", "in_force")
