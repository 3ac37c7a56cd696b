"""Django admin for the duplicate models (P-14, issue 4): candidates, detection runs with their
chunks, match models and merges. All read-only: staff decide and merge on the review pages,
whose services apply the rules; here they look things up.

Scoping (clubadmin.access, `duplicates.merge`): a candidate when the user holds it on both
persons; a detection run by its organisation (the whole register: superusers); a merge by the
surviving person, who holds every function the merge moved; match models hold weights, no
personal data, so everyone with the capability sees them.

Also the pre-save warning of the person admin's add page (`new_person_error`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.admin import ScopedModelAdmin
from clubadmin.capabilities import Capability
from members.duplicates import candidates
from members.models import DetectionChunk, DetectionRun, DuplicateCandidate, MatchModel, PersonMerge

NEW_PERSON_MAY_EXIST = _("This may be an existing person:")
NEW_PERSON_NOT_VISIBLE = _("a person you cannot see matches these details")
NEW_PERSON_CONFIRM = _("Confirm below to create a new person anyway.")
USE_THIS_PERSON = _("use this person")


class DuplicateAdmin(ScopedModelAdmin):
    """Read-only and scoped by `scoped_queryset` (these models are not in access's registry)."""

    view_capability = Capability.DUPLICATES_MERGE
    change_capability = Capability.DUPLICATES_MERGE
    read_only = True
    allow_add = False
    list_per_page = 50
    show_full_result_count = False

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):  # type: ignore[no-untyped-def]
        # Runs, chunks and match models keep no simple-history table: Django's own log.
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if not self._is_admin_user(request):
            return False
        if not access.has_capability_anywhere(request.user, self.view_capability):
            return False
        return obj is None or self.scoped_queryset(request).filter(pk=obj.pk).exists()


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(DuplicateAdmin):
    list_display = ("__str__", "person_a", "person_b", "score", "status", "source", "created_at")
    list_select_related = ("person_a", "person_b")
    list_filter = ("status", "source")
    search_fields = ("person_a__last_name", "person_b__last_name")
    ordering = ("-score", "pk")
    readonly_fields = (
        "person_a",
        "person_b",
        "score",
        "status",
        "source",
        "run",
        "marked_by",
        "decided_by",
        "decided_at",
        "explanation",
        "levels",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        return candidates.candidates_in_scope(request.user).select_related("person_a", "person_b")


class DetectionChunkInline(admin.TabularInline):
    model = DetectionChunk
    fields = (
        "key",
        "state",
        "attempts",
        "claimed_at",
        "finished_at",
        "pairs_compared",
        "candidates_found",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("key",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The run itself is scoped (DetectionRunAdmin); its chunks come with it.
        return self.admin_site.has_permission(request)


@admin.register(DetectionRun)
class DetectionRunAdmin(DuplicateAdmin):
    list_display = (
        "pk",
        "organisation",
        "state",
        "chunks_done",
        "chunks_total",
        "candidates_found",
        "started_by",
        "created_at",
    )
    list_select_related = ("organisation", "started_by")
    list_filter = ("state",)
    ordering = ("-created_at",)
    readonly_fields = (
        "organisation",
        "state",
        "started_by",
        "match_model",
        "chunks_total",
        "chunks_done",
        "pairs_compared",
        "candidates_found",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    )
    fields = readonly_fields
    inlines = [DetectionChunkInline]

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        return candidates.detection_runs_visible_to(request.user)


@admin.register(MatchModel)
class MatchModelAdmin(DuplicateAdmin):
    list_display = (
        "pk",
        "is_active",
        "trained_on_duplicates",
        "trained_on_non_duplicates",
        "note",
        "created_at",
    )
    list_filter = ("is_active",)
    ordering = ("-created_at",)
    readonly_fields = (
        "is_active",
        "note",
        "trained_on_duplicates",
        "trained_on_non_duplicates",
        "metrics",
        "parameters",
        "created_by",
        "created_at",
    )
    fields = readonly_fields

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        return MatchModel.objects.select_related("created_by")


@admin.register(PersonMerge)
class PersonMergeAdmin(DuplicateAdmin):
    list_display = ("__str__", "survivor", "merged", "state", "performed_by", "performed_at")
    list_select_related = ("survivor", "merged", "performed_by")
    list_filter = ("state",)
    search_fields = ("survivor__last_name", "merged__last_name")
    ordering = ("-performed_at",)
    readonly_fields = (
        "survivor",
        "merged",
        "candidate",
        "state",
        "performed_by",
        "performed_at",
        "undone_by",
        "undone_at",
        "undo_report",
        "record",
    )
    fields = readonly_fields

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = PersonMerge.objects.select_related("survivor", "merged")
        grants = access.grants_for(request.user)
        if grants.is_superuser:
            return queryset
        prefixes = grants.paths(Capability.DUPLICATES_MERGE)
        return queryset.filter(access.person_scope_filter(prefixes, "survivor"))


# ------------------------------------------------------------------ the pre-save warning


def new_person_error(data: dict[str, Any]) -> ValidationError | None:
    """Issue 4 scope 2, person admin's add page: the existing persons the new one may be, as
    one form error with links to them; None when there are none. Only superusers add persons
    in the admin (PersonAdmin.has_add_permission), so every match is shown."""
    matches = candidates.possible_duplicates_of(
        user=None, record=candidates.new_person_record(data)
    )
    if not matches:
        return None
    lines = format_html_join(
        "; ",
        "{}",
        ((_match_html(match),) for match in matches),
    )
    return ValidationError(
        format_html("{} {}. {}", NEW_PERSON_MAY_EXIST, lines, NEW_PERSON_CONFIRM),
        code="possible_duplicate",
    )


def _match_html(match: candidates.PossibleDuplicate) -> str:
    person = match.person
    if person is None:
        return format_html("{}", NEW_PERSON_NOT_VISIBLE)
    details = [person.full_name]
    if person.birth_date:
        details.append(str(_("born %(date)s") % {"date": person.birth_date.strftime("%d.%m.%Y")}))
    details.extend(club.name for club in match.clubs)
    url = reverse("admin:members_person_change", args=[person.pk])
    return format_html('{} — <a href="{}">{}</a>', ", ".join(details), url, USE_THIS_PERSON)
