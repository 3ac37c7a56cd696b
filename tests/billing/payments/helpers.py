"""OCR Giro test files built with netsgiro's own writer (S-02), and invoices to pay."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import netsgiro
from djmoney.money import Money

from billing.models_invoicing import Invoice
from members.models import Organisation, Person

NETS_DATE = datetime.date(2026, 3, 5)
SEASON = 2026


@dataclass(frozen=True)
class Tx:
    kid: str
    amount: str
    reference: str
    type: int = 10  # S-02: 18 and 20 are reversals
    number: int | None = None  # the transaction number in its assignment


def transaction(tx: Tx, number: int) -> netsgiro.Transaction:
    return netsgiro.Transaction(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        type=tx.type,
        number=tx.number or number,
        date=NETS_DATE,
        amount=Decimal(tx.amount),
        kid=tx.kid,
        reference=tx.reference.zfill(9),
        text="Reversal" if tx.type == 20 else None,
        centre_id="13",
        day_code=5,
        partial_settlement_number=1,
        partial_settlement_serial_number="00001",
        sign="0",
        form_number="9636827194",
        bank_date=NETS_DATE,
        debit_account="99990000000",
        filler=None,
    )


def ocr_file(transactions: list[Tx], *, transmission: str = "1000081") -> bytes:
    """An OCR Giro file (ISO-8859-1) with one OCR Giro assignment of `transactions`."""
    trans = netsgiro.Transmission(
        number=transmission, data_transmitter="00008080", data_recipient="00008080", date=NETS_DATE
    )
    assignment = trans.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id="000000000",
        number="4000086",
        account="86011117947",
    )
    for number, tx in enumerate(transactions, start=1):
        assignment.transactions.append(transaction(tx, number))
    return (trans.to_ocr() + "\n").encode("iso-8859-1")


def make_invoice(club: Organisation, payer: Person, number: int, total: str, **extra) -> Invoice:
    return Invoice.objects.create(
        club=club,
        number=number,
        season=SEASON,
        payer=payer,
        buyer_name=payer.full_name,
        seller_name=club.name,
        issue_date=datetime.date(SEASON, 1, 15),
        due_date=datetime.date(SEASON, 3, 1),
        kid=extra.pop("kid", f"{number:07d}"),
        total=Money(total, "NOK"),
        **extra,
    )
