"""P-14 (1), issue 4 scope 3: marking two persons as possible duplicates by hand, "not a
duplicate", and the scoped selectors of the review queue (members.duplicates.candidates).

The helpers at the top are shared with the review page tests (test_review*.py)."""

from __future__ import annotations

import datetime
import types

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from clubadmin.capabilities import ALL_CAPABILITIES, Capability
from members.duplicates import candidates, detection
from members.duplicates.records import Comparison, Evidence
from members.models import (
    CandidateSource,
    CandidateStatus,
    DuplicateCandidate,
    FunctionType,
    Organisation,
    Person,
    User,
)
from tests.conftest import World
from tests.members.factories import (
    FunctionFactory,
    FunctionTypeFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXPLANATION = [
    {"field": "first_name", "level": "exact", "weight": 3.2, "a": "Kari", "b": "Kari"},
    {"field": "last_name", "level": "exact", "weight": 2.5, "a": "Nordmann", "b": "Nordmann"},
    {
        "field": "birth_date",
        "level": "swapped_day_month",
        "weight": 4.1,
        "a": "2011-04-12",
        "b": "2011-12-04",
    },
    {"field": "email", "level": "different", "weight": -1.3, "a": "kari@a.no", "b": "k@b.no"},
]


# ------------------------------------------------------------------------------- helpers


def club_person(organisation: Organisation, **fields: object) -> Person:
    """A person with a player function in `organisation` (so it belongs there, P-10)."""
    person = PersonFactory(**fields)
    FunctionFactory(
        person=person,
        organisation=organisation,
        function_type=FunctionType.objects.get(code="player"),
    )
    return person


def user_with(organisation: Organisation, capabilities: set[str], name: str) -> User:
    code = f"test-{name}"
    function_type = FunctionType.objects.filter(code=code).first() or FunctionTypeFactory(
        code=code, capabilities=sorted(capabilities)
    )
    user = UserFactory(username=name, is_staff=True)
    FunctionFactory(person=user.person, organisation=organisation, function_type=function_type)
    return user


def merger(world: World) -> User:
    """Federation staff: duplicates.merge on the whole federation of club A."""
    return world.user("federation_staff")


def other_federation_staff(world: World) -> User:
    """duplicates.merge (and everything else) in the other federation only."""
    existing = User.objects.filter(username="other-federation-staff").first()
    return existing or user_with(
        world.federation_2, set(ALL_CAPABILITIES), "other-federation-staff"
    )


def candidate(
    person_a: Person,
    person_b: Person,
    *,
    score: float = 0.9,
    status: str = CandidateStatus.OPEN,
    source: str = CandidateSource.DETECTED,
) -> DuplicateCandidate:
    low, high = sorted([person_a, person_b], key=lambda p: p.pk)
    return DuplicateCandidate.objects.create(
        person_a=low,
        person_b=high,
        score=score,
        explanation=EXPLANATION,
        levels={item["field"]: item["level"] for item in EXPLANATION},
        status=status,
        source=source,
    )


def fake_detection(matches: list[tuple[Person, float]]) -> types.SimpleNamespace:
    """A stand-in for members.duplicates.detection's incremental check."""

    def find_possible_duplicates(record, *, exclude_ids=(), limit=10):  # type: ignore[no-untyped-def]
        return [
            (
                person,
                Comparison(score=score, weight=5.0, evidence=(Evidence("name", "exact", 3.0),)),
            )
            for person, score in matches
        ][:limit]

    return types.SimpleNamespace(find_possible_duplicates=find_possible_duplicates)


def candidates_state() -> object:
    return sorted(
        DuplicateCandidate.objects.values_list(
            "pk", "person_a_id", "person_b_id", "status", "source", "score", "decided_by_id"
        )
    )


@pytest.fixture
def pair(world: World) -> tuple[Person, Person]:
    """Two persons of club A (the second created later: the higher id)."""
    twin = club_person(world.club_a, first_name="Åse", last_name="Ødegaard")
    return world.player_a, twin


# -------------------------------------------------------------------------------- marking


def test_p14_mark_orders_the_pair_lower_id_first_and_records_who(world, pair):
    actor = merger(world)
    low, high = pair

    marked = candidates.candidate_mark(actor=actor, person_a=high, person_b=low)

    assert (marked.person_a_id, marked.person_b_id) == (low.pk, high.pk)
    assert (marked.status, marked.source, marked.marked_by) == (
        CandidateStatus.OPEN,
        CandidateSource.MANUAL,
        actor,
    )
    assert marked.history.latest().history_user == actor


def test_p14_mark_scores_the_pair_when_the_engine_is_there(world, pair):
    marked = candidates.candidate_mark(actor=merger(world), person_a=pair[0], person_b=pair[1])

    assert 0 < marked.score <= 1
    assert {item["field"] for item in marked.explanation} >= {"first_name", "last_name"}
    assert marked.levels == {item["field"]: item["level"] for item in marked.explanation}


def test_p14_marking_an_open_detected_pair_keeps_it(world, pair):
    detected = candidate(*pair, score=0.7)

    marked = candidates.candidate_mark(actor=merger(world), person_a=pair[1], person_b=pair[0])

    assert marked.pk == detected.pk
    assert (marked.status, marked.source) == (CandidateStatus.OPEN, CandidateSource.DETECTED)
    assert DuplicateCandidate.objects.count() == 1


def test_p14_marking_by_hand_reopens_a_not_duplicate_decision(world, pair):
    actor = merger(world)
    decided = candidate(*pair, status=CandidateStatus.NOT_DUPLICATE)
    decided.decided_by = actor
    decided.decided_at = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    decided.save()

    marked = candidates.candidate_mark(actor=actor, person_a=pair[0], person_b=pair[1])

    assert marked.pk == decided.pk
    assert (marked.status, marked.source, marked.decided_by, marked.decided_at) == (
        CandidateStatus.OPEN,
        CandidateSource.MANUAL,
        None,
        None,
    )
    # The earlier decision stays in the history.
    statuses = list(marked.history.order_by("history_date").values_list("status", flat=True))
    assert statuses[-2:] == [CandidateStatus.NOT_DUPLICATE, CandidateStatus.OPEN]


def test_p14_marking_a_person_with_themself_is_refused(world, pair):
    with pytest.raises(ValidationError) as error:
        candidates.candidate_mark(actor=merger(world), person_a=pair[0], person_b=pair[0])

    assert error.value.messages == [str(candidates.SAME_PERSON)]
    assert DuplicateCandidate.objects.count() == 0


def test_p14_marking_a_merged_person_is_refused(world, pair):
    survivor = club_person(world.club_a)
    Person.objects.filter(pk=pair[1].pk).update(merged_into=survivor)

    with pytest.raises(ValidationError) as error:
        candidates.candidate_mark(actor=merger(world), person_a=pair[0], person_b=pair[1])

    assert error.value.messages == [str(candidates.PERSON_MERGED) % {"name": pair[1].full_name}]
    assert DuplicateCandidate.objects.count() == 0


@pytest.mark.parametrize(
    "who", ["other_club", "other_federation", "without_capability", "half_in_scope"]
)
def test_p14_marking_needs_duplicates_merge_on_both_persons(world, pair, who):
    first, second = pair
    if who == "other_club":
        actor = world.user("official_other_club")
    elif who == "other_federation":
        actor = other_federation_staff(world)
    elif who == "without_capability":
        actor = world.user("official_without_capability", Capability.DUPLICATES_MERGE)
    else:  # duplicates.merge in club A, the other person is in club B only
        actor = world.user("official_this_club")
        second = club_person(world.club_b)
    before = candidates_state()

    with pytest.raises(PermissionDenied):
        candidates.candidate_mark(actor=actor, person_a=first, person_b=second)

    assert candidates_state() == before == []


# ------------------------------------------------------------------------ not a duplicate


def test_p14_not_a_duplicate_removes_the_mark_and_is_remembered(world, pair):
    actor = merger(world)
    open_pair = candidate(*pair)
    persons_before = sorted(Person.objects.values_list("pk", "first_name", "merged_into_id"))

    decided = candidates.candidate_not_duplicate(actor=actor, candidate=open_pair)

    decided.refresh_from_db()
    assert (decided.status, decided.decided_by) == (CandidateStatus.NOT_DUPLICATE, actor)
    assert decided.decided_at is not None
    assert decided.history.latest().history_user == actor
    assert list(candidates.candidates_visible_to(actor)) == []
    # P-14: removing a mark never deletes (or changes) a person.
    assert sorted(Person.objects.values_list("pk", "first_name", "merged_into_id")) == (
        persons_before
    )


def test_p14_not_a_duplicate_twice_is_refused(world, pair):
    decided = candidate(*pair, status=CandidateStatus.NOT_DUPLICATE)
    before = candidates_state()

    with pytest.raises(ValidationError) as error:
        candidates.candidate_not_duplicate(actor=merger(world), candidate=decided)

    assert error.value.messages == [str(candidates.CANDIDATE_NOT_OPEN)]
    assert candidates_state() == before


@pytest.mark.parametrize("who", ["other_club", "other_federation", "without_capability"])
def test_p14_not_a_duplicate_needs_duplicates_merge_on_both_persons(world, pair, who):
    open_pair = candidate(*pair)
    actor = {
        "other_club": lambda: world.user("official_other_club"),
        "other_federation": lambda: other_federation_staff(world),
        "without_capability": lambda: world.user(
            "official_without_capability", Capability.DUPLICATES_MERGE
        ),
    }[who]()
    before = candidates_state()

    with pytest.raises(PermissionDenied):
        candidates.candidate_not_duplicate(actor=actor, candidate=open_pair)

    assert candidates_state() == before


def test_p14_a_decided_pair_cannot_come_back_as_a_second_row(world, pair):
    """The model level: one row per pair, so a detection run can only find the decided row."""
    candidate(*pair, status=CandidateStatus.NOT_DUPLICATE)

    with pytest.raises(IntegrityError), transaction.atomic():
        candidate(*pair)

    assert candidates_state()[0][3] == CandidateStatus.NOT_DUPLICATE


def test_p14_detection_never_reopens_a_not_duplicate_pair(world, pair):
    decided = candidates.candidate_not_duplicate(actor=merger(world), candidate=candidate(*pair))
    comparison = Comparison(score=0.99, weight=12.0, evidence=(Evidence("name", "exact", 9.0),))

    detection.store_candidate(
        person_a_id=pair[0].pk,
        person_b_id=pair[1].pk,
        comparison=comparison,
        source=CandidateSource.DETECTED,
    )

    decided.refresh_from_db()
    assert decided.status == CandidateStatus.NOT_DUPLICATE
    assert list(candidates.candidates_visible_to(merger(world))) == []


# ------------------------------------------------------------------------------- selectors


def test_p14_queue_is_open_pairs_by_score_in_scope(world, pair):
    club_b_person = club_person(world.club_b, first_name="Bjørn")
    club_c_person = club_person(world.club_c, first_name="Sølvi")
    merged = club_person(world.club_a)
    Person.objects.filter(pk=merged.pk).update(merged_into=pair[0])
    low = candidate(pair[0], club_b_person, score=0.6)
    high = candidate(*pair, score=0.95)
    candidate(pair[1], merged, score=0.99)  # a merged person: never in the queue
    candidate(club_b_person, club_c_person, score=0.97)  # club C: another federation
    candidate(pair[1], club_b_person, score=0.8, status=CandidateStatus.NOT_DUPLICATE)

    assert list(candidates.candidates_visible_to(merger(world))) == [high, low]
    assert list(candidates.candidates_visible_to(world.user("official_this_club"))) == [high]
    assert list(candidates.candidates_visible_to(other_federation_staff(world))) == []
    assert list(candidates.candidates_visible_to(world.user("member"))) == []
    assert list(candidates.candidates_visible_to(None)) == []


def test_p14_queue_filters_by_score_source_and_organisation(world, pair):
    club_b_person = club_person(world.club_b)
    in_club_a = candidate(*pair, score=0.95)
    manual = candidate(pair[0], club_b_person, score=0.6, source=CandidateSource.MANUAL)
    user = merger(world)

    def queue(**filters: object) -> list[DuplicateCandidate]:
        return list(candidates.candidate_queue(user=user, **filters))

    assert queue(min_score=0.9) == [in_club_a]
    assert queue(source=CandidateSource.MANUAL) == [manual]
    assert queue(organisation=world.team_a) == [in_club_a, manual]
    assert queue(organisation=world.club_b) == [manual]


def test_p14_clubs_of_counts_a_team_for_its_club_and_marks_former_clubs(world):
    person = club_person(world.team_a)
    FunctionFactory(
        person=person,
        organisation=world.club_b,
        function_type=FunctionType.objects.get(code="player"),
        from_date=datetime.date(2015, 1, 1),
        to_date=datetime.date(2016, 1, 1),
    )

    clubs = candidates.clubs_of([person.pk])

    assert clubs == {
        person.pk: [
            candidates.ClubLine("Sagene IF", True),
            candidates.ClubLine("Frogner IL", False),
        ]
    }


def test_p14_possible_duplicates_hide_persons_the_user_may_not_see(world, monkeypatch):
    visible = club_person(world.club_a, first_name="Kari", last_name="Nordmann")
    hidden = club_person(world.club_c, first_name="Kari", last_name="Nordmann")
    monkeypatch.setattr(candidates, "detection", fake_detection([(visible, 0.97), (hidden, 0.9)]))
    record = candidates.new_person_record({"first_name": "Kari", "last_name": "Nordmann"})

    found = candidates.possible_duplicates_of(user=world.user("official_this_club"), record=record)

    assert found == [
        candidates.PossibleDuplicate(
            person=visible, score=0.97, clubs=(candidates.ClubLine("Sagene IF", True),)
        ),
        candidates.PossibleDuplicate(person=None, score=0.9),
    ]


@pytest.mark.parametrize(
    ("note", "shown"),
    [("common_name", " (a common name)"), ("rare_name", " (a rare name)"), ("", "")],
)
def test_p14_review_evidence_says_whether_an_agreeing_name_is_common_or_rare(settings, note, shown):
    # The explanation of a name weighed by its frequency in the register (scoring's term
    # frequency adjustment) carries a note; the review page and queue show it after the level.
    settings.LANGUAGE_CODE = "en"
    item = {**EXPLANATION[0], **({"note": note} if note else {})}

    with translation.override("en"):
        rendered = render_to_string("members/duplicates/_evidence_note.html", {"item": item})

    assert rendered == shown
