"""Invoices for the delivery and reminder tests."""

from __future__ import annotations

import datetime
import itertools

from djmoney.money import Money

from billing.models_invoicing import Invoice, InvoiceLine
from members.models import Organisation, Person

SEASON = 2026
DUE = datetime.date(SEASON, 3, 1)
_numbers = itertools.count(1)


def invoice_for(
    club: Organisation,
    payer: Person,
    persons: list[Person] | None = None,
    *,
    total: str = "500.00",
    email: str = "payer@example.org",
    language: str = "",
    due_date: datetime.date = DUE,
    fee: str = "membership",
) -> Invoice:
    """An issued invoice of `payer` with one line per person of `persons` (default: payer)."""
    number = next(_numbers)
    invoice = Invoice.objects.create(
        club=club,
        number=number,
        season=SEASON,
        payer=payer,
        buyer_name=payer.full_name,
        buyer_email=email,
        buyer_street="Testveien 1",
        buyer_postcode="0150",
        buyer_city="Oslo",
        seller_name=club.name,
        seller_account="86011117947",
        issue_date=datetime.date(SEASON, 1, 15),
        due_date=due_date,
        kid=f"{number:07d}",
        total=Money(total, "NOK"),
        language=language,
    )
    for position, person in enumerate(persons or [payer], start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=club,
            person=person,
            position=position,
            fee=fee,
            key_fee=fee,
            line_kind="charge",
            period_start=datetime.date(SEASON, 1, 1),
            period_end=datetime.date(SEASON, 12, 31),
            description=f"Membership fee {SEASON}",
            amount=Money(total, "NOK"),
        )
    return invoice
