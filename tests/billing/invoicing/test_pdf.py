"""PDF invoices (issue 6 scope 3; S-05, D-11, S-04): real PDFs rendered with WeasyPrint and
read back with pypdf (STYLE 19), in Norwegian by default and English for a payer who chose it;
the credit note and void variants; the cache; the bundle; the Celery task."""

import io
import re

import pypdf
import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from billing.invoicing import pdf, services, tasks_pdf
from billing.models import Invoice
from members.models import User
from tests.billing.factories import SEASON
from tests.billing.invoicing.invoices import HELP_TEXT, invoice_example_club, invoice_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_s04_account_and_organisation_number_formats():
    assert pdf.format_account("86011117947") == "8601.11.17947"
    assert pdf.format_account("") == ""
    assert pdf.format_organisation_number("988077917") == "988 077 917"


def test_s05_pdf_has_the_invoice_content_in_norwegian(club):
    invoice_example_club(club)
    invoice = invoice_of(club, "pensioner")

    content = pdf.invoice_pdf_bytes(invoice)

    assert content.startswith(b"%PDF")
    text = flat(text_of(content))
    assert "Sagene IF" in text  # seller
    assert "Organisasjonsnummer: 988 077 917" in text
    assert "Kierschows gate 1, 0477 Oslo" in text
    assert "Bankkonto 8601.11.17947" in text
    assert invoice.buyer_name in text  # buyer
    assert f"Fakturadato 15.01.{SEASON}" in text
    assert f"Forfallsdato 01.03.{SEASON}" in text
    assert f"KID {invoice.kid}" in text
    assert str(invoice.number) in text
    assert f"Medlemskontingent {SEASON}" in text  # what is sold, for which period (S-05)
    # the lines' descriptions in the invoice's language too, as on the invoice page
    assert f"Medlemskontingent {SEASON} pensioner 200 (D-01 pensioner)" in text
    assert "Fakturagebyr 50 (M-10)" in text
    assert "Membership fee" not in text and "Invoice fee" not in text
    assert "200,00" in text and "50,00" in text  # D-01 pensioner, M-10 invoice fee
    assert "Totalt (NOK) 250,00" in text
    assert flat(HELP_TEXT) in text  # D-11 on every invoice
    assert "Total (NOK)" not in text


def test_s05_pdf_in_english_for_a_payer_who_chose_english(club):
    User.objects.create(username="pensioner", person=club["pensioner"], language="en")
    invoice_example_club(club)
    invoice = invoice_of(club, "pensioner")
    assert invoice.language == "en"

    text = flat(text_of(pdf.invoice_pdf_bytes(invoice)))

    assert "Invoice date 15.01." in text and "Due date 01.03." in text
    assert "Organisation number: 988 077 917" in text
    assert "Total (NOK) 250.00" in text
    assert f"KID {invoice.kid}" in text
    assert flat(HELP_TEXT) in text
    assert f"Membership fee {SEASON} pensioner 200 (D-01 pensioner)" in text
    assert "Invoice fee 50 (M-10)" in text
    assert "Fakturadato" not in text and "Medlemskontingent" not in text


def test_d11_help_text_on_every_invoice(club):
    invoice_example_club(club)

    texts = [
        flat(text_of(pdf.render_pdf(i)))
        for i in pdf.invoices_for_pdf(Invoice.objects.values_list("pk", flat=True))
    ]

    assert len(texts) == Invoice.objects.count() > 3
    assert all(flat(HELP_TEXT) in text for text in texts)


def test_s05_credit_note_references_the_credited_invoice(club):
    invoice_example_club(club)
    invoice = invoice_of(club, "mother")
    note = services.invoice_credit(actor=None, invoice=invoice, reason="Flyttet")

    text = flat(text_of(pdf.invoice_pdf_bytes(note)))

    assert "Kreditnota" in text  # the invoice's language: bokmål
    assert f"Krediterer faktura {invoice.number}" in text
    assert str(note.number) in text
    assert "Flyttet" in text
    with translation.override("nb"):  # the amount as the bokmål invoice writes it
        amount = pdf.format_amount(invoice.total.amount)
    assert "-" + amount in text, text
    assert "KID" not in text  # nothing to pay


def test_s05_void_invoice_is_marked_and_rerendered(club):
    invoice_example_club(club)
    invoice = invoice_of(club, "pensioner")
    issued_text = flat(text_of(pdf.invoice_pdf_bytes(invoice)))
    issued_name = pdf.storage_name(invoice)
    assert "ANNULLERT" not in issued_text and default_storage.exists(issued_name)

    voided = services.invoice_void(actor=None, invoice=invoice, reason="Feil adresse")
    text = flat(text_of(pdf.invoice_pdf_bytes(voided)))

    assert "ANNULLERT: denne fakturaen er annullert" in text
    assert pdf.storage_name(voided) != issued_name
    assert default_storage.exists(pdf.storage_name(voided))
    assert not default_storage.exists(issued_name)  # the stale PDF is gone


def test_issue6_pdf_cached_once_rendered(club, monkeypatch):
    invoice_example_club(club)
    invoice = invoice_of(club, "pensioner")
    first = pdf.invoice_pdf_bytes(invoice)
    monkeypatch.setattr(pdf, "render_pdf", lambda invoice: pytest.fail("rendered again"))

    assert pdf.invoice_pdf_bytes(invoice) == first


def test_issue6_render_task_is_idempotent_and_skips_missing(club):
    invoice_example_club(club)
    ids = list(Invoice.objects.values_list("pk", flat=True))

    assert tasks_pdf.render_invoice_pdfs(invoice_ids=[*ids, 999999]) == len(ids)
    assert tasks_pdf.render_invoice_pdfs(invoice_ids=ids) == 0  # cached: nothing to do
    assert tasks_pdf.render_invoice_pdf(invoice_id=ids[0]) == 0
    assert all(default_storage.exists(pdf.storage_name(i)) for i in Invoice.objects.all())


def test_issue6_bundle_has_every_invoice_in_its_language(club):
    User.objects.create(username="pensioner", person=club["pensioner"], language="en")
    invoice_example_club(club)
    invoices = list(Invoice.objects.order_by("number"))

    reader = pypdf.PdfReader(io.BytesIO(pdf.invoices_pdf_bundle(invoices)))

    assert len(reader.pages) >= len(invoices)
    text = flat("\n".join(page.extract_text() for page in reader.pages))
    assert all(f"KID {invoice.kid}" in text for invoice in invoices)
    assert "Due date" in text and "Forfallsdato" in text
    assert pdf.invoices_pdf_bundle([]) == b""
