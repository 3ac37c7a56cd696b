"""The admin of invoices, credit notes, their lines and events, number series and invoicing
runs (issue 6). All read-only (S-05: corrected only by credit note, through the club's
invoice pages, whose services number, record events and re-render the PDF).

An invoice's page shows its lines and events inline and links to its payments, deliveries,
reminders, credit notes, its page in the app and its PDF. A run's page shows its counts,
errors and chunks; superusers may re-queue stalled chunks (the reconciler's service).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing.admin_base import (
    ClubFilter,
    IndexedSearchMixin,
    MoneyAdmin,
    ReadOnlyInline,
    SeasonFilter,
    change_link,
    changelist_link,
    pretty_json,
)
from billing.invoicing import services
from billing.models_delivery import InvoiceDelivery, Reminder
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoicingChunk,
    InvoicingRun,
)
from billing.models_ledger import Refund
from billing.models_payments import Payment

INVOICE_SEARCH_HELP = _("Invoice number, KID, or the start of the payer's first or last name.")
REQUEUED = _(
    "The reconciler looked at every run: %(requeued)s stalled chunks re-queued, "
    "%(failed)s given up after too many attempts."
)


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = (
        "position",
        "person",
        "fee",
        "group",
        "line_kind",
        "description",
        "period_start",
        "period_end",
        "rule_id",
        "amount",
        "is_billed",
    )
    select_related = ("person",)
    ordering = ("position",)


class InvoiceEventInline(ReadOnlyInline):
    model = InvoiceEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "note")
    select_related = ("actor",)
    show_change_link = False


@admin.register(Invoice)
class InvoiceAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "number",
        "kind",
        "status",
        "club_column",
        "season",
        "buyer_name",
        "issue_date",
        "due_date",
        "total",
        "kid",
    )
    list_display_links = ("number",)
    list_select_related = ("club",)
    list_filter = (ClubFilter, SeasonFilter, "status", "kind")
    date_hierarchy = "issue_date"
    ordering = ("-pk",)
    number_lookups = ("number",)
    code_lookups = ("kid",)
    person_prefixes = ("payer__",)
    search_help_text = INVOICE_SEARCH_HELP
    readonly_extra = ("in_the_app", "related_records")
    inlines = (InvoiceLineInline, InvoiceEventInline)

    @admin.display(description=_("In the app"))
    def in_the_app(self, obj: Invoice) -> str:
        page = reverse("billing:invoice-detail", args=[obj.pk])
        pdf = reverse("billing:invoice-pdf", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>', page, _("Invoice page"), pdf, _("PDF")
        )

    @admin.display(description=_("Related records"))
    def related_records(self, obj: Invoice) -> str:
        """S-05: what happened to the invoice after it was issued."""
        counts = (
            (Payment, _("Payments"), obj.payments.count()),
            (InvoiceDelivery, _("Deliveries"), obj.deliveries.count()),
            (Reminder, _("Reminders"), obj.reminders.count()),
            (Invoice, _("Credit notes"), obj.credit_notes.count()),
            (Refund, _("Refunds"), Refund.objects.filter(invoice=obj).count()),
        )
        links = []
        for model, label, count in counts:
            lookup = "credited_invoice__id__exact" if model is Invoice else "invoice__id__exact"
            links.append(changelist_link(model, f"{label} ({count})", **{lookup: obj.pk}))
        return format_html_join(" · ", "{}", ((link,) for link in links))


@admin.register(InvoiceLine)
class InvoiceLineAdmin(IndexedSearchMixin, MoneyAdmin):
    list_display = (
        "description",
        "invoice",
        "club_column",
        "person",
        "fee",
        "line_kind",
        "period_start",
        "period_end",
        "amount",
        "is_billed",
    )
    list_select_related = ("invoice", "club", "person")
    list_filter = (ClubFilter, "fee", "line_kind", "is_billed")
    date_hierarchy = "period_start"
    ordering = ("-pk",)
    number_lookups = ("invoice__number",)
    person_prefixes = ("person__",)
    search_help_text = _("Invoice number, or the start of the person's first or last name.")


@admin.register(InvoiceEvent)
class InvoiceEventAdmin(IndexedSearchMixin, MoneyAdmin):
    club_lookup = "invoice__club"
    list_display = (
        "created_at",
        "invoice",
        "club_column",
        "kind",
        "from_status",
        "to_status",
        "actor",
    )
    list_select_related = ("invoice__club", "actor")
    list_filter = (ClubFilter, "kind")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    number_lookups = ("invoice__number",)
    search_help_text = _("Invoice number.")


@admin.register(InvoiceNumberSeries)
class InvoiceNumberSeriesAdmin(MoneyAdmin):
    """S-05: the club's gap-free series; only the invoicing services take numbers."""

    list_display = ("club", "next_number", "next_kid_sequence")
    list_select_related = ("club",)
    search_fields = ("club__name",)
    ordering = ("club__name",)


class InvoicingChunkInline(ReadOnlyInline):
    model = InvoicingChunk
    fields = (
        "position",
        "state",
        "attempts",
        "payer_count",
        "invoices_created",
        "claimed_at",
        "finished_at",
        "error",
    )
    ordering = ("position",)

    @admin.display(description=_("payers"))
    def payer_count(self, obj: InvoicingChunk) -> int:
        return len(obj.payer_ids)


@admin.register(InvoicingRun)
class InvoicingRunAdmin(MoneyAdmin):
    list_display = (
        "id",
        "club_column",
        "season",
        "state",
        "progress",
        "invoices_created",
        "lines_created",
        "skipped_existing",
        "error_count",
        "started_by",
        "created_at",
        "finished_at",
    )
    list_select_related = ("club", "started_by")
    list_filter = (ClubFilter, SeasonFilter, "state")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    search_fields = ("club__name",)
    hidden_fields = ("summary", "errors")
    readonly_extra = ("in_the_app", "invoices", "summary_shown", "errors_shown")
    inlines = (InvoicingChunkInline,)
    actions = ("requeue_stalled_chunks",)

    @admin.display(description=_("chunks done"))
    def progress(self, obj: InvoicingRun) -> str:
        return f"{obj.chunks_done}/{obj.chunks_total}"

    @admin.display(description=_("errors"))
    def error_count(self, obj: InvoicingRun) -> int:
        return len(obj.errors)

    @admin.display(description=_("In the app"))
    def in_the_app(self, obj: InvoicingRun) -> str:
        url = reverse("billing:invoicing-run-detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Run page"))

    @admin.display(description=_("invoices"))
    def invoices(self, obj: InvoicingRun) -> str:
        return changelist_link(Invoice, obj.invoices_created, run__id__exact=obj.pk)

    @admin.display(description=_("dry-run summary"))
    def summary_shown(self, obj: InvoicingRun) -> str:
        return pretty_json(obj.summary)

    @admin.display(description=_("errors"))
    def errors_shown(self, obj: InvoicingRun) -> str:
        return pretty_json(obj.errors)

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        # The reconciler looks at every run of the installation, not only the selected
        # ones: only superusers start it by hand (it also runs on its schedule).
        return self._is_admin_user(request) and request.user.is_superuser

    @admin.action(description=_("Re-queue stalled chunks"), permissions=["requeue"])
    def requeue_stalled_chunks(self, request: HttpRequest, queryset: QuerySet) -> None:
        report = services.invoicing_reconcile()
        self.message_user(
            request,
            REQUEUED % {"requeued": len(report.requeued), "failed": len(report.failed)},
            messages.SUCCESS,
        )


@admin.register(InvoicingChunk)
class InvoicingChunkAdmin(MoneyAdmin):
    club_lookup = "run__club"
    list_display = (
        "__str__",
        "run",
        "club_column",
        "position",
        "state",
        "attempts",
        "payer_count",
        "invoices_created",
        "claimed_at",
        "finished_at",
    )
    list_select_related = ("run__club",)
    list_filter = (ClubFilter, "state")
    ordering = ("-pk",)
    hidden_fields = ("payer_ids", "person_ids")
    readonly_extra = ("payer_count", "person_count", "run_link")

    @admin.display(description=_("payers"))
    def payer_count(self, obj: InvoicingChunk) -> int:
        return len(obj.payer_ids)

    @admin.display(description=_("persons"))
    def person_count(self, obj: InvoicingChunk) -> int:
        return len(obj.person_ids)

    @admin.display(description=_("invoicing run"))
    def run_link(self, obj: InvoicingChunk) -> str:
        return change_link(obj.run)
