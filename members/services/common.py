"""Helpers shared by the members services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from members.models import Organisation, User

UNSET = object()

NOT_ALLOWED = _("You do not have permission to do this.")


def require_capability(user: User | None, capability: str, organisation: Organisation) -> None:
    # `user=None` means the system itself (a management command, a data migration).
    if user is not None and not access.has_capability(user, capability, organisation):
        raise PermissionDenied(NOT_ALLOWED)
