"""The person card's Licences tab (P-12): the person's licences with the actions their status
allows, periods still without a licence, registering one, and the actions on a licence.

Seeing needs persons.view on the person; acting needs persons.edit in the organisation the
licence is registered through (members.services.licences).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from djmoney.money import Money

from clubadmin import access
from clubadmin.capabilities import Capability
from members import licence_rules
from members import selectors_functions as selectors
from members.forms_functions import (
    LicenceChangeTypeForm,
    LicenceDeliveryForm,
    LicencePaymentForm,
    LicenceRegisterForm,
    LicenceSendForm,
)
from members.licence_rules import LicenceAction
from members.models import Licence, LicenceStatus, LicenceType, Person
from members.services import licences as licence_services
from members.views.common import person_card_context, person_or_404, require
from members.views.person_forms import apply_errors


def _annotate(request: HttpRequest, licence: Licence) -> Licence:
    """What the user may do with the licence (no query: cached grants, loaded relations)."""
    licence.function_is_passive = licence_rules.function_is_passive(
        licence.function.to_date, timezone.localdate()
    )
    licence.may_act = access.has_capability(
        request.user, Capability.PERSONS_EDIT, licence.organisation
    )
    licence.actions = licence_rules.allowed_actions(
        licence.status, function_is_active=not licence.function_is_passive
    )
    return licence


def _email_allowed(person: Person) -> bool:
    standard = selectors.standard_contact_set(person=person)
    return standard is not None and licence_rules.email_sending_allowed(standard.email)


def _may_edit(request: HttpRequest, person: Person) -> bool:
    return access.can(request.user, Capability.PERSONS_EDIT, person)


@login_required
@require_GET
def person_licences(request: HttpRequest, pk: int) -> HttpResponse:
    """P-12: the person's licences and the licence periods without one."""
    person = person_or_404(request, pk)
    licences = [
        _annotate(request, licence)
        for licence in selectors.person_licences(user=request.user, person=person)
    ]
    context = person_card_context(request, person, "licences")
    context["licences"] = licences
    if _may_edit(request, person):
        organisations = list(
            selectors.licence_register_organisations(user=request.user, person=person)
        )
        context["open_types"] = list(
            selectors.licence_types_offered(person=person, organisations=organisations)
        )
    return render(request, "members/person/licences.html", context)


def _register_form(request: HttpRequest, person: Person) -> LicenceRegisterForm:
    organisations = selectors.licence_register_organisations(user=request.user, person=person)
    initial = {}
    if request.GET.get("licence_type", "").isdigit():
        initial["licence_type"] = int(request.GET["licence_type"])
    return LicenceRegisterForm(
        request.POST or None,
        initial=initial,
        licence_types=selectors.licence_types_offered(
            person=person, organisations=list(organisations)
        ),
        organisations=organisations,
        contact_sets=selectors.person_contact_sets(person=person),
        email_allowed=_email_allowed(person),
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_licence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P-12: register a licence. When the matching function has ended, the user is asked to
    activate it (and the form comes back with that box to tick)."""
    person = person_or_404(request, pk)
    require(_may_edit(request, person))
    form = _register_form(request, person)
    ask_activation = False
    if request.method == "POST" and form.is_valid():
        try:
            licence = licence_services.licence_register(
                actor=request.user, person=person, **form.cleaned_data
            )
        except ValidationError as error:
            ask_activation = licence_services.needs_function_activation(error)
            apply_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The licence was registered."))
            return redirect("members:person-licence-detail", pk=person.pk, licence_pk=licence.pk)
    context = person_card_context(request, person, "licences")
    context.update(form=form, ask_activation=ask_activation)
    return render(request, "members/person/licences_add.html", context)


def _licence(request: HttpRequest, person: Person, licence_pk: int) -> Licence:
    licence = access.get_object_or_404(
        request.user,
        Capability.PERSONS_VIEW,
        selectors.licence_detail_queryset(person=person),
        pk=licence_pk,
    )
    return _annotate(request, licence)


def _action_forms(
    request: HttpRequest, person: Person, licence: Licence, bound: dict[str, object]
) -> dict[str, object]:
    """One form per action the licence allows; `bound` holds the one just posted."""
    email_allowed = _email_allowed(person)
    contact_sets = selectors.person_contact_sets(person=person)
    other_types = (
        LicenceType.objects.filter(period_id=licence.period_id, is_active=True)
        .exclude(pk=licence.licence_type_id)
        .select_related("period")
    )
    builders = {
        LicenceAction.ISSUE: lambda: LicenceSendForm(
            email_allowed=email_allowed, initial={"sending_method": licence.sending_method}
        ),
        LicenceAction.RESEND: lambda: LicenceSendForm(
            email_allowed=email_allowed, initial={"sending_method": licence.sending_method}
        ),
        LicenceAction.CHANGE_TYPE: lambda: LicenceChangeTypeForm(licence_types=other_types),
        LicenceAction.ADD_PAYMENT: lambda: LicencePaymentForm(
            initial={"amount": max(licence.amount_due.amount - licence.amount_paid.amount, 0)}
        ),
        LicenceAction.RETURN_PAYMENT: lambda: LicencePaymentForm(),
        LicenceAction.CHANGE_DELIVERY: lambda: LicenceDeliveryForm(
            contact_sets=contact_sets,
            email_allowed=email_allowed,
            initial={
                "delivery_contact_set": licence.delivery_contact_set_id,
                "sending_method": licence.sending_method,
            },
        ),
    }
    forms = {
        str(action): build() for action, build in builders.items() if action in licence.actions
    }
    # The form just posted comes back with its errors, even when the status refused it.
    forms.update({str(action): form for action, form in bound.items()})
    return forms


EVENT_LABELS = {
    "registered": gettext_lazy("Registered"),
    "issued": gettext_lazy("Issued"),
    "resent": gettext_lazy("Sent again"),
    "type_changed": gettext_lazy("Type changed, new invoice"),
    "payment_added": gettext_lazy("Payment"),
    "payment_returned": gettext_lazy("Payment returned"),
    "delivery_changed": gettext_lazy("Delivery changed"),
    "reactivated": gettext_lazy("Reactivated"),
}


def _label_events(licence: Licence) -> None:
    statuses = dict(LicenceStatus.choices)
    for event in licence.events.all():
        event.label = EVENT_LABELS.get(event.action, event.action)
        event.from_label = statuses.get(event.from_status, "")
        event.to_label = statuses.get(event.to_status, "")


def _detail(
    request: HttpRequest,
    person: Person,
    licence: Licence,
    bound: dict[str, object] | None = None,
    ask_activation: bool = False,
) -> HttpResponse:
    _label_events(licence)
    context = person_card_context(request, person, "licences")
    context.update(
        licence=licence,
        forms=_action_forms(request, person, licence, bound or {}) if licence.may_act else {},
        ask_activation=ask_activation,
    )
    return render(request, "members/person/licences_detail.html", context)


@login_required
@require_GET
def person_licence_detail(request: HttpRequest, pk: int, licence_pk: int) -> HttpResponse:
    person = person_or_404(request, pk)
    return _detail(request, person, _licence(request, person, licence_pk))


def _run_action(request: HttpRequest, licence: Licence, action: str, person: Person):  # type: ignore[no-untyped-def]
    """The posted form and the service call for `action`; returns (form, service call)."""
    email_allowed = _email_allowed(person)
    user = request.user
    if action in (LicenceAction.ISSUE, LicenceAction.RESEND):
        form = LicenceSendForm(request.POST, email_allowed=email_allowed)
        service = (
            licence_services.licence_issue
            if action == LicenceAction.ISSUE
            else licence_services.licence_resend
        )
        return form, lambda data: service(actor=user, licence=licence, **data)
    if action == LicenceAction.CHANGE_TYPE:
        types = LicenceType.objects.filter(period_id=licence.period_id)
        form = LicenceChangeTypeForm(request.POST, licence_types=types)
        return form, lambda data: licence_services.licence_change_type(
            actor=user, licence=licence, **data
        )
    if action in (LicenceAction.ADD_PAYMENT, LicenceAction.RETURN_PAYMENT):
        service = (
            licence_services.licence_add_payment
            if action == LicenceAction.ADD_PAYMENT
            else licence_services.licence_return_payment
        )
        return LicencePaymentForm(request.POST), lambda data: service(
            actor=user, licence=licence, amount=Money(data["amount"], licence_services.CURRENCY)
        )
    if action == LicenceAction.CHANGE_DELIVERY:
        form = LicenceDeliveryForm(
            request.POST,
            contact_sets=selectors.person_contact_sets(person=person),
            email_allowed=email_allowed,
        )
        return form, lambda data: licence_services.licence_change_delivery(
            actor=user, licence=licence, **data
        )
    if action == LicenceAction.REACTIVATE:
        return None, lambda data: licence_services.licence_reactivate(actor=user, licence=licence)
    raise Http404


SUCCESS_MESSAGES = {
    LicenceAction.ISSUE: gettext_lazy("The licence was issued."),
    LicenceAction.RESEND: gettext_lazy("The licence was sent again."),
    LicenceAction.CHANGE_TYPE: gettext_lazy(
        "The licence type was changed and the licence re-issued with a new invoice."
    ),
    LicenceAction.ADD_PAYMENT: gettext_lazy("The payment was recorded."),
    LicenceAction.RETURN_PAYMENT: gettext_lazy("The returned payment was recorded."),
    LicenceAction.CHANGE_DELIVERY: gettext_lazy("The delivery address was changed."),
    LicenceAction.REACTIVATE: gettext_lazy("The licence was reactivated."),
}


@login_required
@require_POST
def person_licence_action(
    request: HttpRequest, pk: int, licence_pk: int, action: str
) -> HttpResponse:
    """P-12: one action on a licence; the service checks that its status allows it."""
    person = person_or_404(request, pk)
    licence = _licence(request, person, licence_pk)
    require(licence.may_act and action in {choice.value for choice in LicenceAction})
    form, call = _run_action(request, licence, action, person)
    if form is not None and not form.is_valid():
        return _detail(request, person, licence, {action: form})
    try:
        call(form.cleaned_data if form is not None else {})
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return redirect("members:person-licence-detail", pk=person.pk, licence_pk=licence.pk)
        apply_errors(form, error)
        ask = licence_services.needs_function_activation(error)
        return _detail(request, person, licence, {action: form}, ask_activation=ask)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, SUCCESS_MESSAGES[LicenceAction(action)])
    return redirect("members:person-licence-detail", pk=person.pk, licence_pk=licence.pk)


LICENCE = "persons/<int:pk>/licences/<int:licence_pk>"

urlpatterns = [
    path("persons/<int:pk>/licences/", person_licences, name="person-licences"),
    path("persons/<int:pk>/licences/add/", person_licence_add, name="person-licence-add"),
    path(f"{LICENCE}/", person_licence_detail, name="person-licence-detail"),
    path(f"{LICENCE}/<slug:action>/", person_licence_action, name="person-licence-action"),
]
