"""Dues preview pages (issue 5, scope 6) and the team eligibility list (D-04, D-06).

Administrators (members.manage or billing.manage in the club) see every member's preview;
a member sees their own and their family's. The team list needs persons.view on the team
(the team leader's function there grants it). Missing and forbidden look the same (404).
"""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import pricing, selectors, selectors_eligibility, texts
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Family,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
)

PAGE_SIZE = 50


def season_from(request: HttpRequest) -> int:
    """?season=YYYY, the current year by default; 404 for nonsense (HTML pages)."""
    raw = request.GET.get("season", "")
    if not raw:
        return timezone.localdate().year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404
    return int(raw)


def _club_or_404(pk: int | str | None) -> Organisation:
    try:
        return Organisation.objects.get(pk=pk, organisation_type=OrganisationType.CLUB)
    except (Organisation.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error


def person_and_club(user, person_pk: int, club_pk: str | None) -> tuple[Person, Organisation]:  # type: ignore[no-untyped-def]
    """The person and the club of the preview, if the user may see it: the person themself,
    or an administrator of a club the person belongs to. Else Http404."""
    person = Person.objects.filter(pk=person_pk).first()
    if person is None:
        raise Http404
    own = user.is_authenticated and user.person_id == person.pk
    clubs = [_club_or_404(club_pk)] if club_pk else list(selectors.person_clubs(person))
    for club in clubs:
        if not selectors.belongs_to_club(person, club):
            continue
        if own or selectors.may_preview_club(user, club):
            return person, club
    raise Http404


def family_or_404(user, pk: int) -> Family:  # type: ignore[no-untyped-def]
    family = Family.objects.select_related("club").filter(pk=pk).first()
    if family is None:
        raise Http404
    own = (
        user.is_authenticated
        and user.person_id is not None
        and Membership.objects.filter(family=family, person_id=user.person_id)
        .exclude(status=MembershipStatus.ENDED)
        .exists()
    )
    if own or selectors.may_preview_club(user, family.club):
        return family
    raise Http404


def _render_preview(request, template, context, preview_call):  # type: ignore[no-untyped-def]
    try:
        context["preview"] = preview_call()
    except selectors.NoFeeSchedule as error:
        context["problem"] = texts.error_message(error)
    except pricing.PricingError as error:
        context["problem"] = texts.error_message(error)
    return render(request, template, context)


@login_required
@require_GET
def person_dues(request: HttpRequest, pk: int) -> HttpResponse:
    person, club = person_and_club(request.user, pk, request.GET.get("club"))
    season = season_from(request)
    context = {"person": person, "club": club, "season": season}
    return _render_preview(
        request,
        "billing/person_dues.html",
        context,
        lambda: selectors.dues_preview(request.user, person, season, club=club),
    )


@login_required
@require_GET
def family_dues(request: HttpRequest, pk: int) -> HttpResponse:
    family = family_or_404(request.user, pk)
    season = season_from(request)
    context = {"family": family, "club": family.club, "season": season}
    return _render_preview(
        request,
        "billing/family_dues.html",
        context,
        lambda: selectors.dues_preview(request.user, family, season),
    )


@login_required
@require_GET
def club_dues(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club_or_404(pk)
    if not selectors.may_preview_club(request.user, club):
        raise Http404
    season = season_from(request)
    context: dict = {"club": club, "season": season}
    try:
        preview = selectors.dues_preview(request.user, club, season)
    except (selectors.NoFeeSchedule, pricing.PricingError) as error:
        context["problem"] = texts.error_message(error)
        return render(request, "billing/club_dues.html", context)
    page = Paginator(preview.season_dues.persons, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        preview=preview,
        page=page,
        rows=[(dues, preview.names.get(dues.person_id, "")) for dues in page.object_list],
    )
    return render(request, "billing/club_dues.html", context)


@login_required
@require_GET
def team_eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    team = Organisation.objects.filter(pk=pk, organisation_type=OrganisationType.TEAM).first()
    if team is None or not access.has_capability(request.user, Capability.PERSONS_VIEW, team):
        raise Http404
    club = (
        Organisation.objects.filter(organisation_type=OrganisationType.CLUB)
        .filter(
            path__in=[team.path[:end] for end in range(team.steplen, len(team.path), team.steplen)]
        )
        .first()
    )
    if club is None:
        raise Http404
    try:
        on = datetime.date.fromisoformat(request.GET["on"]) if request.GET.get("on") else None
    except ValueError as error:
        raise Http404 from error
    on = on or timezone.localdate()
    season = int(request.GET["season"]) if request.GET.get("season", "").isdigit() else on.year
    context: dict = {"team": team, "club": club, "on": on, "season": season}
    try:
        context["players"] = selectors_eligibility.team_eligibility(
            team=team, club=club, on=on, season=season
        )
    except (selectors.NoFeeSchedule, pricing.PricingError) as error:
        context["problem"] = texts.error_message(error)
    return render(request, "billing/team_eligibility.html", context)
