"""The person card's Transfers tab (P-15), for transfer administrators only: the person's
transfers with their history of status changes, registering a transfer of one of the
person's functions, editing it (function type and from-organisation stay locked), changing
its status and approving it. A deceased person's transfers are locked (P-06). Every rule is
enforced by members.services.transfers."""

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
from members.forms_functions import TransferEditForm, TransferForm, TransferStatusForm
from members.models import Function, Organisation, Person, Transfer, TransferStatus
from members.services import transfers as transfer_services
from members.services.competences import PERSON_DECEASED
from members.views.common import person_card_context, person_or_404, require
from members.views.person_forms import apply_errors


def _transfer_person(request: HttpRequest, pk: int) -> Person:
    """Only transfer administrators see the tab (P-15)."""
    person = person_or_404(request, pk)
    require(access.has_capability_anywhere(request.user, Capability.TRANSFERS_ADMIN))
    return person


def _context(request: HttpRequest, person: Person) -> dict[str, object]:
    context = person_card_context(request, person, "transfers")
    context["locked_message"] = PERSON_DECEASED if person.is_deceased else ""
    return context


@login_required
@require_GET
def person_transfers(request: HttpRequest, pk: int) -> HttpResponse:
    person = _transfer_person(request, pk)
    context = _context(request, person)
    transfers = list(selectors.person_transfers(user=request.user, person=person))
    for transfer in transfers:
        events = transfer.events.all()  # prefetched
        transfer.last_event = events[len(events) - 1] if events else None
    context["transfers"] = transfers
    return render(request, "members/person/transfers.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def person_transfer_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P-15: choose one of the person's current functions, the type, the target and dates."""
    person = _transfer_person(request, pk)
    form = TransferForm(
        request.POST or None,
        functions=selectors.transferable_functions(user=request.user, person=person),
    )
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfer_services.transfer_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You are not a transfer administrator for this transfer."))
        else:
            messages.success(request, _("The transfer was registered."))
            return redirect("members:person-transfer-detail", pk=person.pk, transfer_pk=transfer.pk)
    context = _context(request, person)
    context.update(form=form, chosen_target=_chosen_target(form))
    return render(request, "members/person/transfers_add.html", context)


def _chosen_target(form: TransferForm | TransferEditForm) -> Organisation | None:
    """The target organisation to show as chosen when the form comes back."""
    if not form.is_bound:
        return form.initial.get("to_organisation")
    value = str(form.data.get("to_organisation", ""))
    if not value.isdigit():
        return None
    return Organisation.objects.filter(pk=int(value), is_active=True).first()


@login_required
@require_GET
def person_transfer_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: active organisations of the chosen function's organisation type, by name (P-15)."""
    person = _transfer_person(request, pk)
    function_pk = request.GET.get("function", "")
    source = None
    if function_pk.isdigit():
        source = (
            Function.objects.filter(person_id=person.pk, pk=int(function_pk))
            .select_related("organisation")
            .first()
        )
    organisations: object = []
    query = request.GET.get("q", "").strip()
    if source is not None:
        organisations = selectors.organisation_search(
            queryset=selectors.transfer_targets(
                organisation_type=source.organisation.organisation_type
            ).exclude(pk=source.organisation_id),
            query=query,
        )
    return render(
        request,
        "members/person/_f_transfer_targets.html",
        {"organisations": organisations, "query": query, "has_function": source is not None},
    )


def _transfer(request: HttpRequest, person: Person, transfer_pk: int) -> Transfer:
    return access.get_object_or_404(
        request.user,
        Capability.TRANSFERS_ADMIN,
        selectors.person_transfers(user=request.user, person=person),
        include_own=False,
        pk=transfer_pk,
    )


def _detail(
    request: HttpRequest,
    person: Person,
    transfer: Transfer,
    *,
    edit_form: TransferEditForm | None = None,
    status_form: TransferStatusForm | None = None,
) -> HttpResponse:
    statuses = dict(TransferStatus.choices)
    for event in transfer.events.all():
        event.from_label = statuses.get(event.from_status, "")
        event.to_label = statuses.get(event.to_status, "")
    context = _context(request, person)
    editable = transfer.status != TransferStatus.APPROVED and not person.is_deceased
    if editable and edit_form is None:
        edit_form = TransferEditForm(
            initial={
                "transfer_type": transfer.transfer_type,
                "to_organisation": transfer.to_organisation,
                "transfer_date": transfer.transfer_date,
                "loan_until": transfer.loan_until,
                "comment": transfer.comment,
            }
        )
    context.update(
        transfer=transfer,
        editable=editable,
        edit_form=edit_form,
        status_form=status_form or TransferStatusForm(initial={"status": transfer.status}),
        chosen_target=_chosen_target(edit_form) if edit_form is not None else None,
        statuses=[
            (value, label)
            for value, label in TransferStatus.choices
            if value not in (transfer.status, TransferStatus.APPROVED)
        ],
    )
    return render(request, "members/person/transfers_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def person_transfer_detail(request: HttpRequest, pk: int, transfer_pk: int) -> HttpResponse:
    """The transfer, its history of status changes, and (POST) a change of its open fields."""
    person = _transfer_person(request, pk)
    transfer = _transfer(request, person, transfer_pk)
    if request.method == "GET":
        return _detail(request, person, transfer)
    form = TransferEditForm(request.POST)
    if form.is_valid():
        changes = {
            name: value
            for name, value in form.cleaned_data.items()
            if value != getattr(transfer, name)
        }
        try:
            if changes:
                transfer_services.transfer_update(actor=request.user, transfer=transfer, **changes)
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The transfer was saved."))
            return redirect("members:person-transfer-detail", pk=pk, transfer_pk=transfer.pk)
    return _detail(request, person, transfer, edit_form=form)


@login_required
@require_POST
def person_transfer_status(request: HttpRequest, pk: int, transfer_pk: int) -> HttpResponse:
    """P-15: registered, correction, missing information (each change is recorded)."""
    person = _transfer_person(request, pk)
    transfer = _transfer(request, person, transfer_pk)
    form = TransferStatusForm(request.POST)
    if form.is_valid():
        try:
            transfer_services.transfer_set_status(
                actor=request.user, transfer=transfer, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The status of the transfer was changed."))
            return redirect("members:person-transfer-detail", pk=pk, transfer_pk=transfer.pk)
    return _detail(request, person, transfer, status_form=form)


@login_required
@require_POST
def person_transfer_approve(request: HttpRequest, pk: int, transfer_pk: int) -> HttpResponse:
    """P-15: approve; the function moves to the target organisation."""
    person = _transfer_person(request, pk)
    transfer = _transfer(request, person, transfer_pk)
    try:
        transfer_services.transfer_approve(
            actor=request.user, transfer=transfer, comment=request.POST.get("comment", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(request, _("The transfer was approved and the function moved."))
    return redirect("members:person-transfer-detail", pk=pk, transfer_pk=transfer.pk)


TRANSFER = "persons/<int:pk>/transfers/<int:transfer_pk>"

urlpatterns = [
    path("persons/<int:pk>/transfers/", person_transfers, name="person-transfers"),
    path("persons/<int:pk>/transfers/add/", person_transfer_add, name="person-transfer-add"),
    path(
        "persons/<int:pk>/transfers/targets/",
        person_transfer_targets,
        name="person-transfer-targets",
    ),
    path(f"{TRANSFER}/", person_transfer_detail, name="person-transfer-detail"),
    path(f"{TRANSFER}/status/", person_transfer_status, name="person-transfer-status"),
    path(f"{TRANSFER}/approve/", person_transfer_approve, name="person-transfer-approve"),
]
