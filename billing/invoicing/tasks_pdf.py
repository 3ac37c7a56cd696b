"""Celery tasks of the PDF invoices (issue 6 scope 3; registered through `billing.tasks`).

Thin and idempotent (STYLE 7): a PDF already cached is not rendered again, a missing invoice
is skipped."""

from __future__ import annotations

from celery import shared_task

from billing.invoicing import pdf

RENDER_TASK = "billing.render_invoice_pdf"
RENDER_MANY_TASK = "billing.render_invoice_pdfs"


@shared_task(name=RENDER_TASK)
def render_invoice_pdf(*, invoice_id: int, force: bool = False) -> int:
    """Render and cache one invoice's PDF (after a void or a credit note: `force`)."""
    return pdf.invoice_pdf_render(invoice_ids=[invoice_id], force=force)


@shared_task(name=RENDER_MANY_TASK)
def render_invoice_pdfs(*, invoice_ids: list[int]) -> int:
    """Render and cache the PDFs of the invoices an invoicing chunk created."""
    return pdf.invoice_pdf_render(invoice_ids=invoice_ids)
