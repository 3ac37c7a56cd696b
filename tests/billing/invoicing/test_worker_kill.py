"""Issue 6 acceptance: a real Celery worker (a separate process on a private queue, against
the test database) is killed with SIGKILL in the middle of an invoicing run and started
again; the reconciler re-queues the stalled work (not the broker's visibility timeout), and
the end state is exactly one invoice per payer, one charge per person, fee and period, and
contiguous numbers."""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.app import routes
from django.conf import settings
from django.db import connection
from redis import Redis

from billing.invoicing import services
from billing.models import Invoice, InvoiceLine, InvoicingRun
from clubadmin.celery import app as celery_app
from tests.billing.factories import SEASON, build_example_club
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

ROOT = Path(__file__).resolve().parents[3]
EXTRA_MEMBERS = 40
ISSUE_DATE = datetime.date(SEASON, 1, 15)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}"


def _start_worker(queue: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_QUEUE": queue}
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "clubadmin",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool child too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill(worker: subprocess.Popen, sig: int) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(30)


def _wait(predicate, seconds: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _run_state(run_id: int) -> InvoicingRun:
    return InvoicingRun.objects.get(pk=run_id)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_issue6_worker_killed_mid_run_restarted_exactly_one_invoice(world, monkeypatch):
    club = build_example_club(world)
    ordinary = default_types(world.club_a)["ordinary"]
    for index in range(EXTRA_MEMBERS):
        person = PersonFactory(first_name=f"Medlem{index}", birth_date=datetime.date(1990, 1, 1))
        MembershipFactory(person=person, club=world.club_a, membership_type=ordinary)
    preview = services.invoicing_run_preview(
        actor=None,
        club=world.club_a,
        season=SEASON,
        fee_kinds=["membership"],
        issue_date=ISSUE_DATE,
    )
    queue = f"clubadmin-test-invoicing-{uuid.uuid4().hex}"
    monkeypatch.setattr(
        celery_app.amqp,
        "router",
        routes.Router(
            routes.prepare({services.CHUNK_TASK: {"queue": queue}}),
            celery_app.amqp.queues,
            True,
            app=celery_app,
        ),
    )
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    worker = _start_worker(queue)
    try:
        run = services.invoicing_run_start(
            actor=None,
            club=world.club_a,
            season=SEASON,
            fee_kinds=["membership"],
            issue_date=ISSUE_DATE,
            chunk_payers=3,
        )
        assert run.chunks_total >= preview.summary["recipients"] // 3 > 10

        # Kill the worker (and its pool process) in the middle of the run.
        assert _wait(lambda: _run_state(run.pk).chunks_done >= 3, 60), worker.stderr
        _kill(worker, signal.SIGKILL)
        killed_at = _run_state(run.pk)
        assert 0 < killed_at.chunks_done < killed_at.chunks_total
        assert killed_at.state == "running"

        # The reconciler (beat, here called directly with a zero timeout) re-queues what
        # stalled; a new worker finishes the run.
        report = services.invoicing_reconcile(timeout=datetime.timedelta(0))
        assert report.requeued
        worker = _start_worker(queue)
        assert _wait(lambda: _run_state(run.pk).state == "done", 90, 0.1)
    finally:
        _kill(worker, signal.SIGTERM)
        redis.delete(queue)

    run.refresh_from_db()
    assert run.chunks_done == run.chunks_total
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, preview.summary["invoices"] + 1))
    assert Invoice.objects.values("payer").distinct().count() == len(numbers)
    charges = list(
        InvoiceLine.objects.filter(fee="membership", line_kind="charge").values_list(
            "person_id", flat=True
        )
    )
    assert len(charges) == len(set(charges)) == preview.summary["persons"]
    assert InvoiceLine.objects.count() == preview.summary["lines"]
    assert run.invoices_created == len(numbers)
    assert club["mother"].invoices.count() == 1
