"""S-02 OCR Giro: the bank's file of KID payments, read with the `netsgiro` library.

`parse(content)` turns the uploaded bytes (ISO-8859-1, 80-character records) into an
`OcrFile` of plain `OcrTransaction` values: amounts in NOK as `Decimal` (the file has øre),
reversals (transaction types 18 and 20, which the file's totals *add*) made negative. A
malformed file raises `OcrError` naming the line; nothing is returned, so nothing is imported.

`transaction_key(transaction)` is the bank transaction's identity, derived from the
transaction's own fields (not the file's or the transmission's), so a transaction that is
delivered in two files has one key: the database's unique constraint `payment_once`
records it once.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import netsgiro
from django.utils.translation import gettext_lazy as _
from netsgiro import converters as ocr_converters
from netsgiro import records as ocr_records

__all__ = [
    "REVERSAL_TYPES",
    "OcrError",
    "OcrFile",
    "OcrTransaction",
    "parse",
    "sha256",
    "transaction_key",
]

ENCODING = "iso-8859-1"
RECORD_LENGTH = 80
# S-02: the reversal transaction types; the file's totals add them, we subtract them.
REVERSAL_TYPES = frozenset({18, 20})

EMPTY_FILE = _("S-02: the file is empty.")
NOT_TEXT = _("S-02: the file is not an OCR Giro text file (ISO-8859-1).")
BAD_LENGTH = _("S-02: line {line}: a record is 80 characters long, this one is {length}.")
BAD_RECORD = _("S-02: line {line}: not a valid OCR Giro record: {reason}")
BAD_STRUCTURE = _("S-02: line {line}: not a valid OCR Giro transmission: {reason}.")
NOT_OCR_GIRO = _("S-02: line {line}: the assignment is not OCR Giro (service code {code}).")
BAD_TOTALS = _(
    "S-02: line {line}: the end record says {expected_count} transactions of {expected} øre, "
    "the file holds {count} of {total} øre."
)


class OcrError(ValueError):
    """A malformed OCR file; the message names the line."""


@dataclass(frozen=True)
class OcrTransaction:
    type: int
    number: int  # the transaction's number within its assignment
    nets_date: datetime.date
    amount: Decimal  # NOK, negative for reversals
    kid: str
    archive_reference: str
    bank_date: datetime.date | None
    payer_account: str
    centre_id: str
    day_code: int | None
    partial_settlement_number: int | None
    partial_settlement_serial_number: str
    form_number: str
    text: str

    @property
    def is_reversal(self) -> bool:
        return self.type in REVERSAL_TYPES


@dataclass(frozen=True)
class OcrFile:
    transmission_number: str
    transactions: list[OcrTransaction]

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.transactions), Decimal("0.00"))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


# Record type (the characters 7-8 of a line) -> netsgiro's record class.
_RECORD_CLASSES = {
    int(cls.RECORD_TYPE): cls
    for cls in _all_subclasses(ocr_records.Record)
    if hasattr(cls, "RECORD_TYPE")
}


# Speed (issue 6 bench: 100,000 transactions): netsgiro builds each record through attrs
# converters and validators (strptime per date), which was most of an import. The two
# records of every OCR Giro transaction (30, 31) are matched here with netsgiro's OWN
# patterns (the same format check) and their fields converted with netsgiro's own converters
# (dates cached: a file has few distinct dates); the result is netsgiro's record class.
# A line the pattern does not match goes to netsgiro's `from_string`, which gives its error.
_cached_date = functools.lru_cache(maxsize=512)(ocr_converters.to_date)
_cached_date_or_none = functools.lru_cache(maxsize=512)(ocr_converters.to_date_or_none)
_cached_transaction_type = functools.lru_cache(maxsize=64)(ocr_converters.to_transaction_type)
_OCR_GIRO = netsgiro.ServiceCode.OCR_GIRO


def _item1(fields: dict) -> ocr_records.TransactionAmountItem1:
    record = object.__new__(ocr_records.TransactionAmountItem1)
    values = {
        "service_code": _OCR_GIRO,
        "transaction_type": _cached_transaction_type(fields["transaction_type"]),
        "transaction_number": int(fields["transaction_number"]),
        "nets_date": _cached_date(fields["nets_date"]),
        "amount": int(fields["amount"]),
        "kid": ocr_converters.to_safe_str_or_none(fields["kid"]),
        "centre_id": fields["centre_id"],
        "day_code": int(fields["day_code"]),
        "partial_settlement_number": int(fields["partial_settlement_number"]),
        "partial_settlement_serial_number": fields["partial_settlement_serial_number"],
        "sign": fields["sign"],
    }
    for name, value in values.items():
        object.__setattr__(record, name, value)
    return record


def _item2(fields: dict) -> ocr_records.TransactionAmountItem2:
    record = object.__new__(ocr_records.TransactionAmountItem2)
    values = {
        "service_code": _OCR_GIRO,
        "transaction_type": _cached_transaction_type(fields["transaction_type"]),
        "transaction_number": int(fields["transaction_number"]),
        "reference": ocr_converters.to_safe_str_or_none(fields["reference"]),
        "form_number": fields["form_number"],
        "bank_date": _cached_date_or_none(fields["bank_date"]),
        "debit_account": fields["debit_account"],
        "_filler": fields["filler"],
        "payer_name": None,
    }
    for name, value in values.items():
        object.__setattr__(record, name, value)
    return record


_FAST = {
    "30": (ocr_records.TransactionAmountItem1._PATTERNS[0], _item1),
    "31": (ocr_records.TransactionAmountItem2._PATTERNS[0], _item2),
}
USE_FAST_RECORDS = True  # tests compare both ways


def _record(line: str) -> object:
    fast = _FAST.get(line[6:8]) if USE_FAST_RECORDS else None
    if fast is not None:
        matched = fast[0].match(line)
        if matched is not None:
            return fast[1](matched.groupdict())
    return _RECORD_CLASSES[int(line[6:8])].from_string(line)


def _records(text: str) -> list[tuple[int, object]]:
    """netsgiro's records with their line numbers; an error names the line."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) != RECORD_LENGTH:
            raise OcrError(BAD_LENGTH.format(line=number, length=len(line)))
        try:
            records.append((number, _record(line)))
        except (KeyError, ValueError, TypeError) as error:
            raise OcrError(BAD_RECORD.format(line=number, reason=error)) from error
    if not records:
        raise OcrError(EMPTY_FILE)
    return records


def _account(value: str | None) -> str:
    account = (value or "").strip()
    return account if account.strip("0") else ""


def _transaction(item1, item2, item3) -> OcrTransaction:  # type: ignore[no-untyped-def]
    amount = (Decimal(item1.amount) / 100).quantize(Decimal("0.01"))
    type_ = int(item1.transaction_type)
    return OcrTransaction(
        type=type_,
        number=item1.transaction_number,
        nets_date=item1.nets_date,
        amount=-amount if type_ in REVERSAL_TYPES else amount,
        kid=(item1.kid or "").strip(),
        archive_reference=(item2.reference or "").strip(),
        bank_date=item2.bank_date,
        payer_account=_account(item2.debit_account),
        centre_id=item1.centre_id or "",
        day_code=item1.day_code,
        partial_settlement_number=item1.partial_settlement_number,
        partial_settlement_serial_number=item1.partial_settlement_serial_number or "",
        form_number=(item2.form_number or "").strip(),
        text=((item3.text if item3 else "") or "").strip(),
    )


class _Reader:
    """Walks the records of one transmission (S-02: 10, then per assignment 20, the
    transactions' 30/31(/32), 88; then 89) and checks the end records' counts and totals."""

    def __init__(self, records: list[tuple[int, object]]) -> None:
        self.records = records
        self.position = 0
        self.transactions: list[OcrTransaction] = []

    def _next(self, *kinds: type, what: str):  # type: ignore[no-untyped-def]
        if self.position >= len(self.records):
            raise OcrError(BAD_STRUCTURE.format(line=self._line(), reason=f"{what} missing"))
        line, record = self.records[self.position]
        if not isinstance(record, kinds):
            raise OcrError(
                BAD_STRUCTURE.format(
                    line=line,
                    reason=f"expected {what}, found record type {int(record.RECORD_TYPE)}",
                )
            )
        self.position += 1
        return record

    def _line(self) -> int:
        return self.records[min(self.position, len(self.records) - 1)][0]

    def _peek(self) -> object | None:
        return self.records[self.position][1] if self.position < len(self.records) else None

    def read(self) -> OcrFile:
        start = self._next(ocr_records.TransmissionStart, what="transmission start (10)")
        while isinstance(self._peek(), ocr_records.AssignmentStart):
            self._assignment()
        line = self._line()
        end = self._next(ocr_records.TransmissionEnd, what="transmission end (89)")
        if self.position != len(self.records):
            raise OcrError(
                BAD_STRUCTURE.format(line=self._line(), reason="records after the end (89)")
            )
        self._check(line, end, self.transactions)
        return OcrFile(
            transmission_number=start.transmission_number, transactions=self.transactions
        )

    def _assignment(self) -> None:
        line = self._line()
        start = self._next(ocr_records.AssignmentStart, what="assignment start (20)")
        if start.service_code != netsgiro.ServiceCode.OCR_GIRO:
            raise OcrError(NOT_OCR_GIRO.format(line=line, code=int(start.service_code)))
        first = len(self.transactions)
        while isinstance(self._peek(), ocr_records.TransactionAmountItem1):
            item1 = self._next(ocr_records.TransactionAmountItem1, what="amount item 1 (30)")
            item2 = self._next(ocr_records.TransactionAmountItem2, what="amount item 2 (31)")
            item3 = None
            if isinstance(self._peek(), ocr_records.TransactionAmountItem3):
                item3 = self._next(ocr_records.TransactionAmountItem3, what="amount item 3 (32)")
            if item2.transaction_number != item1.transaction_number:
                raise OcrError(
                    BAD_STRUCTURE.format(
                        line=self.records[self.position - 1][0],
                        reason="amount items of different transactions",
                    )
                )
            self.transactions.append(_transaction(item1, item2, item3))
        line = self._line()
        end = self._next(ocr_records.AssignmentEnd, what="assignment end (88)")
        self._check(line, end, self.transactions[first:])

    @staticmethod
    def _check(line: int, end, transactions: list[OcrTransaction]) -> None:  # type: ignore[no-untyped-def]
        # S-02: the end records' totals add the reversals too.
        total = sum(abs(int(t.amount * 100)) for t in transactions)
        if end.num_transactions != len(transactions) or (end.total_amount or 0) != total:
            raise OcrError(
                BAD_TOTALS.format(
                    line=line,
                    expected_count=end.num_transactions,
                    expected=end.total_amount,
                    count=len(transactions),
                    total=total,
                )
            )


def parse(content: bytes) -> OcrFile:
    """S-02: the transactions of an OCR Giro file; `OcrError` for a malformed one."""
    text = content.decode(ENCODING)  # every byte is a character in ISO-8859-1
    if "\x00" in text:
        raise OcrError(NOT_TEXT)
    return _Reader(_records(text)).read()


def transaction_key(transaction: OcrTransaction) -> str:
    """The bank transaction's identity: Nets' date, the settlement it belongs to (centre,
    day code, partial settlement and its serial number), the bank's archive reference, the
    KID, the amount, the type and the payer's account. The transaction number is left out
    (it is only a position in one assignment, which differs between two files carrying the
    same transaction) unless the bank gave no archive reference."""
    parts = [
        transaction.nets_date.isoformat(),
        transaction.centre_id,
        str(transaction.day_code or ""),
        str(transaction.partial_settlement_number or ""),
        transaction.partial_settlement_serial_number,
        transaction.archive_reference,
        transaction.kid,
        str(int(transaction.amount * 100)),
        str(transaction.type),
        transaction.payer_account,
    ]
    if not transaction.archive_reference:
        parts.append(f"#{transaction.number}")
    return ":".join(parts)
