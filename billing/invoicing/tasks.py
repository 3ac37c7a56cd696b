"""Celery tasks of invoicing (issue 6; registered through `billing.tasks`).

Thin and idempotent (STYLE 7): each takes ids and calls one service in
`billing.invoicing.services`; a second delivery of the same message is a no-op (a chunk is
claimed with SKIP LOCKED and finished once; the unique index forbids billing a key twice)."""

from __future__ import annotations

from celery import shared_task

from billing.invoicing import services


@shared_task(name=services.CHUNK_TASK)
def invoicing_chunk(*, chunk_id: int) -> bool:
    """One chunk of an invoicing run; False when it was done or taken already."""
    return services.invoicing_chunk_process(chunk_id=chunk_id)


@shared_task(name=services.RECONCILE_TASK)
def invoicing_reconcile() -> dict[str, list[int]]:
    """Celery beat: re-queue stalled chunks, fail hopeless ones."""
    report = services.invoicing_reconcile()
    return {"requeued": list(report.requeued), "failed": list(report.failed)}
