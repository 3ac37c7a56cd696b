"""The person card (P-05..P-09): general info, contact sets, bank accounts, history; and the
self-service page of the member portal (P-07).

Reading needs persons.view on the person (or being that person); every change needs
persons.edit and goes through the services, which check it again and apply the rules (the
P-06 locks included). Bank accounts are sensitive: only persons.edit or the person themself
sees them (P-09). Missing and forbidden look the same: 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from clubadmin import access
from clubadmin.capabilities import Capability
from members import history
from members.forms_person import (
    BankAccountForm,
    ClearDeceasedForm,
    ContactSetForm,
    DeceasedForm,
    PersonForm,
    ReservationForm,
    add_service_errors,
)
from members.models import BankAccount, ContactSet, Person
from members.postcodes import postcode_place
from members.services import accounts as account_services
from members.services import contacts as contact_services
from members.services import persons as person_services
from members.views.common import person_card_context, person_or_404, require

HISTORY_PAGE_SIZE = 25
CLEAR_FORM_IDS = "clear_%s"  # two forms with a "confirm" box on one page
CONTACT_FORM_FIELDS = [name for name in ContactSetForm.base_fields if name != "confirm_email"]


# ------------------------------------------------------------------------------- helpers


def _editable_person(request: HttpRequest, pk: int) -> Person:
    """The person if the user holds persons.edit for them (being the person is not enough)."""
    return access.get_object_or_404(
        request.user, Capability.PERSONS_EDIT, Person.objects.all(), include_own=False, pk=pk
    )


def _done(request: HttpRequest, url: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _lock(person: Person) -> dict[str, object]:
    """P-06: a deceased person's contact sets and accounts are shown without forms; a POST
    still reaches the service, which refuses it with this message."""
    return {"locked_message": person_services.PERSON_IS_DECEASED if person.is_deceased else ""}


def _card(request: HttpRequest, person: Person, tab: str, **extra: object) -> dict[str, object]:
    context = person_card_context(request, person, tab)
    context.update(extra)
    return context


# ------------------------------------------------------------------- general tab (P-05..P-07)


def _person_form(person: Person) -> PersonForm:
    return PersonForm(
        initial={
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "last_name": person.last_name,
            "gender": person.gender,
            "birth_date": person.birth_date,
        }
    )


def _render_detail(request: HttpRequest, person: Person, **forms: object) -> HttpResponse:
    context = _card(
        request,
        person,
        "detail",
        previous_sports_ids=list(person.previous_sports_ids.order_by("-replaced_at", "-pk")),
    )
    if context["may_edit_person"]:
        context.update(
            person_form=forms.get("person_form") or _person_form(person),
            deceased_form=forms.get("deceased_form")
            or DeceasedForm(initial={"date_of_death": person.date_of_death}),
            clear_deceased_form=forms.get("clear_deceased_form")
            or ClearDeceasedForm(auto_id=CLEAR_FORM_IDS),
        )
    return render(request, "members/person/detail.html", context)


@login_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, person_or_404(request, pk))


@login_required
@require_POST
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """P-05: a change of name, gender or birth date is saved only once confirmed; the form
    then shows the confirmation checkbox and what it means."""
    person = _editable_person(request, pk)
    form = PersonForm(request.POST)
    if form.is_valid():
        try:
            person_services.person_update(
                actor=request.user,
                person=person,
                confirm_identity_change=form.cleaned_data["confirm_identity_change"],
                **form.service_values(),
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            url = reverse("members:person-detail", args=[person.pk])
            return _done(request, url, _("The person was saved."))
    return _render_detail(request, person, person_form=form)


@login_required
@require_POST
def person_deceased(request: HttpRequest, pk: int) -> HttpResponse:
    """P-06: register (or correct) the date of death, or clear a deceased registration made
    by mistake (`action=clear`); both need a confirmation."""
    person = _editable_person(request, pk)
    clearing = request.POST.get("action") == "clear"
    form = (
        ClearDeceasedForm(request.POST, auto_id=CLEAR_FORM_IDS)
        if clearing
        else DeceasedForm(request.POST)
    )
    if form.is_valid():
        try:
            if clearing:
                person_services.person_clear_deceased(
                    actor=request.user, person=person, confirm=form.cleaned_data["confirm"]
                )
            else:
                person_services.person_set_deceased(
                    actor=request.user, person=person, **form.cleaned_data
                )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            url = reverse("members:person-detail", args=[person.pk])
            return _done(request, url, _("The deceased status was saved."))
    key = "clear_deceased_form" if clearing else "deceased_form"
    return _render_detail(request, person, **{key: form})


@login_required
@require_POST
def person_reservation(request: HttpRequest, pk: int) -> HttpResponse:
    """P-07: the "reserved against data wash" flag on the person card."""
    person = _editable_person(request, pk)
    form = ReservationForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    try:
        person_services.person_set_reservation(
            actor=request.user, person=person, reserved=form.cleaned_data["reserved"]
        )
    except PermissionDenied as error:
        raise Http404 from error
    url = reverse("members:person-detail", args=[person.pk])
    return _done(request, url, _("The reservation against data wash was saved."))


# ---------------------------------------------------------------------- contact sets (P-08)


def _contact_context(
    request: HttpRequest, person: Person, may_edit: bool | None = None
) -> dict[str, object]:
    if may_edit is None:
        may_edit = access.can(request.user, Capability.PERSONS_EDIT, person)
    contact_sets = (
        ContactSet.objects.filter(person=person)
        .annotate(function_count=Count("functions"))
        .order_by("-is_standard", "label", "pk")
    )
    return {
        "person": person,
        "contact_sets": contact_sets,
        "may_edit_person": may_edit,
        "may_change_contacts": may_edit and not person.is_deceased,
    }


@login_required
@require_GET
def person_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_or_404(request, pk)
    context = _card(request, person, "contacts")
    context |= _contact_context(request, person, context["may_edit_person"])
    return render(request, "members/person/contacts.html", context)


def _contact_set_or_404(request: HttpRequest, pk: int, set_pk: int) -> ContactSet:
    return access.get_object_or_404(
        request.user,
        Capability.PERSONS_EDIT,
        ContactSet.objects.filter(person_id=pk).select_related("person"),
        include_own=False,
        pk=set_pk,
    )


def _contact_form_page(
    request: HttpRequest, person: Person, contact_set: ContactSet | None, save: Callable
) -> HttpResponse:
    if request.method == "POST":
        form = ContactSetForm(request.POST)
        if form.is_valid():
            try:
                save(confirm_email=form.cleaned_data["confirm_email"], **form.service_values())
            except PermissionDenied as error:
                raise Http404 from error
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                url = reverse("members:person-contacts", args=[person.pk])
                return _done(request, url, _("The contact set was saved."))
    elif contact_set is not None:
        form = ContactSetForm(
            initial={name: getattr(contact_set, name) for name in CONTACT_FORM_FIELDS}
        )
    else:
        form = ContactSetForm()
    context = _card(
        request, person, "contacts", form=form, contact_set=contact_set, **_lock(person)
    )
    return render(request, "members/person/contact_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)

    def save(**values: object) -> ContactSet:
        return contact_services.contact_set_create(actor=request.user, person=person, **values)

    return _contact_form_page(request, person, None, save)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, set_pk: int) -> HttpResponse:
    contact_set = _contact_set_or_404(request, pk, set_pk)
    person = contact_set.person

    def save(**values: object) -> ContactSet:
        return contact_services.contact_set_update(
            actor=request.user, contact_set=contact_set, **values
        )

    return _contact_form_page(request, person, contact_set, save)


def _run_record_action(
    request: HttpRequest,
    person: Person,
    run: Callable[[], object],
    list_context: Callable[[HttpRequest, Person], dict],
    list_template: str,
    tab: str,
) -> HttpResponse:
    """Run a service on one of the person's records (a contact set or an account); answer
    with the refreshed list for HTMX, else redirect to the tab. Forbidden is a 404."""
    error_message = ""
    try:
        run()
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        error_message = " ".join(error.messages)
    if request.htmx:
        person.refresh_from_db()
        context = list_context(request, person) | {"error": error_message}
        return render(request, list_template, context)
    if error_message:
        messages.error(request, error_message)
    return redirect(tab, pk=person.pk)


def _contact_action(request: HttpRequest, pk: int, set_pk: int, action: Callable) -> HttpResponse:
    contact_set = _contact_set_or_404(request, pk, set_pk)
    return _run_record_action(
        request,
        contact_set.person,
        lambda: action(actor=request.user, contact_set=contact_set),
        _contact_context,
        "members/person/_contact_list.html",
        "members:person-contacts",
    )


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int, set_pk: int) -> HttpResponse:
    """P-08: the standard set cannot be deleted; a set a function uses neither."""
    return _contact_action(request, pk, set_pk, contact_services.contact_set_delete)


@login_required
@require_POST
def contact_standard(request: HttpRequest, pk: int, set_pk: int) -> HttpResponse:
    """P-08: make a set the standard set."""
    return _contact_action(request, pk, set_pk, contact_services.contact_set_set_standard)


@login_required
@require_GET
def postcode_lookup(request: HttpRequest) -> HttpResponse:
    """P-08: the place input of a contact form, filled from a known Norwegian postcode."""
    postcode = request.GET.get("postcode", "").strip()
    country = (request.GET.get("country") or "NO").strip().upper()
    city = request.GET.get("city", "")
    place = postcode_place(postcode) if country == "NO" and postcode else None
    return render(request, "members/person/_city_input.html", {"city": place or city})


# --------------------------------------------------------------------- bank accounts (P-09)


def _account_context(
    request: HttpRequest, person: Person, may_edit: bool | None = None
) -> dict[str, object]:
    if may_edit is None:
        may_edit = access.can(request.user, Capability.PERSONS_EDIT, person)
    return {
        "person": person,
        "accounts": account_services.bank_account_list(person=person),
        "may_edit_person": may_edit,
        "may_change_accounts": may_edit and not person.is_deceased,
    }


@login_required
@require_GET
def person_accounts(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_or_404(request, pk)
    context = _card(request, person, "accounts")
    # P-09: bank accounts are sensitive: persons.edit, or the person themself.
    require(context["may_see_accounts"])
    context |= _account_context(request, person, context["may_edit_person"])
    return render(request, "members/person/accounts.html", context)


def _account_or_404(request: HttpRequest, pk: int, account_pk: int) -> BankAccount:
    return access.get_object_or_404(
        request.user,
        Capability.PERSONS_EDIT,
        BankAccount.objects.filter(person_id=pk).select_related("person"),
        include_own=False,
        pk=account_pk,
    )


def _account_form_page(
    request: HttpRequest, person: Person, account: BankAccount | None, save: Callable
) -> HttpResponse:
    if request.method == "POST":
        form = BankAccountForm(request.POST)
        if form.is_valid():
            try:
                save(**form.cleaned_data)
            except PermissionDenied as error:
                raise Http404 from error
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                url = reverse("members:person-accounts", args=[person.pk])
                return _done(request, url, _("The bank account was saved."))
    elif account is not None:
        form = BankAccountForm(
            initial={name: getattr(account, name) for name in BankAccountForm.base_fields}
        )
    else:
        form = BankAccountForm()
    context = _card(request, person, "accounts", form=form, account=account, **_lock(person))
    return render(request, "members/person/account_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)

    def save(**values: object) -> BankAccount:
        return account_services.account_create(actor=request.user, person=person, **values)

    return _account_form_page(request, person, None, save)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    account = _account_or_404(request, pk, account_pk)

    def save(**values: object) -> BankAccount:
        return account_services.account_update(actor=request.user, account=account, **values)

    return _account_form_page(request, account.person, account, save)


def _account_action(
    request: HttpRequest, pk: int, account_pk: int, action: Callable
) -> HttpResponse:
    account = _account_or_404(request, pk, account_pk)
    return _run_record_action(
        request,
        account.person,
        lambda: action(actor=request.user, account=account),
        _account_context,
        "members/person/_account_list.html",
        "members:person-accounts",
    )


@login_required
@require_POST
def account_delete(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    return _account_action(request, pk, account_pk, account_services.account_delete)


@login_required
@require_POST
def account_default(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    """P-09: make an account the default account."""
    return _account_action(request, pk, account_pk, account_services.account_set_default)


# ------------------------------------------------------------------------------ history


@login_required
@require_GET
def person_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what and when, newest first (the person, contact sets, bank accounts for
    those who may see them). HTMX swaps the list alone when paging."""
    person = person_or_404(request, pk)
    context = _card(request, person, "history")
    entries = history.person_history(
        person, include_bank_accounts=bool(context["may_see_accounts"])
    )
    context["page"] = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    if request.htmx:
        return render(request, "members/person/_history_list.html", context)
    return render(request, "members/person/history.html", context)


# --------------------------------------------------------------------- self-service (P-07)


@login_required
@require_http_methods(["GET", "POST"])
def portal_me(request: HttpRequest) -> HttpResponse:
    """The member portal's own page: the logged-in user's name and their reservation against
    the data wash (P-07). Only ever the user's own person."""
    person = request.user.person
    if request.method == "POST" and person is not None:
        form = ReservationForm(request.POST)
        form.is_valid()
        person_services.person_set_reservation(
            actor=request.user, person=person, reserved=form.cleaned_data["reserved"]
        )
        messages.success(request, _("Your choice was saved."))
        return redirect("members:portal-me")
    return render(request, "portal/me.html", {"person": person})


urlpatterns = [
    path("persons/<int:pk>/", person_detail, name="person-detail"),
    path("persons/<int:pk>/edit/", person_edit, name="person-edit"),
    path("persons/<int:pk>/deceased/", person_deceased, name="person-deceased"),
    path("persons/<int:pk>/reservation/", person_reservation, name="person-reservation"),
    path("persons/<int:pk>/contacts/", person_contacts, name="person-contacts"),
    path("persons/<int:pk>/contacts/add/", contact_add, name="person-contact-add"),
    path("persons/<int:pk>/contacts/<int:set_pk>/edit/", contact_edit, name="person-contact-edit"),
    path(
        "persons/<int:pk>/contacts/<int:set_pk>/delete/",
        contact_delete,
        name="person-contact-delete",
    ),
    path(
        "persons/<int:pk>/contacts/<int:set_pk>/standard/",
        contact_standard,
        name="person-contact-standard",
    ),
    path("persons/<int:pk>/accounts/", person_accounts, name="person-accounts"),
    path("persons/<int:pk>/accounts/add/", account_add, name="person-account-add"),
    path(
        "persons/<int:pk>/accounts/<int:account_pk>/edit/",
        account_edit,
        name="person-account-edit",
    ),
    path(
        "persons/<int:pk>/accounts/<int:account_pk>/delete/",
        account_delete,
        name="person-account-delete",
    ),
    path(
        "persons/<int:pk>/accounts/<int:account_pk>/default/",
        account_default,
        name="person-account-default",
    ),
    path("persons/<int:pk>/history/", person_history, name="person-history"),
    path("postcodes/place/", postcode_lookup, name="postcode-place"),
    path("portal/me/", portal_me, name="portal-me"),
]
