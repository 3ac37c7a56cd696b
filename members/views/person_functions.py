"""The person card's Functions tab (P-10, P-11), and the URLs of the Licences (P-12),
Competences (P-13) and Transfers (P-15) tabs, whose views live in their own modules.

Server-rendered with HTMX for the status filter, the organisation search and end/activate.
Missing and forbidden objects both answer 404; every rule is enforced by the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from clubadmin import access
from clubadmin.capabilities import Capability
from members import selectors_functions as selectors
from members.forms_functions import FunctionEditForm, PersonFunctionForm
from members.models import Function, Organisation, Person
from members.services import functions as function_services
from members.views import person_competences, person_licences, person_transfers
from members.views.common import person_card_context, person_or_404, require
from members.views.person_forms import apply_errors


def _functions_context(request: HttpRequest, person: Person) -> dict[str, object]:
    status = request.GET.get("status", "active")
    if status not in selectors.FUNCTION_STATUSES:
        status = "active"
    functions = list(selectors.person_functions(user=request.user, person=person, status=status))
    for function in functions:
        _annotate(request, function)
    return {
        "functions": functions,
        "status": status,
        "statuses": selectors.FUNCTION_STATUSES,
        "may_add_function": access.has_capability_anywhere(
            request.user, Capability.FUNCTIONS_MANAGE
        ),
    }


def _annotate(request: HttpRequest, function: Function) -> Function:
    """Per-row rights from the cached grants (no query per row)."""
    function.may_manage = access.has_capability(
        request.user, Capability.FUNCTIONS_MANAGE, function.organisation
    )
    function.is_ended = function_services.function_is_ended(function)
    return function


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_functions(request: HttpRequest, pk: int) -> HttpResponse:
    """P-10: the person's functions, active / inactive / all (HTMX swaps the list)."""
    person = person_or_404(request, pk)
    context = {
        **person_card_context(request, person, "functions"),
        **_functions_context(request, person),
    }
    if request.htmx:
        return render(request, "members/person/_f_function_list.html", context)
    return render(request, "members/person/functions.html", context)


def _managed_organisation(request: HttpRequest) -> Organisation | None:
    pk = request.GET.get("organisation", "")
    if not pk.isdigit():
        return None
    organisation = selectors.managed_organisations(user=request.user).filter(pk=int(pk)).first()
    if organisation is None:
        raise Http404
    return organisation


@login_required
@require_http_methods(["GET", "POST"])
def person_function_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P-10/P-11: choose an organisation (one where the person already has functions, or one
    found by name among those the user manages), then the function."""
    person = person_or_404(request, pk)
    require(access.has_capability_anywhere(request.user, Capability.FUNCTIONS_MANAGE))
    organisation = _managed_organisation(request)
    context = person_card_context(request, person, "functions")
    if organisation is None:
        context["organisations"] = selectors.person_function_organisations(
            user=request.user, person=person
        )
        return render(request, "members/person/functions_add.html", context)
    form = PersonFunctionForm(
        request.POST or None,
        organisation=organisation,
        contact_sets=selectors.person_contact_sets(person=person),
    )
    if request.method == "POST" and form.is_valid():
        try:
            function_services.function_create(
                actor=request.user, person=person, organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The function was added."))
            return redirect("members:person-functions", pk=person.pk)
    context.update(organisation=organisation, form=form)
    return render(request, "members/person/functions_add.html", context)


@login_required
@require_GET
def person_function_organisations(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: organisations by name among those the user manages functions in (P-11)."""
    person = person_or_404(request, pk)
    require(access.has_capability_anywhere(request.user, Capability.FUNCTIONS_MANAGE))
    query = request.GET.get("q", "").strip()
    organisations = selectors.organisation_search(
        queryset=selectors.managed_organisations(user=request.user), query=query
    )
    return render(
        request,
        "members/person/_f_organisation_choices.html",
        {"person": person, "organisations": organisations, "query": query},
    )


def _managed_function(request: HttpRequest, person: Person, function_pk: int) -> Function:
    function = access.get_object_or_404(
        request.user,
        Capability.FUNCTIONS_MANAGE,
        Function.objects.filter(person_id=person.pk).select_related(
            "organisation", "function_type", "contact_set"
        ),
        include_own=False,
        pk=function_pk,
    )
    return _annotate(request, function)


@login_required
@require_http_methods(["GET", "POST"])
def person_function_edit(request: HttpRequest, pk: int, function_pk: int) -> HttpResponse:
    """P-10: dates and contact info of a function that has not ended."""
    person = person_or_404(request, pk)
    function = _managed_function(request, person, function_pk)
    form = FunctionEditForm(
        request.POST or None,
        instance=function,
        contact_sets=selectors.person_contact_sets(person=person),
    )
    if request.method == "POST" and not function.is_ended and form.is_valid():
        try:
            function_services.function_update(
                actor=request.user, function=function, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The function was saved."))
            return redirect("members:person-functions", pk=person.pk)
    context = person_card_context(request, person, "functions")
    context.update(function=function, form=form)
    return render(request, "members/person/functions_edit.html", context)


def _function_action(request: HttpRequest, pk: int, function_pk: int, service) -> HttpResponse:  # type: ignore[no-untyped-def]
    person = person_or_404(request, pk)
    function = _managed_function(request, person, function_pk)
    error = None
    try:
        function = _annotate(request, service(actor=request.user, function=function))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except PermissionDenied as exc:
        raise Http404 from exc
    if request.htmx:
        return render(
            request,
            "members/person/_f_function_row.html",
            {"person": person, "function": function, "row_error": error},
        )
    if error:
        messages.error(request, error)
    return redirect("members:person-functions", pk=person.pk)


@login_required
@require_POST
def person_function_end(request: HttpRequest, pk: int, function_pk: int) -> HttpResponse:
    """P-10: "End function": to-date today, then read-only."""
    return _function_action(request, pk, function_pk, function_services.function_end)


@login_required
@require_POST
def person_function_activate(request: HttpRequest, pk: int, function_pk: int) -> HttpResponse:
    """P-10: "Activate": clears the to-date (refused with P-15 for a second licensed one)."""
    return _function_action(request, pk, function_pk, function_services.function_activate)


FUNCTION = "persons/<int:pk>/functions/<int:function_pk>"

urlpatterns = [
    path("persons/<int:pk>/functions/", person_functions, name="person-functions"),
    path("persons/<int:pk>/functions/add/", person_function_add, name="person-function-add"),
    path(
        "persons/<int:pk>/functions/organisations/",
        person_function_organisations,
        name="person-function-organisations",
    ),
    path(f"{FUNCTION}/edit/", person_function_edit, name="person-function-edit"),
    path(f"{FUNCTION}/end/", person_function_end, name="person-function-end"),
    path(f"{FUNCTION}/activate/", person_function_activate, name="person-function-activate"),
    *person_licences.urlpatterns,
    *person_competences.urlpatterns,
    *person_transfers.urlpatterns,
]
