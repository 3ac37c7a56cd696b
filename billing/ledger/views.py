"""Refunds (payout list), the ledger and its exports, and the annual membership report
(issue 6, scopes 7 and 8). The payout list's steps go through `billing.ledger.overpayments`,
which adds what a payment's refund needs (its PaymentEvent, an account given by hand).
Refunds and the ledger need billing.manage in the club
(`billing.page_access.club_or_404(manage=True)`); the report billing.manage or
members.manage in the club, or in a region or federation for its summed report. Missing and
forbidden are both 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing import page_access
from billing.ledger import export, overpayments, rules, selectors, services
from billing.models_invoicing import InvoiceKind, InvoiceStatus
from billing.models_ledger import Refund, RefundState
from billing.pricing import LeaveReason
from billing.selectors import NoFeeSchedule
from billing.views_common import page
from members.models import Organisation, OrganisationType, Person


def _club(request: HttpRequest, pk: int) -> Organisation:
    return page_access.club_or_404(request.user, pk, manage=True)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _optional_season(request: HttpRequest) -> int | None:
    raw = request.GET.get("season", "")
    if not raw:
        return None
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404
    return int(raw)


# ------------------------------------------------------------------ forms


class SeasonForm(forms.Form):
    season = forms.IntegerField(label=gettext_lazy("Season"), min_value=2000, max_value=2100)


class MovingAwayForm(forms.Form):
    person = forms.IntegerField(label=gettext_lazy("Person (id)"), min_value=1)
    season = forms.IntegerField(label=gettext_lazy("Season"), min_value=2000, max_value=2100)
    group = forms.SlugField(label=gettext_lazy("Group (code)"), max_length=50)
    left_on = forms.DateField(label=gettext_lazy("Left on"))
    leave_reason = forms.ChoiceField(
        label=gettext_lazy("Reason for leaving"),
        choices=[
            (LeaveReason.MOVING.value, gettext_lazy("Moving (school, military service)")),
            (LeaveReason.CLUB_CHANGE.value, gettext_lazy("Club change")),
            (LeaveReason.OTHER.value, gettext_lazy("Other")),
        ],
    )
    documented = forms.BooleanField(label=gettext_lazy("Documented"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("All")), *list(RefundState.choices)],
    )


class LedgerFilterForm(forms.Form):
    season = forms.IntegerField(
        label=gettext_lazy("Season"), required=False, min_value=2000, max_value=2100
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *list(InvoiceStatus.choices)],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All")), *list(InvoiceKind.choices)],
    )
    query = forms.CharField(label=gettext_lazy("Buyer or number"), required=False, max_length=100)


# ------------------------------------------------------------------ refunds


@login_required
def refund_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = StateFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    refunds = selectors.refunds_of_club(request.user, club, state).select_related("payment")
    rows = page(request, refunds)
    return render(
        request,
        "billing/ledger/refund_list.html",
        {
            "club": club,
            "form": form,
            "page": rows,
            "state": state,
            "counts": selectors.refund_state_counts(request.user, club),
            "query": _query_without_page(request),
            "season_form": SeasonForm(initial={"season": timezone.localdate().year}),
            "moving_form": MovingAwayForm(),
        },
    )


@login_required
@require_POST
def refunds_propose_volunteer(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = SeasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the season."))
        return redirect("billing:refund-list", pk=club.pk)
    try:
        proposal = services.refunds_propose_volunteer_work(
            actor=request.user, club=club, season=form.cleaned_data["season"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(count)s refunds proposed (%(old)s proposed before).")
            % {"count": len(proposal.created), "old": proposal.already_proposed},
        )
    return redirect("billing:refund-list", pk=club.pk)


@login_required
@require_POST
def refund_propose_moving(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = MovingAwayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the moving-away form."))
        return redirect("billing:refund-list", pk=club.pk)
    data = form.cleaned_data
    person = Person.objects.filter(
        pk=data["person"], memberships__club=club
    ).first()  # a member of this club only
    if person is None:
        messages.error(request, _("No member of this club has that id."))
        return redirect("billing:refund-list", pk=club.pk)
    try:
        services.refund_propose_moving_away(
            actor=request.user,
            club=club,
            person=person,
            season=data["season"],
            group=data["group"],
            left_on=data["left_on"],
            leave_reason=data["leave_reason"],
            documented=data["documented"],
            note=data["note"],
        )
    except (ValidationError, NoFeeSchedule) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    else:
        messages.success(request, _("The refund is proposed."))
    return redirect("billing:refund-list", pk=club.pk)


def _refund_or_404(request: HttpRequest, pk: int) -> Refund:
    refund = Refund.objects.select_related("club").filter(pk=pk).first()
    if refund is None:
        raise Http404
    _club(request, refund.club_id)
    return refund


@login_required
@require_POST
def refund_approve(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(request, pk)
    try:
        # A payment's refund (over-payment, no invoice) has no credit note.
        overpayments.refund_approve(actor=request.user, refund=refund)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if refund.is_payment_refund:
            messages.success(request, _("The refund is approved."))
        else:
            messages.success(request, _("The refund is approved and the credit note issued."))
    return redirect("billing:refund-list", pk=refund.club_id)


@login_required
@require_POST
def refund_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(request, pk)
    try:
        overpayments.refund_cancel(actor=request.user, refund=refund)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The refund is cancelled."))
    return redirect("billing:refund-list", pk=refund.club_id)


@login_required
@require_POST
def refunds_mark_paid(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    ids = [int(value) for value in request.POST.getlist("refunds") if value.isdigit()]
    try:
        count = overpayments.refunds_mark_paid(actor=request.user, club=club, refund_ids=ids)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(count)s refunds marked as paid.") % {"count": count})
    return redirect("billing:refund-list", pk=club.pk)


@login_required
def payout_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The bank's file of the approved refunds (or ?state=...): name, account, amount,
    reference."""
    club = _club(request, pk)
    state = request.GET.get("state") or RefundState.APPROVED
    if state not in RefundState.values:
        raise Http404
    refunds = (
        selectors.refunds_of_club(request.user, club, state)
        .exclude(account_number="")
        .select_related("payment")
    )
    return export.response(
        f"payouts-{club.pk}-{state}.csv", export.PAYOUT_HEADER, export.payout_rows(refunds)
    )


# ------------------------------------------------------------------ the ledger


@login_required
def ledger(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = LedgerFilterForm(request.GET or None)
    filters = selectors.LedgerFilters()
    if form.is_valid():
        filters = selectors.LedgerFilters(
            **{
                key: value or ("" if key != "season" else None)
                for key, value in form.cleaned_data.items()
            }
        )
    rows = page(request, selectors.ledger_invoices(request.user, club, filters))
    return render(
        request,
        "billing/ledger/ledger.html",
        {
            "club": club,
            "form": form,
            "page": rows,
            "rows": selectors.ledger_rows(rows.object_list),
            "totals": selectors.season_totals(request.user, club),
            "query": _query_without_page(request),
            "season": filters.season,
            "export_kinds": export.KINDS,
        },
    )


@login_required
def ledger_payers(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    season = _optional_season(request)
    rows = page(request, selectors.payer_rows(request.user, club, season))
    balances = selectors.payer_balances(club, rows.object_list, season)
    return render(
        request,
        "billing/ledger/payers.html",
        {
            "club": club,
            "page": rows,
            "rows": balances,
            "season": season,
            "query": _query_without_page(request),
        },
    )


@login_required
def ledger_export(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    club = _club(request, pk)
    if kind not in export.KINDS:
        raise Http404
    season = _optional_season(request)
    header, rows = export.accountant_rows(kind, club, season)
    suffix = f"-{season}" if season else ""
    return export.response(f"{kind}-{club.pk}{suffix}.csv", header, rows)


# ------------------------------------------------------------------ S-07


def _report_organisation(request: HttpRequest, pk: int) -> Organisation:
    organisation = Organisation.objects.filter(
        pk=pk,
        organisation_type__in=[
            OrganisationType.CLUB,
            OrganisationType.REGION,
            OrganisationType.FEDERATION,
        ],
    ).first()
    if organisation is None or not selectors.may_see_report(request.user, organisation):
        raise Http404
    return organisation


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if not raw:
        return timezone.localdate().year - 1  # reported by 30 April for the year before
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404
    return int(raw)


@login_required
def membership_report(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _report_organisation(request, pk)
    year = _year(request)
    report = selectors.membership_report(organisation, year)
    bars, width = rules.bar_chart(report.table)
    return render(
        request,
        "billing/ledger/membership_report.html",
        {
            "organisation": organisation,
            "report": report,
            "year": year,
            "genders": rules.GENDERS,
            "bars": bars,
            "chart_width": width,
            "chart_height": rules.CHART_HEIGHT,
        },
    )


@login_required
def membership_report_csv(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _report_organisation(request, pk)
    year = _year(request)
    rows = export.report_rows(selectors.membership_report(organisation, year))
    return export.response(f"membership-report-{organisation.pk}-{year}.csv", rows[0], rows[1:])


urlpatterns = [
    path("clubs/<int:pk>/refunds/", refund_list, name="refund-list"),
    path(
        "clubs/<int:pk>/refunds/volunteer-work/",
        refunds_propose_volunteer,
        name="refund-propose-volunteer",
    ),
    path(
        "clubs/<int:pk>/refunds/moving-away/", refund_propose_moving, name="refund-propose-moving"
    ),
    path("clubs/<int:pk>/refunds/paid/", refunds_mark_paid, name="refund-mark-paid"),
    path("clubs/<int:pk>/refunds/payouts.csv", payout_export, name="refund-payout-export"),
    path("refunds/<int:pk>/approve/", refund_approve, name="refund-approve"),
    path("refunds/<int:pk>/cancel/", refund_cancel, name="refund-cancel"),
    path("clubs/<int:pk>/ledger/", ledger, name="ledger"),
    path("clubs/<int:pk>/ledger/payers/", ledger_payers, name="ledger-payers"),
    path("clubs/<int:pk>/ledger/<slug:kind>.csv", ledger_export, name="ledger-export"),
    path(
        "organisations/<int:pk>/membership-report/",
        membership_report,
        name="membership-report",
    ),
    path(
        "organisations/<int:pk>/membership-report.csv",
        membership_report_csv,
        name="membership-report-csv",
    ),
]
