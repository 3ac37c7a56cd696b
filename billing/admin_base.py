"""Shared pieces of the billing admin (issues 5 and 6), used by billing/admin.py and the
billing/admin_*.py modules.

- `BillingAdmin`: a `ScopedModelAdmin` on `billing.manage`, read-only unless a subclass says
  otherwise. Missing and forbidden rows are both 404 (STYLE 9), and an old version from the
  history is never saved back by someone who may not change the row (django-simple-history
  saves the form of its "revert" page on POST after checking only the view permission).
- `ClubRowAdmin`: rows scoped by the club they belong to (`club_lookup`, e.g.
  "invoice__club"), through `clubadmin.access` on the organisations, so that rows reached
  through another table (events, chunks, provider events) are scoped like their parent.
- `MoneyAdmin`: S-05, money records are never added, changed or deleted here: invoices are
  corrected by credit notes and payments are kept, through the club's billing pages.
- List helpers: a club filter that stays small for federation-wide users, a season filter
  that does not scan the money tables, links, and a search that uses the indexes (exact
  numbers and KIDs, folded person names with trigram indexes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import CurrencyField

from billing.models import FeeSchedule
from clubadmin import access
from clubadmin.admin import ScopedModelAdmin
from clubadmin.capabilities import Capability
from members.models import Organisation, OrganisationType
from members.selectors_memberships import name_condition

# The club filter lists at most this many clubs; a federation-wide user filters by clicking
# a club in the list (or searches) instead of scrolling thousands of names.
CLUB_FILTER_MAX = 100
# A term of digits longer than this is no invoice number (bigint); it may still be a KID.
MAX_NUMBER_DIGITS = 18
_FEDERATION_STAFF_ATTRIBUTE = "_billing_admin_federation_staff"

ADDED_WITH_VALUES = _("Added: %(values)s.")
CHANGED_VALUES = _("Changed %(changes)s.")


def has_simple_history(model: type[models.Model]) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


def is_federation_staff(request: HttpRequest, capability: str = Capability.BILLING_MANAGE) -> bool:
    """Superusers, and users holding `capability` in a federation (the federation-staff
    function): the ones who keep the national tables (S-06). Cached on the request."""
    cached = getattr(request, _FEDERATION_STAFF_ATTRIBUTE, None)
    if cached is not None:
        return cached
    grants = access.grants_for(request.user)
    result = grants.is_superuser or (
        Organisation.objects.filter(
            organisation_type=OrganisationType.FEDERATION, path__in=grants.paths(capability)
        ).exists()
    )
    setattr(request, _FEDERATION_STAFF_ATTRIBUTE, result)
    return result


def model_field_names(model: type[models.Model], exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """The model's concrete fields for a read-only page, without djmoney's currency columns
    (the amount shows its currency). Fields added later (e.g. by another issue) show up."""
    skipped = set(exclude)
    return tuple(
        field.name
        for field in model._meta.concrete_fields
        if field.name not in skipped and not isinstance(field, CurrencyField)
    )


def attribute_path(obj: Any, lookup: str) -> Any:
    """`obj.invoice.club` for "invoice__club" (None when a step is empty)."""
    for part in lookup.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def changelist_link(model: type[models.Model], label: object, **filters: object) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def change_link(obj: models.Model | None, label: object = None) -> str:
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if label is None else label)


def pretty_json(value: object) -> str:
    if not value:
        return "-"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


class BillingAdmin(ScopedModelAdmin):
    view_capability = Capability.BILLING_MANAGE
    change_capability = Capability.BILLING_MANAGE
    read_only = True
    list_per_page = 50

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):  # type: ignore[no-untyped-def]
        # STYLE 9: a row the user may not see looks like a missing one, and both are 404
        # (Django's admin would redirect to its index with a message).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):  # type: ignore[no-untyped-def]
        if not has_simple_history(self.model):
            # Events and outbox rows keep no simple-history table: Django's own log.
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context=None
    ):  # type: ignore[no-untyped-def]
        if not has_simple_history(self.model):
            raise Http404
        # ScopedModelAdmin refuses a revert (a POST) without the right to change the row.
        return super().history_form_view(request, object_id, version_id, extra_context)


class ClubRowAdmin(BillingAdmin):
    """Rows of the clubs (and the organisations below them) where the user holds
    `view_capability`; `club_lookup` leads from the row to its organisation."""

    club_lookup = "club"

    def scoped(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if access.grants_for(request.user).is_superuser:
            return queryset
        visible = access.scope(request.user, self.view_capability, Organisation.objects.all())
        return queryset.filter(**{f"{self.club_lookup}__in": visible.values("pk")})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if self.list_select_related and not isinstance(self.list_select_related, bool):
            queryset = queryset.select_related(*self.list_select_related)
        return self.scoped(request, queryset)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if not self._is_admin_user(request):
            return False
        if not access.has_capability_anywhere(request.user, self.view_capability):
            return False
        if obj is None:
            return True
        return self.scoped(request, self.model._default_manager.filter(pk=obj.pk)).exists()

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if self.read_only or not self._is_admin_user(request):
            return False
        if not access.has_capability_anywhere(request.user, self.change_capability):
            return False
        if obj is None:
            return True
        organisation = attribute_path(obj, self.club_lookup)
        return organisation is not None and access.has_capability(
            request.user, self.change_capability, organisation
        )

    @admin.display(description=_("club"))
    def club_column(self, obj: models.Model) -> str:
        """The row's club; clicking it filters the list by that club."""
        club = attribute_path(obj, self.club_lookup)
        if club is None:
            return "-"
        return format_html('<a href="?{}">{}</a>', urlencode({"club": club.pk}), club.name)


class MoneyAdmin(ClubRowAdmin):
    """S-05: read-only, every field shown; nothing added, changed or deleted here."""

    read_only = True
    allow_add = False
    allow_delete = False
    show_full_result_count = False  # no second count(*) over a table of millions
    show_facets = admin.ShowFacets.NEVER  # no count per filter choice either
    readonly_extra: tuple[str, ...] = ()  # display methods shown after the fields
    hidden_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None):  # type: ignore[no-untyped-def]
        return (*model_field_names(self.model, self.hidden_fields), *self.readonly_extra)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):  # type: ignore[no-untyped-def]
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def changeform_view(
        self, request: HttpRequest, object_id=None, form_url="", extra_context=None
    ) -> HttpResponse:  # type: ignore[no-untyped-def]
        if request.method == "POST":  # nothing here is saved (S-05), not even an empty form
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows of a scoped parent, shown on its page; never added, changed or deleted."""

    extra = 0
    can_delete = False
    show_change_link = True
    select_related: tuple[str, ...] = ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The parent row is scoped; Django's model permissions are not used here.
        return self.admin_site.has_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        return self.fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset


# ------------------------------------------------------------------ list filters


class ClubFilter(admin.SimpleListFilter):
    """The clubs of the user's scope. A federation-wide user (thousands of clubs) gets only
    the club chosen by clicking a club in the list."""

    title = _("club")
    parameter_name = "club"

    def __init__(self, request: HttpRequest, params, model, model_admin) -> None:  # type: ignore[no-untyped-def]
        self.club_lookup = model_admin.club_lookup
        self.capability = model_admin.view_capability
        super().__init__(request, params, model, model_admin)

    def _clubs(self, request: HttpRequest) -> QuerySet:
        clubs = Organisation.objects.filter(organisation_type=OrganisationType.CLUB)
        return access.scope(request.user, self.capability, clubs).order_by("name", "pk")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[int, str]]:
        clubs = list(self._clubs(request).values_list("pk", "name")[: CLUB_FILTER_MAX + 1])
        if len(clubs) <= CLUB_FILTER_MAX:
            return clubs
        chosen = self.value()
        if chosen and chosen.isdigit():
            return list(self._clubs(request).filter(pk=int(chosen)).values_list("pk", "name"))
        return []

    def has_output(self) -> bool:
        return True  # also when the list of choices is too long to show (see lookups)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.club_lookup: int(value)})


class SeasonFilter(admin.SimpleListFilter):
    """The seasons of the fee schedules (a small table), not a DISTINCT over millions of
    money rows."""

    title = _("season")
    parameter_name = "season"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[int, str]]:
        seasons = set(FeeSchedule.objects.values_list("season", flat=True).distinct())
        chosen = self.value()
        if chosen and chosen.isdigit():
            seasons.add(int(chosen))
        return [(season, str(season)) for season in sorted(seasons, reverse=True)]

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(season=int(value))


# ------------------------------------------------------------------ search


class IndexedSearchMixin:
    """Search that the indexes answer: codes (KID, provider ids) match exactly; a term of
    digits matches numbers exactly (invoice number); words match the start of a person's
    folded first or last name (trigram-indexed); `text_lookups` are matched anywhere."""

    number_lookups: tuple[str, ...] = ()  # integer fields
    code_lookups: tuple[str, ...] = ()  # text fields matched exactly
    person_prefixes: tuple[str, ...] = ()  # e.g. "payer__"
    text_lookups: tuple[str, ...] = ()
    search_fields = ("-",)  # shows the search box; get_search_results does the work

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(pk__in=[])
        for lookup in self.code_lookups:
            condition |= Q(**{lookup: term})
        if term.isdigit():
            if len(term) <= MAX_NUMBER_DIGITS:
                for lookup in self.number_lookups:
                    condition |= Q(**{lookup: int(term)})
        else:
            for prefix in self.person_prefixes:
                condition |= name_condition(term, prefix)
            for lookup in self.text_lookups:
                condition |= Q(**{f"{lookup}__icontains": term})
        return queryset.filter(condition), False


# ------------------------------------------------------------------ the log of edits


def _shown(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


class ValueChangeLogMixin:
    """Admin edits of settings are logged with the acting user (Django's admin log, shown on
    the row's history page) and with the old and the new values, so the history says what a
    rate or a setting was before. For tables without a simple-history table of their own."""

    def construct_change_message(self, request, form, formsets, add=False):  # type: ignore[no-untyped-def]
        def label(name: str) -> str:
            return str(form.fields[name].label or name)

        if add:
            values = "; ".join(
                f"{label(name)}: {_shown(form.cleaned_data.get(name))}" for name in form.fields
            )
            return str(ADDED_WITH_VALUES % {"values": values})
        changes = "; ".join(
            f"{label(name)}: {_shown(form.initial.get(name))} → "
            f"{_shown(form.cleaned_data.get(name))}"
            for name in form.changed_data
        )
        return str(CHANGED_VALUES % {"changes": changes}) if changes else ""
