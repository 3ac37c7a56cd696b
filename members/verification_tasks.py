"""Celery task sending membership verification links (M-14, S-08).

Celery autodiscovers only members/tasks.py, which imports this module. The task takes ids,
calls one service and is safe to run twice: the service leaves a link that is no longer
"not sent" alone. Transient errors (SMTP or the SMS provider unreachable) are retried; the
service saves nothing when sending fails.
"""

from __future__ import annotations

from celery import shared_task

from members import sms
from members.services import verification as verification_services


@shared_task(
    name="members.send_verification",
    autoretry_for=(OSError, sms.SmsError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_verification(verification_id: int, base_url: str = "") -> str | None:
    """Send the link of a verification that is waiting to be sent; returns its status."""
    verification = verification_services.verification_deliver(
        verification_id=verification_id, base_url=base_url
    )
    return verification.status if verification is not None else None
