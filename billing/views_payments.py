"""Payment pages (issue 6, scope 6): OCR upload and the import result, the reconciliation
list with "assign to invoice", "refund the excess" and "refund to the payer"
(`billing.ledger.overpayments`), manual registration on an invoice. All need billing.manage
in the club (`billing.page_access`); missing and forbidden are both 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import page_access
from billing.ledger import overpayments
from billing.models_invoicing import Invoice
from billing.models_payments import Payment, PaymentFile
from billing.payments import selectors, services
from billing.payments.forms import (
    AssignForm,
    ManualPaymentForm,
    OcrUploadForm,
    ReconcileForm,
    RefundExcessForm,
    RefundToPayerForm,
)
from billing.views_common import add_errors, page


def _club(request: HttpRequest, pk: int):  # type: ignore[no-untyped-def]
    return page_access.club_or_404(request.user, pk, manage=True)


@login_required
@require_http_methods(["GET", "POST"])
def payment_files(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = OcrUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            payment_file = services.payment_file_import(
                actor=request.user, club=club, content=upload.read(), file_name=upload.name
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if payment_file.already_imported:
                messages.warning(request, _("This file was imported before; nothing changed."))
            return redirect("billing:payment-file-detail", pk=payment_file.pk)
    files = page(request, selectors.payment_files(request.user, club))
    return render(
        request, "billing/payments/file_list.html", {"club": club, "form": form, "page": files}
    )


@login_required
def payment_file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment_file = PaymentFile.objects.select_related("club", "uploaded_by").filter(pk=pk).first()
    if payment_file is None:
        raise Http404
    club = _club(request, payment_file.club_id)
    payments = page(request, payment_file.payments.select_related("invoice").order_by("pk"))
    return render(
        request,
        "billing/payments/file_detail.html",
        {"club": club, "payment_file": payment_file, "page": payments},
    )


@login_required
def reconciliation(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    rows = page(request, overpayments.reconciliation_list(request.user, club))
    return render(
        request,
        "billing/payments/reconciliation.html",
        {
            "club": club,
            "page": rows,
            "assign_form": AssignForm(),
            "reconcile_form": ReconcileForm(),
        },
    )


def _payment(request: HttpRequest, pk: int) -> Payment:
    payment = Payment.objects.select_related("club", "invoice").filter(pk=pk).first()
    if payment is None:
        raise Http404
    _club(request, payment.club_id)
    return payment


@login_required
@require_POST
def payment_assign(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _payment(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        invoice = Invoice.objects.filter(
            club=payment.club, number=form.cleaned_data["invoice_number"]
        ).first()
        if invoice is None:
            messages.error(request, _("The club has no invoice with this number."))
        else:
            try:
                services.payment_assign(actor=request.user, payment=payment, invoice=invoice)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The payment is assigned to the invoice."))
    else:
        messages.error(request, _("Give an invoice number."))
    return redirect("billing:payment-reconciliation", pk=payment.club_id)


@login_required
@require_POST
def payment_reconcile(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _payment(request, pk)
    form = ReconcileForm(request.POST)
    form.is_valid()
    try:
        services.payment_reconcile(
            actor=request.user, payment=payment, note=form.cleaned_data.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("billing:payment-reconciliation", pk=payment.club_id)


def _refund_form(payment: Payment, data: object = None) -> RefundExcessForm:
    if payment.invoice_id is not None:
        return RefundExcessForm(data)
    return RefundToPayerForm(
        data,
        initial={"account_number": payment.payer_account, "account_owner": payment.payer_name},
    )


def _propose_refund(request: HttpRequest, payment: Payment, form: RefundExcessForm) -> None:
    data = form.cleaned_data
    if isinstance(form, RefundToPayerForm):
        overpayments.refund_propose_unmatched(
            actor=request.user,
            payment=payment,
            account_number=data["account_number"],
            account_owner=data["account_owner"],
            amount=data["amount"],
            note=data["note"],
        )
    else:
        overpayments.refund_propose_overpayment(
            actor=request.user, payment=payment, amount=data["amount"], note=data["note"]
        )


@login_required
@require_http_methods(["GET", "POST"])
def payment_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Refund the excess" (a payment to an invoice) or "refund to the payer" (a payment
    without one): the page shows what may go back; the refund joins the payout list."""
    payment = _payment(request, pk)
    form = _refund_form(payment, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _propose_refund(request, payment, form)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The refund is proposed; approve it on the payout list."))
            return redirect("billing:payment-reconciliation", pk=payment.club_id)
    summary = overpayments.payment_refund(payment)
    if not form.is_bound:
        form.initial["amount"] = summary.left
    return render(
        request,
        "billing/payments/refund.html",
        {"club": payment.club, "payment": payment, "summary": summary, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_register(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = Invoice.objects.select_related("club").filter(pk=pk).first()
    if invoice is None:
        raise Http404
    club = _club(request, invoice.club_id)
    form = ManualPaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.payment_register_manual(
                actor=request.user,
                invoice=invoice,
                amount=data["amount"],
                paid_date=data["paid_date"],
                idempotency_key=data["token"],
                note=data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The payment is registered."))
            return redirect("billing:payment-register", pk=invoice.pk)
    payments = invoice.payments.select_related("invoice").order_by("paid_date", "pk")
    return render(
        request,
        "billing/payments/register.html",
        {
            "club": club,
            "invoice": invoice,
            "form": form,
            "payments": payments,
            "paid": selectors.invoice_paid_amount(invoice),
        },
    )
