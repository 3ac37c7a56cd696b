"""The admin of refunds and their events (issue 6 scope 7) and of S-07's report age bands
(scope 8).

- Refunds are money: read-only here (proposed, approved, paid and cancelled on the club's
  refund pages, whose services record a `RefundEvent` and the credit note).
- Report age bands are an organisation's setting (a federation's bands apply to its clubs
  unless a club has its own): changed here by billing.manage in the organisation, checked by
  the report's own rule (`billing.ledger.rules.age_bands`), history kept by simple-history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin_base import (
    ClubFilter,
    ClubRowAdmin,
    IndexedSearchMixin,
    MoneyAdmin,
    ReadOnlyInline,
    SeasonFilter,
    ValueChangeLogMixin,
)
from billing.ledger import rules
from billing.models_ledger import Refund, RefundEvent, ReportAgeBands
from clubadmin import access
from members.models import Organisation, OrganisationType

BANDS_NOT_ASCENDING = _("S-07: the age bands must start at 0 and go up, e.g. 0, 6, 13, 20, 26.")
REPORTING_ORGANISATION_TYPES = (
    OrganisationType.FEDERATION,
    OrganisationType.REGION,
    OrganisationType.CLUB,
)


class RefundEventInline(ReadOnlyInline):
    model = RefundEvent
    fields = ("created_at", "from_state", "to_state", "actor", "note")
    select_related = ("actor",)
    show_change_link = False


@admin.register(Refund)
class RefundAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "id",
        "club_column",
        "person",
        "payee",
        "season",
        "reason",
        "amount",
        "state",
        "paid_on",
        "has_account",
        "payment",
    )
    list_select_related = ("club", "person", "payee", "payment")
    list_filter = (ClubFilter, SeasonFilter, "state", "reason")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    number_lookups = ("invoice__number", "credit_note__number", "payment__invoice__number")
    code_lookups = ("payment__kid",)
    person_prefixes = ("person__", "payee__")
    search_help_text = _(
        "Invoice or credit note number, KID, or the start of the member's or payee's name."
    )
    readonly_extra = ("reference", "in_the_app")
    inlines = (RefundEventInline,)

    @admin.display(description=_("account on file"), boolean=True)
    def has_account(self, obj: Refund) -> bool:
        return obj.has_account

    @admin.display(description=_("payment reference"))
    def reference(self, obj: Refund) -> str:
        return obj.reference

    @admin.display(description=_("In the app"))
    def in_the_app(self, obj: Refund) -> str:
        url = reverse("billing:refund-list", args=[obj.club_id])
        return format_html('<a href="{}">{}</a>', url, _("Refunds page"))


@admin.register(RefundEvent)
class RefundEventAdmin(MoneyAdmin):
    club_lookup = "refund__club"
    list_display = ("created_at", "refund", "club_column", "from_state", "to_state", "actor")
    list_select_related = ("refund__club", "actor")
    list_filter = (ClubFilter, "to_state")
    date_hierarchy = "created_at"
    ordering = ("-pk",)


class ReportAgeBandsForm(forms.ModelForm):
    class Meta:
        model = ReportAgeBands
        fields = ["organisation", "band_starts"]
        help_texts = {"band_starts": _("The first age of each band, e.g. 0, 6, 13, 20, 26.")}

    def clean_band_starts(self) -> list[int]:
        starts = self.cleaned_data["band_starts"]
        try:
            rules.age_bands(starts)  # S-07: the report's own check
        except ValueError:
            raise forms.ValidationError(BANDS_NOT_ASCENDING, code="not_ascending") from None
        return starts


@admin.register(ReportAgeBands)
class ReportAgeBandsAdmin(ValueChangeLogMixin, ClubRowAdmin):
    """S-07: an organisation's age bands. Deleting them makes the nearest ancestor's bands
    (or the historic default) apply again."""

    club_lookup = "organisation"
    read_only = False
    allow_add = True
    allow_delete = True
    owner_fields = ("organisation",)
    form = ReportAgeBandsForm
    list_display = ("organisation", "bands")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name",)
    ordering = ("organisation__path",)
    autocomplete_fields = ("organisation",)

    @admin.display(description=_("age bands"))
    def bands(self, obj: ReportAgeBands) -> str:
        try:
            return ", ".join(band.label for band in rules.age_bands(obj.band_starts))
        except ValueError:
            return ", ".join(str(start) for start in obj.band_starts)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "organisation":
            reporting = Organisation.objects.filter(
                organisation_type__in=REPORTING_ORGANISATION_TYPES
            )
            kwargs["queryset"] = access.scope(request.user, self.change_capability, reporting)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
