"""Benchmark (issue 6 acceptance): importing an OCR Giro file of 100,000 transactions takes
under 30 s.

Seeds (once) its own database (BENCH_PAYMENTS_DATABASE, default `clubadmin_bench_payments`)
with one club and BENCH_OCR_TRANSACTIONS invoices (default 100,000) with KIDs, inserted
directly with SQL. Builds an OCR file with netsgiro's writer (one transaction per invoice:
most paid exactly, some partly, some over, some unknown KIDs, a few reversals), then times
`payment_file_import` (parse, match, insert, events) and prints:
    BENCH payments.ocr_import_100k.seconds <s> s
    BENCH payments.ocr_parse_100k.seconds <s> s
    BENCH payments.ocr_reimport_same_file.seconds <s> s
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchdb import bench_line, setup_django

DATABASE_NAME = os.environ.get("BENCH_PAYMENTS_DATABASE", "clubadmin_bench_payments")
TRANSACTIONS = int(os.environ.get("BENCH_OCR_TRANSACTIONS", "100000"))
LIMIT_SECONDS = 30.0
NETS_DATE = datetime.date(2026, 3, 5)
CLUB_NAME = "Bench OCR IL"


def _club_and_invoices():  # type: ignore[no-untyped-def]
    from django.db import connection, models

    from billing.models_invoicing import Invoice
    from members.models import Organisation, OrganisationType
    from tests.members.factories import PersonFactory, make_organisation

    club = Organisation.objects.filter(name=CLUB_NAME).first()
    if club is None:
        federation = make_organisation("Bench OCR forbund", OrganisationType.FEDERATION)
        club = make_organisation(CLUB_NAME, OrganisationType.CLUB, federation)
    if Invoice.objects.filter(club=club).count() >= TRANSACTIONS:
        return club
    Invoice.objects.filter(club=club).delete()
    payer = PersonFactory()
    values = {
        "club_id": str(club.pk),
        "number": "n",
        "kind": "'invoice'",
        "status": "'issued'",
        "season": "2026",
        "payer_id": str(payer.pk),
        "buyer_name": "'Bench Payer'",
        "seller_name": "'Bench OCR IL'",
        "issue_date": "'2026-01-15'",
        "due_date": "'2026-03-01'",
        "kid": "lpad(n::text, 10, '0')",
        "total": "500.00",
        "total_currency": "'NOK'",
        "created_at": "now()",
    }
    columns, expressions = [], []
    for field in Invoice._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in values:
            expressions.append(values[field.column])
        elif field.null:
            expressions.append("NULL")
        elif isinstance(field, models.CharField | models.TextField):
            expressions.append("''")
        else:
            raise RuntimeError(f"no bench value for {field.column}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO billing_invoice ({', '.join(columns)})"  # noqa: S608 - fixed names
            f" SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS n",
            [TRANSACTIONS],
        )
    return club


def _ocr_file(count: int) -> bytes:
    import netsgiro

    transmission = netsgiro.Transmission(
        number="1000081", data_transmitter="00008080", data_recipient="00008080", date=NETS_DATE
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id="000000000",
        number="4000086",
        account="86011117947",
    )
    for n in range(1, count + 1):
        amount = {0: "250.00", 1: "600.00"}.get(n % 50, "500.00")
        kid = f"{n:010d}" if n % 97 else f"9{n:09d}"  # about 1% unknown KIDs
        assignment.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=18 if n % 1000 == 0 else 10,
                number=n,
                date=NETS_DATE,
                amount=Decimal(amount),
                kid=kid,
                reference=f"{n:09d}",
                text=None,
                centre_id="13",
                day_code=5,
                partial_settlement_number=1,
                partial_settlement_serial_number=f"{n % 100000:05d}",
                sign="0",
                form_number="9636827194",
                bank_date=NETS_DATE,
                debit_account="99990000000",
                filler=None,
            )
        )
    return transmission.to_ocr().encode("iso-8859-1")


def _clear(club) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM billing_paymentevent WHERE payment_id IN"
            " (SELECT id FROM billing_payment WHERE club_id = %s)",
            [club.pk],
        )
        cursor.execute("DELETE FROM billing_payment WHERE club_id = %s", [club.pk])
        cursor.execute("DELETE FROM billing_paymentfile WHERE club_id = %s", [club.pk])


def main() -> int:
    setup_django(DATABASE_NAME)
    from billing.payments import ocr, services

    club = _club_and_invoices()
    content = _ocr_file(TRANSACTIONS)
    _clear(club)

    started = time.perf_counter()
    ocr.parse(content)
    parse_seconds = time.perf_counter() - started

    from unittest import mock

    with mock.patch("billing.payments.services._require_billing"):  # no user in the bench
        started = time.perf_counter()
        payment_file = services.payment_file_import(
            actor=None, club=club, content=content, file_name="bench.ocr"
        )
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        services.payment_file_import(actor=None, club=club, content=content, file_name="again")
        reimport_seconds = time.perf_counter() - started

    print(bench_line("payments.ocr_import_100k.seconds", import_seconds, "s"))
    print(bench_line("payments.ocr_parse_100k.seconds", parse_seconds, "s"))
    print(bench_line("payments.ocr_reimport_same_file.seconds", reimport_seconds, "s"))
    print(
        f"recorded {payment_file.recorded_count} of {payment_file.transactions_count}, "
        f"matched {payment_file.matched_count}, to reconcile {payment_file.to_reconcile_count}"
    )
    if payment_file.recorded_count != TRANSACTIONS:
        print("FAIL: not every transaction was recorded")
        return 1
    if import_seconds > LIMIT_SECONDS:
        print(f"FAIL: the import took more than {LIMIT_SECONDS:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
