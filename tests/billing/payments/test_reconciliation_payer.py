"""The reconciliation list names who paid (issue 6 scope 6): the payer's name from the bank
data, else the buyer of the payment's invoice; amounts in one format; the query count does
not grow with the rows."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models_payments import Payment
from billing.payments import services
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file
from tests.conftest import World
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _import(world: World, transactions: list[Tx], transmission: str = "1000081") -> None:
    services.payment_file_import(
        actor=world.user("official_this_club", MANAGE),
        club=world.club_a,
        content=ocr_file(transactions, transmission=transmission),
        file_name=f"{transmission}.txt",
    )


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def test_issue6_reconciliation_list_names_the_payer(world):
    buyer = PersonFactory(first_name="Kari", last_name="Nordmann")
    make_invoice(world.club_a, buyer, 1, "1500.00")
    _import(world, [Tx("0000001", "1000.00", "1"), Tx("5555", "300.00", "2")])
    named = Payment.objects.get(kid="5555")
    Payment.objects.filter(pk=named.pk).update(payer_name="Ola Bankkunde")
    client = world.client("official_this_club", MANAGE)

    response = client.get(reverse("billing:payment-reconciliation", args=[world.club_a.pk]))

    rows = _rows(response.content.decode())
    assert len(rows) == 2
    partial = next(row for row in rows if "0000001" in row)
    unmatched = next(row for row in rows if "5555" in row)
    # the bank's payer when the file has one, else the invoice's buyer
    assert '<td class="payment-payer">Kari Nordmann</td>' in partial
    assert '<td class="payment-payer">Ola Bankkunde</td>' in unmatched
    assert '<td class="num">1,000.00</td>' in partial  # the amount as the page writes money
    assert '<td class="num">300.00</td>' in unmatched


def test_issue6_reconciliation_payer_column_query_count(world, django_assert_max_num_queries):
    for number in range(1, 21):
        make_invoice(world.club_a, PersonFactory(), number, "100.00")
    _import(world, [Tx(f"{n:07d}", "50.00", str(n)) for n in range(1, 21)])
    client = world.client("official_this_club", MANAGE)
    url = reverse("billing:payment-reconciliation", args=[world.club_a.pk])
    client.get(url)

    with django_assert_max_num_queries(12):
        response = client.get(url)

    rows = _rows(response.content.decode())
    assert len(rows) == 20
    assert all('<td class="payment-payer"><span class="muted">' not in row for row in rows)
