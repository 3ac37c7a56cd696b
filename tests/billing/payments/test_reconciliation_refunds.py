"""The reconciliation list resolves over-payments and payments without an invoice by a refund
(issue 6 scopes 6-7; `billing.ledger.overpayments`): the buttons, the refund page, what the
list shows afterwards, the payout list and the accountant's CSV."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from billing.ledger import overpayments
from billing.models_invoicing import Invoice, InvoiceKind
from billing.models_ledger import Refund, RefundEvent, RefundState
from billing.models_payments import MatchState, Payment, PaymentEvent
from billing.payments import services
from tests.billing.payments.helpers import SEASON, Tx, make_invoice, ocr_file
from tests.conftest import World


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"


@pytest.fixture
def refund_world(world: World) -> World:
    """Invoice 1 (500) paid 1000 (over), invoice 2 (700) paid 700 twice, and a payment of
    300 whose KID no invoice has: one OCR file."""
    make_invoice(world.club_a, world.player_a, 1, "500.00")
    make_invoice(world.club_a, world.player_a, 2, "700.00")
    world.admin = world.user("official_this_club", MANAGE)
    services.payment_file_import(
        actor=world.admin,
        club=world.club_a,
        content=ocr_file(
            [
                Tx("0000001", "1000.00", "1"),
                Tx("0000002", "700.00", "2"),
                Tx("0000002", "700.00", "3"),
                Tx("5555", "300.00", "4"),
            ]
        ),
        file_name="march.txt",
    )
    world.over = Payment.objects.get(kid="0000001")
    world.twice = Payment.objects.get(kid="0000002", match_state=MatchState.OVER)
    world.loose = Payment.objects.get(kid="5555")
    return world


def _client(world):
    return world.client("official_this_club", MANAGE)


def _list(world):
    return _client(world).get(reverse("billing:payment-reconciliation", args=[world.club_a.pk]))


def _state():
    return (
        sorted(Refund.objects.values_list("pk", "state", "amount")),
        RefundEvent.objects.count(),
        PaymentEvent.objects.count(),
        sorted(Payment.objects.values_list("pk", "invoice_id", "match_state", "reconciled_at")),
    )


def test_list_offers_the_refund_of_the_excess_and_to_the_payer(refund_world):
    response = _list(refund_world)

    assert response.status_code == 200
    rows = {p.pk: p for p in response.context["page"].object_list}
    assert set(rows) == {refund_world.over.pk, refund_world.twice.pk, refund_world.loose.pk}
    assert rows[refund_world.over.pk].refund_left == Decimal("500.00")
    assert rows[refund_world.twice.pk].refund_left == Decimal("700.00")
    html = response.content.decode()
    assert "Refund the excess (NOK 500)" in html
    assert "Refund the excess (NOK 700)" in html
    assert 'name="amount" value="500.00"' in html
    assert "Refund to the payer" in html
    assert reverse("billing:payment-refund", args=[refund_world.loose.pk]) in html


def test_refund_the_excess_from_the_list_once_and_the_payment_leaves_it(refund_world):
    client = _client(refund_world)
    url = reverse("billing:payment-refund", args=[refund_world.over.pk])

    response = client.post(url, {"amount": "500.00", "note": ""})
    again = client.post(url, {"amount": "500.00", "note": ""})  # a double submit

    assert (response.status_code, again.status_code) == (302, 302)
    [refund] = Refund.objects.all()
    assert (refund.payment_id, refund.amount, refund.state) == (
        refund_world.over.pk,
        Money("500.00", "NOK"),
        RefundState.PROPOSED,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The refund is proposed; approve it on the payout list."
    ]
    rows = [p.pk for p in _list(refund_world).context["page"].object_list]
    assert refund_world.over.pk not in rows


def test_stale_amount_proposes_nothing_and_says_why(refund_world):
    client = _client(refund_world)
    url = reverse("billing:payment-refund", args=[refund_world.over.pk])
    before = _state()

    response = client.post(url, {"amount": "400.00", "note": ""})

    assert response.status_code == 200
    assert str(overpayments.AMOUNT_CHANGED) in response.content.decode()
    assert _state() == before


def test_refund_page_to_the_payer_prefills_and_checks_the_account_s04(refund_world):
    Payment.objects.filter(pk=refund_world.loose.pk).update(
        payer_name="Ola Hansen", payer_account="12345678903"
    )
    client = _client(refund_world)
    url = reverse("billing:payment-refund", args=[refund_world.loose.pk])

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="12345678903"' in html and 'value="Ola Hansen"' in html
    assert "No invoice has this KID." in html
    before = _state()

    bad = client.post(
        url, {"amount": "300.00", "account_number": "86011117949", "account_owner": "Ola Hansen"}
    )

    assert bad.status_code == 200
    assert str(overpayments.BAD_ACCOUNT) in bad.content.decode()
    assert _state() == before

    good = client.post(
        url, {"amount": "300.00", "account_number": "8601.11.17947", "account_owner": "Ola Hansen"}
    )

    assert good.status_code == 302
    [refund] = Refund.objects.all()
    assert (refund.account_number, refund.account_owner, refund.payee_id, refund.amount) == (
        "86011117947",
        "Ola Hansen",
        None,
        Money("300.00", "NOK"),
    )


def test_assign_is_refused_on_the_page_while_the_payment_is_refunded(refund_world):
    overpayments.refund_propose_unmatched(
        actor=None,
        payment=refund_world.loose,
        account_number="86011117947",
        account_owner="Ola Hansen",
    )
    before = _state()

    response = _client(refund_world).post(
        reverse("billing:payment-assign", args=[refund_world.loose.pk]), {"invoice_number": 1}
    )

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        str(overpayments.PAYMENT_REFUNDING)
    ]
    assert _state() == before


def test_partly_refunded_payment_shows_what_is_left(refund_world):
    overpayments.refund_propose_overpayment(actor=None, payment=refund_world.over)
    bill = Invoice.objects.get(number=1)
    Invoice.objects.create(
        club=refund_world.club_a,
        number=3,
        kind=InvoiceKind.CREDIT_NOTE,
        credited_invoice=bill,
        season=SEASON,
        payer=bill.payer,
        buyer_name=bill.buyer_name,
        seller_name=bill.seller_name,
        issue_date=datetime.date(SEASON, 4, 1),
        due_date=datetime.date(SEASON, 4, 1),
        total=Money("-200", "NOK"),
    )

    response = _list(refund_world)

    rows = {p.pk: p for p in response.context["page"].object_list}
    assert (rows[refund_world.over.pk].refunded, rows[refund_world.over.pk].refund_left) == (
        Decimal("500.00"),
        Decimal("200.00"),
    )
    assert "Refunded NOK 500, NOK 200 left" in response.content.decode()


def test_reconciliation_list_query_count_with_refunds(refund_world, django_assert_max_num_queries):
    for number in range(10, 30):
        make_invoice(refund_world.club_a, refund_world.player_a, number, "100.00")
    services.payment_file_import(
        actor=refund_world.admin,
        club=refund_world.club_a,
        content=ocr_file(
            [Tx(f"{n:07d}", "150.00", str(100 + n)) for n in range(10, 30)],
            transmission="1000099",
        ),
        file_name="many.txt",
    )
    overpayments.refund_propose_overpayment(actor=None, payment=refund_world.twice)
    client = _client(refund_world)
    url = reverse("billing:payment-reconciliation", args=[refund_world.club_a.pk])
    client.get(url)

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 22  # 20 + over + loose


def test_payout_list_approve_and_pay_and_the_csv_show_the_money_out(refund_world):
    client = _client(refund_world)
    refund = overpayments.refund_propose_unmatched(
        actor=None,
        payment=refund_world.loose,
        account_number="86011117947",
        account_owner="Ola Hansen",
    )
    listing = client.get(reverse("billing:refund-list", args=[refund_world.club_a.pk]))
    assert "Payment without an invoice" in listing.content.decode()
    assert "Ola Hansen" in listing.content.decode()

    approved = client.post(reverse("billing:refund-approve", args=[refund.pk]))
    assert [str(m) for m in get_messages(approved.wsgi_request)] == ["The refund is approved."]
    payout = b"".join(
        client.get(
            reverse("billing:refund-payout-export", args=[refund_world.club_a.pk])
        ).streaming_content
    ).decode("utf-8-sig")
    assert payout.splitlines()[1] == f"Ola Hansen;8601.11.17947;300,00;REF-{refund.pk} KID 5555"
    client.post(
        reverse("billing:refund-mark-paid", args=[refund_world.club_a.pk]), {"refunds": [refund.pk]}
    )
    refund.refresh_from_db()
    assert refund.state == RefundState.PAID

    def csv(kind):
        url = reverse("billing:ledger-export", args=[refund_world.club_a.pk, kind])
        content = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        return [line.split(";") for line in content.splitlines()]

    refunds = csv("refunds")
    header, row = refunds
    assert dict(zip(header, row, strict=True)) == {
        "refund_id": str(refund.pk),
        "season": str(SEASON),
        "reason": "unmatched_payment",
        "rule": "",
        "person": "",
        "paid_to": "Ola Hansen",
        "account": "8601.11.17947",
        "amount": "300,00",
        "state": "paid",
        "credit_note_number": "",
        "paid_on": refund.paid_on.isoformat(),
        "payment_paid_date": refund_world.loose.paid_date.isoformat(),
        "payment_kid": "5555",
        "payment_invoice_number": "",
    }
    payments = csv("payments")
    by_kid = {row[3]: dict(zip(payments[0], row, strict=True)) for row in payments[1:]}
    assert by_kid["5555"]["refunded_paid"] == "300,00"
    assert by_kid["0000001"]["refunded_paid"] == "0,00"
