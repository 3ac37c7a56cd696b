"""Access control: the one place that answers "may user U do capability C on object O" and
"which rows of model M may U see".

Rules (P-10, ARCHITECTURE "Access"):
- A user's rights come from the active functions of the person linked to the user. Each
  function's type grants capabilities on the function's organisation and on every organisation
  below it (the materialized path of the organisation tree makes that a prefix match).
- Default deny: no person, no active function, no capability -> nothing.
- Superusers (operators of the installation) may do everything.
- A user may always see their own person and their own functions.
- Missing and forbidden objects look the same to the caller: `get_object_or_404` raises
  `Http404` for both.

Views, API viewsets, the Django admin, exports and tasks acting for a user all go through
these functions; nothing else filters rows by organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from clubadmin.capabilities import ALL_CAPABILITIES, Capability
from members.models import (
    BankAccount,
    Competence,
    ContactSet,
    Family,
    Function,
    Licence,
    LicencePeriod,
    LicenceType,
    Membership,
    MembershipType,
    Organisation,
    Person,
    Transfer,
    User,
)

_CACHE_ATTRIBUTE = "_clubadmin_grants"

# How to reach the organisation path from each scoped model; a tuple means "any of these"
# (a transfer belongs to both the organisation it leaves and the one it goes to).
ORGANISATION_PATH_LOOKUPS: dict[type[models.Model], str | tuple[str, ...]] = {
    Organisation: "path",
    Function: "organisation__path",
    Transfer: ("from_organisation__path", "to_organisation__path"),
    LicencePeriod: "organisation__path",
    LicenceType: "period__organisation__path",
    Membership: "club__path",
    MembershipType: "club__path",
    Family: "club__path",
}

# Models scoped through a person: a person belongs to the organisations where they hold (or
# held) a function.
PERSON_SCOPED_LOOKUPS: dict[type[models.Model], str] = {
    Person: "pk",
    User: "person_id",
    ContactSet: "person_id",
    BankAccount: "person_id",
    Competence: "person_id",
    Licence: "person_id",
}

# Models whose rows belong to a person: the user always sees their own rows. The lookup is
# also the attribute name on an instance.
OWN_PERSON_LOOKUPS: dict[type[models.Model], str] = {
    Person: "pk",
    User: "person_id",
    Function: "person_id",
    ContactSet: "person_id",
    BankAccount: "person_id",
    Competence: "person_id",
    Licence: "person_id",
    Transfer: "person_id",
    Membership: "person_id",
}


def register_scoped_model(
    model: type[models.Model],
    *,
    organisation_path: str | tuple[str, ...],
    own_person: str | None = None,
) -> None:
    """Let another app's model be scoped: `organisation_path` is the lookup from the model to
    the path of the organisation it belongs to (e.g. "club__path")."""
    ORGANISATION_PATH_LOOKUPS[model] = organisation_path
    if own_person:
        OWN_PERSON_LOOKUPS[model] = own_person


@dataclass(frozen=True)
class Grants:
    """The organisation subtrees (as path prefixes) on which a user holds each capability."""

    paths_by_capability: dict[str, tuple[str, ...]] = field(default_factory=dict)
    is_superuser: bool = False

    def paths(self, capability: str) -> tuple[str, ...]:
        return self.paths_by_capability.get(capability, ())

    def covers(self, capability: str, path: str) -> bool:
        if self.is_superuser:
            return True
        return any(path.startswith(prefix) for prefix in self.paths(capability))

    def any_capability_paths(self) -> tuple[str, ...]:
        return _minimal_prefixes(p for paths in self.paths_by_capability.values() for p in paths)

    @property
    def is_empty(self) -> bool:
        return not self.is_superuser and not self.paths_by_capability


def _minimal_prefixes(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop every path that lies below another one in the set."""
    result: list[str] = []
    for path in sorted(set(paths)):
        if not result or not path.startswith(result[-1]):
            result.append(path)
    return tuple(result)


def _is_authenticated(user: User | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def grants_for(user: User | AnonymousUser | None) -> Grants:
    """The user's grants, computed once per user object (one query) and cached on it."""
    if not _is_authenticated(user):
        return Grants()
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        grants = Grants(is_superuser=True)
    elif user.person_id is None:
        grants = Grants()
    else:
        rows = (
            Function.objects.active()
            .filter(
                person_id=user.person_id,
                function_type__is_active=True,
                organisation__is_active=True,
            )
            .values_list("function_type__capabilities", "organisation__path")
        )
        collected: dict[str, list[str]] = {}
        for capabilities, path in rows:
            for capability in capabilities:
                if capability in ALL_CAPABILITIES:
                    collected.setdefault(capability, []).append(path)
        grants = Grants(
            paths_by_capability={cap: _minimal_prefixes(paths) for cap, paths in collected.items()}
        )
    setattr(user, _CACHE_ATTRIBUTE, grants)
    return grants


def forget_grants(user: User) -> None:
    """Drop the cached grants, e.g. after the user's functions changed."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def has_capability(
    user: User | AnonymousUser | None, capability: str, organisation: Organisation
) -> bool:
    """May the user do `capability` in `organisation`?"""
    return grants_for(user).covers(capability, organisation.path)


def has_capability_anywhere(user: User | AnonymousUser | None, capability: str) -> bool:
    grants = grants_for(user)
    return grants.is_superuser or bool(grants.paths(capability))


def _path_filter(lookup: str | tuple[str, ...], prefixes: Iterable[str]) -> Q:
    lookups = (lookup,) if isinstance(lookup, str) else lookup
    condition = Q(pk__in=[])  # matches nothing: default deny
    for prefix in prefixes:
        for each in lookups:
            condition |= Q(**{f"{each}__startswith": prefix})
    return condition


def _own_person_filter(model: type[models.Model], user: User | AnonymousUser | None) -> Q | None:
    lookup = OWN_PERSON_LOOKUPS.get(model)
    if lookup is None or not _is_authenticated(user) or user.person_id is None:
        return None
    return Q(**{lookup: user.person_id})


def person_scope_filter(prefixes: Iterable[str], person_lookup: str = "pk") -> Q:
    """Persons belong to the organisations where they hold (or held) a function."""
    prefixes = tuple(prefixes)
    if not prefixes:
        return Q(pk__in=[])
    in_scope = Function.objects.filter(person_id=OuterRef(person_lookup)).filter(
        _path_filter("organisation__path", prefixes)
    )
    return Q(Exists(in_scope))


def scope(
    user: User | AnonymousUser | None,
    capability: str,
    queryset: models.QuerySet,
    *,
    include_own: bool = True,
) -> models.QuerySet:
    """The rows of `queryset` on which the user holds `capability` (plus, for person-owned
    rows, the user's own rows when `include_own`). Default deny."""
    grants = grants_for(user)
    if grants.is_superuser:
        return queryset
    model = queryset.model
    prefixes = grants.paths(capability)
    if model in PERSON_SCOPED_LOOKUPS:
        condition = person_scope_filter(prefixes, PERSON_SCOPED_LOOKUPS[model])
    elif model in ORGANISATION_PATH_LOOKUPS:
        condition = _path_filter(ORGANISATION_PATH_LOOKUPS[model], prefixes)
    else:
        raise LookupError(f"{model.__name__} is not registered with clubadmin.access")
    own = _own_person_filter(model, user) if include_own else None
    if own is not None:
        condition |= own
    return queryset.filter(condition)


def visible_organisations(user: User | AnonymousUser | None) -> models.QuerySet[Organisation]:
    """Organisations in which the user holds any capability, and everything below them."""
    grants = grants_for(user)
    queryset = Organisation.objects.all()
    if grants.is_superuser:
        return queryset
    return queryset.filter(_path_filter("path", grants.any_capability_paths()))


def administered_organisations(user: User | AnonymousUser | None) -> models.QuerySet[Organisation]:
    """The top organisations of the user's grants: the dashboards the user gets."""
    grants = grants_for(user)
    if grants.is_superuser:
        return Organisation.objects.filter(depth=1)
    return Organisation.objects.filter(path__in=grants.any_capability_paths())


def organisation_of(obj: models.Model) -> Organisation | None:
    if isinstance(obj, Organisation):
        return obj
    organisation = getattr(obj, "organisation", None)
    return organisation if isinstance(organisation, Organisation) else None


def can(user: User | AnonymousUser | None, capability: str, obj: models.Model) -> bool:
    """May the user do `capability` on `obj`? Default deny."""
    if not _is_authenticated(user):
        return False
    grants = grants_for(user)
    if grants.is_superuser:
        return True
    model = type(obj)
    own_lookup = OWN_PERSON_LOOKUPS.get(model)
    if (
        own_lookup
        and capability == Capability.PERSONS_VIEW
        and user.person_id is not None
        and getattr(obj, own_lookup) == user.person_id
    ):
        return True
    if model in PERSON_SCOPED_LOOKUPS:
        return (
            model.objects.filter(pk=obj.pk)
            .filter(person_scope_filter(grants.paths(capability), PERSON_SCOPED_LOOKUPS[model]))
            .exists()
        )
    if model in ORGANISATION_PATH_LOOKUPS and not isinstance(obj, (Organisation, Function)):
        return (
            model.objects.filter(pk=obj.pk)
            .filter(_path_filter(ORGANISATION_PATH_LOOKUPS[model], grants.paths(capability)))
            .exists()
        )
    organisation = organisation_of(obj)
    if organisation is None:
        return False
    return grants.covers(capability, organisation.path)


def get_object_or_404(
    user: User | AnonymousUser | None,
    capability: str,
    queryset: models.QuerySet,
    *,
    include_own: bool = True,
    **lookup: object,
) -> models.Model:
    """Fetch one row the user may act on; missing and forbidden both raise Http404."""
    try:
        return scope(user, capability, queryset, include_own=include_own).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error
