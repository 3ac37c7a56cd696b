"""KID, the Norwegian payment reference on an invoice (S-01): pure functions, no ORM.

A KID is 2..25 digits, the last one a check digit:
- MOD10 is Luhn (weights 2, 1, 2, 1, ... from the right, digit sum), taken from
  python-stdnum's `stdnum.luhn`;
- MOD11 weighs the digits 2..7 repeating from the right; r = S mod 11 gives the check digit
  0 when r = 0, '-' when r = 1, else 11 - r. Banks and OCR parsers reject '-', so
  `next_kid` skips the sequence numbers that would get it (S-01: "prefer MOD10").

`next_kid(sequence, length, algorithm)` turns a club's KID sequence number into its KID,
zero-padded to the club's length, and says which sequence number comes next.
"""

from __future__ import annotations

import itertools
from enum import StrEnum

from stdnum import luhn

MIN_LENGTH = 2
MAX_LENGTH = 25
MOD11_DASH = "-"

NOT_DIGITS = "S-01: a KID base must be digits, not {base!r}."
BAD_LENGTH = "S-01: a KID is 2 to 25 digits long, not {length}."
SEQUENCE_TOO_LARGE = (
    "S-01: KID sequence number {sequence} does not fit in a KID of {length} digits; "
    "the club needs a longer KID."
)
NEGATIVE_SEQUENCE = "S-01: a KID sequence number is positive, not {sequence}."


class Algorithm(StrEnum):
    """The values of members.models.KidAlgorithm."""

    MOD10 = "MOD10"
    MOD11 = "MOD11"


class KidError(ValueError):
    pass


def _check_base(base: str) -> None:
    if not base or not base.isdigit() or not base.isascii():
        raise KidError(NOT_DIGITS.format(base=base))


def mod10_check_digit(base: str) -> str:
    """S-01 MOD10 (Luhn) check digit of `base`."""
    _check_base(base)
    return luhn.calc_check_digit(base)


def mod11_check_digit(base: str) -> str:
    """S-01 MOD11 check digit of `base`: '0'..'9', or '-' when r = 1."""
    _check_base(base)
    weights = itertools.cycle(range(2, 8))
    total = sum(int(digit) * weight for digit, weight in zip(reversed(base), weights, strict=False))
    remainder = total % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return MOD11_DASH
    return str(11 - remainder)


def check_digit(base: str, algorithm: str) -> str:
    if Algorithm(algorithm) is Algorithm.MOD10:
        return mod10_check_digit(base)
    return mod11_check_digit(base)


def with_check_digit(base: str, algorithm: str) -> str:
    """`base` followed by its check digit (which may be '-' for MOD11)."""
    return base + check_digit(base, algorithm)


def is_valid(kid: str, algorithm: str) -> bool:
    """A well-formed KID: 2..25 digits whose last digit checks (never '-')."""
    if not (MIN_LENGTH <= len(kid) <= MAX_LENGTH) or not kid.isdigit() or not kid.isascii():
        return False
    return check_digit(kid[:-1], algorithm) == kid[-1]


def kid_for(sequence: int, length: int, algorithm: str) -> str | None:
    """The KID of `sequence`, zero-padded to `length` digits including the check digit; None
    when MOD11 would give it the check digit '-' (that number is not used)."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise KidError(BAD_LENGTH.format(length=length))
    if sequence < 0:
        raise KidError(NEGATIVE_SEQUENCE.format(sequence=sequence))
    base = str(sequence).zfill(length - 1)
    if len(base) > length - 1:
        raise KidError(SEQUENCE_TOO_LARGE.format(sequence=sequence, length=length))
    digit = check_digit(base, algorithm)
    return None if digit == MOD11_DASH else base + digit


def next_kid(sequence: int, length: int, algorithm: str) -> tuple[str, int]:
    """The KID for the first usable sequence number from `sequence` on, and the sequence
    number after it (S-01: MOD11 skips numbers whose check digit would be '-')."""
    while True:
        kid = kid_for(sequence, length, algorithm)
        sequence += 1
        if kid is not None:
            return kid, sequence
