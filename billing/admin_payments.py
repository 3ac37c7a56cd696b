"""The admin of payments (issue 6 scope 6): OCR Giro imports, payments and their events,
online checkouts and the payment provider's events. All read-only: payments are kept
(S-05, S-09: five years) and change only through the payment pages' services (assign,
reconcile), which record a `PaymentEvent`; a provider event is a record of what the
provider sent."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin_base import (
    ClubFilter,
    IndexedSearchMixin,
    MoneyAdmin,
    ReadOnlyInline,
    changelist_link,
    pretty_json,
)
from billing.models_ledger import Refund
from billing.models_online import CheckoutLine, CheckoutSession, ProviderEvent
from billing.models_payments import Payment, PaymentEvent, PaymentFile


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = ("created_at", "kind", "from_state", "to_state", "invoice", "actor", "note")
    select_related = ("invoice", "actor")
    show_change_link = False


@admin.register(PaymentFile)
class PaymentFileAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "file_name",
        "club_column",
        "imported_at",
        "transactions_count",
        "recorded_count",
        "duplicate_count",
        "matched_count",
        "to_reconcile_count",
        "total",
        "uploaded_by",
    )
    list_select_related = ("club", "uploaded_by")
    list_filter = (ClubFilter,)
    date_hierarchy = "imported_at"
    ordering = ("-pk",)
    code_lookups = ("transmission_number", "sha256")
    text_lookups = ("file_name",)
    search_help_text = _("File name or transmission number.")
    readonly_extra = ("in_the_app", "payments")

    @admin.display(description=_("In the app"))
    def in_the_app(self, obj: PaymentFile) -> str:
        url = reverse("billing:payment-file-detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Import page"))

    @admin.display(description=_("payments"))
    def payments(self, obj: PaymentFile) -> str:
        return changelist_link(Payment, obj.payments.count(), file__id__exact=obj.pk)


@admin.register(Payment)
class PaymentAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "paid_date",
        "amount",
        "club_column",
        "source",
        "match_state",
        "invoice",
        "kid",
        "payer_name",
        "reconciled_at",
    )
    list_display_links = ("paid_date", "amount")
    list_select_related = ("club", "invoice")
    list_filter = (
        ClubFilter,
        "source",
        "match_state",
        ("reconciled_at", admin.EmptyFieldListFilter),
    )
    date_hierarchy = "paid_date"
    ordering = ("-pk",)
    number_lookups = ("invoice__number",)
    code_lookups = ("kid", "archive_reference")
    text_lookups = ("payer_name",)
    search_help_text = _("Invoice number, KID, archive reference or the payer's name.")
    readonly_extra = ("refunds",)
    inlines = (PaymentEventInline,)

    @admin.display(description=_("refunds"))
    def refunds(self, obj: Payment) -> str:
        """Money of this payment paid back (an over-payment, a payment without invoice)."""
        return changelist_link(Refund, obj.refunds.count(), payment__id__exact=obj.pk)


@admin.register(PaymentEvent)
class PaymentEventAdmin(IndexedSearchMixin, MoneyAdmin):
    club_lookup = "payment__club"
    list_display = (
        "created_at",
        "payment",
        "club_column",
        "kind",
        "from_state",
        "to_state",
        "invoice",
        "actor",
    )
    list_select_related = ("payment__club", "invoice", "actor")
    list_filter = (ClubFilter, "kind")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    number_lookups = ("invoice__number", "payment__invoice__number")
    search_help_text = _("Invoice number.")


class CheckoutLineInline(ReadOnlyInline):
    model = CheckoutLine
    fields = ("invoice", "amount")
    select_related = ("invoice",)
    show_change_link = False


class ProviderEventInline(ReadOnlyInline):
    model = ProviderEvent
    fields = ("received_at", "event_type", "event_id", "outcome", "note")
    ordering = ("received_at", "pk")


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "__str__",
        "club_column",
        "payer",
        "scope",
        "total",
        "state",
        "created_at",
        "finished_at",
    )
    list_select_related = ("club", "payer")
    list_filter = (ClubFilter, "state", "scope", "provider")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    code_lookups = ("provider_session_id",)
    person_prefixes = ("payer__",)
    search_help_text = _(
        "The provider's session id, or the start of the payer's first or last name."
    )
    inlines = (CheckoutLineInline, ProviderEventInline)


@admin.register(ProviderEvent)
class ProviderEventAdmin(IndexedSearchMixin, MoneyAdmin):
    """Events without a checkout (rejected, unknown) belong to no club: superusers only."""

    club_lookup = "session__club"
    list_display = ("received_at", "provider", "event_type", "outcome", "session", "club_column")
    list_select_related = ("session__club",)
    list_filter = (ClubFilter, "outcome", "provider")
    date_hierarchy = "received_at"
    ordering = ("-pk",)
    code_lookups = ("event_id",)
    search_help_text = _("The provider's event id.")
    hidden_fields = ("payload",)
    readonly_extra = ("payload_shown",)

    @admin.display(description=_("payload"))
    def payload_shown(self, obj: ProviderEvent) -> str:
        return pretty_json(obj.payload)
