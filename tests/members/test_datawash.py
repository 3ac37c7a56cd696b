"""The data wash against the population register (P-07, M-05): the CSV adapter, corrections
through the services with history, reservations, idempotency, unknown ids, malformed rows."""

import datetime

import pytest

from members import datawash, rules
from members.datawash import CsvPopulationRegister, RegisterRecord, run_data_wash
from members.models import ContactSet, Person, SportsIdHistory
from members.services.contacts import POSTCODE_PLACE_MISMATCH
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "national_person_id,first_name,middle_name,last_name,birth_date,street,postcode,city,mobile"
)


def _register(tmp_path, *rows: str, header: str = HEADER) -> CsvPopulationRegister:
    path = tmp_path / "register.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return CsvPopulationRegister(path)


def _person(national_id: str, **fields) -> Person:
    defaults = {
        "first_name": "Kari",
        "middle_name": "",
        "last_name": "Nordmann",
        "birth_date": datetime.date(1980, 5, 17),
        "national_person_id": national_id,
    }
    person = PersonFactory(**{**defaults, **fields})
    ContactSet.objects.filter(person=person).update(
        street="Testveien 1", postcode="0150", city="Oslo", mobile="+4790000001"
    )
    return person


def _snapshot() -> list[tuple]:
    """Everything the wash may touch, and how many history rows there are."""
    return [
        *Person.objects.order_by("pk").values_list(
            "pk", "first_name", "middle_name", "last_name", "birth_date", "sports_id"
        ),
        *ContactSet.objects.order_by("pk").values_list(
            "pk", "street", "postcode", "city", "mobile"
        ),
        (Person.history.count(), ContactSet.history.count(), SportsIdHistory.objects.count()),
    ]


# ------------------------------------------------------------------------------- rules


def test_p07_wash_corrections_are_the_differing_known_values():
    current = {"first_name": "Kari", "middle_name": "Marie", "last_name": "Nordman", "street": "A"}
    register = {"first_name": "Kari", "middle_name": "", "last_name": "Nordmann", "street": ""}
    assert rules.wash_corrections(
        current, register, ("first_name", "middle_name", "last_name", "street")
    ) == {"middle_name": "", "last_name": "Nordmann"}


# ------------------------------------------------------------------------- the adapter


def test_p07_csv_adapter_reads_records_and_reports_malformed_rows(tmp_path):
    register = _register(
        tmp_path,
        "A1,Kari,,Nordmann,1980-05-17,Nygata 5,5003,Bergen,91234567",
        "A2,Ola,,Nordmann,17.05.1980,,,,",
        "A3,,,Nordmann,1980-05-17,,,,",
        "A4,Per,,Hansen",
        ",Per,,Hansen,1980-05-17,,,,",
        "A1,Kari,,Nordmann,1980-05-17,,,,",
        "A5,Per,,Hansen,1980-05-17,,,,,extra",
    )

    records = register.lookup(["A1", "A2", "UNKNOWN"])

    assert records == {
        "A1": RegisterRecord(
            national_person_id="A1",
            first_name="Kari",
            middle_name="",
            last_name="Nordmann",
            birth_date=datetime.date(1980, 5, 17),
            street="Nygata 5",
            postcode="5003",
            city="Bergen",
            mobile="91234567",
        )
    }
    assert list(register.problems()) == [
        "line 3: birth date '17.05.1980' is not a date",
        "line 4: first and last name are required",
        "line 5: expected 9 columns",
        "line 6: no national person id",
        "line 7: A1 appears twice",
        "line 8: expected 9 columns",
    ]


def test_p07_csv_adapter_reports_a_wrong_header(tmp_path):
    register = _register(tmp_path, "A1,Kari,Nordmann", header="id,first,last")
    assert register.lookup(["A1"]) == {}
    assert list(register.problems()) == [
        "header: missing columns birth_date, city, first_name, last_name, middle_name, mobile, "
        "national_person_id, postcode, street"
    ]


# ------------------------------------------------------------------------- the wash


def test_p07_outdated_values_are_corrected_with_history_and_a_new_sports_id(tmp_path, world):
    person = _person("A1", last_name="Nordman", middle_name="Marie")
    old_sports_id = person.sports_id
    register = _register(tmp_path, "A1,Kari,,Nordmann,1980-05-17,Nygata 5,5003,bergen,912 34 567")

    summary = run_data_wash(register, batch_size=10)

    person.refresh_from_db()
    standard = person.contact_sets.get(is_standard=True)
    assert (person.middle_name, person.last_name) == ("", "Nordmann")
    assert (standard.street, standard.postcode, standard.city, standard.mobile) == (
        "Nygata 5",
        "5003",
        "Bergen",
        "+4791234567",
    )
    # P-05: the register's name correction issues a new sports id; the old one still finds.
    assert person.sports_id != old_sports_id
    assert list(person.previous_sports_ids.values_list("sports_id", flat=True)) == [old_sports_id]
    person_record = person.history.latest()
    contact_record = standard.history.latest()
    assert (person_record.history_change_reason, person_record.history_user) == ("data wash", None)
    assert (contact_record.history_change_reason, contact_record.history_user) == (
        "data wash",
        None,
    )
    delta = contact_record.diff_against(contact_record.prev_record)
    assert sorted(delta.changed_fields) == ["city", "mobile", "postcode", "street"]
    assert summary.as_dict() == {
        "checked": 1,  # the world's persons have no national person id: not washable
        "not_in_register": 0,
        "persons_corrected": 1,
        "corrections": {
            "city": 1,
            "last_name": 1,
            "middle_name": 1,
            "mobile": 1,
            "postcode": 1,
            "street": 1,
        },
        "problems": [],
    }


def test_p07_only_persons_with_a_national_id_alive_and_not_reserved_are_washed(tmp_path, world):
    _person("A1")
    reserved = _person("A2", reserved_against_data_wash=True)
    dead = _person("A3")
    Person.objects.filter(pk=dead.pk).update(
        is_deceased=True, date_of_death=datetime.date(2020, 1, 1)
    )
    register = _register(
        tmp_path,
        "A1,Kari,,Nordmann,1980-05-17,Nygata 5,5003,Bergen,",
        "A2,Kari,,Hansen,1980-05-17,Nygata 5,5003,Bergen,",
        "A3,Kari,,Hansen,1980-05-17,Nygata 5,5003,Bergen,",
    )
    untouched = [
        (person.last_name, person.contact_sets.get().street) for person in (reserved, dead)
    ]

    summary = run_data_wash(register, batch_size=10)

    assert summary.checked == 1
    assert summary.persons_corrected == 1
    for person, before in zip((reserved, dead), untouched, strict=True):
        person.refresh_from_db()
        assert (person.last_name, person.contact_sets.get().street) == before
    assert set(datawash.washable_persons().values_list("national_person_id", flat=True)) == {"A1"}


def test_p07_second_run_changes_nothing(tmp_path, world):
    for number in range(3):
        _person(f"A{number}", last_name="Nordman")
    register = _register(
        tmp_path,
        *(f"A{n},Kari,,Nordmann,1980-05-17,Nygata {n},0150,OSLO,+4791234567" for n in range(3)),
    )
    first = run_data_wash(register, batch_size=2)
    after_first = _snapshot()

    second = run_data_wash(register, batch_size=2)

    assert first.persons_corrected == 3
    assert (second.checked, second.persons_corrected, dict(second.corrections)) == (3, 0, {})
    assert _snapshot() == after_first


def test_p07_unknown_ids_are_ignored_and_empty_register_values_correct_nothing(tmp_path, world):
    known = _person("A1")
    _person("NOT-IN-FILE")
    register = _register(
        tmp_path,
        "A1,Kari,,Nordmann,,,,,",  # nothing but the names, which agree
        "ONLY-IN-FILE,Per,,Hansen,1970-01-01,Gata 1,0150,Oslo,",
    )
    before = _snapshot()

    summary = run_data_wash(register, batch_size=10)

    assert (summary.checked, summary.not_in_register, summary.persons_corrected) == (2, 1, 0)
    assert _snapshot() == before
    assert Person.objects.filter(national_person_id="ONLY-IN-FILE").exists() is False
    known.refresh_from_db()
    assert known.birth_date == datetime.date(1980, 5, 17)


def test_p07_a_record_our_rules_refuse_is_reported_and_the_others_are_corrected(tmp_path, world):
    bad = _person("A1")
    good = _person("A2", last_name="Nordman")
    register = _register(
        tmp_path,
        "A1,Kari,,Hansen,1980-05-17,Nygata 5,0150,Bergen,",  # 0150 is Oslo
        "A2,Kari,,Nordmann,1980-05-17,,,,",
    )

    summary = run_data_wash(register, batch_size=1)

    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.last_name == "Nordmann"  # nothing of A1 was changed (one savepoint per person)
    assert good.last_name == "Nordmann"
    assert summary.persons_corrected == 1
    mismatch = POSTCODE_PLACE_MISMATCH % {"postcode": "0150", "place": "Oslo"}
    assert summary.problems == [f"person {bad.pk} (A1): {mismatch}"]


def test_p07_birth_date_correction(tmp_path, world):
    person = _person("A1")
    old_id = person.sports_id
    run_data_wash(_register(tmp_path, "A1,Kari,,Nordmann,1980-05-18,,,,"), batch_size=5)
    person.refresh_from_db()
    assert person.birth_date == datetime.date(1980, 5, 18)
    assert person.sports_id.startswith("180580") and person.sports_id != old_id


def test_p07_celery_task_reads_the_file_of_the_setting(tmp_path, settings, world):
    person = _person("A1", last_name="Nordman")
    path = tmp_path / "register.csv"
    path.write_text(HEADER + "\nA1,Kari,,Nordmann,1980-05-17,,,,\n", encoding="utf-8")

    settings.POPULATION_REGISTER_FILE = None
    assert datawash.data_wash() == {"skipped": "POPULATION_REGISTER_FILE is not set"}

    settings.POPULATION_REGISTER_FILE = str(path)
    result = datawash.data_wash(batch_size=10)

    assert result["persons_corrected"] == 1
    assert result["corrections"] == {"last_name": 1}
    person.refresh_from_db()
    assert person.last_name == "Nordmann"
    assert datawash.data_wash.name == "members.data_wash"
