"""Online payment pages (issue 6 scope 6; M-10, M-11).

- `pay`: the member's "Pay now" in the portal: their open invoices per club, paid for the
  whole family or only for themself (M-11), without the invoice fee when paid online (M-10:
  the page shows the saving); POST starts a checkout and redirects to the provider's payment
  page.
- `done` / `cancelled`: where the provider sends the member back (their own checkouts only).
- `sandbox`: the local fake card processor's payment page (`PAYMENT_PROVIDER = "sandbox"`):
  Pay or Cancel sends a signed webhook like a provider would (`file_adapter`).
- `webhook`: the provider's endpoint: no login, CSRF-exempt, signature-verified; 400 on a bad
  signature, 200 otherwise (also for an event received before, so the provider stops).

Missing and forbidden are both 404.
"""

from __future__ import annotations

import urllib.request
from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billing.models_online import CheckoutScope, CheckoutSession
from billing.online import selectors, services, waiver
from billing.online.file_adapter import SIGNATURE_HEADER, SandboxProvider, SignedEvent
from billing.online.provider import InvalidSignature
from members.models import Person

WEBHOOK_TIMEOUT = 10  # seconds, for the sandbox's HTTP delivery


def _person(request: HttpRequest) -> Person | None:
    person_id = getattr(request.user, "person_id", None)
    return Person.objects.filter(pk=person_id).first() if person_id else None


def _groups(person: Person) -> list[dict]:
    """The pay page's invoices per club, with what paying online costs for the whole family
    and for the member only, and the invoice fees that saves (M-10, M-11)."""
    by_club: dict[int, dict] = defaultdict(dict)
    for row in waiver.payable_online(person):
        group = by_club[row.invoice.club_id]
        group.setdefault("club", row.invoice.club)
        group.setdefault("rows", []).append(row)
    for group in by_club.values():
        plans = [row.plan for row in group["rows"]]
        group["owed"] = sum(plan.owed for plan in plans)
        group["own_share"] = sum(plan.own_share for plan in plans)
        group["family_amount"] = sum(plan.family.amount for plan in plans)
        group["family_saving"] = sum(plan.family.waived for plan in plans)
        group["own_amount"] = sum(plan.own.amount for plan in plans)
        group["own_saving"] = sum(plan.own.waived for plan in plans)
    return list(by_club.values())


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    if request.method == "POST" and person is not None:
        club_id = request.POST.get("club", "")
        scope = request.POST.get("scope", CheckoutScope.FAMILY)
        rows = selectors.payable_invoices(person, club_id=int(club_id)) if club_id.isdigit() else []
        try:
            session = services.checkout_start(
                actor=request.user,
                payer=person,
                invoices=[row.invoice for row in rows],
                scope=scope,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except (ValidationError, PermissionDenied) as error:
            for message in getattr(error, "messages", [str(error)]):
                messages.error(request, message)
        else:
            return redirect(session.redirect_url)
    groups = _groups(person) if person is not None else []
    return render(request, "billing/online/pay.html", {"person": person, "groups": groups})


def _own_session(request: HttpRequest, pk: int) -> CheckoutSession:
    person_id = getattr(request.user, "person_id", None)
    session = (
        CheckoutSession.objects.select_related("club")
        .prefetch_related("lines__invoice")
        .filter(pk=pk, payer_id=person_id)
        .first()
    )
    if person_id is None or session is None:
        raise Http404
    return session


@login_required
def done(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    return render(request, "billing/online/done.html", {"session": session})


@login_required
def cancelled(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    return render(request, "billing/online/cancelled.html", {"session": session})


# ------------------------------------------------------------------ the sandbox processor


def _deliver(signed: SignedEvent) -> None:
    """Send the sandbox's signed event to the webhook: over HTTP when
    `SANDBOX_WEBHOOK_URL` is set (another process), else through the same service the
    endpoint calls."""
    headers = {SIGNATURE_HEADER: signed.signature, "Content-Type": "application/json"}
    if settings.SANDBOX_WEBHOOK_URL:
        request = urllib.request.Request(  # noqa: S310 - a configured http(s) URL
            settings.SANDBOX_WEBHOOK_URL, data=signed.body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT):  # noqa: S310
            return
    services.webhook_receive(SandboxProvider.name, signed.body, headers)


@login_required
@require_http_methods(["GET", "POST"])
def sandbox(request: HttpRequest, session_id: str) -> HttpResponse:
    if SandboxProvider.name != settings.PAYMENT_PROVIDER:
        raise Http404
    processor = SandboxProvider()
    checkout = processor.load(session_id)
    ours = CheckoutSession.objects.filter(
        provider=SandboxProvider.name, provider_session_id=session_id, created_by=request.user
    ).exists()
    if checkout is None or not ours:
        raise Http404
    if request.method == "POST":
        signed = processor.complete(session_id, pay=request.POST.get("action") == "pay")
        if signed is not None:
            _deliver(signed)
            return redirect(signed.return_url)
        checkout = processor.load(session_id)
    context = {"checkout": checkout, "amount": processor.amount(checkout)}
    return render(request, "billing/online/sandbox.html", context)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    if provider != settings.PAYMENT_PROVIDER:
        raise Http404
    try:
        event = services.webhook_receive(provider, request.body, request.headers)
    except InvalidSignature:
        return HttpResponseBadRequest("invalid signature", content_type="text/plain")
    status = "duplicate" if event.is_duplicate else event.outcome  # type: ignore[attr-defined]
    return HttpResponse(status, content_type="text/plain")


urlpatterns = [
    path("online/pay/", pay, name="online-pay"),
    path("online/checkouts/<int:pk>/done/", done, name="online-done"),
    path("online/checkouts/<int:pk>/cancelled/", cancelled, name="online-cancelled"),
    path("online/sandbox/<str:session_id>/", sandbox, name="online-sandbox"),
    path("online/webhook/<str:provider>/", webhook, name="online-webhook"),
]
