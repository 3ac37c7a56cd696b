"""PDF invoices (issue 6 scope 3; S-05, D-11) rendered with WeasyPrint.

- `invoice_pdf_bytes(invoice)`: the invoice's PDF, from the cache when rendered before, else
  rendered now and cached (the download and the e-mail delivery use it).
- `invoice_pdf_render(invoice_id=...)`: render and cache one invoice (the Celery task
  `billing.render_invoice_pdf` after a run's chunk, a void or a credit note).
- `invoices_pdf_bundle(invoices)`: one PDF of many invoices (the paper list of members
  without e-mail), each page in its invoice's language.

The cache is the default file storage: `invoices/<club>/<number>-<digest>.pdf`, where the
digest covers the invoice's identity (id, KID, created_at: two databases sharing a media
folder never share a file), its variant (issued, void, credited), its language and
TEMPLATE_VERSION. Voiding an invoice changes the variant and so the file: a stale PDF is
never served, and no model or migration is needed.

The text is Norwegian bokmål unless the payer chose English (the invoice's `language`, taken
from `User.language` at issue). The template has no repeated fixed-position footer: such
footers triple WeasyPrint's render time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from billing import texts
from billing.models_invoicing import Invoice, InvoiceLine, InvoiceStatus

logger = logging.getLogger(__name__)
# WeasyPrint logs every render step at INFO: thousands of lines per invoicing run.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

TEMPLATE = "billing/invoicing/pdf/invoice.html"
STYLESHEET = Path(settings.BASE_DIR) / "templates" / "billing" / "invoicing" / "pdf" / "invoice.css"
TEMPLATE_VERSION = "2"  # raise when the template changes: cached PDFs are rendered again
STORAGE_FOLDER = "invoices"

# S-05: "what is sold": the fee's name on the invoice line (one map, `billing.texts`).
FEE_LABELS = texts.FEE_LABELS


# ------------------------------------------------------------------ pure formatting


def format_account(number: str) -> str:
    """S-04: a Norwegian account number as written: 86011117947 -> 8601.11.17947."""
    digits = (number or "").replace(".", "").replace(" ", "")
    if len(digits) != 11 or not digits.isdigit():
        return number or ""
    return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"


def format_organisation_number(number: str) -> str:
    """S-04: 988077917 -> 988 077 917."""
    digits = (number or "").replace(" ", "")
    if len(digits) != 9 or not digits.isdigit():
        return number or ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def format_amount(amount: Decimal) -> str:
    """An amount with øre in the active language: 1 250,00 / 1,250.00."""
    return texts.amount_with_ore(amount)


def language_of(invoice: Invoice) -> str:
    """The invoice's language: the payer's choice at issue, else the site's default (the
    language its lines' descriptions were written in, `invoicing.services`)."""
    return texts.invoice_language(invoice.language)


def variant_of(invoice: Invoice) -> str:
    if invoice.status in (InvoiceStatus.VOID, InvoiceStatus.CREDITED):
        return str(invoice.status)
    return "issued"


# ------------------------------------------------------------------ loading and the context


def invoices_for_pdf(ids: Iterable[int]):  # type: ignore[no-untyped-def]
    """The invoices with what the PDF shows, in three queries whatever their number."""
    lines = InvoiceLine.objects.select_related("person").order_by("position")
    return (
        Invoice.objects.filter(pk__in=list(ids))
        .select_related("credited_invoice")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("club_id", "number")
    )


@dataclass(frozen=True)
class PdfLine:
    text: str
    person: str
    description: str
    period: str
    amount: str


def _period(line: InvoiceLine) -> str:
    start, end = line.period_start, line.period_end
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)  # a calendar year: "2027"
    return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}"


def _lines(invoice: Invoice) -> list[PdfLine]:
    result = []
    for line in invoice.lines.all():
        label = texts.fee_label(line.fee)
        result.append(
            PdfLine(
                text=f"{label} {line.period_start.year}",  # S-05: "Membership fee 2027"
                person=line.person.full_name,
                description=line.description,
                period=_period(line),
                amount=format_amount(line.amount.amount),
            )
        )
    return result


def _context(invoice: Invoice) -> dict[str, object]:
    return {
        "invoice": invoice,
        "is_credit_note": invoice.is_credit_note,
        "is_void": invoice.status == InvoiceStatus.VOID,
        "is_credited": invoice.status == InvoiceStatus.CREDITED,
        "credited_number": invoice.credited_invoice.number if invoice.credited_invoice else None,
        "seller_account": format_account(invoice.seller_account),
        "seller_organisation_number": format_organisation_number(
            invoice.seller_organisation_number
        ),
        "lines": _lines(invoice),
        "total": format_amount(invoice.total.amount),
        "currency": str(invoice.total.currency),
    }


def render_html(invoice: Invoice) -> str:
    """The invoice as HTML in its language (loaded with `invoices_for_pdf`)."""
    with translation.override(language_of(invoice)):
        return render_to_string(TEMPLATE, _context(invoice))


# ------------------------------------------------------------------ WeasyPrint


@functools.cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@functools.cache
def _stylesheet() -> CSS:
    # Parsed once per process: most of a small document's time is layout, not CSS.
    return CSS(filename=str(STYLESHEET), font_config=_font_config())


def _document(html: str):  # type: ignore[no-untyped-def]
    return HTML(string=html, base_url=str(STYLESHEET.parent)).render(
        stylesheets=[_stylesheet()], font_config=_font_config()
    )


def render_pdf(invoice: Invoice) -> bytes:
    """Render the invoice now (no cache)."""
    return _document(render_html(invoice)).write_pdf()


def invoices_pdf_bundle(invoices: Iterable[Invoice]) -> bytes:
    """One PDF of all `invoices` (their order), each starting on a new page in its own
    language: the paper list of members without e-mail (issue 6 scope 4)."""
    wanted = [invoice.pk for invoice in invoices]
    loaded = {invoice.pk: invoice for invoice in invoices_for_pdf(wanted)}
    documents = [_document(render_html(loaded[pk])) for pk in wanted if pk in loaded]
    if not documents:
        return b""
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()


# ------------------------------------------------------------------ the cache


def storage_name(invoice: Invoice, variant: str | None = None) -> str:
    identity = "|".join(
        str(part)
        for part in (
            invoice.pk,
            invoice.club_id,
            invoice.number,
            invoice.kid,
            invoice.created_at.isoformat() if invoice.created_at else "",
            variant or variant_of(invoice),
            language_of(invoice),
            TEMPLATE_VERSION,
        )
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return f"{STORAGE_FOLDER}/{invoice.club_id}/{invoice.number}-{digest}.pdf"


def cached_pdf(invoice: Invoice) -> bytes | None:
    name = storage_name(invoice)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def _store(invoice: Invoice, content: bytes) -> str:
    name = storage_name(invoice)
    if default_storage.exists(name):
        return name  # another worker was first: the same content
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # lost a race to another worker: keep theirs
        default_storage.delete(saved)
    for variant in ("issued", "void", "credited"):  # the invoice's earlier variants
        stale = storage_name(invoice, variant)
        if stale != name and default_storage.exists(stale):
            default_storage.delete(stale)
    return name


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The invoice's PDF: cached, or rendered now and cached."""
    cached = cached_pdf(invoice)
    if cached is not None:
        return cached
    loaded = invoices_for_pdf([invoice.pk]).first()
    if loaded is None:
        raise Invoice.DoesNotExist(invoice.pk)
    content = render_pdf(loaded)
    _store(loaded, content)
    return content


def invoice_pdf_render(*, invoice_ids: Sequence[int], force: bool = False) -> int:
    """Render and cache the PDFs of `invoice_ids` that are not cached yet (all with `force`);
    how many were rendered. Missing ids are skipped: idempotent, safe to run twice."""
    rendered = 0
    for invoice in invoices_for_pdf(invoice_ids):
        if not force and default_storage.exists(storage_name(invoice)):
            continue
        _store_fresh(invoice, render_pdf(invoice), replace=force)
        rendered += 1
    return rendered


def _store_fresh(invoice: Invoice, content: bytes, *, replace: bool) -> None:
    if replace:
        name = storage_name(invoice)
        if default_storage.exists(name):
            default_storage.delete(name)
    _store(invoice, content)
