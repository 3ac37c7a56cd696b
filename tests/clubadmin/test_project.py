"""The project as a whole: migrations, deployment settings, Celery wiring."""

import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from redis import Redis

from clubadmin.celery import app as celery_app
from clubadmin.tasks import health_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    """STYLE 20: fails when a model changed without a migration."""
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exit_:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"A migration is missing (makemigrations --check exited {exit_.code}).")


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "klubb.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_secret_key_or_hosts(missing):
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "klubb.example.org",
    }
    env.pop(missing)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_celery_is_configured_for_safe_retries():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_url == settings.REDIS_URL or conf.broker_url.startswith("redis://")
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert hasattr(health_check, "delay_on_commit")  # Celery's DjangoTask


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_are_queued_on_commit_and_run_by_a_real_worker():
    queue = f"clubadmin-test-{uuid.uuid4().hex}"
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        with transaction.atomic():
            health_check.apply_async_on_commit(queue=queue)
            assert redis.llen(queue) == 0, "a task must not be sent before the commit"
        assert redis.llen(queue) == 1

        with start_worker(
            celery_app,
            queues=[queue],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            result = health_check.apply_async(queue=queue)
            assert result.get(timeout=30) == {"database": True}
            deadline = time.monotonic() + 10
            while redis.llen(queue) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert redis.llen(queue) == 0
    finally:
        redis.delete(queue)


def test_layout_matches_the_design():
    for name in [
        "manage.py",
        "pyproject.toml",
        "clubadmin",
        "members",
        "billing",
        "matches",
        "referee_claims",
        "rescheduling",
        "templates",
        "tests",
        "docker-compose.yml",
        "README.md",
        "Dockerfile",
        ".ci/run",
        "Makefile",
    ]:
        assert (ROOT / name).exists(), name
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < 2000
