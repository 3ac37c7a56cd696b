"""Fee schedule pages for club administrators (issue 5, scopes 4 and 5): per club and
season the membership fees (M-04, D-01), family price and limit (M-11, D-01), invoice fee
(M-10), volunteer-work fee (M-15), activity groups and their cohort fees (D-07, D-08), and
the reduction and exemption rules (D-05, D-09..D-11), each shown with its conditions and
effect; a new season from the example or as a copy of another season.

billing.manage in the club changes a schedule; members.manage sees it read-only
(billing.page_access). D-11: the confidential rules are changed by the general manager only.
Every write goes through billing.services / billing.services_schedules (audited); a failed
save changes nothing and shows why on the form. Missing and forbidden: 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import page_access, pricing, selectors_pages, services, services_schedules, texts
from billing.forms_schedules import (
    RULE_FORMS,
    RULE_KIND_CHOICES,
    ActivityGroupForm,
    CohortFeeFormSet,
    MembershipPriceForm,
    MembershipPriceFormSet,
    ScheduleCreateForm,
    ScheduleSettingsForm,
)
from billing.models import ActivityGroup, FeeSchedule, _membership_price
from billing.rule_texts import describe, kind_label, labels
from billing.views_common import add_errors, schedule_or_404
from members.models import MembershipCategory


def _detail(schedule: FeeSchedule) -> HttpResponse:
    return redirect("billing:schedule-detail", pk=schedule.pk)


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "billing/form_page.html", context)


# ------------------------------------------------------------------ schedules of a club


@login_required
@require_GET
def schedule_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = page_access.club_or_404(request.user, pk)
    schedules = list(selectors_pages.club_schedules(club))
    may_manage = page_access.may_manage(request.user, club)
    form = ScheduleCreateForm(seasons=[s.season for s in schedules]) if may_manage else None
    return _list_page(request, club, schedules, form)


def _list_page(request, club, schedules, form) -> HttpResponse:  # type: ignore[no-untyped-def]
    context = {
        "club": club,
        "schedules": schedules,
        "form": form,
        "may_manage": form is not None,
    }
    return render(request, "billing/schedule_list.html", context)


@login_required
@require_POST
def schedule_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A schedule for a new season: the example's, or a copy of one of the club's."""
    club = page_access.club_or_404(request.user, pk, manage=True)
    schedules = list(selectors_pages.club_schedules(club))
    form = ScheduleCreateForm(request.POST, seasons=[s.season for s in schedules])
    if form.is_valid():
        season, source = form.cleaned_data["season"], form.cleaned_data["source"]
        try:
            if source == "example":
                schedule = services.fee_schedule_create_from_example(
                    actor=request.user, club=club, season=season
                )
            else:
                original = next(s for s in schedules if str(s.season) == source)
                schedule = services_schedules.fee_schedule_copy(
                    actor=request.user, schedule=original, season=season
                )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(
                request, _("The fee schedule for %(season)s was made.") % {"season": season}
            )
            return _detail(schedule)
    return _list_page(request, club, schedules, form)


@login_required
@require_GET
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = schedule_or_404(request, pk)
    schedule = selectors_pages.schedule_with_parts(schedule.pk)
    assert schedule is not None
    club = schedule.club
    user = request.user
    groups = list(schedule.activity_groups.all())
    names = {group.code: group.name for group in groups}
    rules = []
    for data in schedule.rules:
        try:
            rule = pricing.rule_from_data(data)
        except (pricing.ConfigError, TypeError, KeyError):
            continue
        conditions, effect = describe(rule, names)
        rules.append(
            {
                "rule": rule,
                "kind": kind_label(rule.kind),
                "conditions": conditions,
                "effect": effect,
                "confidential": services_schedules.is_confidential(rule),
                "may_change": services_schedules.may_change_rule(user, schedule, rule),
            }
        )
    context = {
        "club": club,
        "schedule": schedule,
        "groups": groups,
        "prices": [
            {
                **MembershipPriceForm.initial_for(price),
                "categories": labels(price.membership_types, MembershipCategory.choices),
            }
            for price in _prices(schedule)
        ],
        "rules": rules,
        "may_manage": page_access.may_manage(user, club),
        "rule_kinds": RULE_KIND_CHOICES,
        "problem": _problem(schedule),
        "next_season": schedule.season + 1,
    }
    return render(request, "billing/schedule_detail.html", context)


def _prices(schedule: FeeSchedule) -> list[pricing.MembershipPrice]:
    # the stored form, read as FeeSchedule.to_config() reads it
    return [_membership_price(data) for data in schedule.membership_prices]


def _problem(schedule: FeeSchedule) -> str:
    """Why the engine cannot price the stored schedule, if it cannot."""
    try:
        schedule.to_config()
    except pricing.PricingError as error:
        return texts.error_message(error)
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def schedule_settings(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = schedule_or_404(request, pk, manage=True)
    form = ScheduleSettingsForm(
        request.POST or None, initial=ScheduleSettingsForm.initial_for(schedule)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_schedules.fee_schedule_update(
                actor=request.user, schedule=schedule, **form.service_arguments()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The settings were saved."))
            return _detail(schedule)
    return _form_page(
        request,
        {
            "club": schedule.club,
            "schedule": schedule,
            "form": form,
            "title": _("Fees and dates %(season)s") % {"season": schedule.season},
            "back_url": schedule_url(schedule),
        },
    )


def schedule_url(schedule: FeeSchedule) -> str:
    return reverse("billing:schedule-detail", args=[schedule.pk])


@login_required
@require_http_methods(["GET", "POST"])
def schedule_prices(request: HttpRequest, pk: int) -> HttpResponse:
    """D-01: the membership fees per category and age (the pensioner fee from its age)."""
    schedule = schedule_or_404(request, pk, manage=True)
    minimum = schedule.membership_minimum.amount
    initial = [MembershipPriceForm.initial_for(price) for price in _prices(schedule)]
    formset = MembershipPriceFormSet(
        request.POST or None, initial=initial, minimum=minimum, prefix="prices"
    )
    if request.method == "POST" and formset.is_valid():
        try:
            services_schedules.fee_schedule_set_membership_prices(
                actor=request.user, schedule=schedule, prices=formset.prices()
            )
        except ValidationError as error:
            add_errors(formset, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The membership fees were saved."))
            return _detail(schedule)
    context = {"club": schedule.club, "schedule": schedule, "formset": formset}
    return render(request, "billing/schedule_prices.html", context)


@login_required
@require_POST
def schedule_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy the schedule to another season (dates and cohorts move with it)."""
    schedule = schedule_or_404(request, pk, manage=True)
    raw = request.POST.get("season", "")
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        messages.error(request, _("Give the season as a year, e.g. 2028."))
        return _detail(schedule)
    try:
        copy = services_schedules.fee_schedule_copy(
            actor=request.user, schedule=schedule, season=int(raw)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _detail(schedule)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("The fee schedule was copied to %(season)s.") % {"season": raw})
    return _detail(copy)


# ------------------------------------------------------------------ groups and cohort fees (D-07)


def _group_or_404(request: HttpRequest, pk: int) -> ActivityGroup:
    group = ActivityGroup.objects.select_related("fee_schedule__club").filter(pk=pk).first()
    if group is None:
        raise Http404
    page_access.club_or_404(request.user, group.fee_schedule.club_id, manage=True)
    return group


@login_required
@require_http_methods(["GET", "POST"])
def group_add(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = schedule_or_404(request, pk, manage=True)
    form = ActivityGroupForm(
        request.POST or None, groups=selectors_pages.club_groups(schedule.club)
    )
    if request.method == "POST" and form.is_valid():
        try:
            group = services_schedules.activity_group_create(
                actor=request.user, schedule=schedule, **form.service_arguments()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The group was added; now give its activity fees."))
            return redirect("billing:group-fees", pk=group.pk)
    return _form_page(
        request,
        {
            "club": schedule.club,
            "schedule": schedule,
            "form": form,
            "title": _("New activity group"),
            "intro": _(
                "D-07: each group (sport section) has its own activity season, invoicing date "
                "and payment term; its board sets the fee per birth-year cohort."
            ),
            "back_url": schedule_url(schedule),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    schedule = group.fee_schedule
    initial = {name: getattr(group, name) for name in services_schedules.GROUP_FIELDS}
    form = ActivityGroupForm(
        request.POST or None,
        initial=initial,
        groups=selectors_pages.club_groups(schedule.club),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_schedules.activity_group_update(
                actor=request.user, group=group, **form.service_arguments()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The group was saved."))
            return _detail(schedule)
    return _form_page(
        request,
        {
            "club": schedule.club,
            "schedule": schedule,
            "form": form,
            "title": _("Activity group %(name)s") % {"name": group.name},
            "back_url": schedule_url(schedule),
            "delete_url": _url("billing:group-delete", group.pk),
        },
    )


def _url(name: str, *args: object) -> str:
    return reverse(name, args=args)


@login_required
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    schedule = group.fee_schedule
    try:
        services_schedules.activity_group_delete(actor=request.user, group=group)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(request, _("The group was removed."))
    return _detail(schedule)


@login_required
@require_http_methods(["GET", "POST"])
def group_fees(request: HttpRequest, pk: int) -> HttpResponse:
    """D-07: the group's activity fees per birth-year cohort."""
    group = _group_or_404(request, pk)
    schedule = group.fee_schedule
    initial = [
        {
            "birth_year_from": fee.birth_year_from,
            "birth_year_to": fee.birth_year_to,
            "amount": fee.amount.amount.normalize() + 0,
            "rule_id": fee.rule_id,
        }
        for fee in group.cohort_fees.order_by("-birth_year_to", "pk")
    ]
    formset = CohortFeeFormSet(request.POST or None, initial=initial, prefix="fees")
    if request.method == "POST" and formset.is_valid():
        try:
            services_schedules.cohort_fees_set(
                actor=request.user, group=group, fees=formset.fees(group.code)
            )
        except ValidationError as error:
            add_errors(formset, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The activity fees were saved."))
            return _detail(schedule)
    context = {"club": schedule.club, "schedule": schedule, "group": group, "formset": formset}
    return render(request, "billing/group_fees.html", context)


# ------------------------------------------------------------------ rules (D-05, D-09..D-11)


def _group_choices(schedule: FeeSchedule) -> list[tuple[str, str]]:
    return [(g.code, g.name) for g in schedule.activity_groups.order_by("position", "pk")]


def _rule_or_404(schedule: FeeSchedule, rule_id: str) -> pricing.Rule:
    for data in schedule.rules:
        if data.get("rule_id") == rule_id:
            return pricing.rule_from_data(data)
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def rule_add(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = schedule_or_404(request, pk, manage=True)
    kind = request.GET.get("kind") or request.POST.get("kind", "")
    form_class = RULE_FORMS.get(kind)
    if form_class is None:
        raise Http404
    form = form_class(request.POST or None, groups=_group_choices(schedule))
    if request.method == "POST" and form.is_valid():
        try:
            services_schedules.fee_schedule_rule_add(
                actor=request.user, schedule=schedule, rule=form.rule()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The rule was added."))
            return _detail(schedule)
    return _form_page(
        request,
        {
            "club": schedule.club,
            "schedule": schedule,
            "form": form,
            "title": _("New rule: %(kind)s") % {"kind": kind_label(kind)},
            "hidden": {"kind": kind},
            "back_url": schedule_url(schedule),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int, rule_id: str) -> HttpResponse:
    schedule = schedule_or_404(request, pk, manage=True)
    rule = _rule_or_404(schedule, rule_id)
    if not services_schedules.may_change_rule(request.user, schedule, rule):
        raise Http404
    form_class = RULE_FORMS[rule.kind.value]
    form = form_class(
        request.POST or None,
        initial=form_class.initial_for(rule),
        groups=_group_choices(schedule),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_schedules.fee_schedule_rule_update(
                actor=request.user, schedule=schedule, rule=form.rule()
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The rule was saved."))
            return _detail(schedule)
    return _form_page(
        request,
        {
            "club": schedule.club,
            "schedule": schedule,
            "form": form,
            "title": _("Rule %(rule_id)s") % {"rule_id": rule.rule_id},
            "intro": kind_label(rule.kind),
            "back_url": schedule_url(schedule),
            "delete_url": _url("billing:rule-delete", schedule.pk, rule.rule_id),
        },
    )


def _rule_action(request: HttpRequest, pk: int, rule_id: str, action) -> HttpResponse:  # type: ignore[no-untyped-def]
    schedule = schedule_or_404(request, pk, manage=True)
    rule = _rule_or_404(schedule, rule_id)
    if not services_schedules.may_change_rule(request.user, schedule, rule):
        raise Http404
    try:
        action(schedule)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    return _detail(schedule)


@login_required
@require_POST
def rule_switch(request: HttpRequest, pk: int, rule_id: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    return _rule_action(
        request,
        pk,
        rule_id,
        lambda schedule: services_schedules.fee_schedule_rule_switch(
            actor=request.user, schedule=schedule, rule_id=rule_id, enabled=enabled
        ),
    )


@login_required
@require_POST
def rule_move(request: HttpRequest, pk: int, rule_id: str) -> HttpResponse:
    earlier = request.POST.get("direction") != "later"
    return _rule_action(
        request,
        pk,
        rule_id,
        lambda schedule: services_schedules.fee_schedule_rule_move(
            actor=request.user, schedule=schedule, rule_id=rule_id, earlier=earlier
        ),
    )


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int, rule_id: str) -> HttpResponse:
    return _rule_action(
        request,
        pk,
        rule_id,
        lambda schedule: services_schedules.fee_schedule_rule_delete(
            actor=request.user, schedule=schedule, rule_id=rule_id
        ),
    )
