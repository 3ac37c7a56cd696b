"""Reads for organisations and functions, scoped to the user (clubadmin.access)."""

from django.db.models import QuerySet

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Function, Organisation, User


def organisation_list(
    *, user: User, search: str = "", organisation_type: str = "", parent_id: int | None = None
) -> QuerySet[Organisation]:
    queryset = access.visible_organisations(user)
    if search:
        queryset = queryset.filter(name__icontains=search)
    if organisation_type:
        queryset = queryset.filter(organisation_type=organisation_type)
    if parent_id is not None:
        parent = Organisation.objects.filter(pk=parent_id).only("path", "depth").first()
        if parent is None:
            return queryset.none()
        queryset = queryset.filter(path__startswith=parent.path, depth=parent.depth + 1)
    return queryset.order_by("path")


def organisation_parent_map(organisations: list[Organisation]) -> dict[str, Organisation]:
    """Parents of a page of organisations in one query (path prefix of one step less)."""
    steplen = Organisation.steplen
    parent_paths = {o.path[:-steplen] for o in organisations if o.depth > 1}
    return {o.path: o for o in Organisation.objects.filter(path__in=parent_paths)}


def organisation_dashboard_counts(*, organisation: Organisation) -> dict[str, int]:
    functions = Function.objects.active().filter(organisation__path__startswith=organisation.path)
    return {
        "organisations": organisation.subtree().count() - 1,
        "active_functions": functions.count(),
        "persons": functions.values("person_id").distinct().count(),
    }


def function_list(
    *, user: User, organisation: Organisation | None = None, status: str = "active"
) -> QuerySet[Function]:
    """P-10: functions the user may see; status is active, inactive or all."""
    queryset = access.scope(user, Capability.PERSONS_VIEW, Function.objects.all())
    if organisation is not None:
        queryset = queryset.filter(organisation__path__startswith=organisation.path)
    active_ids = Function.objects.active().values("pk")
    if status == "active":
        queryset = queryset.filter(pk__in=active_ids)
    elif status == "inactive":
        queryset = queryset.exclude(pk__in=active_ids)
    return queryset.select_related("person", "organisation", "function_type").order_by(
        "organisation__path", "person__last_name", "person__first_name", "pk"
    )
