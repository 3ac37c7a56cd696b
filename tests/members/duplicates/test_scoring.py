"""P-14 (issue 4): the Fellegi-Sunter scoring of two person records and its learning."""

import datetime
import json
import math

import pytest

from members.duplicates import scoring
from members.duplicates.records import PersonRecord
from members.duplicates.scoring import (
    DEFAULT_THRESHOLD,
    FIELDS,
    STORE_THRESHOLD,
    compare,
    default_parameters,
    fit,
    prepare,
    score,
    weight_of,
)

BORN = datetime.date(1990, 3, 14)


def person(record_id=1, **values):
    defaults = {
        "first_name": "Kari",
        "last_name": "Nordmann",
        "gender": "female",
        "birth_date": BORN,
        "email": "kari.nordmann@gmail.com",
        "mobile": "+4791234567",
        "street": "Storgata 5",
        "postcode": "0155",
        "city": "Oslo",
    }
    return PersonRecord(id=record_id, **{**defaults, **values})


def levels(first, second):
    return compare(first, second).levels


def test_p14_default_parameters_are_json_and_thresholds_ordered():
    parameters = default_parameters()

    assert json.loads(json.dumps(parameters)) == parameters
    assert set(parameters["fields"]) == set(FIELDS)
    assert 0 < STORE_THRESHOLD <= DEFAULT_THRESHOLD < 1
    for field, field_levels in parameters["fields"].items():
        informative = [
            v for level, v in field_levels.items() if level not in ("missing", "unknown")
        ]
        assert math.isclose(sum(v["m"] for v in informative), 1.0, abs_tol=1e-4), field
        assert math.isclose(sum(v["u"] for v in informative), 1.0, abs_tol=1e-4), field


def test_p14_identical_records_are_a_duplicate_with_an_explanation():
    comparison = compare(person(1), person(2))

    assert comparison.score > 0.999
    assert [e.field for e in comparison.evidence] == list(FIELDS)
    assert comparison.levels == {
        "first_name": "exact",
        "last_name": "exact",
        "birth_date": "exact",
        "gender": "same",
        "email": "same",
        "mobile": "same",
        "address": "same",
    }
    first = comparison.evidence[0]
    assert (first.a, first.b) == ("Kari", "Kari")
    assert comparison.evidence[2].a == "1990-03-14"
    assert comparison.evidence[6].a == "Storgata 5, 0155"
    assert math.isclose(
        comparison.weight,
        default_parameters()["prior"] + sum(e.weight for e in comparison.evidence),
    )
    assert comparison.explanation()[0] == {
        "field": "first_name",
        "level": "exact",
        "weight": round(first.weight, 2),
        "a": "Kari",
        "b": "Kari",
    }


@pytest.mark.parametrize(
    ("changes_a", "changes_b", "level"),
    [
        ({}, {"first_name": "KARI"}, "exact"),
        ({"first_name": "Åse"}, {"first_name": "Aase"}, "exact"),
        ({"first_name": "Anne Marie"}, {"first_name": "Anne", "middle_name": "Marie"}, "exact"),
        ({"first_name": "Anne"}, {"first_name": "Anne", "middle_name": "Marie"}, "exact"),
        ({"first_name": "Kristoffer"}, {"first_name": "Kris"}, "variant"),
        ({"first_name": "Mohammed"}, {"first_name": "Muhammad"}, "variant"),
        ({"first_name": "Anne Marie"}, {"first_name": "Marie"}, "contains"),
        ({"first_name": "Ella"}, {"first_name": "Elala"}, "typo"),
        ({"first_name": "Kristoffer"}, {"first_name": "Kristofre"}, "typo"),
        ({"first_name": "Henrik"}, {"first_name": "Henrikke"}, "jw_high"),
        ({"first_name": "Mats"}, {"first_name": "Mads"}, "jw_medium"),
        ({"first_name": "Ida"}, {"first_name": "Ina"}, "different"),
        ({"first_name": "Kari"}, {"first_name": "Ingrid"}, "different"),
        ({}, {"first_name": ""}, "missing"),
    ],
)
def test_p14_first_name_levels(changes_a, changes_b, level):
    assert levels(person(1, **changes_a), person(2, **changes_b))["first_name"] == level


@pytest.mark.parametrize(
    ("changes_a", "changes_b", "level"),
    [
        ({}, {"last_name": "nordmann"}, "exact"),
        ({"last_name": "Ødegård"}, {"last_name": "Oedegaard"}, "exact"),
        ({}, {"last_name": "Nordmann Berg"}, "shares_token"),
        ({}, {"last_name": "Berg-Nordmann"}, "shares_token"),
        ({"middle_name": "Berg"}, {"last_name": "Berg"}, "shares_token"),
        ({}, {"last_name": "Nordman"}, "similar"),
        ({}, {"last_name": "Hansen"}, "different"),
        ({}, {"last_name": ""}, "missing"),
    ],
)
def test_p14_last_name_levels(changes_a, changes_b, level):
    assert levels(person(1, **changes_a), person(2, **changes_b))["last_name"] == level


def test_p14_swapped_first_and_last_name_is_its_own_strong_level():
    original = person(1, first_name="Ola", last_name="Haugen")
    swapped = person(2, first_name="Haugen", last_name="Ola")

    comparison = compare(original, swapped)

    assert comparison.levels["first_name"] == "swapped"
    assert comparison.levels["last_name"] == "swapped"
    assert weight_of("first_name", "swapped") > 3
    assert comparison.score >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("other", "level"),
    [
        (datetime.date(1990, 3, 14), "exact"),
        (datetime.date(1990, 4, 3), "different"),
        (datetime.date(1990, 3, 4), "one_digit"),
        (datetime.date(1991, 3, 14), "one_digit"),
        (datetime.date(1989, 3, 14), "same_day_month"),
        (datetime.date(1990, 3, 16), "one_digit"),
        (datetime.date(1990, 3, 20), "within_days"),
        (datetime.date(1985, 7, 2), "different"),
        (None, "missing"),
    ],
)
def test_p14_birth_date_levels(other, level):
    assert levels(person(1), person(2, birth_date=other))["birth_date"] == level


def test_p14_day_and_month_swapped_is_found():
    original = person(1, birth_date=datetime.date(1990, 3, 7))
    swapped = person(2, birth_date=datetime.date(1990, 7, 3), email="", mobile="")

    comparison = compare(original, swapped)

    assert comparison.levels["birth_date"] == "swapped_day_month"
    assert comparison.score >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("gender_a", "gender_b", "level"),
    [
        ("female", "female", "same"),
        ("female", "male", "different"),
        ("female", "unknown", "unknown"),
        ("unknown", "unknown", "unknown"),
    ],
)
def test_p14_gender_levels(gender_a, gender_b, level):
    assert levels(person(1, gender=gender_a), person(2, gender=gender_b))["gender"] == level


def test_p14_different_known_genders_weigh_strongly_against():
    assert weight_of("gender", "different") < -5
    assert compare(person(1), person(2, gender="male")).score < compare(person(1), person(2)).score


@pytest.mark.parametrize(
    ("changes_b", "expected"),
    [
        ({}, {"email": "same", "mobile": "same", "address": "same"}),
        (
            {"first_name": "Ingrid"},
            {"email": "same_other_name", "mobile": "same_other_name", "address": "same_other_name"},
        ),
        (
            {"email": "KARI.NORDMANN@gmail.com ", "mobile": "912 34 567", "street": "Storgt. 5"},
            {"email": "same", "mobile": "same", "address": "same"},
        ),
        (
            {"email": "kari@online.no", "mobile": "+4799999999", "postcode": "5003"},
            {"email": "different", "mobile": "different", "address": "different"},
        ),
        ({"street": "Kirkeveien 1"}, {"address": "same_postcode"}),
        (
            {"email": "", "mobile": "", "street": "", "postcode": ""},
            {"email": "missing", "mobile": "missing", "address": "missing"},
        ),
        ({"mobile": "", "phone": "+4791234567"}, {"mobile": "same"}),
    ],
)
def test_p14_contact_levels(changes_b, expected):
    found = levels(person(1), person(2, **changes_b))

    assert {field: found[field] for field in expected} == expected


def test_p14_shared_household_contacts_are_weak_and_disagreeing_names_strong():
    # Households: a parent's e-mail, phone and address on children with other first names.
    assert weight_of("email", "same_other_name") < 0
    assert weight_of("mobile", "same_other_name") < 0
    assert weight_of("address", "same_other_name") < 0
    assert weight_of("first_name", "different") < -4
    assert weight_of("birth_date", "different") < -6
    assert weight_of("email", "same") > 5


def test_p14_siblings_and_twins_are_not_duplicates():
    household = {
        "last_name": "Haugen",
        "email": "mor.haugen@gmail.com",
        "mobile": "+4790000001",
        "street": "Lia 3",
        "postcode": "7026",
    }
    twin_a = person(1, first_name="Ida", gender="female", birth_date=BORN, **household)
    twin_b = person(2, first_name="Ina", gender="female", birth_date=BORN, **household)
    twin_c = person(3, first_name="Mats", gender="male", birth_date=BORN, **household)
    twin_d = person(4, first_name="Mads", gender="male", birth_date=BORN, **household)
    twin_e = person(5, first_name="Emil", gender="male", birth_date=BORN, **household)
    twin_f = person(6, first_name="Emilie", gender="female", birth_date=BORN, **household)
    sibling = person(7, first_name="Sofie", birth_date=datetime.date(1993, 8, 2), **household)

    for first, second in ((twin_a, twin_b), (twin_c, twin_d), (twin_e, twin_f), (twin_a, sibling)):
        assert compare(first, second).score < STORE_THRESHOLD, (first, second)


def test_p14_father_and_son_of_one_name_are_not_a_duplicate():
    # One household, one name, everything shared but the birth date: the contact cap holds.
    father = person(1, first_name="Ola", gender="male", birth_date=datetime.date(1970, 5, 1))
    son = person(2, first_name="Ola", gender="male", birth_date=datetime.date(2001, 9, 23))

    comparison = compare(father, son)

    contact = sum(
        e.weight for e in comparison.evidence if e.field in ("email", "mobile", "address")
    )
    assert math.isclose(contact, default_parameters()["contact_cap"])
    assert comparison.score < DEFAULT_THRESHOLD


def test_p14_married_name_is_found():
    maiden = person(1, last_name="Hansen")
    for married in ("Berg", "Hansen Berg", "Hansen-Berg"):
        comparison = compare(maiden, person(2, last_name=married, street="Lia 3", postcode="7026"))
        assert comparison.score >= DEFAULT_THRESHOLD, married


def test_p14_typical_errors_still_score_above_the_threshold():
    original = person(1, first_name="Bjørn", last_name="Sæther", gender="male")
    for changes in (
        {"first_name": "Bjoern", "last_name": "Saether"},
        {"first_name": "Bjørn", "last_name": "Sæter"},
        {"birth_date": datetime.date(1990, 3, 15), "email": ""},
        {"birth_date": None, "street": "Lia 3", "postcode": "7026"},
        {"gender": "unknown", "mobile": ""},
    ):
        duplicate = person(
            2, **{"first_name": "Bjørn", "last_name": "Sæther", "gender": "male", **changes}
        )
        assert compare(original, duplicate).score >= DEFAULT_THRESHOLD, changes


def test_p14_namesakes_without_shared_contacts_are_not_duplicates():
    first = person(1, first_name="Emma", last_name="Hansen", birth_date=datetime.date(2010, 5, 2))
    second = person(
        2,
        first_name="Emma",
        last_name="Hansen",
        birth_date=datetime.date(2010, 5, 12),
        email="emma.h@online.no",
        mobile="+4798765432",
        street="Lia 3",
        postcode="7026",
    )

    assert compare(first, second).score < STORE_THRESHOLD


def test_p14_compare_accepts_prepared_records_and_score_agrees():
    first, second = person(1), person(2, first_name="Kris", birth_date=None)

    assert compare(prepare(first), prepare(second)) == compare(first, second)
    assert math.isclose(score(first, second), compare(first, second).score)
    assert math.isclose(
        scoring.score_of_levels(compare(first, second).levels), compare(first, second).score
    )


def test_p14_custom_parameters_change_the_weights():
    parameters = default_parameters()
    parameters["fields"]["gender"]["different"] = {"m": 0.5, "u": 0.5}

    assert compare(person(1), person(2, gender="male"), parameters).evidence[3].weight == 0.0
    assert compare(person(1), person(2, gender="male")).evidence[3].weight < -5


def _labels(pattern_counts):
    base = dict.fromkeys(FIELDS, "missing") | {"gender": "unknown"}
    return [
        (base | dict(changes), duplicate)
        for changes, duplicate, count in pattern_counts
        for _ in range(count)
    ]


def test_p14_fit_moves_weights_in_the_direction_of_the_labels():
    base = default_parameters()
    labelled = _labels(
        [
            ({"first_name": "variant"}, True, 300),  # variants turn out to be duplicates
            ({"first_name": "exact"}, True, 200),
            ({"first_name": "different"}, False, 300),
            ({"email": "same"}, False, 150),  # a shared e-mail was often not the same person
            ({"email": "same"}, True, 50),
            ({"email": "different"}, False, 100),
        ]
    )

    fitted = fit(labelled, base)

    assert weight_of("first_name", "variant", fitted) > weight_of("first_name", "variant", base)
    assert weight_of("email", "same", fitted) < weight_of("email", "same", base)
    assert fitted["prior"] == base["prior"]
    assert fitted["fields"]["email"]["missing"] == {"m": 1.0, "u": 1.0}
    assert json.loads(json.dumps(fitted)) == fitted
    assert base == default_parameters()  # the base is not changed


def test_p14_fit_with_few_labels_stays_near_the_base():
    base = default_parameters()
    fitted = fit(_labels([({"first_name": "variant"}, True, 2)]), base)

    moved = weight_of("first_name", "variant", fitted) - weight_of("first_name", "variant", base)
    assert 0 < moved < 1.5
    assert fit([], base)["fields"] == base["fields"]


def test_p14_fit_takes_the_prior_from_labels_only_when_asked_and_sensible():
    labelled = _labels(
        [({"first_name": "exact"}, True, 250), ({"first_name": "different"}, False, 750)]
    )

    assert fit(labelled)["prior"] == default_parameters()["prior"]
    assert fit(labelled, estimate_prior=True)["prior"] == round(math.log2(250 / 750), 4)
    few = labelled[:100] + labelled[-100:]
    assert fit(few, estimate_prior=True)["prior"] == default_parameters()["prior"]


def test_p14_fit_with_unlabelled_candidates_keeps_u_representative():
    # The review queue's non-duplicates are hard cases (same name, same e-mail); the unlabelled
    # candidates (mostly households) keep "same e-mail" from looking common among non-duplicates.
    queue = _labels(
        [
            ({"first_name": "exact", "email": "same"}, False, 40),
            ({"first_name": "exact", "email": "same"}, True, 400),
        ]
    )
    candidates = [
        levels
        for levels, _ in _labels(
            [
                ({"first_name": "different", "email": "same_other_name"}, False, 3000),
                ({"first_name": "different", "email": "different"}, False, 3000),
            ]
        )
    ]

    labels_only = fit(queue)
    with_candidates = fit(queue, candidates=candidates)

    assert weight_of("email", "same", with_candidates) > weight_of("email", "same", labels_only)
    assert weight_of("email", "same", with_candidates) > 5
