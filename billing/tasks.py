"""Celery tasks of the billing app, found by the Celery app's autodiscovery."""

from billing.invoicing.tasks import invoicing_chunk, invoicing_reconcile

__all__ = ["invoicing_chunk", "invoicing_reconcile"]
