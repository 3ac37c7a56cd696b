"""Issue 6 scope 6 acceptance: importing the same OCR file twice, and two files sharing
transactions, records each payment once (S-02); matching by KID; a malformed file imports
nothing; only billing.manage in the club may import."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from billing.models_payments import MatchState, Payment, PaymentEvent, PaymentFile
from billing.payments import ocr, selectors, services
from tests.billing.payments.helpers import Tx, make_invoice, ocr_file
from tests.conftest import World

pytestmark = pytest.mark.django_db

MANAGE = "billing.manage"


@pytest.fixture
def admin(world: World):
    return world.user("official_this_club", MANAGE)


@pytest.fixture
def invoices(world: World):
    return [
        make_invoice(world.club_a, world.player_a, 1, "500.00"),
        make_invoice(world.club_a, world.player_a, 2, "700.00"),
        make_invoice(world.club_a, world.player_a, 3, "200.00"),
    ]


def payments_state():
    return sorted(
        Payment.objects.values_list("transaction_key", "invoice_id", "amount", "match_state")
    )


def test_s02_import_matches_by_kid(world, admin, invoices):
    content = ocr_file(
        [
            Tx("0000001", "500.00", "1"),  # exact
            Tx("0000002", "300.00", "2"),  # partial
            Tx("0000003", "250.00", "3"),  # over
            Tx("9999999", "100.00", "4"),  # no such KID
        ]
    )

    payment_file = services.payment_file_import(
        actor=admin, club=world.club_a, content=content, file_name="ocr.txt"
    )

    assert payment_file.already_imported is False
    states = dict(Payment.objects.values_list("kid", "match_state"))
    assert states == {
        "0000001": MatchState.MATCHED,
        "0000002": MatchState.PARTIAL,
        "0000003": MatchState.OVER,
        "9999999": MatchState.UNMATCHED,
    }
    assert Payment.objects.get(kid="0000001").invoice == invoices[0]
    assert Payment.objects.get(kid="9999999").invoice is None
    assert (payment_file.recorded_count, payment_file.matched_count) == (4, 1)
    assert payment_file.to_reconcile_count == 3
    assert payment_file.recorded_total.amount == Decimal("1150.00")
    assert payment_file.sha256 == ocr.sha256(content)
    assert PaymentEvent.objects.filter(kind="recorded").count() == 4
    assert [p.kid for p in selectors.reconciliation_list(admin, world.club_a)] == [
        "0000002",
        "0000003",
        "9999999",
    ]


def test_acceptance_same_file_twice_records_each_payment_once(world, admin, invoices):
    content = ocr_file([Tx("0000001", "500.00", "1"), Tx("0000002", "700.00", "2")])
    first = services.payment_file_import(
        actor=admin, club=world.club_a, content=content, file_name="a.txt"
    )
    before = payments_state()

    second = services.payment_file_import(
        actor=admin, club=world.club_a, content=content, file_name="a-again.txt"
    )

    assert second.pk == first.pk
    assert second.already_imported is True
    assert payments_state() == before
    assert Payment.objects.count() == 2
    assert PaymentFile.objects.count() == 1


def test_acceptance_two_files_sharing_transactions_record_each_payment_once(world, admin, invoices):
    shared = Tx("0000001", "500.00", "1")
    services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file([shared, Tx("0000002", "300.00", "2")]),
        file_name="monday.txt",
    )

    # The bank's next file repeats the first transaction at another position.
    second = services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file(
            [Tx("0000002", "400.00", "3"), Tx("0000003", "200.00", "4"), shared],
            transmission="1000082",
        ),
        file_name="tuesday.txt",
    )

    assert Payment.objects.count() == 4
    assert Payment.objects.filter(kid="0000001").count() == 1
    assert (second.recorded_count, second.duplicate_count) == (2, 1)
    assert second.recorded_total.amount == Decimal("600.00")
    # The second payment completes invoice 2: it is matched, the first partial is closed.
    assert Payment.objects.get(archive_reference="000000003").match_state == MatchState.MATCHED
    assert Payment.objects.get(archive_reference="000000002").reconciled_at is not None
    assert list(selectors.reconciliation_list(admin, world.club_a)) == []
    assert selectors.invoice_paid_status(invoices[1]) == "paid"


def test_two_payments_in_one_file_to_one_invoice_are_matched_in_order(world, admin, invoices):
    content = ocr_file([Tx("0000002", "300.00", "1"), Tx("0000002", "400.00", "2")])

    services.payment_file_import(actor=admin, club=world.club_a, content=content, file_name="f")

    assert list(
        Payment.objects.order_by("archive_reference").values_list("match_state", flat=True)
    ) == [
        MatchState.PARTIAL,
        MatchState.MATCHED,
    ]


def test_s02_reversal_is_negative_and_reopens_the_invoice(world, admin, invoices):
    services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file([Tx("0000001", "500.00", "1")]),
        file_name="a",
    )

    services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file([Tx("0000001", "500.00", "2", 18)], transmission="1000082"),
        file_name="b",
    )

    reversal = Payment.objects.get(archive_reference="000000002")
    assert reversal.amount.amount == Decimal("-500.00")
    assert reversal.match_state == MatchState.REVERSAL
    assert reversal.invoice == invoices[0]
    assert selectors.invoice_paid_status(invoices[0]) == "issued"
    assert reversal in selectors.reconciliation_list(admin, world.club_a)


def test_kid_matches_only_within_the_club(world, admin, invoices):
    make_invoice(world.club_b, world.player_a, 1, "500.00", kid="7777777")

    services.payment_file_import(
        actor=admin,
        club=world.club_a,
        content=ocr_file([Tx("7777777", "500.00", "1")]),
        file_name="a",
    )

    assert Payment.objects.get().match_state == MatchState.UNMATCHED


def test_s02_malformed_file_imports_nothing(world, admin, invoices):
    lines = ocr_file([Tx("0000001", "500.00", "1")]).decode("iso-8859-1").splitlines()
    lines[3] = lines[3][:70]

    with pytest.raises(ValidationError) as error:
        services.payment_file_import(
            actor=admin,
            club=world.club_a,
            content="\n".join(lines).encode("iso-8859-1"),
            file_name="broken.txt",
        )

    assert error.value.messages == [ocr.BAD_LENGTH.format(line=4, length=70)]
    assert PaymentFile.objects.count() == 0
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("role", ["member", "official_without_capability", "official_other_club"])
def test_import_needs_billing_manage_in_the_club(world, invoices, role):
    with pytest.raises(PermissionDenied):
        services.payment_file_import(
            actor=world.user(role, MANAGE),
            club=world.club_a,
            content=ocr_file([Tx("0000001", "500.00", "1")]),
            file_name="a",
        )

    assert Payment.objects.count() == 0
    assert PaymentFile.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_imports_of_files_sharing_a_transaction_record_it_once(world, admin, invoices):
    shared = Tx("0000001", "500.00", "1")
    contents = [
        ocr_file([shared, Tx("0000002", "700.00", "2")]),
        ocr_file([Tx("0000003", "200.00", "3"), shared], transmission="1000082"),
        ocr_file([shared, Tx("0000002", "700.00", "2")]),  # the same file as the first
    ]
    errors = []

    def run(content):
        try:
            services.payment_file_import(
                actor=admin, club=world.club_a, content=content, file_name="x"
            )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(Payment.objects.values_list("kid", flat=True)) == [
        "0000001",
        "0000002",
        "0000003",
    ]
    assert Payment.objects.get(kid="0000001").match_state == MatchState.MATCHED
    assert PaymentFile.objects.count() == 2
