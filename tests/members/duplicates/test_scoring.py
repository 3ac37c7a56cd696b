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
    assert set(parameters["fields"]) == {*FIELDS, scoring.SAME_NAME_TABLE}
    assert set(parameters["term_frequency"]) == {"first_name", "last_name"}
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


# ------------------------------------------------ namesakes: name frequencies and near dates


def frequencies_of(persons=100_000, first=None, last=None):
    """A register of `persons` persons with the given first- and last-name counts (the
    rest are other names)."""
    return scoring.name_frequencies_from_counts(
        persons, (first or {}).items(), (last or {}).items()
    )


# A federation-sized register where Theodor and Pedersen are common, Tjøstolv and Fjæreide
# are rare.
FEDERATION = frequencies_of(
    1_000_000,
    first={"Theodor": 6_000, "Tjøstolv": 3},
    last={"Pedersen": 29_000, "Fjæreide": 40, "Johansen": 40_000, "Johnsen": 20_000},
)


def namesake(record_id, first="Theodor", last="Pedersen", born=datetime.date(2019, 8, 11), **c):
    """A child of the register: no e-mail or mobile, an address of their own."""
    values = {
        "email": "",
        "mobile": "",
        "street": f"Lia {record_id}",
        "postcode": str(7000 + record_id),
    }
    return person(
        record_id, first_name=first, last_name=last, gender="male", birth_date=born, **values | c
    )


def test_p14_name_frequencies_count_each_persons_name_tokens_once():
    records = [
        person(1, first_name="Anne Marie", last_name="Berg-Hansen"),
        person(2, first_name="Anne", last_name="Hansen"),
        person(3, first_name="Åse", last_name="Aasen"),
        person(4, first_name="Aase Aase", last_name="Åsen"),
    ]

    frequencies = scoring.name_frequencies(records)

    assert frequencies.persons == 4
    assert frequencies.first == {"anne": 2, "marie": 1, "ase": 2}
    assert frequencies.last == {"berg": 1, "hansen": 2, "asen": 2}
    # the same table from counts of distinct names, as the full run's SQL gives them
    from_counts = scoring.name_frequencies_from_counts(
        4,
        [("anne marie", 1), ("anne", 1), ("ase", 1), ("aase aase", 1)],
        [("berg-hansen", 1), ("hansen", 1), ("aasen", 1), ("asen", 1)],
    )
    assert from_counts == frequencies
    assert scoring.NameFrequencies.from_json(json.loads(json.dumps(frequencies.as_json()))) == (
        frequencies
    )
    assert scoring.NameFrequencies.from_json({}) is None


def test_p14_a_name_counts_by_its_rarest_token():
    frequencies = frequencies_of(first={"Anne": 900, "Marie": 40}, last={"Hansen": 5000})

    assert frequencies.first_name_frequency(("anne", "marie")) == 40
    assert frequencies.first_name_frequency(("unknown",)) == 1  # at least the person
    assert frequencies.last_name_frequency(("hansen",)) == 0.05


def test_p14_term_frequency_references_are_the_average_term_frequency():
    # Two names of 3 and 1 persons: a person's first name is borne by (3*3 + 1*1) / 4 persons
    # on average; the last names likewise as a share of the register.
    frequencies = frequencies_of(4, first={"Ola": 3, "Per": 1}, last={"Berg": 3, "Lie": 1})

    references = scoring.term_frequency_references(frequencies)

    assert references == {"first_name": 2.5, "last_name": 0.625}


def test_p14_tf_adjustment_is_log2_of_reference_over_term_frequency_within_limits():
    assert scoring.tf_adjustment(None, 85.0) == 0.0
    assert math.isclose(scoring.tf_adjustment(340.0, 85.0), -2.0)
    assert math.isclose(scoring.tf_adjustment(42.5, 85.0), 1.0)
    assert scoring.tf_adjustment(1.0, 85.0) == scoring.TF_MAX_BONUS
    assert scoring.tf_adjustment(10**9, 85.0) == -scoring.TF_MAX_PENALTY


def test_p14_common_name_with_a_one_digit_date_typo_and_nothing_else_is_below_the_threshold():
    typo = namesake(2, born=datetime.date(2019, 8, 17))

    comparison = compare(namesake(1), typo, None, FEDERATION)

    assert comparison.levels["birth_date"] == "one_digit"
    assert comparison.score < DEFAULT_THRESHOLD
    # also for a name of average frequency (no table): the near date alone does not lift it
    assert compare(namesake(1), typo).score < DEFAULT_THRESHOLD


def test_p14_rare_name_with_the_same_evidence_scores_higher():
    common = compare(namesake(1), namesake(2, born=datetime.date(2019, 8, 17)), None, FEDERATION)
    rare = compare(
        namesake(1, "Tjøstolv", "Fjæreide"),
        namesake(2, "Tjøstolv", "Fjæreide", born=datetime.date(2019, 8, 17)),
        None,
        FEDERATION,
    )

    assert rare.score > common.score
    assert rare.evidence[0].weight > common.evidence[0].weight
    assert rare.evidence[1].weight > common.evidence[1].weight
    assert rare.score >= DEFAULT_THRESHOLD  # a rare name is supporting evidence


# A club-sized register: Theodor and Pedersen are common, not a federation's most common.
REGION = frequencies_of(100_000, first={"Theodor": 600}, last={"Pedersen": 2_900})


def test_p14_same_pair_with_a_shared_email_and_matching_first_name_is_above():
    email = {"email": "pedersen.familien@gmail.com"}
    first = namesake(1, **email)
    second = namesake(2, born=datetime.date(2019, 8, 17), **email)

    comparison = compare(first, second, None, REGION)

    assert comparison.levels["email"] == "same"
    assert comparison.evidence[0].note == "common_name"
    assert comparison.score >= DEFAULT_THRESHOLD
    assert compare(first, namesake(2, born=datetime.date(2019, 8, 17)), None, REGION).score < (
        DEFAULT_THRESHOLD
    )


def test_p14_a_shared_mobile_or_address_is_no_coincidence_whatever_the_name():
    # Namesakes meet by chance; a pair sharing a phone number or a street address does not.
    for shared in ({"mobile": "+4791234567"}, {"street": "Lia 9", "postcode": "7009"}):
        first = namesake(1, **shared)
        second = namesake(2, born=datetime.date(2019, 8, 17), **shared)

        comparison = compare(first, second, None, FEDERATION)

        assert comparison.evidence[0].note == comparison.evidence[1].note == ""
        assert comparison.evidence[0].term_frequency is None
        assert comparison.score >= DEFAULT_THRESHOLD, shared


def test_p14_a_shared_email_does_not_stop_the_adjustment():
    # E-mail addresses are made from names (first.last@provider): namesakes' agree more often
    # than chance, so the federation's most common name still needs more than that.
    email = {"email": "theodor.pedersen@gmail.com"}

    comparison = compare(
        namesake(1, **email),
        namesake(2, born=datetime.date(2019, 8, 17), **email),
        None,
        FEDERATION,
    )

    assert comparison.evidence[0].note == "common_name"
    assert comparison.score < DEFAULT_THRESHOLD


def test_p14_common_namesakes_born_the_same_day_or_swapped_need_supporting_evidence():
    for born in (datetime.date(2019, 8, 11), datetime.date(2019, 11, 8)):
        other = namesake(2, born=born)
        assert compare(namesake(1), other, None, FEDERATION).score < DEFAULT_THRESHOLD, born
        # the same address (a second registration that kept it) is identity evidence
        moved_not = namesake(2, born=born, street="Lia 1", postcode="7001")
        assert compare(namesake(1), moved_not, None, FEDERATION).score >= DEFAULT_THRESHOLD, born


def test_p14_near_date_levels_weigh_less_when_the_names_agree():
    # Blocking brings a pair born on different days in only when its names agree: among such
    # pairs a namesake's birth date is one digit off far more often than the same.
    same_name, _prior = scoring.weights()
    assert same_name[scoring.SAME_NAME_TABLE]["one_digit"] < weight_of("birth_date", "one_digit")
    assert same_name[scoring.SAME_NAME_TABLE]["exact"] > weight_of("birth_date", "exact")
    assert scoring.same_name("exact", "exact")
    assert scoring.same_name("typo", "similar")
    assert not scoring.same_name("exact", "similar_names")
    assert not scoring.same_name("different", "exact")  # twins: the ordinary table


def test_p14_adjusted_names_are_explained_as_common_or_rare_and_stored_with_their_frequency():
    comparison = compare(namesake(1), namesake(2), None, FEDERATION)
    first, last = comparison.evidence[0], comparison.evidence[1]

    assert (first.level, first.note, first.term_frequency) == ("exact", "common_name", 6000.0)
    assert (last.level, last.note, last.term_frequency) == ("exact", "common_name", 0.029)
    assert comparison.explanation()[0]["note"] == "common_name"
    assert "note" not in comparison.explanation()[2]
    assert comparison.levels["first_name_tf"] == 6000.0
    assert comparison.levels["last_name_tf"] == 0.029
    # stored levels give the same score without the records
    stored = json.loads(json.dumps(comparison.levels))
    assert math.isclose(scoring.score_of_levels(stored), comparison.score)
    rare = compare(namesake(1, "Tjøstolv", "Fjæreide"), namesake(2, "Tjøstolv", "Fjæreide"))
    assert rare.evidence[0].note == ""  # no table, no adjustment
    rare = compare(
        namesake(1, "Tjøstolv", "Fjæreide"), namesake(2, "Tjøstolv", "Fjæreide"), None, FEDERATION
    )
    assert rare.evidence[0].note == rare.evidence[1].note == "rare_name"


def test_p14_a_register_too_small_for_frequencies_adjusts_nothing():
    small = frequencies_of(scoring.TF_MIN_PERSONS - 1, first={"Theodor": 500})

    assert not small.usable
    assert compare(namesake(1), namesake(2), None, small) == compare(namesake(1), namesake(2))


def test_p14_similar_last_names_that_are_both_names_of_their_own_are_not_a_misspelling():
    johansen = namesake(1, last="Johansen", born=datetime.date(2019, 8, 11))

    names = compare(johansen, namesake(2, last="Johnsen"), None, FEDERATION)
    misspelt = compare(johansen, namesake(2, last="Johasnen"), None, FEDERATION)

    assert names.levels["last_name"] == "similar_names"
    assert misspelt.levels["last_name"] == "similar"
    assert compare(johansen, namesake(2, last="Johnsen")).levels["last_name"] == "similar"
    assert names.score < DEFAULT_THRESHOLD <= misspelt.score


def test_p14_fuzzy_first_names_weigh_by_the_more_common_name():
    frequencies = frequencies_of(first={"Kristoffer": 5000, "Kris": 20, "Ludvik": 10})
    kristoffer = namesake(1, first="Kristoffer")

    comparison = compare(kristoffer, namesake(2, first="Kris"), None, frequencies)

    assert comparison.levels["first_name"] == "variant"
    assert comparison.evidence[0].term_frequency == 5000.0
    assert comparison.evidence[0].weight < weight_of("first_name", "variant")


def test_p14_twins_and_siblings_stay_apart_with_name_frequencies():
    household = {"last_name": "Fjæreide", "street": "Lia 3", "postcode": "7026"}
    twin_a = person(1, first_name="Theodor", gender="male", **household)
    twin_b = person(2, first_name="Tjøstolv", gender="male", **household)
    sibling = person(3, first_name="Tjøstolv", birth_date=datetime.date(1993, 8, 2), **household)

    for first, second in ((twin_a, twin_b), (twin_b, sibling)):
        assert compare(first, second, None, FEDERATION).score < STORE_THRESHOLD


def test_p14_fit_learns_the_same_name_birth_dates_and_takes_references_from_the_register():
    base = default_parameters()
    labelled = _labels(
        [
            ({"first_name": "exact", "last_name": "exact", "birth_date": "one_digit"}, False, 400),
            ({"first_name": "exact", "last_name": "exact", "birth_date": "exact"}, True, 400),
            ({"first_name": "different", "birth_date": "one_digit"}, True, 50),
        ]
    )

    fitted = fit(labelled, base, frequencies=FEDERATION)

    table = scoring.SAME_NAME_TABLE
    assert weight_of(table, "one_digit", fitted) < weight_of(table, "one_digit", base)
    assert weight_of("birth_date", "one_digit", fitted) > weight_of("birth_date", "one_digit", base)
    assert fitted["term_frequency"] == scoring.term_frequency_references(FEDERATION)
    assert fit(labelled, base)["term_frequency"] == base["term_frequency"]


def test_p14_parameters_of_version_1_still_score_and_fit():
    old = default_parameters()
    del old["fields"][scoring.SAME_NAME_TABLE]
    del old["fields"]["last_name"]["similar_names"]
    del old["term_frequency"]
    old["version"] = 1

    assert math.isclose(
        compare(namesake(1), namesake(2), old, FEDERATION).score,
        compare(namesake(1), namesake(2), None, FEDERATION).score,
    )
    fitted = fit(_labels([({"first_name": "exact"}, True, 10)]), old)
    assert scoring.SAME_NAME_TABLE in fitted["fields"]
    assert fitted["version"] == scoring.PARAMETERS_VERSION
