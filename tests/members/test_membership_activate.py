"""Activating a membership pending verification (M-10, M-14, S-08): one service for the
verification link and for payments; idempotent, one history record, ended memberships
refused, and two calls at once make one change (the row lock)."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from members import selectors_memberships
from members.models import (
    Membership,
    MembershipStatus,
    MembershipVerification,
    VerificationStatus,
)
from members.services import memberships as services
from members.services import verification as verification_services
from tests.members.factories import UserFactory
from tests.members.factories_memberships import MembershipFactory

ACTIVE, PENDING, ENDED = (
    MembershipStatus.ACTIVE,
    MembershipStatus.PENDING_VERIFICATION,
    MembershipStatus.ENDED,
)
WAIT = 20  # seconds: generous, the machine is shared


def _pending(world, **fields) -> Membership:  # type: ignore[no-untyped-def]
    return MembershipFactory(club=world.club_a, status=PENDING, **fields)


def _changes(membership: Membership) -> list[tuple]:
    """The history records after the first (its creation), oldest first."""
    return list(
        Membership.history.filter(id=membership.pk, history_type="~")
        .order_by("history_date", "history_id")
        .values_list("status", "history_user_id", "history_change_reason")
    )


@pytest.mark.django_db
def test_m10_activate_a_pending_membership_writes_one_history_record(world):
    membership = _pending(world)
    actor = UserFactory()

    activated = services.membership_activate(
        actor=actor, membership=membership, reason=services.ACTIVATED_BY_ONLINE_PAYMENT
    )

    assert activated.status == ACTIVE
    membership.refresh_from_db()
    assert membership.status == ACTIVE
    assert _changes(membership) == [(ACTIVE, actor.pk, "paid online (M-10)")]


@pytest.mark.django_db
def test_m10_activating_an_active_membership_changes_nothing(world):
    membership = _pending(world)
    services.membership_activate(
        actor=None, membership=membership, reason=services.ACTIVATED_BY_PAYMENT
    )
    updated_at = Membership.objects.get(pk=membership.pk).updated_at

    again = services.membership_activate(
        actor=None, membership=membership, reason=services.ACTIVATED_BY_LINK
    )

    assert again.status == ACTIVE
    assert Membership.objects.get(pk=membership.pk).updated_at == updated_at
    assert _changes(membership) == [(ACTIVE, None, "payment registered (M-10)")]


@pytest.mark.django_db
def test_an_ended_membership_is_not_activated(world):
    membership = MembershipFactory(
        club=world.club_a, status=ENDED, end_date=datetime.date(2025, 6, 30)
    )

    with pytest.raises(ValidationError) as error:
        services.membership_activate(
            actor=None, membership=membership, reason=services.ACTIVATED_BY_ONLINE_PAYMENT
        )

    assert error.value.messages == [str(services.ENDED_NOT_ACTIVATED)]
    membership.refresh_from_db()
    assert membership.status == ENDED
    assert _changes(membership) == []


@pytest.mark.django_db
def test_m10_bulk_activates_only_the_pending_memberships_of_the_persons_in_the_club(world):
    pending = _pending(world)
    other_pending = _pending(world)
    active = MembershipFactory(club=world.club_a, status=ACTIVE)
    ended = MembershipFactory(club=world.club_a, status=ENDED, end_date=datetime.date(2025, 6, 30))
    elsewhere = MembershipFactory(club=world.club_b, status=PENDING, person=pending.person)

    activated = services.memberships_activate(
        actor=None,
        club_id=world.club_a.pk,
        person_ids=[pending.person_id, active.person_id, ended.person_id],
        reason=services.ACTIVATED_BY_ONLINE_PAYMENT,
    )

    assert [m.pk for m in activated] == [pending.pk]
    statuses = dict(
        Membership.objects.filter(
            pk__in=[pending.pk, other_pending.pk, active.pk, ended.pk, elsewhere.pk]
        ).values_list("pk", "status")
    )
    assert statuses == {
        pending.pk: ACTIVE,
        other_pending.pk: PENDING,
        active.pk: ACTIVE,
        ended.pk: ENDED,
        elsewhere.pk: PENDING,
    }
    assert _changes(pending) == [(ACTIVE, None, "paid online (M-10)")]
    assert _changes(active) == _changes(ended) == _changes(elsewhere) == []


@pytest.mark.django_db
def test_m10_bulk_activation_is_a_fixed_number_of_queries(world, django_assert_num_queries):
    memberships = [_pending(world) for _ in range(5)]

    # The savepoint, the lock, the update and the history insert, then the release.
    with django_assert_num_queries(5):
        activated = services.memberships_activate(
            actor=None,
            club_id=world.club_a.pk,
            person_ids=[m.person_id for m in memberships],
            reason=services.ACTIVATED_BY_PAYMENT,
        )

    assert len(activated) == 5
    assert set(Membership.objects.values_list("status", flat=True)) == {ACTIVE}


@pytest.mark.django_db
def test_m10_bulk_activation_a_second_time_changes_nothing(world):
    membership = _pending(world)
    arguments = {
        "actor": None,
        "club_id": world.club_a.pk,
        "person_ids": [membership.person_id],
        "reason": services.ACTIVATED_BY_PAYMENT,
    }

    first = services.memberships_activate(**arguments)
    second = services.memberships_activate(**arguments)

    assert ([m.pk for m in first], second) == ([membership.pk], [])
    assert len(_changes(membership)) == 1


@pytest.mark.django_db
def test_m14_the_verification_link_activates_through_the_service(world):
    membership = _pending(world)
    member = UserFactory(person=membership.person)
    sent = datetime.datetime(2026, 5, 4, 18, 30, tzinfo=datetime.UTC)
    MembershipVerification.objects.create(
        membership=membership,
        token_hash=selectors_memberships.hash_token("the-token"),
        status=VerificationStatus.SENT,
        sent_at=sent,
        expires_at=sent + datetime.timedelta(hours=24),
    )

    verification = verification_services.verification_confirm(
        token="the-token", actor=member, now=sent + datetime.timedelta(hours=1)
    )

    assert verification.membership.status == ACTIVE
    assert _changes(membership) == [
        (ACTIVE, member.pk, "confirmed through the verification link (M-14)")
    ]


# ----------------------------------------------------------------------- two at once


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_m10_two_activations_at_once_make_one_change(world):
    """The verification link and the payment webhook at the same moment: the second waits on
    the row lock, then finds the membership active and writes nothing."""
    membership = _pending(world)
    first_holds_lock = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = services.membership_activate(
                    actor=None, membership=membership, reason=services.ACTIVATED_BY_LINK
                )
                first_holds_lock.set()
                release_first.wait(WAIT)
        except Exception as error:
            outcome["first"] = error
            first_holds_lock.set()
        finally:
            connections.close_all()

    def second() -> None:
        started = time.monotonic()
        try:
            outcome["second"] = services.membership_activate(
                actor=None, membership=membership, reason=services.ACTIVATED_BY_ONLINE_PAYMENT
            )
        except Exception as error:
            outcome["second"] = error
        finally:
            outcome["waited"] = time.monotonic() - started
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_holds_lock.wait(WAIT)
    two = threading.Thread(target=second)
    two.start()
    deadline = time.monotonic() + WAIT
    while _waiting_on_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_on_a_lock() == 1, "the second activation should wait on the row lock"
    time.sleep(0.2)
    release_first.set()
    one.join(WAIT)
    two.join(WAIT)

    assert isinstance(outcome["first"], Membership), outcome["first"]
    assert isinstance(outcome["second"], Membership), outcome["second"]
    assert outcome["second"].status == ACTIVE
    assert outcome["waited"] >= 0.2
    assert _changes(membership) == [
        (ACTIVE, None, "confirmed through the verification link (M-14)")
    ]
