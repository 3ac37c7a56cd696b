"""Staff review of duplicate candidates (P-14 (1), issue 4 scope 3): services and selectors.

- `candidate_mark` marks two persons as possible duplicates by hand (from the search results).
  A pair someone decided was "not a duplicate" is reopened by it: marking by hand is a
  deliberate human decision, unlike a detection run, which never reopens a decided pair
  (`detection.store_candidate`).
- `candidate_not_duplicate` removes the mark: the persons stay as they are (P-14: removing a
  mark never deletes a person), and the decision is remembered, so detection never returns the
  pair; it is also a label the scoring learns from (`learning`).
- Access: `duplicates.merge` on BOTH persons (a person belongs to the organisations where they
  hold or held a function; `clubadmin.access`). Merged persons never appear in the queue.

A pair marked by hand is scored like a detected one (`detection.load_records`,
`scoring.compare` with the active match model), so the review page explains it the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members.duplicates import detection, scoring
from members.duplicates.records import PersonRecord
from members.models import (
    CandidateSource,
    CandidateStatus,
    DetectionRun,
    DuplicateCandidate,
    Function,
    Organisation,
    OrganisationType,
    Person,
    User,
)

NOT_ALLOWED = _("You may not review these persons as duplicates.")
SAME_PERSON = _("Choose two different persons.")
PERSON_MERGED = _("%(name)s has been merged into another person.")
CANDIDATE_NOT_OPEN = _("This pair has already been decided.")

# Detection runs are started by staff of a federation or a region (issue 4 scope 2).
DETECTION_ORGANISATION_TYPES = (OrganisationType.FEDERATION, OrganisationType.REGION)
TOP_EVIDENCE = 3


# ------------------------------------------------------------------------------- access


def _merge_prefixes(user: User | None) -> tuple[str, ...] | None:
    """The duplicates.merge path prefixes of the user; None means everything (superuser)."""
    grants = access.grants_for(user)
    return None if grants.is_superuser else grants.paths(Capability.DUPLICATES_MERGE)


def may_review_persons(user: User | None, person_ids: Iterable[int]) -> bool:
    """Does the user hold duplicates.merge on every one of these persons? `None` is the system
    itself (a management command)."""
    ids = set(person_ids)
    if user is None:
        return True
    queryset = Person.objects.filter(pk__in=ids)
    scoped = access.scope(user, Capability.DUPLICATES_MERGE, queryset, include_own=False)
    return scoped.count() == len(ids)


def _require_review(user: User | None, person_ids: Iterable[int]) -> None:
    if not may_review_persons(user, person_ids):
        raise PermissionDenied(NOT_ALLOWED)


def may_review_anywhere(user: User | None) -> bool:
    return access.has_capability_anywhere(user, Capability.DUPLICATES_MERGE)


# ----------------------------------------------------------------------------- services


def _comparison_fields(person_a: Person, person_b: Person) -> dict[str, object]:
    """The score, explanation and levels of the pair under the active match model."""
    records = {record.id: record for record in detection.load_records([person_a.pk, person_b.pk])}
    if person_a.pk not in records or person_b.pk not in records:
        return {}
    # scored as detection scores it: with the register's name frequencies (common names
    # weigh less)
    comparison = scoring.compare(
        records[person_a.pk],
        records[person_b.pk],
        detection.active_parameters(),
        detection.current_name_frequencies(),
    )
    return {
        "score": comparison.score,
        "explanation": comparison.explanation(),
        "levels": comparison.levels,
    }


def _lock_pair(person_a: Person, person_b: Person) -> tuple[Person, Person]:
    """Both persons, locked in primary-key order (a merge of either waits, or went first)."""
    if person_a.pk == person_b.pk:
        raise ValidationError(SAME_PERSON, code="same_person")
    locked = list(
        Person.objects.select_for_update().filter(pk__in=[person_a.pk, person_b.pk]).order_by("pk")
    )
    if len(locked) != 2:
        raise ValidationError(SAME_PERSON, code="same_person")
    for person in locked:
        if person.merged_into_id is not None:
            raise ValidationError(PERSON_MERGED % {"name": person.full_name}, code="person_merged")
    return locked[0], locked[1]


@transaction.atomic
def candidate_mark(*, actor: User | None, person_a: Person, person_b: Person) -> DuplicateCandidate:
    """P-14 (1): mark two persons as possible duplicates by hand. The pair is stored lower id
    first; a pair decided "not a duplicate" (or closed) is reopened: a deliberate decision."""
    _require_review(actor, [person_a.pk, person_b.pk])
    first, second = _lock_pair(person_a, person_b)
    candidate = (
        DuplicateCandidate.objects.select_for_update()
        .filter(person_a=first, person_b=second)
        .first()
    )
    if candidate is None:
        candidate = DuplicateCandidate(person_a=first, person_b=second)
    if candidate.pk is None or candidate.status != CandidateStatus.OPEN:
        candidate.source = CandidateSource.MANUAL
        candidate.run = None
    candidate.status = CandidateStatus.OPEN
    candidate.marked_by = actor
    candidate.decided_by = None
    candidate.decided_at = None
    for name, value in _comparison_fields(first, second).items():
        setattr(candidate, name, value)
    candidate.full_clean(validate_unique=False)
    candidate._history_user = actor
    candidate.save()
    return candidate


@transaction.atomic
def candidate_not_duplicate(
    *, actor: User | None, candidate: DuplicateCandidate
) -> DuplicateCandidate:
    """P-14: "not a duplicate" removes the mark (no person is touched) and is remembered, so
    detection never returns the pair."""
    locked = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    _require_review(actor, [locked.person_a_id, locked.person_b_id])
    if locked.status != CandidateStatus.OPEN:
        raise ValidationError(CANDIDATE_NOT_OPEN, code="candidate_not_open")
    locked.status = CandidateStatus.NOT_DUPLICATE
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked._history_user = actor
    locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return locked


# ---------------------------------------------------------------------------- selectors


def candidates_in_scope(user: User | None) -> QuerySet[DuplicateCandidate]:
    """Every candidate (any status) whose two persons are in the user's duplicates.merge scope."""
    prefixes = _merge_prefixes(user)
    queryset = DuplicateCandidate.objects.all()
    if prefixes is None:
        return queryset
    if not prefixes:
        return queryset.none()
    return queryset.filter(
        access.person_scope_filter(prefixes, "person_a"),
        access.person_scope_filter(prefixes, "person_b"),
    )


def candidates_visible_to(user: User | None) -> QuerySet[DuplicateCandidate]:
    """The review queue: open pairs of two unmerged persons in the user's duplicates.merge
    scope, highest score first (pairs, never chained clusters)."""
    return (
        candidates_in_scope(user)
        .filter(
            status=CandidateStatus.OPEN,
            person_a__merged_into__isnull=True,
            person_b__merged_into__isnull=True,
        )
        .select_related("person_a", "person_b")
        .order_by("-score", "pk")
    )


def candidate_queue(
    *,
    user: User | None,
    min_score: float | None = None,
    source: str = "",
    organisation: Organisation | None = None,
) -> QuerySet[DuplicateCandidate]:
    """The queue with its filters: lowest score, source, and an organisation in which either
    person holds (or held) a function."""
    queryset = candidates_visible_to(user)
    if min_score is not None:
        queryset = queryset.filter(score__gte=min_score)
    if source:
        queryset = queryset.filter(source=source)
    if organisation is not None:
        queryset = queryset.filter(
            access.person_scope_filter([organisation.path], "person_a")
            | access.person_scope_filter([organisation.path], "person_b")
        )
    return queryset


def candidate_detail(user: User | None, pk: int) -> DuplicateCandidate | None:
    return (
        candidates_in_scope(user)
        .select_related(
            "person_a",
            "person_b",
            "marked_by__person",
            "decided_by__person",
            "run",
        )
        .filter(pk=pk)
        .first()
    )


def review_organisations(user: User | None) -> QuerySet[Organisation]:
    """Organisations in the user's duplicates.merge scope (the queue's organisation filter)."""
    prefixes = _merge_prefixes(user)
    queryset = Organisation.objects.all()
    if prefixes is None:
        return queryset
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(path__startswith=prefix)
    return queryset.filter(condition)


@dataclass(frozen=True)
class ClubLine:
    name: str
    is_current: bool


def clubs_of(
    person_ids: Iterable[int], on: datetime.date | None = None
) -> dict[int, list[ClubLine]]:
    """The clubs where each person holds (current first) or held a function, in two queries:
    a function in a group or team counts for the club above it."""
    day = on or timezone.localdate()
    rows = list(
        Function.objects.filter(person_id__in=set(person_ids)).values_list(
            "person_id", "organisation__path", "from_date", "to_date"
        )
    )
    steplen = Organisation.steplen
    prefixes = {
        path[:end] for _, path, _, _ in rows for end in range(steplen, len(path) + 1, steplen)
    }
    clubs = dict(
        Organisation.objects.filter(
            path__in=prefixes, organisation_type=OrganisationType.CLUB
        ).values_list("path", "name")
    )
    found: dict[int, dict[str, bool]] = {}
    for person_id, path, from_date, to_date in rows:
        current = from_date <= day and (to_date is None or to_date >= day)
        for club_path, name in clubs.items():
            if path.startswith(club_path):
                lines = found.setdefault(person_id, {})
                lines[name] = lines.get(name, False) or current
    return {
        person_id: sorted(
            (ClubLine(name, current) for name, current in lines.items()),
            key=lambda line: (not line.is_current, line.name),
        )
        for person_id, lines in found.items()
    }


def top_evidence(explanation: Iterable[Mapping[str, object]], count: int = TOP_EVIDENCE) -> list:
    """The strongest evidence of a pair, for the queue: by weight, for or against."""
    items = [item for item in explanation if isinstance(item.get("weight"), int | float)]
    return sorted(items, key=lambda item: -abs(float(item["weight"])))[:count]


# ------------------------------------------------------------------ the pre-save warning


@dataclass(frozen=True)
class PossibleDuplicate:
    """An existing person a new person may be: `person` is None when the user may not see them
    (the registrar is told that someone matches, not who)."""

    person: Person | None
    score: float
    clubs: tuple[ClubLine, ...] = ()


def possible_duplicates_of(
    *, user: User | None, record: PersonRecord, limit: int = 5
) -> list[PossibleDuplicate]:
    """Issue 4 scope 2: before a new person is saved, the existing persons they may be."""
    matches = [
        (person, comparison)
        for person, comparison in detection.find_possible_duplicates(record, limit=limit)
        if person.merged_into_id is None
    ]
    if not matches:
        return []
    ids = [person.pk for person, _comparison in matches]
    if user is None:
        visible = set(ids)
    else:
        queryset = Person.objects.filter(pk__in=ids)
        visible = set(
            access.scope(user, Capability.PERSONS_VIEW, queryset).values_list("pk", flat=True)
        )
    clubs = clubs_of(visible)
    return [
        PossibleDuplicate(
            person=person if person.pk in visible else None,
            score=comparison.score,
            clubs=tuple(clubs.get(person.pk, [])) if person.pk in visible else (),
        )
        for person, comparison in matches
    ]


def new_person_record(data: Mapping[str, object]) -> PersonRecord:
    """A person not yet saved, as the engine sees them (form data: names, gender, birth date,
    e-mail, mobile, address)."""

    def text(name: str) -> str:
        value = data.get(name)
        return str(value).strip() if value else ""

    birth_date = data.get("birth_date")
    return PersonRecord(
        id=0,
        first_name=text("first_name"),
        last_name=text("last_name"),
        middle_name=text("middle_name"),
        gender=text("gender") or "unknown",
        birth_date=birth_date if isinstance(birth_date, datetime.date) else None,
        email=text("email").lower(),
        mobile=text("mobile"),
        phone=text("phone"),
        street=text("street"),
        postcode=text("postcode"),
        city=text("city"),
    )


# ------------------------------------------------------------------------ detection runs


def detection_organisations(user: User | None) -> QuerySet[Organisation]:
    """Federations and regions on which the user may start a full detection run."""
    return (
        review_organisations(user)
        .filter(organisation_type__in=DETECTION_ORGANISATION_TYPES)
        .order_by("path")
    )


def may_run_detection(user: User | None) -> bool:
    grants = access.grants_for(user)
    return grants.is_superuser or detection_organisations(user).exists()


def detection_runs_visible_to(user: User | None) -> QuerySet[DetectionRun]:
    """Runs over an organisation in the user's duplicates.merge scope, and runs over the whole
    register (e.g. from `manage.py detect_duplicates`) for anyone holding the capability: a
    run shows counts only, its candidates stay scoped."""
    prefixes = _merge_prefixes(user)
    # the run's name table (megabytes at federation size) is for the workers, not the pages
    queryset = DetectionRun.objects.select_related("organisation", "started_by__person").defer(
        "name_frequencies"
    )
    if prefixes is not None:
        condition = Q(organisation__isnull=True) if prefixes else Q(pk__in=[])
        for prefix in prefixes:
            condition |= Q(organisation__path__startswith=prefix)
        queryset = queryset.filter(condition)
    return queryset.order_by("-created_at", "-pk")
