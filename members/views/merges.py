"""The merge wizard, the merge's page and its undo (P-14 (2), issue 4 scope 4 and 5).

- `members:merge-start` (`/members/duplicates/merge/?a=<id>&b=<id>[&candidate=<pk>]`): both
  records side by side, the form (which record survives, the surviving person's data, the
  functions and licences to keep), then a preview of exactly what the merge will do (the
  merge run and rolled back), then the confirmation. A second submit of the confirmation
  finds the pair merged and shows the merge.
- `members:merge-detail` (pk): the merge in human terms, with the undo button and, once
  undone, what the undo could not restore.
- `members:merge-undo` (pk, POST).

Everything needs `duplicates.merge` on both persons (`merging.may_merge_persons`, or for a
merge `merging.may_handle_merge`); missing and forbidden look the same: 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clubadmin import access
from clubadmin.capabilities import Capability
from members.duplicates import merging
from members.forms_merges import (
    ACTION_BACK,
    ACTION_CONFIRM,
    ACTION_PICK,
    ACTION_PREVIEW,
    MergeForm,
)
from members.forms_person import add_service_errors
from members.models import DuplicateCandidate, Person, PersonMerge


def _id(request: HttpRequest, name: str) -> int:
    try:
        return int(request.GET.get(name, ""))
    except ValueError as error:
        raise Http404 from error


def _person(request: HttpRequest, pk: int) -> Person:
    return access.get_object_or_404(
        request.user, Capability.DUPLICATES_MERGE, Person.objects.all(), include_own=False, pk=pk
    )


def _candidate(request: HttpRequest, ids: set[int]) -> DuplicateCandidate | None:
    if not request.GET.get("candidate"):
        return None
    candidate = DuplicateCandidate.objects.filter(pk=_id(request, "candidate")).first()
    if candidate is None or {candidate.person_a_id, candidate.person_b_id} != ids:
        raise Http404
    return candidate


def _merge_or_404(request: HttpRequest, pk: int) -> PersonMerge:
    merge = (
        PersonMerge.objects.select_related(
            "survivor", "merged", "performed_by__person", "undone_by__person", "candidate"
        )
        .filter(pk=pk)
        .first()
    )
    if merge is None or not merging.may_handle_merge(request.user, merge):
        raise Http404
    return merge


def _already_merged(request: HttpRequest, merge: PersonMerge) -> HttpResponse:
    messages.info(request, _("These persons have already been merged."))
    return redirect("members:merge-detail", pk=merge.pk)


@login_required
@require_http_methods(["GET", "POST"])
def merge_start(request: HttpRequest) -> HttpResponse:
    first, second = _id(request, "a"), _id(request, "b")
    if first == second:
        raise Http404
    existing = merging.merge_of_pair((first, second))
    if existing is not None and merging.may_handle_merge(request.user, existing):
        return _already_merged(request, existing)
    person_a, person_b = _person(request, first), _person(request, second)
    candidate = _candidate(request, {first, second})
    sides = merging.merge_sides(person_a, person_b)
    context = {"sides": sides, "candidate": candidate, "query": request.GET.urlencode()}
    if person_a.is_merged or person_b.is_merged:
        context["unavailable"] = merging.PERSON_ALREADY_MERGED
        return render(request, "members/merges/start.html", context)
    if request.method == "GET":
        form = MergeForm(initial=MergeForm.initial_for(sides), sides=sides)
        return render(request, "members/merges/start.html", {**context, "form": form})
    if ACTION_PICK in request.POST or ACTION_BACK in request.POST:
        initial = MergeForm.initial_from_data(
            request.POST, sides, request.POST.get(ACTION_PICK, "")
        )
        form = MergeForm(initial=initial, sides=sides)
        return render(request, "members/merges/start.html", {**context, "form": form})
    form = MergeForm(request.POST, sides=sides)
    if form.is_valid():
        arguments = form.merge_arguments(actor=request.user, candidate=candidate)
        response = _preview_or_merge(request, form, arguments, context)
        if response is not None:
            return response
    return render(request, "members/merges/start.html", {**context, "form": form})


def _preview_or_merge(
    request: HttpRequest, form: MergeForm, arguments: dict, context: dict
) -> HttpResponse | None:
    """The preview page, or the merge done (a redirect); None: errors on the form."""
    try:
        if ACTION_CONFIRM in request.POST:
            merge = merging.persons_merge(**arguments)
            messages.success(request, _("The persons were merged."))
            return redirect("members:merge-detail", pk=merge.pk)
        preview = merging.merge_preview(**arguments)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        codes = {each.code for each in getattr(error, "error_list", [])}
        existing = merging.merge_of_pair((arguments["survivor"].pk, arguments["merged"].pk))
        if "already_merged" in codes and existing is not None:
            return _already_merged(request, existing)
        add_service_errors(form, error)
        return None
    survivor, merged = arguments["survivor"], arguments["merged"]
    return render(
        request,
        "members/merges/preview.html",
        {
            **context,
            "form": form,
            "summary": preview.summary,
            "survivor": survivor,
            "merged": merged,
            "action_preview": ACTION_PREVIEW,
        },
    )


@login_required
@require_GET
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merge = _merge_or_404(request, pk)
    context = {
        "merge": merge,
        "summary": merging.summarise(merge.record),
        "undo": merging.summarise_undo(merge.undo_report) if merge.undo_report else None,
        "may_undo": merge.state == "merged",
    }
    return render(request, "members/merges/detail.html", context)


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = _merge_or_404(request, pk)
    try:
        merge = merging.merge_undo(actor=request.user, merge=merge)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if merge.undo_report.get("not_restored"):
            messages.warning(
                request, _("The merge was undone; some things could not be restored (below).")
            )
        else:
            messages.success(request, _("The merge was undone."))
    return redirect(reverse("members:merge-detail", kwargs={"pk": merge.pk}))


urlpatterns: list[URLPattern] = [
    path("members/duplicates/merge/", merge_start, name="merge-start"),
    path("members/duplicates/merges/<int:pk>/", merge_detail, name="merge-detail"),
    path("members/duplicates/merges/<int:pk>/undo/", merge_undo, name="merge-undo"),
]
