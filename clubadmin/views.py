"""Base views: dashboard and health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from clubadmin import access
from members import selectors


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """One card per organisation the user administers (the top of each of their grants)."""
    organisations = list(access.administered_organisations(request.user).order_by("path"))
    cards = [
        {"organisation": o, "counts": selectors.organisation_dashboard_counts(organisation=o)}
        for o in organisations[:20]
    ]
    return render(
        request,
        "clubadmin/dashboard.html",
        {"cards": cards, "more": max(0, len(organisations) - len(cards))},
    )


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name exists only after collectstatic in production.
    return HttpResponsePermanentRedirect(static("favicon.svg"))
