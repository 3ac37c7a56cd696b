"""Celery tasks of the billing app, found by the Celery app's autodiscovery."""

from billing.invoicing.tasks import invoicing_chunk, invoicing_reconcile

__all__ = ["invoicing_chunk", "invoicing_reconcile"]
from billing.delivery.tasks import deliveries_dispatch, deliveries_send, reminders_daily  # noqa: F401  (issue 6: delivery)
from billing.invoicing.tasks_pdf import render_invoice_pdf, render_invoice_pdfs  # noqa: F401  (issue 6 scope 3)
