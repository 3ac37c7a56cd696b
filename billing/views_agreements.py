"""Agreement pages for club administrators (issue 5, scope 5): written agreements and
approved applications (D-10), hardship exemptions and agreements to work off the fee (D-11,
the general manager's alone: others get 404 and never see them), volunteer contracts (D-10),
volunteer hours (M-15), trial periods (D-06) and payment preferences (M-10).

billing.manage in the club changes them (trial periods: members.manage on the team, as the
service says); members.manage sees the lists read-only (billing.page_access). Every write
goes through billing.services / billing.services_agreements (audited); a failed save changes
nothing and shows why on the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import page_access, selectors, selectors_pages, services_agreements
from billing.forms_agreements import (
    AgreementForm,
    PaymentPreferenceForm,
    TrialPeriodForm,
    VolunteerContractForm,
    VolunteerHoursForm,
)
from billing.models import (
    CONFIDENTIAL_KINDS,
    ExemptionAgreement,
    TrialPeriod,
    VolunteerContract,
)
from billing.views_common import add_errors, page, season_from
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, Person


def _persons(club: Organisation) -> QuerySet[Person]:
    return selectors_pages.club_persons(club)


def _trial_persons(request: HttpRequest, club: Organisation) -> QuerySet[Person]:
    """D-06: a new player may not belong to the club yet; any person the user may see."""
    visible = access.scope(request.user, Capability.PERSONS_VIEW, Person.objects.all())
    return Person.objects.filter(merged_into__isnull=True).filter(
        Q(pk__in=visible.values("pk")) | Q(pk__in=_persons(club).values("pk"))
    )


def _bad(error: PermissionDenied) -> Http404:
    return Http404(str(error))


@login_required
@require_GET
def person_lookup(request: HttpRequest, pk: int) -> HttpResponse:
    """The persons of the club whose names start with the words typed (HTMX)."""
    club = page_access.club_or_404(request.user, pk)
    query = request.GET.get("q", "").strip()
    among = request.GET.get("among")
    persons = _trial_persons(request, club) if among == "visible" else _persons(club)
    context = {"persons": selectors_pages.person_choices(persons, query), "query": query}
    return render(request, "billing/_person_choices.html", context)


def _form_page(request: HttpRequest, club: Organisation, **context: Any) -> HttpResponse:
    return render(request, "billing/form_page.html", {"club": club, **context})


# ------------------------------------------------------------------ agreements (D-10, D-11)


def _agreement_list(request: HttpRequest, pk: int, *, confidential: bool) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk)
    if confidential and not page_access.may_see_confidential(request.user, club):
        raise Http404
    season = season_from(request)
    rows = selectors_pages.club_agreements(club, season, confidential=confidential)
    context = {
        "club": club,
        "season": season,
        "page": page(request, rows),
        "confidential": confidential,
        "may_manage": page_access.may_manage(request.user, club),
        "may_see_confidential": page_access.may_see_confidential(request.user, club),
    }
    return render(request, "billing/agreement_list.html", context)


@login_required
@require_GET
def agreement_list(request: HttpRequest, pk: int) -> HttpResponse:
    return _agreement_list(request, pk, confidential=False)


@login_required
@require_GET
def hardship_list(request: HttpRequest, pk: int) -> HttpResponse:
    """D-11: confidential; the club's general manager only."""
    return _agreement_list(request, pk, confidential=True)


def _agreement_form(
    request: HttpRequest, club: Organisation, season: int, **kwargs: Any
) -> AgreementForm:
    return AgreementForm(
        request.POST or None,
        rules=services_agreements.agreement_rules(club, season),
        groups=selectors_pages.club_groups(club),
        teams=selectors_pages.club_teams(club),
        confidential=page_access.may_see_confidential(request.user, club),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_add(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk, manage=True)
    season = season_from(request)
    initial = {"kind": request.GET.get("kind", "")}
    form = _agreement_form(request, club, season, persons=_persons(club), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services_agreements.exemption_agreement_record(
                actor=request.user,
                person=form.cleaned_data["person"],
                club=club,
                season=season,
                **form.service_arguments(),
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise _bad(error) from error
        else:
            messages.success(request, _("The agreement was recorded."))
            return redirect(_agreement_list_url(agreement))
    return _form_page(
        request,
        club,
        form=form,
        title=_("New agreement %(season)s") % {"season": season},
        intro=_(
            "D-10: role exemptions need a signed volunteer contract on file; some need a "
            "written agreement or an approved application for the rule. D-11: hardship "
            "exemptions are decided by the general manager, after public support schemes."
        ),
        person_lookup=reverse("billing:person-lookup", args=[club.pk]),
        back_url=reverse("billing:agreement-list", args=[club.pk]) + f"?season={season}",
    )


def _agreement_list_url(agreement: ExemptionAgreement) -> str:
    name = "billing:hardship-list" if agreement.is_confidential else "billing:agreement-list"
    return reverse(name, args=[agreement.club_id]) + f"?season={agreement.season}"


def _agreement_or_404(request: HttpRequest, pk: int) -> ExemptionAgreement:
    """An agreement of a club the user manages; a confidential one only for its general
    manager (everyone else: 404, as if it did not exist)."""
    agreement = ExemptionAgreement.objects.select_related("club", "person").filter(pk=pk).first()
    if agreement is None:
        raise Http404
    club = page_access.club_or_404(request.user, agreement.club_id, manage=True)
    if agreement.kind in CONFIDENTIAL_KINDS and not page_access.may_see_confidential(
        request.user, club
    ):
        raise Http404
    return agreement


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement_or_404(request, pk)
    club = agreement.club
    form = _agreement_form(
        request,
        club,
        agreement.season,
        persons=None,
        children=selectors_pages.children_of(agreement.person),
        initial=AgreementForm.initial_for(agreement),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_agreements.exemption_agreement_update(
                actor=request.user, agreement=agreement, **form.service_arguments()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise _bad(error) from error
        else:
            messages.success(request, _("The agreement was saved."))
            return redirect(_agreement_list_url(agreement))
    return _form_page(
        request,
        club,
        form=form,
        title=_("Agreement %(season)s: %(name)s")
        % {"season": agreement.season, "name": agreement.person.full_name},
        back_url=_agreement_list_url(agreement),
        delete_url=reverse("billing:agreement-delete", args=[agreement.pk]),
    )


@login_required
@require_POST
def agreement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement_or_404(request, pk)
    back = _agreement_list_url(agreement)
    try:
        services_agreements.exemption_agreement_delete(actor=request.user, agreement=agreement)
    except PermissionDenied as error:
        raise _bad(error) from error
    messages.success(request, _("The agreement was removed."))
    return redirect(back)


# ------------------------------------------------------------------ volunteer contracts (D-10)


def _contract_page(request: HttpRequest, club: Organisation, form: Any) -> HttpResponse:
    context = {
        "club": club,
        "page": page(request, selectors_pages.club_contracts(club)),
        "form": form,
        "may_manage": form is not None,
        "person_lookup": reverse("billing:person-lookup", args=[club.pk]),
    }
    return render(request, "billing/contract_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk, manage=request.method == "POST")
    if not page_access.may_manage(request.user, club):
        return _contract_page(request, club, None)
    form = VolunteerContractForm(request.POST or None, persons=_persons(club))
    if request.method == "POST" and form.is_valid():
        try:
            services_agreements.volunteer_contract_record(
                actor=request.user, club=club, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise _bad(error) from error
        else:
            messages.success(request, _("The volunteer contract was registered."))
            return redirect("billing:contract-list", pk=club.pk)
    return _contract_page(request, club, form)


def _contract_or_404(request: HttpRequest, pk: int) -> VolunteerContract:
    contract = VolunteerContract.objects.select_related("club", "person").filter(pk=pk).first()
    if contract is None:
        raise Http404
    page_access.club_or_404(request.user, contract.club_id, manage=True)
    return contract


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract_or_404(request, pk)
    initial = {"signed_on": contract.signed_on, "valid_until": contract.valid_until}
    form = VolunteerContractForm(request.POST or None, persons=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_agreements.volunteer_contract_update(
                actor=request.user, contract=contract, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise _bad(error) from error
        else:
            messages.success(request, _("The volunteer contract was saved."))
            return redirect("billing:contract-list", pk=contract.club_id)
    return _form_page(
        request,
        contract.club,
        form=form,
        title=_("Volunteer contract: %(name)s") % {"name": contract.person.full_name},
        intro=_("D-10: to end the contract, give the last day it is valid."),
        back_url=reverse("billing:contract-list", args=[contract.club_id]),
        delete_url=reverse("billing:contract-delete", args=[contract.pk]),
    )


@login_required
@require_POST
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract_or_404(request, pk)
    try:
        services_agreements.volunteer_contract_delete(actor=request.user, contract=contract)
    except PermissionDenied as error:
        raise _bad(error) from error
    messages.success(request, _("The volunteer contract was removed."))
    return redirect("billing:contract-list", pk=contract.club_id)


# ------------------------------------------------------------------ volunteer hours (M-15)


@login_required
@require_http_methods(["GET", "POST"])
def hours_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk, manage=request.method == "POST")
    season = season_from(request)
    form = None
    if page_access.may_manage(request.user, club):
        form = VolunteerHoursForm(request.POST or None, persons=_persons(club))
        if request.method == "POST" and form.is_valid():
            try:
                services_agreements.volunteer_hours_record(
                    actor=request.user, club=club, season=season, **form.cleaned_data
                )
            except ValidationError as error:
                add_errors(form, error)
            except PermissionDenied as error:
                raise _bad(error) from error
            else:
                messages.success(request, _("The volunteer hours were registered."))
                return redirect(reverse("billing:hours-list", args=[club.pk]) + f"?season={season}")
    context = {
        "club": club,
        "season": season,
        "page": page(request, selectors_pages.club_volunteer_hours(club, season)),
        "form": form,
        "may_manage": form is not None,
        "person_lookup": reverse("billing:person-lookup", args=[club.pk]),
    }
    return render(request, "billing/hours_list.html", context)


# ------------------------------------------------------------------ trial periods (D-06)


@login_required
@require_http_methods(["GET", "POST"])
def trial_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk)
    may_add = access.has_capability(request.user, Capability.MEMBERS_MANAGE, club)
    if request.method == "POST" and not may_add:
        raise Http404
    form = None
    if may_add:
        form = TrialPeriodForm(
            request.POST or None,
            persons=_trial_persons(request, club),
            teams=selectors_pages.club_teams(club),
        )
        if request.method == "POST" and form.is_valid():
            try:
                services_agreements.trial_period_record(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            except PermissionDenied as error:
                raise _bad(error) from error
            else:
                messages.success(request, _("The trial period was registered."))
                return redirect("billing:trial-list", pk=club.pk)
    context = {
        "club": club,
        "page": page(request, selectors_pages.club_trial_periods(club)),
        "form": form,
        "may_manage": may_add,
        "trial_days": selectors.club_trial_days(club, season_from(request)),
        "person_lookup": reverse("billing:person-lookup", args=[club.pk]) + "?among=visible",
    }
    return render(request, "billing/trial_list.html", context)


def _trial_or_404(request: HttpRequest, pk: int) -> TrialPeriod:
    trial = TrialPeriod.objects.select_related("team", "person").filter(pk=pk).first()
    if trial is None or not access.has_capability(
        request.user, Capability.MEMBERS_MANAGE, trial.team
    ):
        raise Http404
    return trial


def _club_of(organisation: Organisation) -> Organisation:
    steps = range(organisation.steplen, len(organisation.path), organisation.steplen)
    club = (
        Organisation.objects.filter(
            path__in=[organisation.path[:end] for end in steps], organisation_type="club"
        )
        .order_by("-depth")
        .first()
    )
    if club is None:
        raise Http404
    return club


@login_required
@require_http_methods(["GET", "POST"])
def trial_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_or_404(request, pk)
    club = _club_of(trial.team)
    initial = {
        "start_date": trial.start_date,
        "from_other_club": trial.from_other_club,
        "former_club_agreed": trial.former_club_agreed,
    }
    form = TrialPeriodForm(request.POST or None, persons=None, teams=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_agreements.trial_period_update(
                actor=request.user, trial=trial, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise _bad(error) from error
        else:
            messages.success(request, _("The trial period was saved."))
            return redirect("billing:trial-list", pk=club.pk)
    return _form_page(
        request,
        club,
        form=form,
        title=_("Trial period: %(name)s, %(team)s")
        % {"name": trial.person.full_name, "team": trial.team.name},
        intro=_(
            "D-06: a new player may train for up to %(days)s days before registering; one "
            "who comes from another club only after the former club agreed."
        )
        % {"days": selectors.club_trial_days(club, trial.start_date.year)},
        back_url=reverse("billing:trial-list", args=[club.pk]),
        delete_url=reverse("billing:trial-delete", args=[trial.pk]),
    )


@login_required
@require_POST
def trial_delete(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_or_404(request, pk)
    club = _club_of(trial.team)
    try:
        services_agreements.trial_period_delete(actor=request.user, trial=trial)
    except PermissionDenied as error:
        raise _bad(error) from error
    messages.success(request, _("The trial period was removed."))
    return redirect("billing:trial-list", pk=club.pk)


# ------------------------------------------------------------------ payment preferences (M-10)


@login_required
@require_http_methods(["GET", "POST"])
def payment_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk, manage=request.method == "POST")
    form = None
    if page_access.may_manage(request.user, club):
        form = PaymentPreferenceForm(request.POST or None, persons=_persons(club))
        if request.method == "POST" and form.is_valid():
            try:
                services_agreements.payment_preference_set(
                    actor=request.user, club=club, **form.cleaned_data
                )
            except ValidationError as error:
                add_errors(form, error)
            except PermissionDenied as error:
                raise _bad(error) from error
            else:
                messages.success(request, _("The payment preference was saved."))
                return redirect("billing:payment-list", pk=club.pk)
    context = {
        "club": club,
        "page": page(request, selectors_pages.club_payment_preferences(club)),
        "form": form,
        "may_manage": form is not None,
        "person_lookup": reverse("billing:person-lookup", args=[club.pk]),
    }
    return render(request, "billing/payment_list.html", context)
