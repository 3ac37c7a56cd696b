"""P-14, issue 4 scope 2 with a real Celery worker against the real Redis (STYLE 18): a full
run completes through the worker, and a chunk whose worker died is re-queued by the reconciler
and completed."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
from celery.app import routes
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone
from redis import Redis

from clubadmin.celery import app as celery_app
from members.duplicates import detection
from members.models import DetectionChunk, DetectionRun, DuplicateCandidate, RunState
from tests.members.factories import PersonFactory

D = datetime.date


@pytest.fixture
def private_queue(monkeypatch):
    """Route the detection tasks to a queue of this test only."""
    queue = f"clubadmin-test-detection-{uuid.uuid4().hex}"
    router = routes.Router(
        routes.prepare({detection.CHUNK_TASK: {"queue": queue}}),
        celery_app.amqp.queues,
        True,
        app=celery_app,
    )
    monkeypatch.setattr(celery_app.amqp, "router", router)
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        yield queue, redis
    finally:
        redis.delete(queue)


def small_register() -> tuple[int, int]:
    kari = PersonFactory(first_name="Kari", last_name="Nordmann", birth_date=D(2005, 3, 4))
    typo = PersonFactory(first_name="Kari", last_name="Nordman", birth_date=D(2005, 3, 4))
    PersonFactory(first_name="Ola", last_name="Hansen", birth_date=D(1990, 5, 6))
    PersonFactory(first_name="Siri", last_name="Lie", birth_date=None)
    return kari.pk, typo.pk


def wait_for(run: DetectionRun, seconds: float = 30) -> DetectionRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state in (RunState.DONE, RunState.FAILED):
            break
        time.sleep(0.1)
    return run


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_p14_full_run_completes_through_a_real_worker(private_queue):
    queue, redis = private_queue
    kari, typo = small_register()

    run = detection.detection_start(actor=None)
    assert redis.llen(queue) == run.chunks_total > 0  # queued by the commit

    with start_worker(celery_app, queues=[queue], perform_ping_check=False, loglevel="WARNING"):
        run = wait_for(run)

    assert run.state == RunState.DONE
    assert run.chunks_done == run.chunks_total
    assert set(run.chunks.values_list("state", flat=True)) == {RunState.DONE}
    assert DuplicateCandidate.objects.filter(person_a_id=kari, person_b_id=typo, run=run).exists()
    assert redis.llen(queue) == 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_p14_reconciler_requeues_a_dead_workers_chunk_and_a_worker_completes_it(
    private_queue,
):
    queue, redis = private_queue
    kari, typo = small_register()
    run = detection.detection_start(actor=None, inline=True)
    DuplicateCandidate.objects.all().delete()
    # The worker that claimed year 2005 an hour ago died: the run never finished.
    chunk = run.chunks.get(key="year:2005")
    DetectionChunk.objects.filter(pk=chunk.pk).update(
        state=RunState.RUNNING,
        claimed_at=timezone.now() - datetime.timedelta(hours=1),
        attempts=1,
        finished_at=None,
    )
    DetectionRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, chunks_done=run.chunks_total - 1, finished_at=None
    )

    report = detection.detection_reconcile()
    assert report.requeued == (chunk.pk,)
    assert redis.llen(queue) == 1

    with start_worker(celery_app, queues=[queue], perform_ping_check=False, loglevel="WARNING"):
        run = wait_for(run)

    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempts) == (RunState.DONE, 2)
    assert (run.state, run.chunks_done) == (RunState.DONE, run.chunks_total)
    assert DuplicateCandidate.objects.filter(person_a_id=kari, person_b_id=typo, run=run).exists()
