"""Access matrix (STYLE 17) of the payment pages (issue 6 scope 6): anonymous, a member, an
official without billing.manage, one with it in another club, one with it in this club,
federation staff. Denied = 404 (302 to login for anonymous) AND nothing changed. Lists have
query-count limits; the manual form is double-submit safe through its token."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from billing.models_payments import MatchState, Payment, PaymentEvent, PaymentFile
from billing.payments import services
from tests.access_matrix import HTML_DENIED, Case, check_case, get
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file
from tests.conftest import ROLES, World


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"


@pytest.fixture
def pay_world(world: World) -> World:
    world.invoice = make_invoice(world.club_a, world.player_a, 1, "500.00")
    world.invoice_2 = make_invoice(world.club_a, world.player_a, 2, "300.00")
    admin = world.user("official_this_club", MANAGE)
    world.payment_file = services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file([Tx("0000001", "200.00", "1"), Tx("5555", "300.00", "2")]),
        file_name="first.txt",
    )
    world.unmatched = Payment.objects.get(kid="5555")
    world.partial = Payment.objects.get(kid="0000001")
    return world


def state(world: World) -> object:
    return (
        sorted(
            Payment.objects.values_list(
                "pk", "invoice_id", "amount", "match_state", "reconciled_at"
            )
        ),
        PaymentFile.objects.count(),
        PaymentEvent.objects.count(),
    )


def upload(world, client):
    content = ocr_file([Tx("0000002", "300.00", "9")], transmission="1000090")
    return client.post(
        reverse("billing:payment-files", args=[world.club_a.pk]),
        {"file": SimpleUploadedFile("second.txt", content)},
    )


def post(url, data):  # type: ignore[no-untyped-def]
    return lambda world, client: client.post(url(world), data(world))


CASES = [
    Case(
        "files",
        MANAGE,
        get(lambda w: reverse("billing:payment-files", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "file-detail",
        MANAGE,
        get(lambda w: reverse("billing:payment-file-detail", args=[w.payment_file.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "reconciliation",
        MANAGE,
        get(lambda w: reverse("billing:payment-reconciliation", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "register-form",
        MANAGE,
        get(lambda w: reverse("billing:payment-register", args=[w.invoice.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case("upload", MANAGE, upload, 302, HTML_DENIED, 302, state=state),
    Case(
        "assign",
        MANAGE,
        post(
            lambda w: reverse("billing:payment-assign", args=[w.unmatched.pk]),
            lambda w: {"invoice_number": 2},
        ),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
    Case(
        "reconcile",
        MANAGE,
        post(
            lambda w: reverse("billing:payment-reconcile", args=[w.partial.pk]),
            lambda w: {"note": "ok"},
        ),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
    Case(
        "register",
        MANAGE,
        post(
            lambda w: reverse("billing:payment-register", args=[w.invoice_2.pk]),
            lambda w: {"amount": "300.00", "paid_date": "2026-03-02", "token": "t1", "note": ""},
        ),
        302,
        HTML_DENIED,
        302,
        state=state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_payment_pages_access(pay_world, case, role):
    check_case(pay_world, case, role)


def test_upload_page_shows_the_result_and_same_file_again_changes_nothing(pay_world):
    client = pay_world.client("official_this_club", MANAGE)
    content = ocr_file([Tx("0000002", "300.00", "9")], transmission="1000090")
    url = reverse("billing:payment-files", args=[pay_world.club_a.pk])

    response = client.post(url, {"file": SimpleUploadedFile("b.txt", content)}, follow=True)
    assert response.status_code == 200
    assert b"b.txt" in response.content
    before = state(pay_world)

    again = client.post(url, {"file": SimpleUploadedFile("b2.txt", content)}, follow=True)

    assert again.status_code == 200
    assert "This file was imported before; nothing changed." in again.content.decode()
    assert state(pay_world) == before


def test_upload_of_a_malformed_file_shows_the_line_and_imports_nothing(pay_world):
    client = pay_world.client("official_this_club", MANAGE)
    lines = ocr_file([Tx("0000002", "300.00", "9")]).decode("iso-8859-1").splitlines()
    lines[2] = lines[2][:60]
    before = state(pay_world)

    response = client.post(
        reverse("billing:payment-files", args=[pay_world.club_a.pk]),
        {"file": SimpleUploadedFile("bad.txt", "\n".join(lines).encode("iso-8859-1"))},
    )

    assert response.status_code == 200
    assert "line 3: a record is 80 characters long, this one is 60." in response.content.decode()
    assert state(pay_world) == before


def test_manual_form_double_submit_records_once(pay_world):
    client = pay_world.client("official_this_club", MANAGE)
    url = reverse("billing:payment-register", args=[pay_world.invoice_2.pk])
    data = {"amount": "300.00", "paid_date": "2026-03-02", "token": "same", "note": ""}

    client.post(url, data)
    client.post(url, data)

    payment = Payment.objects.get(source="manual")
    assert (payment.amount.amount, payment.match_state) == (Decimal("300.00"), MatchState.MATCHED)


def test_reconciliation_list_query_count(pay_world, django_assert_max_num_queries):
    admin = pay_world.user("official_this_club", MANAGE)
    for number in range(3, 23):
        make_invoice(pay_world.club_a, pay_world.player_a, number, "100.00")
    services.payment_file_import(
        actor=admin,
        club=pay_world.club_a,
        content=ocr_file([Tx(f"{n:07d}", "50.00", str(100 + n)) for n in range(3, 23)]),
        file_name="many.txt",
    )
    client = pay_world.client("official_this_club", MANAGE)
    url = reverse("billing:payment-reconciliation", args=[pay_world.club_a.pk])

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 22


def test_file_list_and_detail_query_count(pay_world, django_assert_max_num_queries):
    client = pay_world.client("official_this_club", MANAGE)
    with django_assert_max_num_queries(12):
        assert (
            client.get(reverse("billing:payment-files", args=[pay_world.club_a.pk])).status_code
            == 200
        )
    with django_assert_max_num_queries(12):
        url = reverse("billing:payment-file-detail", args=[pay_world.payment_file.pk])
        assert client.get(url).status_code == 200
