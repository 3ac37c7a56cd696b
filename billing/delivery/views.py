"""Delivery and reminder pages (issue 6, scopes 4 and 5): the club's delivery status list
with filters, the paper list (one PDF bundle, "mark as posted"), "send again", the reminder
policy and the reminders list. All need billing.manage in the club
(`billing.page_access.club_or_404`); missing and forbidden are both 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import page_access
from billing.delivery import selectors, services
from billing.delivery.forms import DeliveryFilterForm, MarkPostedForm, ReminderPolicyForm
from billing.invoicing import pdf
from billing.models_delivery import DeliveryState, InvoiceDelivery
from billing.views_common import PAGE_SIZE, add_errors, page
from members.models import Organisation


def _club(request: HttpRequest, pk: int) -> Organisation:
    return page_access.club_or_404(request.user, pk, manage=True)


@login_required
def delivery_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = DeliveryFilterForm(request.GET or None)
    filters = selectors.DeliveryFilters()
    if form.is_valid():
        filters = selectors.DeliveryFilters(**form.cleaned_data)
    rows = page(request, selectors.deliveries_visible_to(request.user, club, filters))
    return render(
        request,
        "billing/delivery/delivery_list.html",
        {
            "club": club,
            "form": form,
            "page": rows,
            "counts": selectors.state_counts(request.user, club),
            "query": _query_without_page(request),
        },
    )


def _delivery_label(state: str | None) -> str:
    """A delivery state's label ("Sent", "Posted"); blank when there is no delivery."""
    if not state:
        return ""
    return str(DeliveryState(state).label) if state in DeliveryState.values else state


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _paper_choices(request: HttpRequest, club: Organisation) -> list[tuple[int, str]]:
    return [(row.pk, str(row.invoice.number)) for row in selectors.paper_list(request.user, club)]


@login_required
def paper_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    rows = list(selectors.paper_list(request.user, club))
    return render(request, "billing/delivery/paper_list.html", {"club": club, "rows": rows})


@login_required
def paper_bundle(request: HttpRequest, pk: int) -> HttpResponse:
    """One PDF of every letter on the paper list (invoices; a reminder prints its invoice)."""
    club = _club(request, pk)
    rows = list(selectors.paper_list(request.user, club))
    if not rows:
        raise Http404
    content = pdf.invoices_pdf_bundle([row.invoice for row in rows])
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="paper-{club.pk}.pdf"'
    return response


@login_required
@require_POST
def paper_mark_posted(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = MarkPostedForm(request.POST, choices=_paper_choices(request, club))
    if form.is_valid():
        try:
            count = services.deliveries_mark_posted(
                actor=request.user, club=club, delivery_ids=form.cleaned_data["deliveries"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(count)s letters marked as posted.") % {"count": count})
    else:
        messages.error(request, _("Choose the letters you posted."))
    return redirect("billing:delivery-paper", pk=club.pk)


@login_required
@require_POST
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = InvoiceDelivery.objects.select_related("club").filter(pk=pk).first()
    if delivery is None:
        raise Http404
    club = _club(request, delivery.club_id)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("billing:delivery-list", pk=club.pk)


@login_required
@require_http_methods(["GET", "POST"])
def reminder_policy(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = ReminderPolicyForm(request.POST or None, instance=selectors.reminder_policy(club))
    if request.method == "POST" and form.is_valid():
        try:
            services.reminder_policy_save(actor=request.user, club=club, data=form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The reminder settings are saved."))
            return redirect("billing:reminder-list", pk=club.pk)
    return render(request, "billing/delivery/reminder_policy.html", {"club": club, "form": form})


NOTICES_PAGE = "notices_page"  # the second list's page parameter


@login_required
def reminder_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The reminders and, paged apart (`notices_page`), the unpaid lists sent to team
    leaders (D-03)."""
    club = _club(request, pk)
    rows = page(request, selectors.reminders_visible_to(request.user, club))
    for row in rows.object_list:
        row.delivery_label = _delivery_label(row.delivery_state)
    notices = Paginator(selectors.team_notices_visible_to(request.user, club), PAGE_SIZE).get_page(
        request.GET.get(NOTICES_PAGE)
    )
    return render(
        request,
        "billing/delivery/reminder_list.html",
        {
            "club": club,
            "page": rows,
            "notices": notices,
            "policy": selectors.reminder_policy(club),
        },
    )


urlpatterns = [
    path("clubs/<int:pk>/deliveries/", delivery_list, name="delivery-list"),
    path("clubs/<int:pk>/deliveries/paper/", paper_list, name="delivery-paper"),
    path("clubs/<int:pk>/deliveries/paper/bundle.pdf", paper_bundle, name="delivery-paper-bundle"),
    path(
        "clubs/<int:pk>/deliveries/paper/posted/",
        paper_mark_posted,
        name="delivery-paper-posted",
    ),
    path("deliveries/<int:pk>/resend/", delivery_resend, name="delivery-resend"),
    path("clubs/<int:pk>/reminders/", reminder_list, name="reminder-list"),
    path("clubs/<int:pk>/reminders/policy/", reminder_policy, name="reminder-policy"),
]
