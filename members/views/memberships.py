"""Membership pages (issue 5): a club's members, joining, resigning and ending, verification
links, families and guardians, membership types, the "must be a member" work list (D-05,
M-16), the member's own memberships, and the verification page of the portal (M-14, S-08).

Club pages need members.manage in the club (clubadmin.access); missing and forbidden look
the same (404). The portal verification page needs no login: the link is the key.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clubadmin import access
from clubadmin.capabilities import Capability
from members import club_settings, membership_rules, selectors_memberships
from members.forms_memberships import (
    EndForm,
    FamilyCreateForm,
    GuardianForm,
    JoinForm,
    MembershipTypeForm,
    ResignForm,
    VerificationSendForm,
)
from members.models import (
    Family,
    GuardianRelation,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
)
from members.services import memberships as membership_services
from members.services import verification as verification_services
from members.views import duplicates as duplicate_pages

PAGE_SIZE = 50


# ------------------------------------------------------------------------------ helpers


def _club(request: HttpRequest, pk: int) -> Organisation:
    """A club in which the user manages memberships; 404 for missing and forbidden."""
    club = (
        access.visible_organisations(request.user)
        .filter(pk=pk, organisation_type=OrganisationType.CLUB)
        .first()
    )
    if club is None or not access.has_capability(request.user, Capability.MEMBERS_MANAGE, club):
        raise Http404
    return club


def _membership(request: HttpRequest, pk: int) -> Membership:
    return access.get_object_or_404(
        request.user,
        Capability.MEMBERS_MANAGE,
        Membership.objects.select_related("person", "club", "membership_type", "family"),
        include_own=False,
        pk=pk,
    )


def _family(request: HttpRequest, pk: int) -> Family:
    return access.get_object_or_404(
        request.user,
        Capability.MEMBERS_MANAGE,
        Family.objects.select_related("club", "contact_person"),
        pk=pk,
    )


def _visible_persons(request: HttpRequest):  # type: ignore[no-untyped-def]
    return access.scope(request.user, Capability.PERSONS_VIEW, Person.objects.all())


def _add_errors(form: Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _message_errors(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _page(request: HttpRequest, queryset) -> Any:  # type: ignore[no-untyped-def]
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# ------------------------------------------------------------------------- memberships


@login_required
@require_GET
def membership_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The club's memberships, filtered by status, type and name (HTMX swaps the list)."""
    club = _club(request, pk)
    status = request.GET.get("status", "current")
    if status not in selectors_memberships.STATUS_FILTERS:
        status = "current"
    type_id = request.GET.get("type", "")
    search = request.GET.get("q", "").strip()
    memberships = selectors_memberships.membership_list(
        user=request.user,
        club=club,
        status=status,
        membership_type_id=int(type_id) if type_id.isdigit() else None,
        search=search,
        include_own=False,
    )
    context = {
        "club": club,
        "page": _page(request, memberships),
        "status": status,
        "statuses": selectors_memberships.STATUS_FILTERS,
        "types": selectors_memberships.membership_types(club=club),
        "type_id": type_id,
        "search": search,
    }
    template = "members/memberships/_list.html" if request.htmx else "members/memberships/list.html"
    return render(request, template, context)


@login_required
@require_GET
def person_lookup(request: HttpRequest, pk: int) -> HttpResponse:
    """Persons the user may see, by name, to choose for a membership or as a guardian."""
    _club(request, pk)
    query = request.GET.get("q", "").strip()
    persons = selectors_memberships.person_choices(user=request.user, query=query)
    field = request.GET.get("field", "person")
    if field not in {"person", "guardian"}:
        field = "person"
    return render(
        request,
        "members/memberships/_person_choices.html",
        {"persons": persons, "query": query, "field": field},
    )


def _join_page(
    request: HttpRequest, club: Organisation, family: Family | None = None
) -> HttpResponse:
    types = selectors_memberships.membership_types(club=club, active_only=True)
    families = None if family is not None else club.families.order_by("name")
    form = JoinForm(
        duplicate_pages.use_existing_person(request.POST) if request.method == "POST" else None,
        persons=_visible_persons(request),
        membership_types=types,
        families=families,
        initial={"family": request.GET.get("family")} if families is not None else None,
    )
    # Issue 4: a new person who may already exist is shown before saving (confirm or use).
    possible_duplicates = []
    if request.method == "POST" and form.is_valid():
        possible_duplicates = duplicate_pages.new_person_duplicates(request, form)
    if request.method == "POST" and form.is_valid() and not possible_duplicates:
        arguments = form.service_arguments()
        try:
            if family is not None:
                membership = membership_services.family_add_member(
                    actor=request.user, family=family, base_url=_base_url(request), **arguments
                )
            else:
                membership = membership_services.membership_join(
                    actor=request.user, club=club, base_url=_base_url(request), **arguments
                )
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The membership was registered."))
            return redirect("members:membership-detail", pk=membership.pk)
    context = {
        "club": club,
        "family": family,
        "form": form,
        "has_warnings": "confirm_warnings" in form.errors,
        "possible_duplicates": possible_duplicates,
    }
    return render(request, "members/memberships/join.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def membership_join(request: HttpRequest, pk: int) -> HttpResponse:
    return _join_page(request, _club(request, pk))


def _period_on(membership: Membership) -> membership_rules.ValidityPeriod:
    """The membership's current period; a paid calendar year is valid until the due date of
    the next season's fee schedule (D-02; members.club_settings)."""
    today = timezone.localdate()
    settings = club_settings.for_club(membership.club, today.year + 1)
    return membership_rules.period_on(
        membership.membership_type.period_kind,
        membership.start_date,
        today,
        due_month=settings.fee_due_month,
        due_day=settings.fee_due_day,
    )


@login_required
@require_GET
def membership_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    person = membership.person
    guardians = list(selectors_memberships.guardians_of(person))
    is_child = membership_rules.is_child(person.birth_date, membership.start_date)
    suggestions: list[Person] = []
    if is_child:
        known = {relation.guardian_id for relation in guardians}
        warnings = selectors_memberships.join_warnings(
            person=person, club=membership.club, user=request.user
        )
        suggested_ids = {w.person_id for w in warnings if w.person_id} - known
        suggestions = list(Person.objects.filter(pk__in=suggested_ids).order_by("pk"))
    context = {
        "membership": membership,
        "person": person,
        "club": membership.club,
        "contact": selectors_memberships.standard_contact(person),
        "verifications": list(selectors_memberships.verifications_of(membership)),
        "period": _period_on(membership),
        "guardians": guardians,
        "is_child": is_child,
        "guardian_suggestions": suggestions,
        "is_pending": membership.status == MembershipStatus.PENDING_VERIFICATION,
        "is_ended": membership.status == MembershipStatus.ENDED,
        "resign_form": ResignForm(),
        "end_form": EndForm(),
        "verification_form": VerificationSendForm(),
    }
    return render(request, "members/memberships/detail.html", context)


def _membership_action(request: HttpRequest, pk: int, form_class, act) -> HttpResponse:  # type: ignore[no-untyped-def]
    membership = _membership(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("members:membership-detail", pk=membership.pk)
    try:
        act(membership, form.cleaned_data)
    except ValidationError as error:
        _message_errors(request, error)
    except PermissionDenied as error:
        raise Http404 from error
    return redirect("members:membership-detail", pk=membership.pk)


@login_required
@require_POST
def membership_resign(request: HttpRequest, pk: int) -> HttpResponse:
    """The resignation ends the membership from the day it was received."""

    def act(membership: Membership, data: dict) -> None:
        membership_services.membership_resign(
            actor=request.user, membership=membership, received_on=data["received_on"]
        )
        messages.success(request, _("The resignation was registered; the membership has ended."))

    return _membership_action(request, pk, ResignForm, act)


@login_required
@require_POST
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    def act(membership: Membership, data: dict) -> None:
        membership_services.membership_end(
            actor=request.user, membership=membership, end_date=data["end_date"]
        )
        messages.success(request, _("The membership has ended."))

    return _membership_action(request, pk, EndForm, act)


@login_required
@require_POST
def verification_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send (or resend) the verification link; earlier links stop working."""

    def act(membership: Membership, data: dict) -> None:
        verification_services.verification_request(
            actor=request.user,
            membership=membership,
            channel=data["channel"],
            base_url=_base_url(request),
        )
        messages.success(request, _("A new verification link is being sent."))

    return _membership_action(request, pk, VerificationSendForm, act)


@login_required
@require_POST
def guardian_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    form = GuardianForm(request.POST, persons=_visible_persons(request))
    if form.is_valid():
        try:
            membership_services.guardian_relation_create(
                actor=request.user, guardian=form.cleaned_data["guardian"], child=membership.person
            )
        except ValidationError as error:
            _message_errors(request, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The guardian was registered."))
    else:
        messages.error(request, _("Choose the guardian."))
    return redirect("members:membership-detail", pk=membership.pk)


@login_required
@require_POST
def guardian_remove(request: HttpRequest, pk: int, relation_pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    relation = GuardianRelation.objects.filter(pk=relation_pk, child=membership.person).first()
    if relation is None:
        raise Http404
    try:
        membership_services.guardian_relation_delete(actor=request.user, relation=relation)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("The guardian relation was removed."))
    return redirect("members:membership-detail", pk=membership.pk)


# ---------------------------------------------------------------------------- families


@login_required
@require_GET
def family_list(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    search = request.GET.get("q", "").strip()
    families = selectors_memberships.family_list(user=request.user, club=club, search=search)
    context = {
        "club": club,
        "page": _page(request, families),
        "search": search,
        "limit": club_settings.for_club(club, timezone.localdate().year).family_member_limit,
    }
    return render(request, "members/memberships/families.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def family_create(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = FamilyCreateForm(
        duplicate_pages.use_existing_person(request.POST) if request.method == "POST" else None,
        persons=_visible_persons(request),
        membership_types=selectors_memberships.membership_types(club=club, active_only=True),
    )
    # Issue 4: a new contact person who may already exist is shown before saving.
    possible_duplicates = []
    if request.method == "POST" and form.is_valid():
        possible_duplicates = duplicate_pages.new_person_duplicates(request, form)
    if request.method == "POST" and form.is_valid() and not possible_duplicates:
        try:
            family = membership_services.family_create(
                actor=request.user,
                club=club,
                base_url=_base_url(request),
                **form.service_arguments(),
            )
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The family was registered."))
            return redirect("members:family-detail", pk=family.pk)
    context = {
        "club": club,
        "form": form,
        "has_warnings": "confirm_warnings" in form.errors,
        "possible_duplicates": possible_duplicates,
    }
    return render(request, "members/memberships/family_form.html", context)


@login_required
@require_GET
def family_detail(request: HttpRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    today = timezone.localdate()
    limit = club_settings.for_club(family.club, today.year).family_member_limit
    members = [
        (membership, membership_rules.is_junior(membership.person.birth_date, today))
        for membership in selectors_memberships.family_memberships(family=family)
    ]
    context = {
        "family": family,
        "club": family.club,
        "members": members,
        "limit": limit,
        "has_room": membership_rules.family_has_room(len(members), limit),
        "ended": selectors_memberships.family_memberships(family=family, include_ended=True).filter(
            status=MembershipStatus.ENDED
        ),
        "end_form": EndForm(),
    }
    return render(request, "members/memberships/family_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def family_add_member(request: HttpRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    return _join_page(request, family.club, family=family)


@login_required
@require_POST
def family_remove_member(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """Only administrators remove family members (M-11): the family membership ends."""
    family = _family(request, pk)
    membership = Membership.objects.filter(pk=membership_pk, family=family).first()
    if membership is None:
        raise Http404
    form = EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the end date."))
        return redirect("members:family-detail", pk=family.pk)
    try:
        membership_services.family_remove_member(
            actor=request.user,
            family=family,
            membership=membership,
            end_date=form.cleaned_data["end_date"],
        )
    except ValidationError as error:
        _message_errors(request, error)
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(request, _("The member was removed from the family."))
    return redirect("members:family-detail", pk=family.pk)


# ------------------------------------------------------------------ work list and types


@login_required
@require_GET
def must_be_members(request: HttpRequest, pk: int) -> HttpResponse:
    """D-05, M-16: players, coaches, referees and officials of the club without a
    membership in it."""
    club = _club(request, pk)
    persons = selectors_memberships.must_be_member_list(club=club)
    context = {"club": club, "page": _page(request, persons)}
    return render(request, "members/memberships/must_be_members.html", context)


@login_required
@require_GET
def strike_off_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue 5 scope 1: members owing dues for more than a year, to strike off (ending the
    membership is the existing `membership_end`)."""
    club = _club(request, pk)
    today = timezone.localdate()
    rows = selectors_memberships.memberships_to_strike_off(club=club, on=today)
    context = {"club": club, "page": _page(request, rows), "today": today}
    return render(request, "members/memberships/strike_off.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def membership_types(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    form = MembershipTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership_services.membership_type_create(
                actor=request.user, club=club, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("The membership type was added."))
            return redirect("members:membership-types", pk=club.pk)
    context = {
        "club": club,
        "form": form,
        "types": selectors_memberships.membership_types(club=club),
    }
    return render(request, "members/memberships/types.html", context)


@login_required
@require_POST
def membership_types_defaults(request: HttpRequest, pk: int) -> HttpResponse:
    club = _club(request, pk)
    try:
        membership_services.membership_types_create_defaults(actor=request.user, club=club)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("The default membership types are in place."))
    return redirect("members:membership-types", pk=club.pk)


# -------------------------------------------------------------------- member's own pages


@login_required
@require_GET
def my_memberships(request: HttpRequest) -> HttpResponse:
    """The user's own memberships and families, read-only: only the club's administrators
    change a family (M-11)."""
    context = {
        "memberships": selectors_memberships.own_memberships(user=request.user),
        "families": selectors_memberships.own_families(user=request.user),
    }
    return render(request, "members/memberships/mine.html", context)


@require_http_methods(["GET", "POST"])
def portal_verify(request: HttpRequest, token: str) -> HttpResponse:
    """M-14, S-08: the member checks their data and confirms; no login needed."""
    if request.method == "POST":
        actor = request.user if request.user.is_authenticated else None
        try:
            verification = verification_services.verification_confirm(token=token, actor=actor)
        except ValidationError as error:
            response = render(request, "portal/verify_invalid.html", {"problem": error.messages[0]})
        else:
            response = render(
                request, "portal/verify_done.html", {"membership": verification.membership}
            )
    else:
        verification = selectors_memberships.verification_by_token(token)
        problem = verification_services.link_problem(verification)
        if problem is not None:
            response = render(request, "portal/verify_invalid.html", {"problem": problem})
        else:
            membership = verification.membership
            context = {
                "membership": membership,
                "person": membership.person,
                "contact": selectors_memberships.standard_contact(membership.person),
                "expires_at": verification.expires_at,
            }
            response = render(request, "portal/verify.html", context)
    # The token is in the URL: keep the page out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("clubs/<int:pk>/memberships/", membership_list, name="membership-list"),
    path("clubs/<int:pk>/memberships/join/", membership_join, name="membership-join"),
    path(
        "clubs/<int:pk>/memberships/person-lookup/",
        person_lookup,
        name="membership-person-lookup",
    ),
    path("clubs/<int:pk>/must-be-members/", must_be_members, name="must-be-members"),
    path("clubs/<int:pk>/strike-off/", strike_off_list, name="strike-off-list"),
    path("clubs/<int:pk>/membership-types/", membership_types, name="membership-types"),
    path(
        "clubs/<int:pk>/membership-types/defaults/",
        membership_types_defaults,
        name="membership-types-defaults",
    ),
    path("clubs/<int:pk>/families/", family_list, name="family-list"),
    path("clubs/<int:pk>/families/new/", family_create, name="family-create"),
    path("memberships/mine/", my_memberships, name="my-memberships"),
    path("memberships/<int:pk>/", membership_detail, name="membership-detail"),
    path("memberships/<int:pk>/resign/", membership_resign, name="membership-resign"),
    path("memberships/<int:pk>/end/", membership_end, name="membership-end"),
    path(
        "memberships/<int:pk>/verification/send/",
        verification_send,
        name="membership-verification-send",
    ),
    path("memberships/<int:pk>/guardians/add/", guardian_add, name="membership-guardian-add"),
    path(
        "memberships/<int:pk>/guardians/<int:relation_pk>/remove/",
        guardian_remove,
        name="membership-guardian-remove",
    ),
    path("families/<int:pk>/", family_detail, name="family-detail"),
    path("families/<int:pk>/members/add/", family_add_member, name="family-add-member"),
    path(
        "families/<int:pk>/members/<int:membership_pk>/remove/",
        family_remove_member,
        name="family-remove-member",
    ),
    path("portal/verify/<str:token>/", portal_verify, name="portal-verify"),
]
