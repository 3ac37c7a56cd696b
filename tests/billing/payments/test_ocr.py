"""S-02: reading OCR Giro files (netsgiro), reversals negative, malformed files refused."""

from decimal import Decimal

import pytest
from django.utils import translation

from billing.payments import ocr
from tests.billing.payments.helpers import NETS_DATE, Tx, ocr_file


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_s02_parse_gives_kid_amount_in_nok_and_dates():
    content = ocr_file([Tx("0000017", "500.00", "000000001"), Tx("0000025", "1234.56", "2")])

    parsed = ocr.parse(content)

    assert parsed.transmission_number == "1000081"
    assert [(t.kid, t.amount, t.type) for t in parsed.transactions] == [
        ("0000017", Decimal("500.00"), 10),
        ("0000025", Decimal("1234.56"), 10),
    ]
    first = parsed.transactions[0]
    assert first.nets_date == NETS_DATE
    assert first.bank_date == NETS_DATE
    assert first.archive_reference == "000000001"
    assert first.payer_account == "99990000000"
    assert parsed.total == Decimal("1734.56")


@pytest.mark.parametrize("reversal_type", [18, 20])
def test_s02_reversal_types_18_and_20_are_negative(reversal_type):
    content = ocr_file([Tx("0000017", "500.00", "1"), Tx("0000017", "500.00", "2", reversal_type)])

    parsed = ocr.parse(content)

    assert [t.amount for t in parsed.transactions] == [Decimal("500.00"), Decimal("-500.00")]
    assert parsed.transactions[1].is_reversal
    assert parsed.total == Decimal("0.00")


def test_s02_file_is_iso_8859_1_text_records_of_80_characters():
    content = ocr_file([Tx("0000017", "500.00", "1")])

    lines = content.decode("iso-8859-1").splitlines()

    assert {len(line) for line in lines} == {80}
    assert [line[6:8] for line in lines] == ["10", "20", "30", "31", "88", "89"]


def test_s02_malformed_line_is_named():
    lines = ocr_file([Tx("0000017", "500.00", "1")]).decode("iso-8859-1").splitlines()
    lines[2] = lines[2][:79]

    with pytest.raises(ocr.OcrError) as error:
        ocr.parse("\n".join(lines).encode("iso-8859-1"))

    assert str(error.value) == ocr.BAD_LENGTH.format(line=3, length=79)


def test_s02_invalid_record_content_is_named():
    lines = ocr_file([Tx("0000017", "500.00", "1")]).decode("iso-8859-1").splitlines()
    lines[2] = lines[2][:30] + "X" + lines[2][31:]  # a letter in the amount

    with pytest.raises(ocr.OcrError) as error:
        ocr.parse("\n".join(lines).encode("iso-8859-1"))

    assert str(error.value).startswith("S-02: line 3: not a valid OCR Giro record")


def test_s02_wrong_end_totals_are_refused():
    lines = ocr_file([Tx("0000017", "500.00", "1")]).decode("iso-8859-1").splitlines()
    end = lines[-1]
    lines[-1] = end[:24] + f"{60000:017d}" + end[41:]

    with pytest.raises(ocr.OcrError) as error:
        ocr.parse("\n".join(lines).encode("iso-8859-1"))

    assert str(error.value) == ocr.BAD_TOTALS.format(
        line=6, expected_count=1, expected=60000, count=1, total=50000
    )


def test_s02_missing_end_record_is_refused():
    lines = ocr_file([Tx("0000017", "500.00", "1")]).decode("iso-8859-1").splitlines()

    with pytest.raises(ocr.OcrError) as error:
        ocr.parse("\n".join(lines[:-1]).encode("iso-8859-1"))

    assert "transmission end (89) missing" in str(error.value)


def test_s02_empty_file_is_refused():
    with pytest.raises(ocr.OcrError) as error:
        ocr.parse(b"\n\n")

    assert str(error.value) == ocr.EMPTY_FILE


def test_transaction_key_ignores_the_position_in_the_file():
    first = ocr.parse(ocr_file([Tx("0000017", "500.00", "1")])).transactions[0]
    moved = ocr.parse(ocr_file([Tx("9", "1.00", "9"), Tx("0000017", "500.00", "1")]))

    assert moved.transactions[1].number == 2
    assert ocr.transaction_key(moved.transactions[1]) == ocr.transaction_key(first)


def test_transaction_key_differs_by_archive_reference():
    a, b = ocr.parse(ocr_file([Tx("17", "500.00", "1"), Tx("17", "500.00", "2")])).transactions

    assert ocr.transaction_key(a) != ocr.transaction_key(b)
