"""Invoices, payments and bank accounts for the ledger, refund and report tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from djmoney.money import Money

from billing import services as schedule_services
from billing.models_invoicing import Invoice, InvoiceLine, InvoiceNumberSeries
from billing.models_payments import MatchState, Payment, PaymentSource
from members.models import BankAccount, Organisation, Person

SEASON = 2027
ISSUE = datetime.date(SEASON, 2, 1)
DUE = datetime.date(SEASON, 3, 1)


def schedule(club: Organisation, season: int = SEASON) -> None:
    """The example club's fee schedule: volunteer fee 500, refund 100/h (M-15), moving-away
    rules for football (before 31 July) and handball (before 1 January) (D-09)."""
    schedule_services.fee_schedule_create_from_example(actor=None, club=club, season=season)


def invoice(
    club: Organisation,
    payer: Person,
    lines: list[tuple[Person, str, str, str, str]],
    *,
    season: int = SEASON,
) -> Invoice:
    """An issued invoice numbered from the club's series; lines are (person, fee, group,
    line_kind, amount)."""
    series, _created = InvoiceNumberSeries.objects.get_or_create(club=club)
    number = series.next_number
    series.next_number += 1
    series.save()
    total = sum((Decimal(amount) for *_rest, amount in lines), Decimal(0))
    created = Invoice.objects.create(
        club=club,
        number=number,
        season=season,
        payer=payer,
        buyer_name=payer.full_name,
        seller_name=club.name,
        seller_account="86011117947",
        issue_date=ISSUE,
        due_date=DUE,
        kid=f"{number:07d}",
        total=Money(total, "NOK"),
    )
    for position, (person, fee, group, kind, amount) in enumerate(lines, start=1):
        InvoiceLine.objects.create(
            invoice=created,
            club=club,
            person=person,
            position=position,
            fee=fee,
            key_fee=fee,
            group=group,
            line_kind=kind,
            period_start=datetime.date(season, 1, 1),
            period_end=datetime.date(season, 12, 31),
            description=f"{fee} {season}",
            rule_id="M-15" if fee == "volunteer_work" else "",
            amount=Money(amount, "NOK"),
        )
    return created


def pay(invoice: Invoice, amount: str | None = None, key: str = "") -> Payment:
    value = Decimal(amount) if amount is not None else invoice.total.amount
    return Payment.objects.create(
        club=invoice.club,
        invoice=invoice,
        source=PaymentSource.MANUAL,
        transaction_key=key or f"test:{invoice.pk}:{value}",
        amount=Money(value, "NOK"),
        paid_date=datetime.date(invoice.season, 2, 20),
        kid=invoice.kid,
        match_state=MatchState.MATCHED,
    )


def account(person: Person, number: str, account_type: str = "private", default: bool = True):
    return BankAccount.objects.create(
        person=person,
        account_type=account_type,
        account_number=number,
        owner_name=person.full_name,
        is_default=default,
    )
