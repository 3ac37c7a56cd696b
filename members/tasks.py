"""Celery tasks of the members app (autodiscovered: this module imports the app's other task
modules so that workers register them too).

Each task takes ids, calls one service and is safe to run twice (STYLE 7)."""

from __future__ import annotations

from dataclasses import asdict
from smtplib import SMTPException

from celery import shared_task

from members import (
    datawash,  # noqa: F401 (registers members.data_wash, P-07)
    verification_tasks,  # noqa: F401 (registers members.send_verification)
)
from members.duplicates import tasks as duplicate_tasks  # noqa: F401 (registers P-14 tasks)
from members.services import logins


@shared_task(
    name="members.send_login_links",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_login_links(
    *, batch_id: str, actor_id: int, person_ids: list[int], base_url: str
) -> dict[str, int]:
    """P-04: one batch of one-time login links; returns the service's counts. A retry skips
    the persons this batch already reached."""
    report = logins.login_links_send(
        actor_id=actor_id, person_ids=person_ids, batch_id=batch_id, base_url=base_url
    )
    return asdict(report)
