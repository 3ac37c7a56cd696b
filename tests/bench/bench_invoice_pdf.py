"""Benchmark (issue 6 acceptance): PDF invoice rendering throughput per core.

Renders BENCH_PDF_INVOICES (default 50) invoices of a family (four lines, help text) in one
process with WeasyPrint, the way `billing.invoicing.pdf` renders them for the cache, and
prints:
    BENCH invoice_pdf.per_second_per_core <n> pdf/s
    BENCH invoice_pdf.bundle_per_second_per_core <n> pdf/s
The invoices are built in memory (no database): only the template and WeasyPrint are timed.
The first render (font loading, CSS parsing) is done before the clock starts.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchdb import bench_line

COUNT = int(os.environ.get("BENCH_PDF_INVOICES", "50"))
HELP_TEXT = "Kan du ikke betale? Kontakt daglig leder: alle skal kunne være med."


def _invoice(number: int):  # type: ignore[no-untyped-def]
    from djmoney.money import Money

    from billing.models_invoicing import Invoice, InvoiceLine
    from members.models import Person

    invoice = Invoice(
        pk=number,
        club_id=1,
        number=number,
        season=2027,
        buyer_name="Mor Nordmann",
        buyer_street="Testveien 3",
        buyer_postcode="0150",
        buyer_city="Oslo",
        seller_name="Sagene IF",
        seller_organisation_number="988077917",
        seller_address="Kierschows gate 1, 0477 Oslo",
        seller_account="86011117947",
        issue_date=datetime.date(2027, 1, 15),
        due_date=datetime.date(2027, 3, 1),
        kid=f"{number:09d}0",
        total=Money(Decimal("3780"), "NOK"),
        help_text=HELP_TEXT,
        language="nb" if number % 4 else "en",
        created_at=datetime.datetime(2027, 1, 15, tzinfo=datetime.UTC),
    )
    lines = []
    for position, (name, amount) in enumerate(
        (("Girl", "3000"), ("Girl", "-900"), ("Boy", "2400"), ("Boy", "-720")), start=1
    ):
        line = InvoiceLine(
            pk=number * 10 + position,
            invoice=invoice,
            position=position,
            fee="activity",
            key_fee="activity",
            line_kind="charge" if not amount.startswith("-") else "reduction",
            period_start=datetime.date(2027, 1, 1),
            period_end=datetime.date(2027, 12, 31),
            description=f"Activity fee {name} football (D-07)",
            rule_id="D-07",
            amount=Money(Decimal(amount), "NOK"),
        )
        line.person = Person(pk=position, first_name=name, last_name="Nordmann")
        lines.append(line)
    invoice._prefetched_objects_cache = {"lines": lines}
    return invoice


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clubadmin.settings")
    import django

    django.setup()
    from billing.invoicing import pdf

    invoices = [_invoice(number) for number in range(1, COUNT + 1)]
    assert pdf.render_pdf(invoices[0]).startswith(b"%PDF")  # warm up: fonts, CSS
    started = time.perf_counter()
    sizes = [len(pdf.render_pdf(invoice)) for invoice in invoices]
    seconds = time.perf_counter() - started
    print(f"   {COUNT} invoices in {seconds:.2f} s, {sum(sizes) / len(sizes) / 1024:.0f} KiB each")
    print(bench_line("invoice_pdf.per_second_per_core", COUNT / seconds, "pdf/s"), flush=True)

    started = time.perf_counter()
    documents = [pdf._document(pdf.render_html(invoice)) for invoice in invoices]
    pages = [page for document in documents for page in document.pages]
    documents[0].copy(pages).write_pdf()
    seconds = time.perf_counter() - started
    print(bench_line("invoice_pdf.bundle_per_second_per_core", COUNT / seconds, "pdf/s"))


if __name__ == "__main__":
    main()
