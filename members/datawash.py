"""The data wash (P-07, M-05): persons who did not reserve themselves are compared with an
external population register, and outdated names, birth dates, addresses and mobile numbers
of their standard contact set are corrected through the services, so that the history records
every correction (with the reason "data wash").

The register is reached through an adapter (`PopulationRegister`); `CsvPopulationRegister`
reads the register delivered as a file. `run_data_wash` works in batches of persons locked in
primary-key order and is idempotent: a second run against the same register changes nothing.
The Celery task `members.data_wash` is a thin wrapper around it; the file comes from the
setting POPULATION_REGISTER_FILE.
"""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from members import rules
from members.models import ContactSet, Person
from members.services.contacts import contact_set_update, normalise_contact_values
from members.services.persons import DATA_WASH_REASON, person_update

CSV_COLUMNS = (
    "national_person_id",
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "street",
    "postcode",
    "city",
    "mobile",
)


@dataclass(frozen=True, slots=True)
class RegisterRecord:
    """What the population register knows about one person. Empty strings (and a None birth
    date) mean "not known": they correct nothing, except the middle name."""

    national_person_id: str
    first_name: str
    middle_name: str
    last_name: str
    birth_date: datetime.date | None
    street: str = ""
    postcode: str = ""
    city: str = ""
    mobile: str = ""


class PopulationRegister(Protocol):
    """An adapter to a population register."""

    def lookup(self, national_person_ids: Iterable[str]) -> dict[str, RegisterRecord]:
        """The records of those ids the register knows; unknown ids are left out."""
        ...

    def problems(self) -> Sequence[str]:
        """Records the adapter could not read (reported in the summary, never guessed)."""
        ...


class CsvPopulationRegister:
    """The register delivered as a UTF-8 CSV file with the header
    national_person_id,first_name,middle_name,last_name,birth_date,street,postcode,city,mobile
    (birth date as YYYY-MM-DD). Malformed rows are skipped and reported by `problems()`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._records: dict[str, RegisterRecord] | None = None
        self._problems: list[str] = []

    def lookup(self, national_person_ids: Iterable[str]) -> dict[str, RegisterRecord]:
        records = self._load()
        return {key: records[key] for key in national_person_ids if key in records}

    def problems(self) -> Sequence[str]:
        self._load()
        return tuple(self._problems)

    def _load(self) -> dict[str, RegisterRecord]:
        if self._records is None:
            self._records = {}
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
                if missing:
                    self._problems.append(f"header: missing columns {', '.join(sorted(missing))}")
                    return self._records
                for row in reader:
                    self._read_row(reader.line_num, row)
        return self._records

    def _read_row(self, line: int, row: dict[str, str | None]) -> None:
        values = {name: (row.get(name) or "").strip() for name in CSV_COLUMNS}
        if None in row or any(row.get(name) is None for name in CSV_COLUMNS):
            self._problems.append(f"line {line}: expected {len(CSV_COLUMNS)} columns")
            return
        if not values["national_person_id"]:
            self._problems.append(f"line {line}: no national person id")
            return
        try:
            birth_date = (
                datetime.date.fromisoformat(values["birth_date"]) if values["birth_date"] else None
            )
        except ValueError:
            self._problems.append(f"line {line}: birth date {values['birth_date']!r} is not a date")
            return
        if not values["first_name"] or not values["last_name"]:
            self._problems.append(f"line {line}: first and last name are required")
            return
        if values["national_person_id"] in self._records:
            self._problems.append(f"line {line}: {values['national_person_id']} appears twice")
            return
        self._records[values["national_person_id"]] = RegisterRecord(
            **{**values, "birth_date": birth_date}
        )


@dataclass
class DataWashSummary:
    checked: int = 0
    not_in_register: int = 0
    persons_corrected: int = 0
    corrections: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "not_in_register": self.not_in_register,
            "persons_corrected": self.persons_corrected,
            "corrections": dict(sorted(self.corrections.items())),
            "problems": list(self.problems),
        }


def washable_persons():  # type: ignore[no-untyped-def]
    """P-07: persons with a national person id who did not reserve themselves and are alive."""
    return Person.objects.filter(
        national_person_id__isnull=False, reserved_against_data_wash=False, is_deceased=False
    ).exclude(national_person_id="")


def _register_address(record: RegisterRecord, standard: ContactSet) -> dict[str, object]:
    """The register's address and mobile as we would store them (same normalisation as the
    contact services), so that comparing twice gives the same answer (idempotency)."""
    if not (record.street or record.postcode or record.city or record.mobile):
        return {}
    values = {
        "street": record.street or standard.street,
        "postcode": record.postcode or standard.postcode,
        "city": record.city or standard.city,
        "country": "NO" if (record.street or record.postcode) else standard.country,
        "mobile": record.mobile,
    }
    return normalise_contact_values(values)


def _wash_person(
    person: Person, record: RegisterRecord, standard: ContactSet | None, summary: DataWashSummary
) -> None:
    person_changes = rules.wash_corrections(
        {name: getattr(person, name) for name in rules.PERSON_WASH_FIELDS},
        {name: getattr(record, name) for name in rules.PERSON_WASH_FIELDS},
        rules.PERSON_WASH_FIELDS,
    )
    address_changes: dict[str, object] = {}
    if standard is not None:
        register_address = _register_address(record, standard)
        address_changes = rules.wash_corrections(
            {name: getattr(standard, name) for name in rules.ADDRESS_WASH_FIELDS},
            register_address,
            rules.ADDRESS_WASH_FIELDS,
        )
        if address_changes and register_address.get("country") != standard.country:
            address_changes["country"] = register_address["country"]
    if not person_changes and not address_changes:
        return
    if person_changes:
        # P-05: the register's correction of a name or birth date issues a new sports id
        # without asking: nobody chose it, the register states it.
        person_update(
            actor=None,
            person=person,
            confirm_identity_change=True,
            change_reason=DATA_WASH_REASON,
            **person_changes,
        )
    if address_changes and standard is not None:
        contact_set_update(
            actor=None,
            contact_set=standard,
            confirm_email=True,
            change_reason=DATA_WASH_REASON,
            **address_changes,
        )
    summary.persons_corrected += 1
    summary.corrections.update([*person_changes, *address_changes])


def _wash_batch(
    register: PopulationRegister, after_pk: int, batch_size: int, summary: DataWashSummary
) -> int | None:
    """One batch in one transaction; returns the last primary key, or None when done."""
    with transaction.atomic():
        persons = list(
            washable_persons()
            .select_for_update(of=("self",))
            .order_by("pk")
            .filter(pk__gt=after_pk)[:batch_size]
        )
        if not persons:
            return None
        records = register.lookup([person.national_person_id for person in persons])
        standards = {
            contact_set.person_id: contact_set
            for contact_set in ContactSet.objects.select_for_update()
            .filter(person__in=persons, is_standard=True)
            .order_by("pk")
        }
        for person in persons:
            summary.checked += 1
            record = records.get(person.national_person_id)
            if record is None:
                summary.not_in_register += 1
                continue
            try:
                with transaction.atomic():  # a savepoint: one wrong record spoils nothing else
                    _wash_person(person, record, standards.get(person.pk), summary)
            except ValidationError as error:
                summary.problems.append(
                    f"person {person.pk} ({person.national_person_id}): {'; '.join(error.messages)}"
                )
        return persons[-1].pk


def run_data_wash(register: PopulationRegister, *, batch_size: int = 500) -> DataWashSummary:
    """P-07: compare every washable person with the register and correct what is outdated."""
    summary = DataWashSummary(problems=list(register.problems()))
    last_pk: int | None = 0
    while last_pk is not None:
        last_pk = _wash_batch(register, last_pk, batch_size, summary)
    return summary


@shared_task(name="members.data_wash")
def data_wash(batch_size: int = 500) -> dict[str, object]:
    """Run the data wash against the register file of POPULATION_REGISTER_FILE (P-07).
    Idempotent: safe to run twice or to retry."""
    path = getattr(settings, "POPULATION_REGISTER_FILE", None)
    if not path:
        return {"skipped": "POPULATION_REGISTER_FILE is not set"}
    return run_data_wash(CsvPopulationRegister(path), batch_size=batch_size).as_dict()
