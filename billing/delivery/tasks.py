"""Celery tasks of delivery and reminders (issue 6; registered through `billing.tasks`).

Thin and idempotent (STYLE 7): each calls one service of `billing.delivery.services`. A second
delivery of the same message is harmless: outbox rows are claimed with SKIP LOCKED and sent
once; reminders are unique per invoice and sequence."""

from __future__ import annotations

from celery import shared_task

from billing.delivery import services

DISPATCH_TASK = "billing.deliveries_dispatch"
REMINDERS_TASK = "billing.reminders_daily"


@shared_task(name=services.SEND_TASK)
def deliveries_send() -> dict[str, int]:
    """Send what the outbox holds (queued after planning)."""
    report = services.deliveries_send()
    return {"messages": report.messages, "sent": len(report.sent), "failed": len(report.failed)}


@shared_task(name=DISPATCH_TASK)
def deliveries_dispatch() -> dict[str, int]:
    """Celery beat, every few minutes: plan the deliveries of finished invoicing runs, take
    back rows of dead workers, send."""
    planned = services.deliveries_plan_finished_runs()
    reconciled = services.deliveries_reconcile()
    report = services.deliveries_send()
    return {
        "planned": planned,
        "retried": len(reconciled.retried),
        "uncertain": len(reconciled.uncertain),
        "messages": report.messages,
    }


@shared_task(name=REMINDERS_TASK)
def reminders_daily() -> dict[str, int]:
    """Celery beat, daily (D-03): the reminders due today and the team leaders' lists."""
    report = services.reminders_run()
    return {"reminders": len(report.reminders), "notices": report.notices}
