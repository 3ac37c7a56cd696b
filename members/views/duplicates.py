"""Pages for duplicate persons (P-14, issue 4 scope 2 and 3): the review queue of candidate
pairs, a pair side by side with the engine's explanation, "not a duplicate", marking two
persons from the search results, and the full detection runs with their progress.

Everything needs `duplicates.merge`; a pair only when the user holds it on BOTH persons
(members.duplicates.candidates). Detection runs are for staff of a federation or region.
Missing and forbidden look the same: 404. The merge wizard itself is members.views.merges.

Also here: the pre-save warning shown where a new person is entered (the membership join
pages call `new_person_duplicates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.duplicates import candidates, detection
from members.duplicates.candidates import ClubLine, PossibleDuplicate
from members.models import (
    CandidateSource,
    CandidateStatus,
    ContactSet,
    DetectionRun,
    DuplicateCandidate,
    Organisation,
    Person,
    RunState,
)

PAGE_SIZE = 50
RUNS_PAGE_SIZE = 25

SELECT_TWO = gettext_lazy("Select exactly two persons to mark them as possible duplicates.")
MARKED = gettext_lazy("%(a)s and %(b)s are marked as possible duplicates.")
NOT_DUPLICATE_DONE = gettext_lazy("%(a)s and %(b)s are not duplicates: the pair will not return.")
RUN_STARTED = gettext_lazy("The detection run has started.")
WHOLE_REGISTER = gettext_lazy("The whole register")


# ---------------------------------------------------------------------------------- forms


class QueueFilterForm(forms.Form):
    min_score = forms.IntegerField(
        label=gettext_lazy("Lowest score (%)"), min_value=0, max_value=100, required=False
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"),
        choices=[("", gettext_lazy("Any source")), *CandidateSource.choices],
        required=False,
    )
    organisation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organisations, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.organisations = organisations
        self.chosen_organisation: Organisation | None = None

    def clean_organisation(self) -> int | None:
        value = self.cleaned_data.get("organisation")
        if value is not None:
            self.chosen_organisation = self.organisations.filter(pk=value).first()
        return value

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        min_score = self.cleaned_data.get("min_score")
        return {
            "min_score": min_score / 100 if min_score is not None else None,
            "source": self.cleaned_data.get("source", ""),
            "organisation": self.chosen_organisation,
        }


class DetectionStartForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label=gettext_lazy("Organisation"),
        required=False,
        empty_label=WHOLE_REGISTER,
    )

    def __init__(self, *args: Any, organisations, whole_register: bool, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        field.queryset = organisations
        field.required = not whole_register
        if not whole_register:
            field.empty_label = None


# -------------------------------------------------------------------------------- helpers


def _require_reviewer(request: HttpRequest) -> None:
    if not candidates.may_review_anywhere(request.user):
        raise Http404


def _require_detection_staff(request: HttpRequest) -> None:
    if not candidates.may_run_detection(request.user):
        raise Http404


def _candidate(request: HttpRequest, pk: int) -> DuplicateCandidate:
    candidate = candidates.candidate_detail(request.user, pk)
    if candidate is None:
        raise Http404
    return candidate


def _back_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _query_string(query: QueryDict, *names: str) -> str:
    return urlencode({name: query[name] for name in names if query.get(name)})


@dataclass(frozen=True)
class QueueRow:
    candidate: DuplicateCandidate
    clubs_a: list[ClubLine]
    clubs_b: list[ClubLine]
    evidence: list[dict[str, Any]]


# --------------------------------------------------------------------------------- queue


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The review queue: pairs by score, with names, birth dates, clubs and the strongest
    evidence; filtered by lowest score, source and organisation; an HTMX request gets the
    list only."""
    _require_reviewer(request)
    form = QueueFilterForm(
        request.GET or None, organisations=candidates.review_organisations(request.user)
    )
    queryset = candidates.candidate_queue(user=request.user, **form.filters())
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    pairs = list(page.object_list)
    clubs = candidates.clubs_of([c.person_a_id for c in pairs] + [c.person_b_id for c in pairs])
    rows = [
        QueueRow(
            candidate=candidate,
            clubs_a=clubs.get(candidate.person_a_id, []),
            clubs_b=clubs.get(candidate.person_b_id, []),
            evidence=candidates.top_evidence(candidate.explanation),
        )
        for candidate in pairs
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "organisation": form.chosen_organisation,
        "query_string": _query_string(request.GET, "min_score", "source", "organisation"),
        "may_run_detection": candidates.may_run_detection(request.user),
    }
    template = "members/duplicates/_queue.html" if request.htmx else "members/duplicates/list.html"
    return render(request, template, context)


@login_required
@require_GET
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    """Organisations in the user's duplicates.merge scope, by name, for the queue's filter."""
    _require_reviewer(request)
    query = request.GET.get("organisation_name", "").strip()
    organisations = Organisation.objects.none()
    if len(query) >= 2:
        organisations = (
            candidates.review_organisations(request.user)
            .filter(name__icontains=query)
            .order_by("name")[:20]
        )
    return render(
        request,
        "members/_search_organisation_choices.html",
        {"organisations": organisations, "query": query},
    )


# -------------------------------------------------------------------------------- a pair


def _side(person: Person, contact: ContactSet | None, clubs: list[ClubLine]) -> dict[str, Any]:
    return {"person": person, "contact": contact, "clubs": clubs}


@login_required
@require_GET
def duplicate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Both persons side by side with the explanation: every field compared, the level
    reached, its weight (for or against) and both values."""
    _require_reviewer(request)
    candidate = _candidate(request, pk)
    ids = [candidate.person_a_id, candidate.person_b_id]
    contacts = {
        c.person_id: c for c in ContactSet.objects.filter(person_id__in=ids, is_standard=True)
    }
    clubs = candidates.clubs_of(ids)
    is_open = (
        candidate.status == CandidateStatus.OPEN
        and not candidate.person_a.is_merged
        and not candidate.person_b.is_merged
    )
    context = {
        "candidate": candidate,
        "sides": [
            _side(candidate.person_a, contacts.get(candidate.person_a_id), clubs.get(ids[0], [])),
            _side(candidate.person_b, contacts.get(candidate.person_b_id), clubs.get(ids[1], [])),
        ],
        "evidence": candidate.explanation,
        "is_open": is_open,
    }
    return render(request, "members/duplicates/detail.html", context)


@login_required
@require_POST
def duplicate_not_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    candidate = _candidate(request, pk)
    try:
        decided = candidates.candidate_not_duplicate(actor=request.user, candidate=candidate)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("members:duplicate-detail", pk=candidate.pk)
    names = {"a": decided.person_a.full_name, "b": decided.person_b.full_name}
    messages.success(request, NOT_DUPLICATE_DONE % names)
    return redirect("members:duplicate-list")


@login_required
@require_POST
def duplicate_mark(request: HttpRequest) -> HttpResponse:
    """P-14 (1): mark the two persons selected in the search results as possible duplicates."""
    _require_reviewer(request)
    back = _back_url(request, reverse("members:person-search"))
    ids = {int(value) for value in request.POST.getlist("person") if value.isdigit()}
    if len(ids) != 2:
        messages.error(request, SELECT_TWO)
        return redirect(back)
    persons = list(Person.objects.filter(pk__in=ids).order_by("pk"))
    if len(persons) != 2:
        messages.error(request, candidates.NOT_ALLOWED)
        return redirect(back)
    try:
        candidate = candidates.candidate_mark(
            actor=request.user, person_a=persons[0], person_b=persons[1]
        )
    except PermissionDenied:
        messages.error(request, candidates.NOT_ALLOWED)
        return redirect(back)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    names = {"a": persons[0].full_name, "b": persons[1].full_name}
    messages.success(request, MARKED % names)
    return redirect("members:duplicate-detail", pk=candidate.pk)


# ------------------------------------------------------------------------ detection runs


@login_required
@require_http_methods(["GET", "POST"])
def detection_run_list(request: HttpRequest) -> HttpResponse:
    """The full detection runs the user may see; a POST starts one (a Celery job in chunks)."""
    _require_detection_staff(request)
    form = DetectionStartForm(
        request.POST or None,
        organisations=candidates.detection_organisations(request.user),
        whole_register=request.user.is_superuser,
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = detection.detection_start(
                actor=request.user, organisation=form.cleaned_data["organisation"]
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, RUN_STARTED)
            return redirect("members:detection-run-detail", pk=run.pk)
    runs = candidates.detection_runs_visible_to(request.user)
    context = {
        "form": form,
        "page": Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "members/duplicates/runs.html", context)


@login_required
@require_GET
def detection_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's progress, counts and errors; while it runs, HTMX polls the progress part every
    two seconds."""
    _require_detection_staff(request)
    run: DetectionRun | None = (
        candidates.detection_runs_visible_to(request.user).filter(pk=pk).first()
    )
    if run is None:
        raise Http404
    chunk_states = dict(
        run.chunks.order_by()
        .values_list("state")
        .annotate(count=Count("pk"))
        .values_list("state", "count")
    )
    context = {
        "run": run,
        "is_running": run.state in (RunState.PENDING, RunState.RUNNING),
        "chunk_states": [(label, chunk_states.get(value, 0)) for value, label in RunState.choices],
        "failed_chunks": list(run.chunks.exclude(error="").order_by("key")[:20]),
    }
    template = (
        "members/duplicates/_run_progress.html"
        if request.htmx
        else "members/duplicates/run_detail.html"
    )
    return render(request, template, context)


# ------------------------------------------------------------------ the pre-save warning


def use_existing_person(data: QueryDict) -> QueryDict:
    """ "Use this person" on the pre-save warning: the form continues with the existing person
    instead of the new one (the new person's fields are cleared)."""
    chosen = data.get("use_person", "")
    if not chosen.isdigit():
        return data
    data = data.copy()
    data["person"] = chosen
    for name in ("first_name", "last_name", "birth_date", "email", "mobile", "middle_name"):
        if name in data:
            data[name] = ""
    return data


def new_person_duplicates(request: HttpRequest, form: forms.Form) -> list[PossibleDuplicate]:
    """Issue 4 scope 2: the existing persons a new person entered in `form` may be, unless the
    form has no new person or the registrar confirmed creating one anyway
    (`confirm_new_person`)."""
    data = form.cleaned_data
    if data.get("person") or data.get("confirm_new_person"):
        return []
    if not (data.get("first_name") and data.get("last_name")):
        return []
    record = candidates.new_person_record(data)
    return candidates.possible_duplicates_of(user=request.user, record=record)


urlpatterns = [
    path("members/duplicates/", duplicate_list, name="duplicate-list"),
    path(
        "members/duplicates/organisations/",
        organisation_lookup,
        name="duplicate-organisations",
    ),
    path("members/duplicates/mark/", duplicate_mark, name="duplicate-mark"),
    path("members/duplicates/<int:pk>/", duplicate_detail, name="duplicate-detail"),
    path(
        "members/duplicates/<int:pk>/not-duplicate/",
        duplicate_not_duplicate,
        name="duplicate-not-duplicate",
    ),
    path("members/duplicates/runs/", detection_run_list, name="detection-run-list"),
    path("members/duplicates/runs/<int:pk>/", detection_run_detail, name="detection-run-detail"),
]
