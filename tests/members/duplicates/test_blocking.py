"""P-14 (issue 4): candidate pairs from the union of cheap blocking keys."""

import datetime

import pytest

from members.duplicates import synthetic
from members.duplicates.blocking import MAX_SHARED_CONTACT, candidate_pairs
from members.duplicates.records import PersonRecord

BORN = datetime.date(1988, 6, 9)


def person(record_id, **values):
    defaults = {
        "first_name": "Kristoffer",
        "last_name": "Haugen",
        "gender": "male",
        "birth_date": BORN,
        "email": "",
        "mobile": "",
        "street": "Lia 3",
        "postcode": "7026",
    }
    return PersonRecord(id=record_id, **{**defaults, **values})


ORIGINAL = person(1, email="kris.haugen@gmail.com", mobile="+4791234567")
# One duplicate per error type; contact data left out so only the named key can find it.
ERRORS = {
    "typo in the first name": {"first_name": "Kristofer"},
    "typo in the last name": {"last_name": "Hauge"},
    "ascii spelling": {"last_name": "Haugen", "first_name": "Kristoffer"},
    "nickname": {"first_name": "Kris"},
    "nickname and new surname": {"first_name": "Kris", "last_name": "Berg"},
    "married name replaced": {"last_name": "Berg"},
    "double surname": {"last_name": "Haugen Berg"},
    "hyphenated surname": {"last_name": "Berg-Haugen"},
    "middle name added": {"middle_name": "Andreas"},
    "middle name in the first name": {"first_name": "Kristoffer Andreas"},
    "names swapped": {"first_name": "Haugen", "last_name": "Kristoffer"},
    "names swapped and year off": {
        "first_name": "Haugen",
        "last_name": "Kristoffer",
        "birth_date": datetime.date(1989, 6, 9),
    },
    "day and month swapped": {"birth_date": datetime.date(1988, 9, 6)},
    "day one digit off": {"birth_date": datetime.date(1988, 6, 19)},
    "year one digit off": {"birth_date": datetime.date(1998, 6, 9)},
    "birth date missing": {"birth_date": None},
    "birth date missing and nickname": {"birth_date": None, "first_name": "Kris"},
    "typo and birth date off": {"first_name": "Kristofer", "birth_date": datetime.date(1988, 6, 8)},
    "gender unknown": {"gender": "unknown"},
    "moved, typo in both names, other date": {
        "first_name": "Kristofer",
        "last_name": "Haguen",
        "birth_date": datetime.date(1988, 7, 9),
        "street": "Storgata 1",
        "postcode": "0155",
        "email": "kris.haugen@gmail.com",
    },
    "same mobile, everything else wrong": {
        "first_name": "Kristoffer",
        "last_name": "Dahl",
        "birth_date": datetime.date(1990, 1, 1),
        "mobile": "+47 912 34 567",
    },
}


@pytest.mark.parametrize("error", list(ERRORS))
def test_p14_blocking_finds_each_error_type(error):
    duplicate = person(2, **ERRORS[error])

    assert candidate_pairs([duplicate, ORIGINAL]) == {(1, 2)}


def test_p14_blocking_does_not_pair_unrelated_people():
    records = [
        person(
            1,
            first_name="Kari",
            last_name="Nordmann",
            birth_date=datetime.date(1975, 1, 2),
            email="kari@online.no",
            mobile="+4790000001",
            street="Lia 1",
            postcode="7026",
        ),
        person(
            2,
            first_name="Ola",
            last_name="Hansen",
            birth_date=datetime.date(1975, 1, 3),
            email="ola@online.no",
            mobile="+4790000002",
            street="Lia 1",
            postcode="7026",
        ),
        person(
            3,
            first_name="Per",
            last_name="Olsen",
            birth_date=datetime.date(2001, 8, 9),
            email="per@gmail.com",
            mobile="+4790000003",
        ),
        person(4, first_name="Emma", last_name="Berg", birth_date=None),
        person(5, first_name="Emma", last_name="Strand", birth_date=datetime.date(2012, 4, 4)),
        person(6, first_name="Nora", last_name="Haugen", birth_date=datetime.date(2012, 4, 5)),
    ]

    assert candidate_pairs(records) == set()


def test_p14_blocking_pairs_a_household_through_its_shared_email():
    mother = person(1, first_name="Hilde", birth_date=datetime.date(1980, 2, 2), email="h@x.no")
    child = person(2, first_name="Ida", birth_date=datetime.date(2010, 5, 5), email="h@x.no")

    assert candidate_pairs([mother, child]) == {(1, 2)}


def test_p14_blocking_skips_generic_shared_contacts():
    # A club's address typed for every member of a team: more than MAX_SHARED_CONTACT persons.
    first_names = (
        "Ada Bo Cid Dag Eli Fia Gry Hod Ian Jo Kai Liv Max Nor Ole Pia Rut Siv Tea Ulf Vår"
    )
    team = [
        person(
            index,
            first_name=name,
            last_name=f"{name[::-1]}stad",
            gender="unknown",
            birth_date=datetime.date(2010, 1, 1) + datetime.timedelta(days=400 * index),
            email="post@klubben.no",
            mobile="+4722000000",
        )
        for index, name in enumerate(first_names.split()[: MAX_SHARED_CONTACT + 1], start=1)
    ]

    assert candidate_pairs(team) == set()
    assert candidate_pairs(team[:3]) == {(1, 2), (1, 3), (2, 3)}


def test_p14_blocking_pairs_persons_without_birth_date_by_name():
    undated = person(5, birth_date=None)
    dated = person(9)
    namesake_other_name = person(7, first_name="Kristian", birth_date=None)

    assert candidate_pairs([dated, undated, namesake_other_name]) == {(5, 9)}


def test_p14_blocking_returns_ordered_pairs_and_ignores_input_order():
    records = [person(30), person(10), person(20, first_name="Kris")]

    pairs = candidate_pairs(records)

    assert pairs == {(10, 20), (10, 30), (20, 30)}
    assert candidate_pairs(list(reversed(records))) == pairs


def test_p14_blocking_finds_nearly_all_true_pairs_of_a_synthetic_register():
    register = synthetic.generate(4000, seed=11)

    pairs = candidate_pairs(register.records)

    found = len(pairs & register.true_pairs) / len(register.true_pairs)
    assert found >= 0.98
    assert len(pairs) < 4 * len(register.records)  # blocking, not all pairs
