"""The Django admin of billing for federation staff (issue 5), scoped by clubadmin.access
like the rest (clubadmin.admin.ScopedModelAdmin, billing.admin_base.BillingAdmin): rows of
the clubs where the user holds billing.manage, read-only. Fee schedules, agreements,
contracts, hours, trial periods, payment preferences and instalment plans change on the
club's billing pages, whose services apply the rules and record the history; staff see the
rows and their history here.

D-11: hardship exemptions and agreements to work off the fee are hidden from everyone but
the club's general manager, in the list, the change page and the history alike.

Issue 6 (invoices, payments, delivery and reminders, refunds, S-06's dated tables) lives in
billing/admin_invoicing.py, admin_payments.py, admin_delivery.py and admin_ledger.py,
imported here so that Django's admin finds them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing import (  # noqa: F401  (issue 6: registered by importing them)
    admin_delivery,
    admin_invoicing,
    admin_ledger,
    admin_payments,
    selectors,
)
from billing.admin_base import BillingAdmin, ReadOnlyInline
from billing.models import (
    CONFIDENTIAL_KINDS,
    ActivityGroup,
    ExemptionAgreement,
    FeeSchedule,
    Instalment,
    InstalmentPlan,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from clubadmin.capabilities import Capability
from members.models import Function


class ActivityGroupInline(ReadOnlyInline):
    show_change_link = False
    model = ActivityGroup
    fields = ("code", "name", "organisation", "season_start", "season_end", "invoice_date")
    readonly_fields = fields


@admin.register(FeeSchedule)
class FeeScheduleAdmin(BillingAdmin):
    list_display = ("club", "season", "membership_minimum", "family_fee", "updated_at", "page")
    list_filter = ("season",)
    list_select_related = ("club",)
    search_fields = ("club__name",)
    ordering = ("club__name", "-season")
    inlines = (ActivityGroupInline,)
    readonly_fields = ("page",)

    @admin.display(description=_("Change on the page"))
    def page(self, obj: FeeSchedule) -> str:
        url = reverse("billing:schedule-detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Fee schedule page"))


def general_manager_club_ids(request: HttpRequest) -> list[int]:
    """D-11: the clubs whose general manager the user is."""
    user = request.user
    if not user.is_authenticated or user.person_id is None:
        return []
    return list(
        Function.objects.active()
        .filter(person_id=user.person_id, function_type__code=selectors.GENERAL_MANAGER)
        .values_list("organisation_id", flat=True)
    )


@admin.register(ExemptionAgreement)
class ExemptionAgreementAdmin(BillingAdmin):
    list_display = ("person", "club", "season", "kind", "rule_id", "for_self", "for_children")
    list_filter = ("season",)
    list_select_related = ("person", "club")
    search_fields = ("person__last_name", "person__first_name", "rule_id")
    ordering = ("-season", "club__name", "pk")
    raw_id_fields = ("person", "children", "group", "team", "approved_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        hidden = Q(kind__in=CONFIDENTIAL_KINDS) & ~Q(club_id__in=general_manager_club_ids(request))
        return queryset.exclude(hidden)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if (
            obj is not None
            and obj.kind in CONFIDENTIAL_KINDS
            and not selectors.is_general_manager(request.user, obj.club)
        ):
            return False
        return super().has_view_permission(request, obj)


class PersonRowAdmin(BillingAdmin):
    list_select_related = ("person", "club")
    search_fields = ("person__last_name", "person__first_name", "club__name")
    raw_id_fields = ("person", "club")


@admin.register(VolunteerContract)
class VolunteerContractAdmin(PersonRowAdmin):
    list_display = ("person", "club", "signed_on", "valid_until")
    ordering = ("club__name", "person__last_name", "pk")


@admin.register(VolunteerHours)
class VolunteerHoursAdmin(PersonRowAdmin):
    list_display = ("person", "club", "season", "hours")
    list_filter = ("season",)
    ordering = ("-season", "club__name", "person__last_name", "pk")


@admin.register(PaymentPreference)
class PaymentPreferenceAdmin(PersonRowAdmin):
    list_display = ("person", "club", "method")
    list_filter = ("method",)
    ordering = ("club__name", "person__last_name", "pk")


@admin.register(TrialPeriod)
class TrialPeriodAdmin(BillingAdmin):
    view_capability = Capability.MEMBERS_MANAGE
    change_capability = Capability.MEMBERS_MANAGE
    list_display = ("person", "team", "start_date", "from_other_club", "former_club_agreed")
    list_select_related = ("person", "team")
    search_fields = ("person__last_name", "person__first_name", "team__name")
    ordering = ("-start_date", "pk")
    raw_id_fields = ("person", "team")


class InstalmentInline(ReadOnlyInline):
    show_change_link = False
    model = Instalment
    fields = ("number", "amount", "due_date")
    readonly_fields = fields


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(PersonRowAdmin):
    list_display = ("person", "club", "season", "group_code", "total")
    list_filter = ("season",)
    ordering = ("-season", "club__name", "person__last_name", "pk")
    inlines = (InstalmentInline,)
