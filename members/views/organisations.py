"""Club administrator pages for organisations and functions (server-rendered, HTMX)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clubadmin import access
from clubadmin.capabilities import Capability
from members import selectors, services
from members.forms import FunctionForm
from members.models import Function, Organisation, Person

FUNCTION_STATUSES = ("active", "inactive", "all")


def _visible_organisation(request: HttpRequest, pk: int) -> Organisation:
    """404 for missing and for organisations the user holds no capability in."""
    organisation = access.visible_organisations(request.user).filter(pk=pk).first()
    if organisation is None:
        raise Http404
    return organisation


def _managed_organisation(request: HttpRequest, pk: int, capability: str) -> Organisation:
    organisation = _visible_organisation(request, pk)
    if not access.has_capability(request.user, capability, organisation):
        raise Http404
    return organisation


def _function_page(request: HttpRequest, organisation: Organisation) -> dict[str, object]:
    status = request.GET.get("status", "active")
    if status not in FUNCTION_STATUSES:
        status = "active"
    functions = selectors.function_list(user=request.user, organisation=organisation, status=status)
    page = Paginator(functions, 50).get_page(request.GET.get("page"))
    return {
        "organisation": organisation,
        "page": page,
        "status": status,
        "statuses": FUNCTION_STATUSES,
        "may_manage_functions": access.has_capability(
            request.user, Capability.FUNCTIONS_MANAGE, organisation
        ),
    }


@login_required
@require_GET
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _visible_organisation(request, pk)
    children = Organisation.objects.filter(
        path__startswith=organisation.path, depth=organisation.depth + 1
    ).order_by("name")
    ancestor_paths = [
        organisation.path[:end]
        for end in range(Organisation.steplen, len(organisation.path), Organisation.steplen)
    ]
    ancestors = list(
        access.visible_organisations(request.user).filter(path__in=ancestor_paths).order_by("depth")
    )
    context = {
        "ancestors": ancestors,
        "children": children,
        "counts": selectors.organisation_dashboard_counts(organisation=organisation),
        **_function_page(request, organisation),
    }
    return render(request, "members/organisation_detail.html", context)


@login_required
@require_GET
def organisation_functions(request: HttpRequest, pk: int) -> HttpResponse:
    """The function list alone (HTMX swaps it when the status filter or page changes)."""
    organisation = _visible_organisation(request, pk)
    return render(request, "members/_function_list.html", _function_page(request, organisation))


@login_required
@require_GET
def person_lookup(request: HttpRequest, pk: int) -> HttpResponse:
    """Persons the user may see, by name, to pick for a new function."""
    _managed_organisation(request, pk, Capability.FUNCTIONS_MANAGE)
    query = request.GET.get("q", "").strip()
    persons = Person.objects.none()
    if len(query) >= 2:
        condition = Q()
        for part in query.split()[:3]:
            condition &= Q(first_name__istartswith=part) | Q(last_name__istartswith=part)
        persons = (
            access.scope(request.user, Capability.PERSONS_VIEW, Person.objects.all())
            .filter(condition, merged_into__isnull=True)  # P-14: merged persons are gone
            .order_by("last_name", "first_name")[:20]
        )
    return render(request, "members/_person_choices.html", {"persons": persons, "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def function_add(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _managed_organisation(request, pk, Capability.FUNCTIONS_MANAGE)
    persons = access.scope(request.user, Capability.PERSONS_VIEW, Person.objects.all())
    form = FunctionForm(request.POST or None, persons=persons, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.function_create(
                actor=request.user, organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The function was added."))
            return redirect("members:organisation-detail", pk=organisation.pk)
    return render(
        request, "members/function_form.html", {"organisation": organisation, "form": form}
    )


def _function_action(request: HttpRequest, pk: int, service) -> HttpResponse:  # type: ignore[no-untyped-def]
    function = access.get_object_or_404(
        request.user,
        Capability.FUNCTIONS_MANAGE,
        Function.objects.select_related("person", "organisation", "function_type"),
        include_own=False,
        pk=pk,
    )
    try:
        function = service(actor=request.user, function=function)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if request.htmx:
        return render(
            request,
            "members/_function_row.html",
            {
                "function": function,
                "may_manage_functions": True,
                "organisation": function.organisation,
            },
        )
    return redirect("members:organisation-detail", pk=function.organisation_id)


@login_required
@require_POST
def function_end(request: HttpRequest, pk: int) -> HttpResponse:
    """P-10: end a function (to-date = today)."""
    return _function_action(request, pk, services.function_end)


@login_required
@require_POST
def function_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """P-10: activate an ended function (clear the to-date)."""
    return _function_action(request, pk, services.function_activate)
