"""Issue 6 scope 1: six starts of the same run at once, and their workers sharing the
chunks, give exactly one invoice per payer and one charge per person, fee and period, with
contiguous numbers (the advisory lock, SKIP LOCKED and the unique index at work)."""

import datetime
import threading

import pytest
from django.db import connection

from billing.invoicing import services
from billing.models import Invoice, InvoiceLine, InvoicingRun
from tests.billing.factories import SEASON, build_example_club

STARTS = 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_issue6_six_concurrent_starts_invoice_each_member_once(world):
    club = build_example_club(world)
    barrier = threading.Barrier(STARTS)
    runs, errors = [], []

    def start() -> None:
        try:
            barrier.wait()
            run = services.invoicing_run_start(
                actor=None,
                club=club.world.club_a,
                season=SEASON,
                fee_kinds=["membership"],
                issue_date=datetime.date(SEASON, 1, 15),
                chunk_payers=1,
                queue=False,
            )
            runs.append(run.pk)
            services.invoicing_work(run=run)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(set(runs)) == 1 and InvoicingRun.objects.count() == 1
    run = InvoicingRun.objects.get()
    assert run.state == "done"
    assert run.chunks_done == run.chunks_total > 1
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert Invoice.objects.values("payer").distinct().count() == len(numbers)
    charges = InvoiceLine.objects.filter(fee="membership", line_kind="charge")
    persons = list(charges.values_list("person_id", flat=True))
    assert len(persons) == len(set(persons)) > 10
    assert run.invoices_created == len(numbers)
