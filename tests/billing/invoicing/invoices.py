"""Invoices of the example club for the PDF and page tests (issue 6 scope 3): a committed
membership run, worked in this process, with the club's address and D-11 help text."""

from __future__ import annotations

import datetime

from billing.invoicing import services
from billing.models import FeeSchedule, Invoice, InvoicingRun
from tests.billing.factories import SEASON, ExampleClub

ISSUE_DATE = datetime.date(SEASON, 1, 15)
HELP_TEXT = "Kan du ikke betale? Kontakt daglig leder: alle skal kunne være med."


def invoice_example_club(club: ExampleClub, fee_kinds=("membership",)) -> InvoicingRun:
    organisation = club.world.club_a
    organisation.street, organisation.postcode, organisation.city = (
        "Kierschows gate 1",
        "0477",
        "Oslo",
    )
    organisation.save()
    FeeSchedule.objects.filter(club=organisation, season=SEASON).update(invoice_help_text=HELP_TEXT)
    run = services.invoicing_run_start(
        actor=None,
        club=organisation,
        season=SEASON,
        fee_kinds=list(fee_kinds),
        issue_date=ISSUE_DATE,
        queue=False,
    )
    services.invoicing_work(run=run)
    run.refresh_from_db()
    return run


def invoice_of(club: ExampleClub, name: str) -> Invoice:
    return Invoice.objects.get(payer=club[name], kind="invoice")
