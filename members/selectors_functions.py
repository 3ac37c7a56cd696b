"""Reads for the person card's functions, licences, competences and transfers tabs (P-10..P-13,
P-15), scoped to the user through clubadmin.access and prefetched for lists without N+1."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Competence,
    CompetenceType,
    ContactSet,
    Function,
    Licence,
    LicenceEvent,
    LicencePeriod,
    LicenceStatus,
    LicenceType,
    Organisation,
    Person,
    Transfer,
    TransferEvent,
    TransferStatus,
    User,
)

FUNCTION_STATUSES = ("active", "inactive", "all")
ORGANISATION_SEARCH_LIMIT = 20


def person_functions(*, user: User, person: Person, status: str = "active") -> QuerySet[Function]:
    """P-10: the person's functions the user may see; active, inactive or all."""
    queryset = access.scope(
        user, Capability.PERSONS_VIEW, Function.objects.filter(person_id=person.pk)
    )
    today = timezone.localdate()
    active = Q(from_date__lte=today) & (Q(to_date__isnull=True) | Q(to_date__gte=today))
    if status == "active":
        queryset = queryset.filter(active)
    elif status == "inactive":
        queryset = queryset.exclude(active)
    return queryset.select_related("organisation", "function_type", "contact_set").order_by(
        "organisation__name", "function_type__number", "-from_date", "pk"
    )


def managed_organisations(*, user: User) -> QuerySet[Organisation]:
    """Active organisations in which the user may manage functions (P-11: existing ones)."""
    return access.scope(
        user, Capability.FUNCTIONS_MANAGE, Organisation.objects.filter(is_active=True)
    )


def person_function_organisations(*, user: User, person: Person) -> QuerySet[Organisation]:
    """Where a new function for the person is offered first: the active organisations in which
    the person already has a function and the user may manage functions."""
    holds = Function.objects.filter(person_id=person.pk, organisation_id=OuterRef("pk"))
    return managed_organisations(user=user).filter(Exists(holds)).order_by("name")


def organisation_search(
    *, queryset: QuerySet[Organisation], query: str
) -> QuerySet[Organisation] | list[Organisation]:
    """Organisations by parts of their name (at least two characters)."""
    parts = query.split()[:4]
    if not parts or len(query.strip()) < 2:
        return []
    condition = Q()
    for part in parts:
        condition &= Q(name__icontains=part)
    return queryset.filter(condition).order_by("name")[:ORGANISATION_SEARCH_LIMIT]


def person_contact_sets(*, person: Person) -> QuerySet[ContactSet]:
    return ContactSet.objects.filter(person_id=person.pk).order_by("-is_standard", "label", "pk")


def standard_contact_set(*, person: Person) -> ContactSet | None:
    return ContactSet.objects.filter(person_id=person.pk, is_standard=True).first()


# ------------------------------------------------------------------ licences (P-12)


def person_licences(*, user: User, person: Person) -> QuerySet[Licence]:
    return (
        access.scope(user, Capability.PERSONS_VIEW, Licence.objects.filter(person_id=person.pk))
        .select_related(
            "period",
            "licence_type",
            "organisation",
            "function__organisation",
            "function__function_type",
            "delivery_contact_set",
        )
        .order_by("-period__valid_from", "period__name", "pk")
    )


def licence_detail_queryset(*, person: Person) -> QuerySet[Licence]:
    events = LicenceEvent.objects.select_related("actor__person").order_by("created_at", "pk")
    return (
        Licence.objects.filter(person_id=person.pk)
        .select_related(
            "period",
            "licence_type__function_type",
            "organisation",
            "function__organisation",
            "function__function_type",
            "delivery_contact_set",
        )
        .prefetch_related(Prefetch("events", queryset=events))
    )


def _ancestor_paths(paths: list[str]) -> set[str]:
    """Every path on the way from the root to each of `paths`, the paths included."""
    step = Organisation.steplen
    return {path[:end] for path in paths for end in range(step, len(path) + 1, step)}


def licence_register_organisations(*, user: User, person: Person) -> QuerySet[Organisation]:
    """Organisations a licence can be registered through: active, the person holds a function
    there, and the user may edit persons there (P-12)."""
    holds = Function.objects.filter(person_id=person.pk, organisation_id=OuterRef("pk"))
    return (
        access.scope(user, Capability.PERSONS_EDIT, Organisation.objects.filter(is_active=True))
        .filter(Exists(holds))
        .order_by("name")
    )


def licence_types_offered(
    *, person: Person, organisations: list[Organisation]
) -> QuerySet[LicenceType]:
    """Active licence types of active periods issued by one of `organisations` or above them,
    in periods where the person has no licence yet."""
    taken = Licence.objects.filter(person_id=person.pk).exclude(status=LicenceStatus.CANCELLED)
    paths = _ancestor_paths([organisation.path for organisation in organisations])
    return (
        LicenceType.objects.filter(
            is_active=True, period__is_active=True, period__organisation__path__in=paths
        )
        .exclude(period_id__in=taken.values("period_id"))
        .select_related("period", "function_type")
        .order_by("-period__valid_from", "period__name", "name")
    )


def licence_periods_visible(*, user: User) -> QuerySet[LicencePeriod]:
    """Licence periods of interest to the user: issued by an organisation above, at or below
    one where the user holds a capability."""
    grants = access.grants_for(user)
    queryset = LicencePeriod.objects.select_related("organisation")
    if grants.is_superuser:
        return queryset.order_by("-valid_from", "name")
    prefixes = grants.any_capability_paths()
    condition = Q(organisation__path__in=_ancestor_paths(list(prefixes)))
    for prefix in prefixes:
        condition |= Q(organisation__path__startswith=prefix)
    if not prefixes:
        return queryset.none()
    return queryset.filter(condition).order_by("-valid_from", "name")


def licence_types_visible(*, user: User) -> QuerySet[LicenceType]:
    return (
        LicenceType.objects.filter(period__in=licence_periods_visible(user=user))
        .select_related("period", "function_type")
        .order_by("-period__valid_from", "period__name", "name")
    )


def person_licence_list(*, user: User) -> QuerySet[Licence]:
    """Every licence the user may see (the API's list)."""
    return access.scope(user, Capability.PERSONS_VIEW, Licence.objects.all()).select_related(
        "person", "period", "licence_type", "organisation", "function"
    )


# ------------------------------------------------------------------ competences (P-13)


def person_competences(*, user: User, person: Person) -> QuerySet[Competence]:
    return (
        access.scope(user, Capability.PERSONS_VIEW, Competence.objects.filter(person_id=person.pk))
        .select_related("competence_type")
        .order_by("is_temporarily_inactive", "-valid_from", "pk")
    )


def competence_types_offered() -> QuerySet[CompetenceType]:
    return CompetenceType.objects.filter(is_active=True).order_by("name")


# ------------------------------------------------------------------ transfers (P-15)


def person_transfers(*, user: User, person: Person) -> QuerySet[Transfer]:
    """P-15: the person's transfers the user administers (from- or to-organisation)."""
    events = TransferEvent.objects.select_related("actor__person").order_by("created_at", "pk")
    return (
        access.scope(
            user,
            Capability.TRANSFERS_ADMIN,
            Transfer.objects.filter(person_id=person.pk),
            include_own=False,
        )
        .select_related(
            "from_organisation",
            "to_organisation",
            "function_type",
            "new_function__organisation",
        )
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("-transfer_date", "-pk")
    )


def transfer_list(*, user: User) -> QuerySet[Transfer]:
    """Every transfer the user administers (the API's list)."""
    return (
        access.scope(user, Capability.TRANSFERS_ADMIN, Transfer.objects.all(), include_own=False)
        .select_related("person", "from_organisation", "to_organisation", "function_type")
        .order_by("-transfer_date", "-pk")
    )


def transferable_functions(*, user: User, person: Person) -> QuerySet[Function]:
    """The person's current functions the user may see and that have no transfer waiting."""
    waiting = Transfer.objects.filter(function_id=OuterRef("pk")).exclude(
        status=TransferStatus.APPROVED
    )
    today = timezone.localdate()
    return (
        access.scope(
            user,
            Capability.PERSONS_VIEW,
            Function.objects.filter(person_id=person.pk),
            include_own=False,
        )
        .filter(Q(to_date__isnull=True) | Q(to_date__gt=today))
        .exclude(Exists(waiting))
        .select_related("organisation", "function_type")
        .order_by("organisation__name", "function_type__number")
    )


def transfer_targets(*, organisation_type: str) -> QuerySet[Organisation]:
    """P-15: a transfer goes to an active organisation of the source's type, anywhere in the
    register (a player may move to any club)."""
    return Organisation.objects.filter(is_active=True, organisation_type=organisation_type)
