"""P-14, issue 4 scopes 1, 2 and 6: the full detection run in chunks, its counters and states,
the reconciler, the incremental check, and the commands `detect_duplicates` and
`export_duplicate_candidates` (members.duplicates.detection)."""

from __future__ import annotations

import csv
import datetime
import importlib
import io
import math
from collections import Counter

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from clubadmin.capabilities import Capability
from members.duplicates import blocking, detection, scoring
from members.duplicates.records import PersonRecord
from members.duplicates.tasks import check_person_duplicates
from members.management.commands import detect_duplicates
from members.models import (
    CandidateSource,
    CandidateStatus,
    DetectionChunk,
    DetectionRun,
    DuplicateCandidate,
    FunctionType,
    MatchModel,
    Person,
    RunState,
)
from members.services import contacts as contact_services
from members.services import persons as person_services
from tests.members.factories import FunctionFactory, PersonFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def person(first: str, last: str, birth: datetime.date | None, **contact: str) -> Person:
    fields = {f"standard_contact__{name}": value for name, value in contact.items()}
    return PersonFactory(first_name=first, last_name=last, birth_date=birth, **fields)


class Register:
    """A small register with one pair for every kind of chunk, and a household."""

    def __init__(self) -> None:
        # the same year: a typo in the last name
        self.kari = person("Kari", "Nordmann", D(2005, 3, 4), street="Storgata 1")
        self.kari_typo = person("Kari", "Nordman", D(2005, 3, 4), street="Storgata 1")
        # born a year apart (birth date typo across new year)
        self.ola = person("Ola", "Hansen", D(2006, 12, 30))
        self.ola_typo = person("Ola", "Hansen", D(2007, 1, 2))
        # a parent and a child sharing an e-mail address
        self.per = person("Per", "Berg", D(1980, 5, 6), email="berg@example.org")
        self.anne = person("Anne", "Berg", D(2010, 7, 8), email="berg@example.org")
        # a parent and a child sharing a mobile number
        self.lise = person("Lise", "Dahl", D(1970, 1, 1), mobile="+4791000001")
        self.tor = person("Tor", "Dahl", D(2000, 2, 2), mobile="+4791000001")
        # no birth date, and the same person with one
        self.nils = person("Nils", "Moe", None)
        self.nils_born = person("Nils", "Moe", D(1990, 2, 2))
        # a typo in the birth year
        self.siri = person("Siri", "Lie", D(1987, 9, 10))
        self.siri_typo = person("Siri", "Lie", D(1978, 9, 10))

    @property
    def duplicates(self) -> set[tuple[int, int]]:
        return {
            ordered(self.kari, self.kari_typo),
            ordered(self.ola, self.ola_typo),
            ordered(self.nils, self.nils_born),
            ordered(self.siri, self.siri_typo),
        }


def ordered(a: Person, b: Person) -> tuple[int, int]:
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


@pytest.fixture
def register(db) -> Register:
    return Register()


@pytest.fixture(autouse=True)
def fresh_name_frequencies():
    """The incremental check's table is cached per process and in Redis (per database name,
    which every test shares): each test starts and ends without it."""
    detection.forget_name_frequencies()
    yield
    detection.forget_name_frequencies()


@pytest.fixture
def small_registers_have_frequencies(monkeypatch):
    """Name frequencies from a handful of persons (unit-test registers) count: the adjustment
    is then visible in stored candidates."""
    monkeypatch.setattr(scoring, "TF_MIN_PERSONS", 1)


def open_pairs() -> set[tuple[int, int]]:
    return set(
        DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).values_list(
            "person_a_id", "person_b_id"
        )
    )


def candidates_state() -> list[tuple]:
    return list(
        DuplicateCandidate.objects.order_by("pk").values_list(
            "pk", "person_a_id", "person_b_id", "score", "status", "source", "levels"
        )
    )


# ------------------------------------------------------------------------------ chunks


def test_p14_chunks_compare_every_blocked_pair_exactly_once(register):
    keys = detection.plan_chunks(None)
    owners: Counter[tuple[int, int]] = Counter()
    for key in keys:
        pairs, _records = detection.chunk_pairs(key, None)
        owners.update(pairs)
    everyone = detection.load_records(Person.objects.values_list("pk", flat=True))

    assert set(owners) == blocking.candidate_pairs(everyone)
    assert set(owners.values()) == {1}
    assert {
        ordered(register.per, register.anne),
        ordered(register.lise, register.tor),
    } | register.duplicates <= set(owners)


def test_p14_chunks_are_planned_largest_first(register):
    keys = detection.plan_chunks(None)

    # the contact and name chunks (as costly as a large year) first, then the years by the
    # pairs they may compare: 2005 (2 persons x (2 + 1 of 2006)), 2006 (1 x 2), the rest 1
    assert keys[:8] == [
        "email:0",
        "email:1",
        "name-day:0",
        "name-day:1",
        "mobile:0",
        "mobile:1",
        "no-birth-date:0",
        "no-birth-date:1",
    ]
    assert keys[8:10] == ["year:2005", "year:2006"]
    assert sorted(keys[8:]) == sorted(
        f"year:{year}" for year in (1970, 1978, 1980, 1987, 1990, 2000, 2005, 2006, 2007, 2010)
    )


def test_p14_no_birth_date_chunk_only_when_someone_lacks_one(db):
    person("Kari", "Nordmann", D(2005, 3, 4))

    assert "no-birth-date:0" not in detection.plan_chunks(None)


# ---------------------------------------------------------------------------- full run


def test_p14_full_run_inline_finds_the_duplicates_not_the_households(register):
    run = detection.detection_start(actor=None, inline=True)

    assert run.state == RunState.DONE
    strong = set(
        DuplicateCandidate.objects.filter(score__gte=scoring.DEFAULT_THRESHOLD).values_list(
            "person_a_id", "person_b_id"
        )
    )
    assert ordered(register.kari, register.kari_typo) in strong
    assert ordered(register.per, register.anne) not in strong
    assert ordered(register.lise, register.tor) not in strong
    candidate = DuplicateCandidate.objects.get(
        person_a=min(register.kari.pk, register.kari_typo.pk)
    )
    assert candidate.source == CandidateSource.DETECTED
    assert candidate.run == run
    assert candidate.levels["birth_date"] == "exact"
    assert {item["field"] for item in candidate.explanation} >= {"first_name", "birth_date"}


def test_p14_run_counters_and_state(register):
    before = timezone.now()
    run = detection.detection_start(actor=None, inline=True)

    chunks = list(run.chunks.all())
    assert run.state == RunState.DONE
    assert run.chunks_total == len(chunks) == run.chunks_done
    assert run.progress_percent == 100
    assert {chunk.state for chunk in chunks} == {RunState.DONE}
    assert {chunk.attempts for chunk in chunks} == {1}
    assert run.pairs_compared == sum(chunk.pairs_compared for chunk in chunks) > 0
    assert run.candidates_found == sum(chunk.candidates_found for chunk in chunks)
    assert run.candidates_found == DuplicateCandidate.objects.filter(run=run).count() > 0
    assert before <= run.started_at <= run.finished_at
    assert run.match_model is None  # the shipped defaults


def test_p14_run_remembers_the_active_match_model(register):
    model = MatchModel.objects.create(parameters=scoring.default_parameters(), is_active=True)

    run = detection.detection_start(actor=None, inline=True)

    assert run.match_model == model


def test_p14_queued_run_waits_for_workers_and_queues_one_task_per_chunk(
    register, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        run = detection.detection_start(actor=None)

    assert run.state == RunState.PENDING
    assert run.chunks_total == run.chunks.filter(state=RunState.PENDING).count()
    assert len(callbacks) == run.chunks_total
    assert run.started_at is None


def test_p14_empty_register_finishes_at_once(db):
    run = detection.detection_start(actor=None, inline=True)

    assert (run.state, run.chunks_total, run.progress_percent) == (RunState.DONE, 0, 100)


def test_p14_a_second_run_is_refused_while_one_is_in_progress(register):
    first = detection.detection_start(actor=None)

    with pytest.raises(ValidationError) as raised:
        detection.detection_start(actor=None)

    assert raised.value.messages == [str(detection.RUN_IN_PROGRESS)]
    assert list(DetectionRun.objects.values_list("pk", flat=True)) == [first.pk]


def test_p14_starting_a_run_needs_the_capability(world):
    official = world.user("official_without_capability", Capability.DUPLICATES_MERGE)
    allowed = world.user("official_this_club", Capability.DUPLICATES_MERGE)

    with pytest.raises(PermissionDenied):
        detection.detection_start(actor=official, organisation=world.club_a)
    with pytest.raises(PermissionDenied):
        detection.detection_start(actor=allowed, organisation=world.club_b)
    with pytest.raises(PermissionDenied):  # the whole register: superusers only
        detection.detection_start(actor=allowed)

    assert not DetectionRun.objects.exists()
    run = detection.detection_start(actor=allowed, organisation=world.club_a, inline=True)
    assert (run.state, run.started_by, run.organisation) == (RunState.DONE, allowed, world.club_a)


# ------------------------------------------------------------------- idempotent chunks


def test_p14_a_chunk_done_twice_changes_nothing(register):
    run = detection._create_run(None, None, queue=False)
    chunk = run.chunks.get(key="year:2005")
    first = detection._claim(chunk.pk, detection.CHUNK_TIMEOUT)
    # the first worker stalls; after the timeout a second worker takes the chunk over
    DetectionChunk.objects.filter(pk=chunk.pk).update(
        claimed_at=timezone.now() - 2 * detection.CHUNK_TIMEOUT
    )
    second = detection._claim(chunk.pk, detection.CHUNK_TIMEOUT)
    assert second is not None and second.attempts == 2

    assert detection._finish(second, detection.compute_chunk(second)) is True
    state, counters = candidates_state(), DetectionRun.objects.values().get(pk=run.pk)
    assert detection._finish(first, detection.compute_chunk(first)) is False  # came back late

    assert candidates_state() == state
    assert DetectionRun.objects.values().get(pk=run.pk) == counters
    assert counters["chunks_done"] == 1
    assert detection.detection_chunk_process(chunk_id=chunk.pk) is False  # a re-delivery


def test_p14_a_chunk_another_worker_holds_is_not_claimed(register):
    run = detection._create_run(None, None, queue=False)
    chunk = run.chunks.get(key="year:2005")
    detection._claim(chunk.pk, detection.CHUNK_TIMEOUT)

    assert detection._claim(chunk.pk, detection.CHUNK_TIMEOUT) is None
    assert detection.detection_chunk_process(chunk_id=chunk.pk) is False


def test_p14_a_second_full_run_stores_the_same_candidates(register):
    detection.detection_start(actor=None, inline=True)
    first = [row[1:] for row in candidates_state()]

    second_run = detection.detection_start(actor=None, inline=True)

    assert [row[1:] for row in candidates_state()] == first
    assert second_run.candidates_found == len(first)


def test_p14_decided_pairs_are_never_reopened(register):
    detection.detection_start(actor=None, inline=True)
    kari = DuplicateCandidate.objects.get(person_a=min(register.kari.pk, register.kari_typo.pk))
    kari.status, kari.score = CandidateStatus.NOT_DUPLICATE, 0.123
    kari.save()
    nils_a, nils_b = ordered(register.nils, register.nils_born)
    DuplicateCandidate.objects.update_or_create(
        person_a_id=nils_a,
        person_b_id=nils_b,
        defaults={"status": CandidateStatus.MERGED, "score": 0.5, "levels": {}},
    )
    decided = {row[0]: row for row in candidates_state() if row[4] != CandidateStatus.OPEN}

    run = detection.detection_start(actor=None, inline=True)

    after = {row[0]: row for row in candidates_state()}
    assert {pk: after[pk] for pk in decided} == decided
    assert run.candidates_found == len(after) - len(decided)
    comparison = scoring.compare(*detection.load_records([kari.person_a_id, kari.person_b_id]))
    assert (
        detection.store_candidate(
            person_a_id=kari.person_b_id,
            person_b_id=kari.person_a_id,
            comparison=comparison,
            source=CandidateSource.INCREMENTAL,
        )
        is None
    )
    assert DuplicateCandidate.objects.get(pk=kari.pk).status == CandidateStatus.NOT_DUPLICATE


def test_p14_merged_persons_are_left_out(register):
    Person.objects.filter(pk=register.kari_typo.pk).update(merged_into=register.kari)

    detection.detection_start(actor=None, inline=True)

    assert not DuplicateCandidate.objects.filter(person_a=register.kari_typo).exists()
    assert not DuplicateCandidate.objects.filter(person_b=register.kari_typo).exists()
    assert (
        detection.store_candidate(
            person_a_id=register.kari.pk,
            person_b_id=register.kari_typo.pk,
            comparison=scoring.compare(
                *detection.load_records([register.kari.pk, register.kari_typo.pk])
            ),
            source=CandidateSource.MANUAL,
        )
        is None
    )


def test_p14_deceased_persons_are_still_compared(register):
    Person.objects.filter(pk=register.kari_typo.pk).update(
        is_deceased=True, date_of_death=D(2020, 1, 1)
    )

    detection.detection_start(actor=None, inline=True)

    assert ordered(register.kari, register.kari_typo) in open_pairs()


def test_p14_an_open_candidate_that_no_longer_matches_gets_its_new_score(register):
    detection.detection_start(actor=None, inline=True)
    pair = ordered(register.kari, register.kari_typo)
    # corrected: another child of the household, born the same year
    Person.objects.filter(pk=register.kari_typo.pk).update(birth_date=D(2005, 11, 20))
    register.kari_typo.contact_sets.update(street="Nygata 5")

    detection.detection_start(actor=None, inline=True)

    candidate = DuplicateCandidate.objects.get(person_a_id=pair[0], person_b_id=pair[1])
    assert candidate.status == CandidateStatus.OPEN
    assert candidate.score < scoring.STORE_THRESHOLD
    assert candidate.levels["birth_date"] == "different"


# ---------------------------------------------------------------------- failing chunks


def test_p14_a_failing_chunk_is_retried_then_fails_the_run(register, monkeypatch):
    original = detection.chunk_pairs

    def chunk_pairs(key, scope):
        if key == "email:0":
            raise RuntimeError("database went away")
        return original(key, scope)

    monkeypatch.setattr(detection, "chunk_pairs", chunk_pairs)

    run = detection.detection_start(actor=None, inline=True)

    failed = run.chunks.get(key="email:0")
    assert (failed.state, failed.attempts) == (RunState.FAILED, detection.MAX_ATTEMPTS)
    assert failed.error == "RuntimeError: database went away"
    assert run.state == RunState.FAILED
    assert run.error == detection.CHUNKS_FAILED % {"count": 1}
    assert run.chunks_done == run.chunks_total - 1
    assert run.finished_at is not None


# -------------------------------------------------------------------------- reconciler


def test_p14_reconciler_requeues_a_chunk_whose_worker_died(
    register, django_capture_on_commit_callbacks
):
    run = detection._create_run(None, None, queue=False)
    stale = run.chunks.get(key="year:2005")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    DetectionChunk.objects.filter(pk=stale.pk).update(
        state=RunState.RUNNING, claimed_at=long_ago, attempts=1
    )
    fresh = run.chunks.get(key="year:2006")
    DetectionChunk.objects.filter(pk=fresh.pk).update(
        state=RunState.RUNNING, claimed_at=timezone.now(), attempts=1
    )

    with django_capture_on_commit_callbacks() as callbacks:
        report = detection.detection_reconcile()

    assert report == detection.ReconcileReport(requeued=(stale.pk,), failed=())
    assert len(callbacks) == 1
    stale.refresh_from_db()
    assert (stale.state, stale.attempts) == (RunState.PENDING, 1)
    assert DetectionChunk.objects.get(pk=fresh.pk).state == RunState.RUNNING


def test_p14_reconciler_fails_a_chunk_after_its_last_attempt(register):
    run = detection.detection_start(actor=None, inline=True)
    last = run.chunks.get(key="year:2005")
    DetectionRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, chunks_done=run.chunks_total - 1, finished_at=None
    )
    DetectionChunk.objects.filter(pk=last.pk).update(
        state=RunState.RUNNING,
        claimed_at=timezone.now() - datetime.timedelta(hours=1),
        attempts=detection.MAX_ATTEMPTS,
    )

    report = detection.detection_reconcile()

    assert report.failed == (last.pk,)
    last.refresh_from_db()
    run.refresh_from_db()
    assert last.state == RunState.FAILED
    assert last.error == detection.CHUNK_GAVE_UP % {"attempts": detection.MAX_ATTEMPTS}
    assert (run.state, run.error) == (RunState.FAILED, detection.CHUNKS_FAILED % {"count": 1})


def test_p14_reconciler_requeues_pending_chunks_of_an_idle_run_once(
    register, django_capture_on_commit_callbacks
):
    run = detection._create_run(None, None, queue=False)
    DetectionRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks() as callbacks:
        first = detection.detection_reconcile()
    with django_capture_on_commit_callbacks() as again:
        second = detection.detection_reconcile()

    assert len(first.requeued) == len(callbacks) == run.chunks_total
    assert (second.requeued, again) == ((), [])
    assert set(run.chunks.values_list("state", "attempts")) == {(RunState.PENDING, 1)}


def test_p14_reconciler_ends_a_run_no_worker_ever_takes(register):
    run = detection._create_run(None, None, queue=False)
    DetectionRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=5)
    )
    run.chunks.update(
        attempts=detection.MAX_ATTEMPTS, claimed_at=timezone.now() - datetime.timedelta(hours=1)
    )

    report = detection.detection_reconcile()

    run.refresh_from_db()
    assert len(report.failed) == run.chunks_total
    assert run.state == RunState.FAILED
    assert detection.detection_start(actor=None, inline=True).state == RunState.DONE


# -------------------------------------------------------------------- organisation run


def test_p14_organisation_run_compares_its_persons_with_the_whole_register(world, register):
    player = FunctionType.objects.get(code="player")
    FunctionFactory(person=register.kari, organisation=world.team_a, function_type=player)
    FunctionFactory(person=register.siri, organisation=world.club_b, function_type=player)

    run = detection.detection_start(actor=None, organisation=world.club_a, inline=True)

    assert run.organisation == world.club_a
    assert open_pairs() == {ordered(register.kari, register.kari_typo)}
    assert run.chunks_total < len(detection.plan_chunks(None))


# ----------------------------------------------------------------------- incremental


def new_record(**fields: object) -> PersonRecord:
    return PersonRecord(id=0, **fields)


def test_p14_incremental_check_finds_a_typo_and_stays_quiet_for_a_sibling(register):
    typo = new_record(
        first_name="Kari", last_name="Nordmannn", birth_date=D(2005, 4, 3), gender="unknown"
    )
    sibling = new_record(
        first_name="Marte",
        last_name="Nordmann",
        birth_date=D(2008, 6, 1),
        street="Storgata 1",
        email=register.kari.contact_sets.get().email,
    )

    found = detection.find_possible_duplicates(typo)

    assert {match.pk for match, _comparison in found} == {register.kari.pk, register.kari_typo.pk}
    assert all(comparison.score >= scoring.STORE_THRESHOLD for _match, comparison in found)
    assert detection.find_possible_duplicates(sibling) == []


def test_p14_incremental_check_finds_swapped_names_and_shared_contact(register):
    swapped = new_record(first_name="Nordmann", last_name="Kari", birth_date=D(2005, 3, 4))

    found = {match.pk for match, _comparison in detection.find_possible_duplicates(swapped)}

    assert register.kari.pk in found


def test_p14_incremental_check_excludes_given_and_merged_persons(register):
    Person.objects.filter(pk=register.kari_typo.pk).update(merged_into=register.kari)
    record = detection.load_records([register.kari.pk])[0]

    assert detection.find_possible_duplicates(record) == []
    assert detection.find_possible_duplicates(record, exclude_ids=[register.kari.pk]) == []


def test_p14_incremental_check_answers_in_few_queries(register, django_assert_max_num_queries):
    record = new_record(first_name="Kari", last_name="Nordman", birth_date=D(2005, 3, 4))
    detection.current_name_frequencies()  # cached for minutes in every process

    # the name dictionary's refresh, the match model, the lookups, the persons found
    with django_assert_max_num_queries(4):
        assert detection.find_possible_duplicates(record)


def test_p14_person_check_stores_incremental_candidates_in_pair_order(register):
    newcomer = person("Ola", "Hansen", D(2006, 12, 30), email="ola.new@example.org")

    written = detection.person_check_duplicates(person_id=newcomer.pk)

    assert [(c.person_a_id, c.person_b_id) for c in written] == [ordered(register.ola, newcomer)]
    (candidate,) = written
    assert (candidate.source, candidate.status) == (
        CandidateSource.INCREMENTAL,
        CandidateStatus.OPEN,
    )
    email = next(item for item in candidate.explanation if item["field"] == "email")
    assert (email["a"], email["b"]) == (
        register.ola.contact_sets.get().email,
        "ola.new@example.org",
    )


def test_p14_person_create_and_update_queue_the_check_after_commit(
    register, django_capture_on_commit_callbacks, monkeypatch
):
    # run the queued task here instead of sending it to the broker
    monkeypatch.setattr(check_person_duplicates, "delay", check_person_duplicates)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        newcomer = person_services.person_create(
            actor=None, first_name="Kari", last_name="Nordmann", birth_date=D(2005, 3, 4)
        )

    assert len(callbacks) == 1
    assert DuplicateCandidate.objects.filter(
        person_b=newcomer, source=CandidateSource.INCREMENTAL
    ).exists()

    with django_capture_on_commit_callbacks() as updated:
        person_services.person_update(
            actor=None, person=register.ola, middle_name="Andreas", confirm_identity_change=True
        )
    with django_capture_on_commit_callbacks() as unchanged:
        person_services.person_update(
            actor=None, person=register.ola, middle_name="Andreas", confirm_identity_change=True
        )
    assert (len(updated), len(unchanged)) == (1, 0)


def test_p14_contact_change_queues_the_check(register, django_capture_on_commit_callbacks):
    standard = register.per.contact_sets.get()
    with django_capture_on_commit_callbacks() as changed:
        contact_services.contact_set_update(actor=None, contact_set=standard, mobile="+4791000002")
    with django_capture_on_commit_callbacks() as street_only:
        contact_services.contact_set_update(actor=None, contact_set=standard, street="Nygata 2")

    assert (len(changed), len(street_only)) == (1, 0)


def test_p14_person_check_of_a_merged_or_missing_person_does_nothing(register):
    Person.objects.filter(pk=register.kari_typo.pk).update(merged_into=register.kari)

    assert detection.person_check_duplicates(person_id=register.kari_typo.pk) == []
    assert detection.person_check_duplicates(person_id=10**9) == []
    assert not DuplicateCandidate.objects.exists()


# ------------------------------------------------------------------------ the commands


def test_p14_detect_duplicates_command_runs_and_waits(register):
    output = io.StringIO()

    with translation.override("en"):
        call_command("detect_duplicates", stdout=output)

    run = DetectionRun.objects.get()
    assert run.state == RunState.DONE
    assert run.started_by is None
    text = output.getvalue()
    assert f"Detection run {run.pk}: {run.chunks_total} chunks." in text
    assert f"{run.candidates_found} candidates stored." in text


def test_p14_detect_duplicates_command_for_an_organisation(world, register):
    FunctionFactory(
        person=register.kari,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="player"),
    )

    call_command(
        "detect_duplicates",
        "--inline",
        "--organisation",
        world.club_a.organisation_number,
        stdout=io.StringIO(),
    )

    run = DetectionRun.objects.get()
    assert (run.organisation, run.state) == (world.club_a, RunState.DONE)
    with pytest.raises(CommandError) as raised:
        call_command("detect_duplicates", "--organisation", "999999999", stdout=io.StringIO())
    assert str(raised.value) == detect_duplicates.ORGANISATION_NOT_FOUND % {"value": "999999999"}


def test_p14_export_writes_open_pairs_with_source_ids(register, tmp_path):
    Person.objects.filter(pk=register.kari.pk).update(source_id="OLD-1")
    Person.objects.filter(pk=register.kari_typo.pk).update(source_id="OLD-2")
    detection.detection_start(actor=None, inline=True)
    DuplicateCandidate.objects.filter(person_a=register.ola).update(
        status=CandidateStatus.NOT_DUPLICATE
    )
    path = tmp_path / "candidates.csv"

    call_command("export_duplicate_candidates", str(path), stdout=io.StringIO())

    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["source_id_a", "source_id_b", "score", "person_id_a", "person_id_b"]
    body = rows[1:]
    open_candidates = DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN)
    assert len(body) == open_candidates.count()
    assert [float(row[2]) for row in body] == sorted((float(row[2]) for row in body), reverse=True)
    kari = next(row for row in body if {row[0], row[1]} == {"OLD-1", "OLD-2"})
    first, second = ordered(register.kari, register.kari_typo)
    assert kari[3:] == [str(first), str(second)]
    assert kari[0] == ("OLD-1" if first == register.kari.pk else "OLD-2")
    assert all(row[3] != str(register.ola.pk) for row in body)


def test_p14_reconciler_runs_every_two_minutes_on_celery_beat(db):
    # A transactional test flushes the rows data migrations wrote: write them again.
    migration = importlib.import_module("members.migrations.0013_duplicate_reconciler_schedule")
    migration.add_schedule(django_apps, None)

    task = PeriodicTask.objects.get(task=detection.RECONCILE_TASK)

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (2, "minutes")


# ------------------------------------------------------------------ name frequencies


def test_p14_a_run_keeps_the_name_frequencies_of_the_unmerged_register(register):
    Person.objects.filter(pk=register.siri_typo.pk).update(merged_into=register.siri)
    unmerged = detection.load_records(
        Person.objects.filter(merged_into__isnull=True).values_list("pk", flat=True)
    )

    run = detection.detection_start(actor=None, inline=True)

    assert run.name_frequencies == scoring.name_frequencies(unmerged).as_json()
    assert run.name_frequencies["persons"] == len(unmerged) == 11
    assert run.name_frequencies["last"]["nordmann"] == 1  # Nordman is another spelling
    assert run.name_frequencies["first"]["kari"] == 2


def test_p14_register_name_frequencies_tokenise_like_the_pure_rule(db):
    person("Anne Marie", "Berg-Hansen", D(2001, 1, 1))
    person("Åse", "Ødegård", D(2002, 2, 2))
    person("Aase", "Oedegaard", D(2003, 3, 3))

    frequencies = detection.register_name_frequencies()

    assert frequencies == scoring.name_frequencies(
        detection.load_records(Person.objects.values_list("pk", flat=True))
    )
    assert frequencies.first["ase"] == 2
    assert frequencies.last == {"berg": 1, "hansen": 1, "odegard": 2}


def test_p14_chunks_score_with_the_table_the_run_started_with(
    register, small_registers_have_frequencies, django_capture_on_commit_callbacks
):
    # Namesakes or one person twice: nothing but the name and the birth date in common.
    ingrid = person("Ingrid", "Fjeld", D(1999, 5, 5), street="Lia 1")
    ingrid_again = person("Ingrid", "Fjeld", D(1999, 5, 5), street="Bakken 2")
    with django_capture_on_commit_callbacks():
        run = detection.detection_start(actor=None)
    # The register changes while the run waits for its workers: more persons named Ingrid.
    for number in range(3):
        person("Ingrid", f"Annen{number}", D(1950 + number, 1, 1))

    detection.detection_work(run=run)

    candidate = DuplicateCandidate.objects.get(person_a=ingrid.pk, person_b=ingrid_again.pk)
    assert candidate.levels["first_name_tf"] == 2.0  # the run's table, not today's 5
    first = next(item for item in candidate.explanation if item["field"] == "first_name")
    assert first["note"] == "rare_name"
    assert math.isclose(scoring.score_of_levels(candidate.levels), candidate.score)
    # a pair sharing an address met by no chance: no adjustment
    kari = DuplicateCandidate.objects.get(person_a=min(register.kari.pk, register.kari_typo.pk))
    assert kari.levels["address"] == "same"
    assert "first_name_tf" not in kari.levels


def test_p14_a_run_without_a_table_scores_without_the_adjustment(
    db, small_registers_have_frequencies
):
    ingrid = person("Ingrid", "Fjeld", D(1999, 5, 5), street="Lia 1")
    ingrid_again = person("Ingrid", "Fjeld", D(1999, 5, 5), street="Bakken 2")
    run = detection.detection_start(actor=None, inline=False)
    DetectionRun.objects.filter(pk=run.pk).update(name_frequencies={})  # a run from before
    run.refresh_from_db()

    detection.detection_work(run=run)

    candidate = DuplicateCandidate.objects.get(person_a=ingrid.pk, person_b=ingrid_again.pk)
    assert "first_name_tf" not in candidate.levels
    assert (
        candidate.score
        == scoring.compare(*detection.load_records([ingrid.pk, ingrid_again.pk])).score
    )


def test_p14_incremental_check_caches_the_name_frequencies(register):
    first = detection.current_name_frequencies()
    person("Kari", "Berg", D(1960, 1, 1))

    assert detection.current_name_frequencies() is first  # this process's copy
    detection._process_frequencies.clear()  # another process: the shared copy
    assert detection.current_name_frequencies() == first
    detection.forget_name_frequencies()  # gone everywhere: computed again
    assert detection.current_name_frequencies().first["kari"] == first.first["kari"] + 1


def test_p14_a_full_run_shares_its_fresh_table_with_the_incremental_check(register):
    stale = detection.current_name_frequencies()
    person("Kari", "Berg", D(1960, 1, 1))

    run = detection.detection_start(actor=None, inline=True)

    assert detection.current_name_frequencies().as_json() == run.name_frequencies
    assert detection.current_name_frequencies() != stale


def test_p14_incremental_check_weighs_names_by_their_frequency(
    register, small_registers_have_frequencies
):
    typo = new_record(first_name="Kari", last_name="Nordmann", birth_date=D(2005, 3, 4))

    found = detection.find_possible_duplicates(typo)

    comparison = next(c for match, c in found if match.pk == register.kari.pk)
    assert comparison.evidence[0].term_frequency == 2.0
    assert comparison.levels["first_name_tf"] == 2.0
