"""The person card's Competences tab (P-13): list, add, edit comment and valid-to, set
temporarily inactive / active again. Locked for a deceased person (P-06, enforced by
members.services.competences). Seeing needs persons.view, changing persons.edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clubadmin import access
from clubadmin.capabilities import Capability
from members import selectors_functions as selectors
from members.forms_functions import CompetenceEditForm, CompetenceForm
from members.models import Competence, Person
from members.services import competences as competence_services
from members.views.common import person_card_context, person_or_404, require
from members.views.person_forms import apply_errors


def _context(request: HttpRequest, person: Person) -> dict[str, object]:
    context = person_card_context(request, person, "competences")
    context["may_change_competences"] = context["may_edit_person"] and not person.is_deceased
    context["locked_message"] = competence_services.PERSON_DECEASED if person.is_deceased else ""
    return context


@login_required
@require_GET
def person_competences(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_or_404(request, pk)
    context = _context(request, person)
    context["competences"] = selectors.person_competences(user=request.user, person=person)
    return render(request, "members/person/competences.html", context)


def _editable_person(request: HttpRequest, pk: int) -> Person:
    person = person_or_404(request, pk)
    require(access.can(request.user, Capability.PERSONS_EDIT, person))
    return person


@login_required
@require_http_methods(["GET", "POST"])
def person_competence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P-13: add a competence (not for a deceased person, P-06)."""
    person = _editable_person(request, pk)
    form = CompetenceForm(
        request.POST or None, competence_types=selectors.competence_types_offered()
    )
    if request.method == "POST" and form.is_valid():
        try:
            competence_services.competence_create(
                actor=request.user, person=person, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The competence was added."))
            return redirect("members:person-competences", pk=person.pk)
    context = _context(request, person)
    context["form"] = form
    return render(request, "members/person/competences_form.html", context)


def _competence(request: HttpRequest, person: Person, competence_pk: int) -> Competence:
    return access.get_object_or_404(
        request.user,
        Capability.PERSONS_EDIT,
        Competence.objects.filter(person_id=person.pk).select_related("competence_type"),
        include_own=False,
        pk=competence_pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_competence_edit(request: HttpRequest, pk: int, competence_pk: int) -> HttpResponse:
    """P-13: edit the comment and the valid-to date (not for a deceased person, P-06)."""
    person = _editable_person(request, pk)
    competence = _competence(request, person, competence_pk)
    form = CompetenceEditForm(
        request.POST or None,
        initial={"comment": competence.comment, "valid_to": competence.valid_to},
    )
    if request.method == "POST" and form.is_valid():
        try:
            competence_services.competence_update(
                actor=request.user, competence=competence, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The competence was saved."))
            return redirect("members:person-competences", pk=person.pk)
    context = _context(request, person)
    context.update(form=form, competence=competence)
    return render(request, "members/person/competences_form.html", context)


@login_required
@require_POST
def person_competence_activity(request: HttpRequest, pk: int, competence_pk: int) -> HttpResponse:
    """P-13: set temporarily inactive (inactive=1) or active again (inactive=0)."""
    person = _editable_person(request, pk)
    competence = _competence(request, person, competence_pk)
    inactive = request.POST.get("inactive") == "1"
    try:
        competence_services.competence_set_temporarily_inactive(
            actor=request.user, competence=competence, inactive=inactive
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        if inactive:
            messages.success(request, _("The competence is now temporarily inactive."))
        else:
            messages.success(request, _("The competence is active again."))
    return redirect("members:person-competences", pk=person.pk)


COMPETENCE = "persons/<int:pk>/competences/<int:competence_pk>"

urlpatterns = [
    path("persons/<int:pk>/competences/", person_competences, name="person-competences"),
    path("persons/<int:pk>/competences/add/", person_competence_add, name="person-competence-add"),
    path(f"{COMPETENCE}/edit/", person_competence_edit, name="person-competence-edit"),
    path(f"{COMPETENCE}/activity/", person_competence_activity, name="person-competence-activity"),
]
