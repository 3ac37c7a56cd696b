"""Person search pages (P-01..P-04): the simple and advanced search, its export, login links
for selected persons, and the page where a login link lets a person set their password.

Every page needs `persons.view` somewhere (404 otherwise, like a missing page); results come
from members.search.person_search, scoped by clubadmin.access.
"""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook
from openpyxl.styles import Font

from clubadmin import access
from clubadmin.capabilities import Capability
from members import search
from members.models import Gender, Organisation
from members.services import logins
from members.tasks import send_login_links

MAX_NAMES_IN_MESSAGE = 10
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PersonSearchForm(forms.Form):
    """The advanced search (P-02); the simple search box sends `q` only (P-01). Validation is
    members.search.parse_criteria's; the form renders the fields and shows its errors."""

    q = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=200)
    first_name = forms.CharField(label=gettext_lazy("First name"), required=False, max_length=200)
    last_name = forms.CharField(label=gettext_lazy("Last name"), required=False, max_length=200)
    gender = forms.ChoiceField(
        label=gettext_lazy("Gender"),
        required=False,
        choices=[("", gettext_lazy("Any")), *Gender.choices],
    )
    birth_date = forms.CharField(
        label=gettext_lazy("Birth date"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("DD.MM.YYYY")}),
    )
    birth_year = forms.CharField(label=gettext_lazy("Birth year"), required=False, max_length=4)
    sports_id = forms.CharField(label=gettext_lazy("Sports id"), required=False, max_length=30)
    organisation = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    function_type = forms.CharField(
        label=gettext_lazy("Function type"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Number or name; * for any characters, e.g. Tren* or 1*."),
    )
    postcode = forms.CharField(
        label=gettext_lazy("Postcode or place"), required=False, max_length=100
    )
    country = forms.CharField(
        label=gettext_lazy("Country"),
        required=False,
        max_length=2,
        widget=forms.TextInput(attrs={"placeholder": "SE"}),
    )
    deceased = forms.BooleanField(label=gettext_lazy("Deceased persons only"), required=False)

    def criteria(self) -> search.Criteria | None:
        """The parsed criteria, or None with the errors added to the form."""
        if not self.is_valid():
            return None
        data = {**self.cleaned_data, "deceased": "true" if self.cleaned_data["deceased"] else ""}
        try:
            return search.parse_criteria(data)
        except search.CriteriaError as error:
            self.add_criteria_errors(error)
            return None

    def add_criteria_errors(self, error: search.CriteriaError) -> None:
        for name, message in error.errors.items():
            self.add_error(None if name == search.NON_FIELD else name, message)


def _require_search(request: HttpRequest, capability: str = Capability.PERSONS_VIEW) -> None:
    if not access.has_capability_anywhere(request.user, capability):
        raise Http404


def _submitted(query: QueryDict) -> bool:
    return any(name in query for name in search.CRITERIA_FIELDS)


def _ordering(query: QueryDict) -> str:
    try:
        return search.parse_ordering(query.get("ordering"))
    except ValueError:
        return ""


def _run_search(request: HttpRequest) -> tuple[PersonSearchForm, search.SearchResult | None]:
    form = PersonSearchForm(request.GET if _submitted(request.GET) else None)
    if not form.is_bound:
        return form, None
    criteria = form.criteria()
    if criteria is None:
        return form, None
    try:
        result = search.person_search(
            user=request.user, criteria=criteria, ordering=_ordering(request.GET)
        )
    except search.CriteriaError as error:
        form.add_criteria_errors(error)
        return form, None
    return form, result


def _query_string(query: QueryDict, **changes: str) -> str:
    """The search's criteria (and ordering) as a query string, with `changes` applied."""
    values = {name: query.get(name, "") for name in (*search.CRITERIA_FIELDS, "ordering")}
    values.update(changes)
    return urlencode({name: value for name, value in values.items() if value})


SORT_LABELS = {
    "name": gettext_lazy("Name"),
    "birth_date": gettext_lazy("Birth date"),
    "sports_id": gettext_lazy("Sports id"),
    "place": gettext_lazy("Postcode and place"),
}


def _sort_headers(query: QueryDict, current: str) -> list[dict[str, object]]:
    """P-03: the sortable column headers, each linking to the result sorted by it (a second
    click sorts descending)."""
    headers = []
    for column in search.ORDERINGS:
        state = {column: "ascending", f"-{column}": "descending"}.get(current, "")
        next_ordering = f"-{column}" if state == "ascending" else column
        headers.append(
            {
                "label": SORT_LABELS[column],
                "query": _query_string(query, ordering=next_ordering),
                "state": state,
            }
        )
    return headers


@login_required
@require_GET
def person_search(request: HttpRequest) -> HttpResponse:
    """P-01..P-03: the search page; with criteria, the first 100 results. An HTMX request (the
    form, a sort link) gets the results part only."""
    _require_search(request)
    form, result = _run_search(request)
    organisation = _chosen_organisation(request)
    ordering = _ordering(request.GET)
    rows = result.persons if result else []
    context = {
        "form": form,
        "result": result,
        "rows": rows,
        "show_country": any(p.contact_country not in ("", None, "NO") for p in rows),
        "organisation": organisation,
        "ordering": ordering,
        "sort_headers": _sort_headers(request.GET, ordering),
        "query_string": _query_string(request.GET),
        "may_send_login_links": access.has_capability_anywhere(
            request.user, Capability.PERSONS_EDIT
        ),
        "may_mark_duplicates": access.has_capability_anywhere(  # P-14 (1), issue 4
            request.user, Capability.DUPLICATES_MERGE
        ),
        "select_all": request.GET.get("select") == "all",
        "max_results": search.MAX_RESULTS,
    }
    template = "members/_search_results.html" if request.htmx else "members/search.html"
    return render(request, template, context)


def _chosen_organisation(request: HttpRequest) -> Organisation | None:
    value = request.GET.get("organisation", "")
    if not value.isdigit():
        return None
    return access.visible_organisations(request.user).filter(pk=int(value)).first()


@login_required
@require_GET
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    """P-02: organisations the user can see, by name, to pick for "affiliated organisation"."""
    _require_search(request)
    query = request.GET.get("organisation_name", "").strip()
    organisations = Organisation.objects.none()
    if len(query) >= 2:
        organisations = (
            access.visible_organisations(request.user)
            .filter(name__icontains=query)
            .order_by("name")[:20]
        )
    return render(
        request,
        "members/_search_organisation_choices.html",
        {"organisations": organisations, "query": query},
    )


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """P-03: the search result as CSV (semicolon separated, UTF-8 with BOM, as Norwegian
    spreadsheets expect). Same selector and scope as the page. Columns: sports id, first,
    middle and last name, gender, birth date, street, postcode, place, country, e-mail,
    mobile. Contact data (street, postcode, country, e-mail, mobile) only for persons the
    user may edit (persons.edit): they may see all of it, hidden fields (P-08) included;
    for persons the user may only view: names, gender, birth date, sports id and place.
    Cells starting with = + - @ get an apostrophe so that no spreadsheet runs them."""
    rows = _export(request)
    if isinstance(rows, HttpResponse):
        return rows
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, delimiter=";")
    writer.writerow([str(label) for _name, label in search.EXPORT_COLUMNS])
    for row in rows:
        writer.writerow(
            [search.spreadsheet_safe(_text(row[name])) for name, _label in search.EXPORT_COLUMNS]
        )
    response = HttpResponse(output.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """P-03: the search result as an Excel workbook; same columns and rules as the CSV export
    (export_csv). Every text cell is stored as text, never as a formula, and gets the same
    apostrophe guard."""
    rows = _export(request)
    if isinstance(rows, HttpResponse):
        return rows
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Persons")
    sheet.append([str(label) for _name, label in search.EXPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([search.spreadsheet_safe(row[name]) for name, _label in search.EXPORT_COLUMNS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would take "=..." for a formula
            elif isinstance(cell.value, datetime.date):
                cell.number_format = "DD.MM.YYYY"
    output = io.BytesIO()
    workbook.save(output)
    response = HttpResponse(output.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response


def _export(request: HttpRequest) -> list[dict[str, object]] | HttpResponse:
    _require_search(request)
    _form, result = _run_search(request)
    if result is None:
        # No or invalid criteria: the search page shows why.
        return redirect(f"{reverse('members:person-search')}?{_query_string(request.GET)}")
    return search.export_rows(user=request.user, result=result)


def _text(value: object) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _filename(extension: str) -> str:
    return f"persons-{timezone.localdate().isoformat()}.{extension}"


@login_required
@require_POST
def send_login_links_view(request: HttpRequest) -> HttpResponse:
    """P-04: queue one-time login links for the selected persons; the message tells how many
    get one and names those without an e-mail address."""
    _require_search(request, Capability.PERSONS_EDIT)
    person_ids = sorted({int(value) for value in request.POST.getlist("person") if value.isdigit()})
    back = _back_url(request)
    if not person_ids:
        messages.error(request, _("Select the persons who should get a login link."))
        return redirect(back)
    recipients = logins.login_link_recipients(actor=request.user, person_ids=person_ids)
    sendable = [person.pk for person in recipients.sendable]
    if sendable:
        send_login_links.delay_on_commit(
            batch_id=uuid.uuid4().hex,
            actor_id=request.user.pk,
            person_ids=sendable,
            base_url=request.build_absolute_uri("/"),
        )
    _report_recipients(request, recipients)
    return redirect(back)


def _report_recipients(request: HttpRequest, recipients: logins.LoginLinkRecipients) -> None:
    count = len(recipients.sendable)
    if count:
        messages.success(
            request,
            ngettext(
                "A login link is being sent to %(count)d person.",
                "Login links are being sent to %(count)d persons.",
                count,
            )
            % {"count": count},
        )
    if recipients.without_email:
        names = [person.full_name for person in recipients.without_email]
        shown = ", ".join(names[:MAX_NAMES_IN_MESSAGE])
        if len(names) > MAX_NAMES_IN_MESSAGE:
            shown += " …"
        messages.warning(
            request,
            ngettext(
                "%(count)d person has no e-mail address and gets no link: %(names)s.",
                "%(count)d persons have no e-mail address and get no link: %(names)s.",
                len(names),
            )
            % {"count": len(names), "names": shown},
        )
    skipped = recipients.not_allowed + len(recipients.deceased)
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)d person gets no link: you may not edit them, they already have a "
                "login, or they are deceased.",
                "%(count)d persons get no link: you may not edit them, they already have a "
                "login, or they are deceased.",
                skipped,
            )
            % {"count": skipped},
        )


def _back_url(request: HttpRequest) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("members:person-search")


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """P-04: where a login link leads: set a password (Django's one-time reset token)."""

    template_name = "registration/login_link_set_password.html"
    success_url = reverse_lazy("members:set-password-done")


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/login_link_set_password_done.html"


urlpatterns = [
    path("persons/search/", person_search, name="person-search"),
    path(
        "persons/search/organisations/",
        organisation_lookup,
        name="person-search-organisations",
    ),
    path("persons/search/export.csv", export_csv, name="person-search-export-csv"),
    path("persons/search/export.xlsx", export_xlsx, name="person-search-export-xlsx"),
    path("persons/search/login-links/", send_login_links_view, name="person-login-links"),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        SetPasswordView.as_view(),
        name="set-password",
    ),
    path("accounts/set-password/done/", SetPasswordDoneView.as_view(), name="set-password-done"),
]
