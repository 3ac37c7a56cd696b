"""Celery tasks of duplicate detection (P-14, issue 4; registered through `members.tasks`).

Thin and idempotent (STYLE 7): each takes ids and calls one service in
`members.duplicates.detection` or `learning`, which make a second run of the same message a
no-op (a chunk is claimed with SKIP LOCKED and counted once; candidates are upserted)."""

from __future__ import annotations

from celery import shared_task

from members.duplicates import detection, learning
from members.models import User


@shared_task(name=detection.CHUNK_TASK)
def detect_duplicates_chunk(*, chunk_id: int) -> bool:
    """One chunk of a full detection run; False when it was done or taken already."""
    return detection.detection_chunk_process(chunk_id=chunk_id)


@shared_task(name=detection.RECONCILE_TASK)
def detection_reconcile() -> dict[str, list[int]]:
    """Celery beat (migration 0013): re-queue stalled chunks, fail hopeless ones."""
    report = detection.detection_reconcile()
    return {"requeued": list(report.requeued), "failed": list(report.failed)}


@shared_task(name="members.check_person_duplicates")
def check_person_duplicates(person_id: int) -> int:
    """The incremental check after a person was created or changed; how many candidates it
    stored or refreshed."""
    return len(detection.person_check_duplicates(person_id=person_id))


@shared_task(name="members.learn_match_model")
def learn_match_model(*, actor_id: int | None = None) -> int:
    """Learn match weights from staff decisions (activated only when F1 does not drop);
    returns the new match model's id."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    return learning.match_model_learn(actor=actor).pk
