"""Two staff merging overlapping pairs at the same time (P-14, issue 4 acceptance): A+B and
B+C. The second merge waits on B's row lock and then refuses; nothing is corrupted. Real
threads with their own database connections (committed transactions)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from clubadmin.capabilities import Capability
from members.duplicates import merging
from members.models import ContactSet, Function, Person, PersonMerge
from tests.members.factories import FunctionFactory, PersonFactory

# serialized_rollback: a plain transactional test re-creates content types after its flush,
# which collides with the next serialized test restoring them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 20  # seconds: generous, the machine is shared


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _person(world):  # type: ignore[no-untyped-def]
    person = PersonFactory()
    FunctionFactory(person=person, organisation=world.club_a)
    return person


def _arguments(actor, survivor, merged):  # type: ignore[no-untyped-def]
    return {
        "actor": actor,
        "survivor": survivor,
        "merged": merged,
        "person_data": {},
        "keep_function_ids": list(
            Function.objects.filter(person__in=[survivor, merged]).values_list("pk", flat=True)
        ),
        "keep_licence_ids": [],
    }


@pytest.mark.parametrize("second", ["b_into_c", "c_into_b"])
def test_p14_overlapping_merges_at_the_same_time(world, second):
    staff = world.user("federation_staff", Capability.DUPLICATES_MERGE)
    a, b, c = _person(world), _person(world), _person(world)
    first_holds_locks = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = merging.persons_merge(**_arguments(staff, a, b))
                first_holds_locks.set()
                release_first.wait(WAIT)
        except Exception as error:
            outcome["first"] = error
            first_holds_locks.set()
        finally:
            connections.close_all()

    def other() -> None:
        started = time.monotonic()
        try:
            survivor, merged = (c, b) if second == "b_into_c" else (b, c)
            outcome["second"] = merging.persons_merge(**_arguments(staff, survivor, merged))
        except Exception as error:
            outcome["second"] = error
        finally:
            outcome["waited"] = time.monotonic() - started
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_holds_locks.wait(WAIT)
    two = threading.Thread(target=other)
    two.start()
    deadline = time.monotonic() + WAIT
    while _waiting_on_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_on_a_lock() == 1, "the second merge should wait on B's row lock"
    time.sleep(0.2)
    release_first.set()
    one.join(WAIT)
    two.join(WAIT)

    assert isinstance(outcome["first"], PersonMerge)
    error = outcome["second"]
    assert isinstance(error, ValidationError), error
    assert error.messages == [str(merging.PERSON_ALREADY_MERGED)]
    assert outcome["waited"] >= 0.2
    # One merge, B merged into A, C untouched; every row has exactly one person.
    assert PersonMerge.objects.count() == 1
    persons = dict(
        Person.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("pk", "merged_into")
    )
    assert persons == {a.pk: None, b.pk: a.pk, c.pk: None}
    assert Function.objects.filter(person=c).count() == 1
    assert Function.objects.filter(person=a).count() == 2
    assert ContactSet.objects.filter(person=a).count() == 2
    assert ContactSet.objects.filter(person=c, is_standard=True).count() == 1


def test_p14_merge_and_undo_of_the_same_pair_wait_for_each_other(world):
    """An undo while a second merge of the survivor runs: the undo waits, then finds the
    survivor merged and refuses."""
    staff = world.user("federation_staff", Capability.DUPLICATES_MERGE)
    a, b, c = _person(world), _person(world), _person(world)
    merge = merging.persons_merge(**_arguments(staff, a, b))
    holding = threading.Event()
    release = threading.Event()
    outcome: dict[str, object] = {}

    def merge_a_into_c() -> None:
        try:
            with transaction.atomic():
                merging.persons_merge(**_arguments(staff, c, a))
                holding.set()
                release.wait(WAIT)
        finally:
            holding.set()
            connections.close_all()

    def undo() -> None:
        try:
            outcome["undo"] = merging.merge_undo(actor=staff, merge=merge)
        except Exception as error:
            outcome["undo"] = error
        finally:
            connections.close_all()

    one = threading.Thread(target=merge_a_into_c)
    one.start()
    assert holding.wait(WAIT)
    two = threading.Thread(target=undo)
    two.start()
    deadline = time.monotonic() + WAIT
    while _waiting_on_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    one.join(WAIT)
    two.join(WAIT)

    error = outcome["undo"]
    assert isinstance(error, ValidationError), error
    assert error.messages == [str(merging.UNDO_SURVIVOR_MERGED)]
    assert PersonMerge.objects.get(pk=merge.pk).state == "merged"
    assert Person.objects.get(pk=b.pk).merged_into_id == a.pk
