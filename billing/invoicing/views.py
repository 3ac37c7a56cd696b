"""Invoicing pages (issue 6 scopes 1-3): the run form with its dry run, the run page with a
progress bar polled by HTMX, the club's invoices and one invoice (void, credit note, PDF), and
the member's own invoices in the portal.

Access: the club pages need billing.manage in the club (`billing.page_access`); a member
downloads the PDF of an invoice they pay or that has lines for them. Missing and forbidden
are both 404.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from billing import balances, page_access, texts
from billing import selectors as dues_selectors
from billing.invoicing import pdf, selectors, services
from billing.invoicing.forms import InvoiceFilterForm, ReasonForm, RunForm
from billing.invoicing.tasks_pdf import render_invoice_pdf
from billing.models_invoicing import (
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoicingRun,
    InvoicingState,
)
from billing.views_common import PAGE_SIZE, add_errors, page
from members.models import Organisation

PROGRESS_POLL = "every 2s"


def _club(request: HttpRequest, pk: int) -> Organisation:
    return page_access.club_or_404(request.user, pk, manage=True)


# ------------------------------------------------------------------ runs


def _preview(request: HttpRequest, club: Organisation, form: RunForm) -> dict:
    """The dry run's page: nothing is saved (issue 6 scope 1)."""
    arguments = form.service_arguments()
    requested = request.GET.get("page", "1")
    number = int(requested) if requested.isdigit() and int(requested) > 0 else 1
    try:
        first = services.invoicing_run_preview(
            actor=request.user,
            club=club,
            **arguments,
            offset=(number - 1) * selectors.PREVIEW_INVOICES,
        )
    except (ValidationError, dues_selectors.NoFeeSchedule) as error:
        if isinstance(error, ValidationError):
            add_errors(form, error)
        else:
            form.add_error("season", texts.error_message(error))
        return {}
    pages = Paginator(range(first.summary["invoices"]), selectors.PREVIEW_INVOICES)
    shown = pages.get_page(number)
    preview = first
    if shown.number != number:  # past the last page: show the last one
        preview = services.invoicing_run_preview(
            actor=request.user,
            club=club,
            **arguments,
            offset=(shown.number - 1) * selectors.PREVIEW_INVOICES,
        )
    return {"preview": preview, "preview_page": shown, "rows": _preview_rows(preview)}


def _preview_rows(preview: services.RunPreview) -> list[dict]:
    names = preview.names
    return [
        {
            "payer": names.get(planned.payer_id, planned.payer_id),
            "due_date": planned.due_date,
            "total": planned.total,
            "lines": [
                {
                    "person": names.get(pl.line.person_id, pl.line.person_id),
                    "reason": texts.line_reason(pl.line),
                    "amount": pl.line.amount,
                }
                for pl in planned.lines
            ],
        }
        for planned in preview.invoices
    ]


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form, and with `preview` the dry run. POST: commit, i.e. start the run (the
    service returns the same run for a second click)."""
    club = _club(request, pk)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = RunForm(data, club=club)
    context: dict = {"club": club, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            run = services.invoicing_run_start(
                actor=request.user, club=club, **form.service_arguments()
            )
        except ValidationError as error:
            add_errors(form, error)
        except dues_selectors.NoFeeSchedule as error:
            form.add_error("season", texts.error_message(error))
        except PermissionDenied as error:
            raise Http404 from error
        else:
            return redirect("billing:invoicing-run-detail", pk=run.pk)
    elif request.method == "GET" and "preview" in request.GET and form.is_valid():
        context.update(_preview(request, club, form))
    return render(request, "billing/invoicing/run_new.html", context)


def selection_text(selection: dict | None, group_names: dict[str, str]) -> str:
    """What a run invoiced beyond its fees: its activity groups (by name) and the number of
    persons chosen, or everyone (issue 6 scope 1)."""
    selection = selection or {}
    parts = [
        ", ".join(group_names.get(code, code) for code in selection.get("groups") or ()),
    ]
    count = len(selection.get("person_ids") or ())
    if count:
        parts.append(ngettext("%(count)s person", "%(count)s persons", count) % {"count": count})
    return "; ".join(part for part in parts if part) or _("Everyone")


def _describe_runs(club: Organisation, runs: Iterable[InvoicingRun]) -> None:
    """Each run's fees by name and its selection, for the run pages (one query)."""
    names = selectors.activity_group_names(club)
    for run in runs:
        run.fee_labels = ", ".join(texts.fee_label(kind) for kind in run.fee_kinds)
        run.selection_text = selection_text(run.selection, names)


@login_required
def run_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    runs = page(request, selectors.runs_visible_to(request.user).filter(club=club))
    _describe_runs(club, runs.object_list)
    return render(request, "billing/invoicing/run_list.html", {"club": club, "page": runs})


def _run(request: HttpRequest, pk: int) -> InvoicingRun:
    run = InvoicingRun.objects.select_related("club", "started_by__person").filter(pk=pk).first()
    if run is None:
        raise Http404
    _club(request, run.club_id)
    return run


def _progress_context(run: InvoicingRun) -> dict:
    return {
        "run": run,
        "is_running": run.state in (InvoicingState.PENDING, InvoicingState.RUNNING),
        "poll": PROGRESS_POLL,
    }


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    _describe_runs(run.club, [run])
    return render(
        request,
        "billing/invoicing/run_detail.html",
        {"club": run.club, **_progress_context(run)},
    )


@login_required
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTMX partial polled every 2 s while the run is in progress."""
    run = _run(request, pk)
    return render(request, "billing/invoicing/_run_progress.html", _progress_context(run))


# ------------------------------------------------------------------ invoices


def club_invoices(user, club: Organisation, filters: dict) -> QuerySet[Invoice]:  # type: ignore[no-untyped-def]
    """The club's invoices the user may see, filtered by season, status and a search for
    number, KID or buyer name."""
    invoices = selectors.invoices_visible_to(user).filter(club=club)
    if filters.get("season"):
        invoices = invoices.filter(season=filters["season"])
    if filters.get("status"):
        invoices = invoices.filter(status=filters["status"])
    query = (filters.get("q") or "").strip()
    if query:
        condition = Q(buyer_name__icontains=query)
        if query.isdigit():
            condition |= Q(kid=query)
            if len(query) <= 18:
                condition |= Q(number=int(query))
        invoices = invoices.filter(condition)
    return invoices.order_by("-number")


@login_required
def invoice_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = InvoiceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    invoices = Paginator(club_invoices(request.user, club, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/invoicing/invoice_list.html",
        {"club": club, "form": form, "page": invoices},
    )


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    invoice = (
        Invoice.objects.select_related("club", "payer", "credited_invoice").filter(pk=pk).first()
    )
    if invoice is None:
        raise Http404
    _club(request, invoice.club_id)
    return invoice


@dataclass(frozen=True)
class EventRow:
    """An invoice event as the page shows it: what happened ("Issued", "Paid"), when, by
    whom (blank for the system), and the note."""

    at: datetime.datetime
    title: str
    actor: str
    note: str


def event_rows(events: Iterable[InvoiceEvent]) -> list[EventRow]:
    """STYLE 5's events in words: a payment event is named by the state it led to ("Paid",
    "Partly paid"), the others by what happened ("Issued", "Voided", "Credited")."""
    rows = []
    for event in events:
        title = event.get_kind_display()
        if event.kind == InvoiceEvent.Kind.PAYMENT and event.to_status in InvoiceStatus.values:
            title = InvoiceStatus(event.to_status).label
        actor = ""
        if event.actor is not None:
            actor = str(event.actor.person or event.actor.get_username())
        rows.append(EventRow(event.created_at, str(title), actor, event.note))
    return rows


def _detail_context(invoice: Invoice) -> dict:
    lines = invoice.lines.select_related("person").order_by("position")
    events = invoice.events.select_related("actor__person").order_by("created_at", "pk")
    is_invoice = invoice.kind == InvoiceKind.INVOICE
    return {
        "club": invoice.club,
        "invoice": invoice,
        "lines": lines,
        "events": event_rows(events),
        "credit_notes": invoice.credit_notes.order_by("number"),
        "payments": invoice.payments.order_by("paid_date", "pk") if is_invoice else [],
        "reminders": invoice.reminders.order_by("sequence") if is_invoice else [],
        # S-06: claim (total - credited + reminder fees + interest), paid, owed
        "balance": balances.invoice_balances([invoice.pk])[invoice.pk] if is_invoice else None,
        "account": pdf.format_account(invoice.seller_account),
        "may_void": is_invoice and invoice.status == InvoiceStatus.ISSUED,
        "may_credit": is_invoice
        and invoice.status not in (InvoiceStatus.VOID, InvoiceStatus.CREDITED),
        "void_form": ReasonForm(prefix="void"),
        "credit_form": ReasonForm(prefix="credit"),
    }


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    return render(request, "billing/invoicing/invoice_detail.html", _detail_context(invoice))


def _rerender(*invoices: Invoice) -> None:
    for invoice in invoices:
        render_invoice_pdf.delay_on_commit(invoice_id=invoice.pk)


@login_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = ReasonForm(request.POST, prefix="void")
    form.is_valid()
    try:
        voided = services.invoice_void(
            actor=request.user, invoice=invoice, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as error:
        context = _detail_context(invoice)
        add_errors(form, error)
        context["void_form"] = form
        return render(request, "billing/invoicing/invoice_detail.html", context, status=400)
    _rerender(voided)
    messages.success(request, _("The invoice is void."))
    return redirect("billing:invoice-detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = ReasonForm(request.POST, prefix="credit")
    form.is_valid()
    line_ids = [value for value in request.POST.getlist("lines") if value.isdigit()]
    chosen = list(InvoiceLine.objects.filter(invoice=invoice, pk__in=line_ids)) or None
    try:
        note = services.invoice_credit(
            actor=request.user,
            invoice=invoice,
            reason=form.cleaned_data.get("reason", ""),
            lines=chosen,
        )
    except ValidationError as error:
        context = _detail_context(invoice)
        add_errors(form, error)
        context["credit_form"] = form
        return render(request, "billing/invoicing/invoice_detail.html", context, status=400)
    _rerender(invoice, note)
    messages.success(request, _("Credit note %(number)s is issued.") % {"number": note.number})
    return redirect("billing:invoice-detail", pk=note.pk)


# ------------------------------------------------------------------ PDF and the portal


def own_invoices(user) -> QuerySet[Invoice]:  # type: ignore[no-untyped-def]
    """The invoices a member pays, or that have lines for them (issue 6 scope 3, M-10)."""
    person_id = getattr(user, "person_id", None)
    if not user.is_authenticated or person_id is None:
        return Invoice.objects.none()
    for_them = InvoiceLine.objects.filter(person_id=person_id).values("invoice_id")
    return Invoice.objects.filter(Q(payer_id=person_id) | Q(pk__in=for_them))


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = Invoice.objects.select_related("club").filter(pk=pk).first()
    if invoice is None:
        raise Http404
    allowed = page_access.may_manage(request.user, invoice.club) or (
        own_invoices(request.user).filter(pk=invoice.pk).exists()
    )
    if not allowed:
        raise Http404
    response = HttpResponse(pdf.invoice_pdf_bytes(invoice), content_type="application/pdf")
    kind = "credit-note" if invoice.is_credit_note else "invoice"
    response["Content-Disposition"] = f'attachment; filename="{kind}-{invoice.number}.pdf"'
    return response


@login_required
def my_invoices(request: HttpRequest) -> HttpResponse:
    invoices = own_invoices(request.user).select_related("club").order_by("-issue_date", "-pk")
    rows = page(request, invoices)
    for invoice in rows.object_list:
        invoice.account_display = pdf.format_account(invoice.seller_account)
    return render(request, "portal/invoices.html", {"page": rows})


urlpatterns = [
    path("clubs/<int:pk>/invoicing/", run_new, name="invoicing-run-new"),
    path("clubs/<int:pk>/invoicing/runs/", run_list, name="invoicing-run-list"),
    path("invoicing/runs/<int:pk>/", run_detail, name="invoicing-run-detail"),
    path("invoicing/runs/<int:pk>/progress/", run_progress, name="invoicing-run-progress"),
    path("clubs/<int:pk>/invoices/", invoice_list, name="invoice-list"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice-detail"),
    path("invoices/<int:pk>/void/", invoice_void, name="invoice-void"),
    path("invoices/<int:pk>/credit/", invoice_credit, name="invoice-credit"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="invoice-pdf"),
    path("me/invoices/", my_invoices, name="my-invoices"),
]
