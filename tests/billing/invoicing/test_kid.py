"""S-01 KID check digits (MOD10 = Luhn, MOD11) with the vectors of DOMAIN.md, and the KID of
a club's sequence number (padding, MOD11 skipping '-')."""

import pytest

from billing import kid


@pytest.mark.parametrize(
    ("base", "expected"),
    [("12345678", "123456782"), ("123456789", "1234567897"), ("00013370050164", "000133700501645")],
)
def test_s01_mod10_vectors(base, expected):
    assert kid.with_check_digit(base, "MOD10") == expected
    assert kid.is_valid(expected, "MOD10")


@pytest.mark.parametrize(
    ("base", "expected"),
    [("12345678", "123456785"), ("123456789", "1234567892"), ("0000531", "00005312")],
)
def test_s01_mod11_vectors(base, expected):
    assert kid.with_check_digit(base, "MOD11") == expected
    assert kid.is_valid(expected, "MOD11")


@pytest.mark.parametrize("base", ["6", "23", "37", "40"])
def test_s01_mod11_bases_giving_dash(base):
    assert kid.mod11_check_digit(base) == "-"
    assert not kid.is_valid(base + "-", "MOD11")


def test_s01_invalid_kids():
    assert not kid.is_valid("123456783", "MOD10")
    assert not kid.is_valid("123456784", "MOD11")
    assert not kid.is_valid("1", "MOD10")  # shorter than 2
    assert not kid.is_valid("0" * 25 + "0", "MOD10")  # longer than 25
    assert not kid.is_valid("12a4", "MOD10")


def test_s01_kid_for_pads_to_the_club_length():
    assert kid.kid_for(12345678, 9, "MOD10") == "123456782"
    assert kid.kid_for(531, 8, "MOD11") == "00005312"
    assert kid.kid_for(1, 10, "MOD10") == "0000000018"
    assert len(kid.kid_for(7, 25, "MOD10")) == 25


def test_s01_kid_for_mod11_dash_gives_none():
    assert kid.kid_for(6, 2, "MOD11") is None
    assert kid.kid_for(23, 3, "MOD11") is None
    assert kid.kid_for(40, 10, "MOD11") is None  # "000000040" weighs like "40"


def test_s01_next_kid_skips_mod11_dash():
    assert kid.next_kid(6, 5, "MOD11") == ("00078", 8)  # 6 would end in '-'
    assert kid.next_kid(5, 5, "MOD11") == ("00051", 6)
    assert kid.next_kid(6, 5, "MOD10") == ("00067", 7)  # MOD10 never skips


def test_s01_next_kid_sequence_gives_distinct_valid_kids():
    sequence, kids = 1, []
    for _ in range(200):
        value, sequence = kid.next_kid(sequence, 6, "MOD11")
        kids.append(value)
    assert len(set(kids)) == 200
    assert all(kid.is_valid(value, "MOD11") for value in kids)
    assert all(value[-1] != "-" for value in kids)


@pytest.mark.parametrize(
    ("sequence", "length", "message"),
    [
        (100, 3, kid.SEQUENCE_TOO_LARGE.format(sequence=100, length=3)),
        (1, 1, kid.BAD_LENGTH.format(length=1)),
        (1, 26, kid.BAD_LENGTH.format(length=26)),
        (-1, 5, kid.NEGATIVE_SEQUENCE.format(sequence=-1)),
    ],
)
def test_s01_kid_for_refuses(sequence, length, message):
    with pytest.raises(kid.KidError) as error:
        kid.kid_for(sequence, length, "MOD10")
    assert str(error.value) == message


def test_s01_algorithms_match_the_register_choices():
    from members.models import KidAlgorithm

    assert {a.value for a in kid.Algorithm} == set(KidAlgorithm.values)
