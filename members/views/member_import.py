"""Importing a club's member list from its old system (issue 5 scope 9, M-01..M-03).

Three steps for a registrar with members.manage in the club (missing and forbidden: 404):
1. upload a CSV or XLSX file (at most 5 MB and MEMBER_IMPORT_MAX_ROWS rows);
2. map the file's columns to our fields (guessed from the header names);
3. the cleaning report of a dry run, then the import, in one transaction.

Between the steps the parsed file waits in the cache (Redis, shared by every web process)
under a random token, for UPLOAD_TTL seconds; the entry names the user and the club, and
any other user or club gets a 404. A finished import deletes it. Nothing of the file is
written to disk or to the session.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from clubadmin import access
from clubadmin.capabilities import Capability
from members import member_import
from members.duplicates import importing
from members.forms_import import (
    FIELD_LABELS,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    MappingForm,
    UploadForm,
    mapping_initial,
)
from members.models import MembershipCategory, MembershipType, Organisation, OrganisationType

UPLOAD_TTL = 2 * 60 * 60
CACHE_PREFIX = "member-import:"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")
# How many rows of each list the report page shows (the counts are always complete).
REPORT_ROWS = 500
PREVIEW_ROWS = 5
# The upload's request body: the file and the form around it.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024

NOTHING_IMPORTED = gettext_lazy("Nothing was imported: %(reason)s")
IMPORTED = gettext_lazy(
    "Imported %(count)s members: %(new)s new persons, %(existing)s already in the register; "
    "%(skipped)s rows skipped."
)


def _club(request: HttpRequest, pk: int) -> Organisation:
    """A club in which the user manages memberships; 404 for missing and forbidden."""
    club = Organisation.objects.filter(pk=pk, organisation_type=OrganisationType.CLUB).first()
    if club is None or not access.has_capability(request.user, Capability.MEMBERS_MANAGE, club):
        raise Http404
    return club


def _membership_types(club: Organisation):  # type: ignore[no-untyped-def]
    """The types an import may give: the club's active individual types."""
    return (
        MembershipType.objects.filter(club=club, is_active=True)
        .exclude(category=MembershipCategory.FAMILY)
        .order_by("name", "pk")
    )


# ------------------------------------------------------------------------ the upload


def _key(token: str) -> str:
    return CACHE_PREFIX + token


def _store(payload: dict[str, Any], token: str | None = None) -> str:
    token = token or secrets.token_urlsafe(24)
    cache.set(_key(token), payload, UPLOAD_TTL)
    return token


def _load(request: HttpRequest, club: Organisation, token: str) -> dict[str, Any]:
    """The upload of this user for this club; 404 when unknown, expired or someone else's."""
    payload = cache.get(_key(token)) if TOKEN_PATTERN.fullmatch(token) else None
    if (
        not isinstance(payload, dict)
        or payload.get("user") != request.user.pk
        or payload.get("club") != club.pk
    ):
        raise Http404
    return payload


def _table(payload: dict[str, Any]) -> importing.Table:
    return importing.Table(
        header=list(payload["header"]),
        rows=[(line, list(cells)) for line, cells in payload["rows"]],
        short_rows_allowed=payload["short_rows_allowed"],
    )


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read(form: UploadForm) -> importing.Table:
    data = form.cleaned_data["file"].read(MAX_UPLOAD_BYTES + 1)
    limit = member_import.MEMBER_IMPORT_MAX_ROWS
    if form.is_xlsx:
        return importing.read_xlsx(data, max_rows=limit)
    return importing.read_csv(data, max_rows=limit)


@login_required
@require_http_methods(["GET", "POST"])
def member_import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: the file."""
    club = _club(request, pk)
    if request.method == "POST" and _declared_size(request) > MAX_REQUEST_BYTES:
        # Refused before Django reads the body: a huge upload never reaches the disk.
        message = FILE_TOO_LARGE % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        context = {"club": club, "form": UploadForm(), "file_issues": [message]}
        return render(request, "members/import/upload.html", context)
    form = UploadForm(request.POST or None, request.FILES or None)
    file_issues: list[importing.Issue] = []
    if request.method == "POST" and form.is_valid():
        table = _read(form)
        file_issues = table.issues
        if table.is_readable:
            token = _store(
                {
                    "user": request.user.pk,
                    "club": club.pk,
                    "name": form.cleaned_data["file"].name[:200],
                    "header": table.header,
                    "rows": table.rows,
                    "short_rows_allowed": table.short_rows_allowed,
                    "mapping": member_import.guess_mapping(table.header),
                }
            )
            return redirect("members:member-import-map", pk=club.pk, token=token)
    return render(
        request,
        "members/import/upload.html",
        {"club": club, "form": form, "file_issues": file_issues},
    )


# ----------------------------------------------------------------------- the mapping


@login_required
@require_http_methods(["GET", "POST"])
def member_import_map(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """Step 2: which column holds which of our fields; the membership type."""
    club = _club(request, pk)
    payload = _load(request, club, token)
    types = _membership_types(club)
    initial = {
        **mapping_initial(payload["mapping"]),
        "membership_type": payload.get("membership_type") or _default_type(types),
        "skip_invalid": payload.get("skip_invalid", False),
    }
    form = MappingForm(
        request.POST or None, header=payload["header"], membership_types=types, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        payload.update(
            mapping=form.mapping(),
            membership_type=form.cleaned_data["membership_type"].pk,
            skip_invalid=form.cleaned_data["skip_invalid"],
        )
        _store(payload, token)
        return redirect("members:member-import-check", pk=club.pk, token=token)
    context = {
        "club": club,
        "form": form,
        "token": token,
        "file_name": payload["name"],
        "header": payload["header"],
        "preview": [cells for _line, cells in payload["rows"][:PREVIEW_ROWS]],
        "row_count": len(payload["rows"]),
        "has_types": types.exists(),
    }
    return render(request, "members/import/map.html", context)


def _default_type(types) -> int | None:  # type: ignore[no-untyped-def]
    ordinary = types.filter(category=MembershipCategory.ORDINARY).first() or types.first()
    return ordinary.pk if ordinary else None


# -------------------------------------------------------------- the report and commit


def _import_arguments(club: Organisation, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments of the dry run and the commit; None until the mapping step is done (or
    when the chosen type is no longer usable)."""
    membership_type = _membership_types(club).filter(pk=payload.get("membership_type")).first()
    if membership_type is None or not payload.get("mapping"):
        return None
    return {
        "table": _table(payload),
        "mapping": payload["mapping"],
        "club": club,
        "membership_type": membership_type,
        "skip_invalid": bool(payload.get("skip_invalid")),
    }


@login_required
@require_http_methods(["GET", "POST"])
def member_import_check(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """Step 3: the cleaning report (GET: a dry run) and the import (POST)."""
    club = _club(request, pk)
    payload = _load(request, club, token)
    arguments = _import_arguments(club, payload)
    if arguments is None:
        return redirect("members:member-import-map", pk=club.pk, token=token)
    if request.method == "POST":
        try:
            plan = member_import.member_import_commit(
                actor=request.user,
                change_reason=importing.change_reason_for(payload["name"], "member import"),
                **arguments,
            )
        except PermissionDenied as error:
            raise Http404 from error
        except (ValidationError, DatabaseError) as error:
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, NOTHING_IMPORTED % {"reason": reason})
            plan = member_import.member_import_plan(user=request.user, **arguments)
        else:
            if plan.committed:
                cache.delete(_key(token))
                messages.success(
                    request,
                    IMPORTED
                    % {
                        "count": len(plan.membership_ids),
                        "new": len(plan.created_person_ids),
                        "existing": len(plan.matched_persons),
                        "skipped": len(plan.skipped),
                    },
                )
                return redirect("members:membership-list", pk=club.pk)
            messages.error(request, plan.refusal)
    else:
        plan = member_import.member_import_plan(user=request.user, **arguments)
    return render(request, "members/import/check.html", _report_context(club, token, payload, plan))


def _report_context(
    club: Organisation, token: str, payload: dict[str, Any], plan: member_import.MemberImportPlan
) -> dict[str, Any]:
    errors, warnings, skipped = plan.errors, plan.warnings, plan.skipped
    imported = plan.imported
    return {
        "club": club,
        "token": token,
        "file_name": payload["name"],
        "plan": plan,
        "counts": {
            "rows": len(plan.lines),
            "imported": len(imported),
            "new": len(plan.new_persons),
            "existing": len(plan.matched_persons),
            "skipped": len(skipped),
            "rejected": len(plan.rejected),
            "errors": len(errors),
            "warnings": len(warnings),
        },
        "errors": _labelled(errors[:REPORT_ROWS], payload),
        "warnings": _labelled(warnings[:REPORT_ROWS], payload),
        "skipped": skipped[:REPORT_ROWS],
        "imported": imported[:REPORT_ROWS],
        "report_rows": REPORT_ROWS,
        "refusal": plan.refusal,
    }


def _labelled(issues: list[importing.Issue], payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Issues with the field named as the registrar knows it: the file's column (and ours)."""
    header, mapping = payload["header"], payload.get("mapping") or {}
    rows = []
    for issue in issues:
        label = str(FIELD_LABELS.get(issue.field, issue.field))
        if issue.field in mapping and mapping[issue.field] < len(header):
            label = f"{header[mapping[issue.field]]} ({label})"
        rows.append({"line": issue.line, "field": label, "message": issue.message})
    return rows


urlpatterns = [
    path("clubs/<int:pk>/memberships/import/", member_import_upload, name="member-import"),
    path(
        "clubs/<int:pk>/memberships/import/<str:token>/",
        member_import_map,
        name="member-import-map",
    ),
    path(
        "clubs/<int:pk>/memberships/import/<str:token>/check/",
        member_import_check,
        name="member-import-check",
    ),
]
