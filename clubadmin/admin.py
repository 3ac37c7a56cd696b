"""The Django admin for federation staff, scoped by clubadmin.access like everything else.

- The site admits active staff users who hold `admin.access` somewhere (or superusers).
- A `ScopedModelAdmin` lists only rows the user may view and allows changes only where the
  user holds the change capability; foreign keys to organisations offer only the
  organisations where the user may change things; the organisation of an existing record is
  read-only (no moving records across clubs).
- Third-party admins (Celery beat schedules, tokens, groups) keep Django's model permissions,
  which no staff user has unless a superuser grants them: default deny.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from clubadmin import access
from clubadmin.capabilities import Capability


class ClubAdminSite(admin.AdminSite):
    site_header = _("clubadmin – federation administration")
    site_title = _("clubadmin")
    index_title = _("Federation administration")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or access.has_capability_anywhere(user, Capability.ADMIN_ACCESS))
        )


class ScopedModelAdmin(SimpleHistoryAdmin):
    view_capability: str = Capability.PERSONS_VIEW
    change_capability: str = Capability.PERSONS_EDIT
    # Fields that tie the record to an organisation or person: set on add, never changed.
    owner_fields: tuple[str, ...] = ()
    allow_add = True
    allow_delete = False
    # Read-only admins show records whose writes belong to a service with rules of its own
    # (the person card): staff see them here, change them there.
    read_only = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        return access.scope(request.user, self.view_capability, queryset, include_own=False)

    def _is_admin_user(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin_user(request) and self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if not self._is_admin_user(request):
            return False
        if obj is None:
            return access.has_capability_anywhere(request.user, self.view_capability)
        return access.can(request.user, self.view_capability, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if self.read_only or not self._is_admin_user(request):
            return False
        if obj is None:
            return access.has_capability_anywhere(request.user, self.change_capability)
        return access.can(request.user, self.change_capability, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return (
            self.allow_add
            and not self.read_only
            and self._is_admin_user(request)
            and access.has_capability_anywhere(request.user, self.change_capability)
        )

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.allow_delete and self.has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):  # type: ignore[no-untyped-def]
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + self.owner_fields if obj is not None else readonly

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context=None
    ):  # type: ignore[no-untyped-def]
        # django-simple-history's "revert" page saves an old version on POST after checking
        # only the view permission: reverting is a change, refused without the right to change.
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is None or not self.has_change_permission(request, obj):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
