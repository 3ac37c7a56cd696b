"""P-14 (issue 4): name and contact normalisation of the duplicate engine."""

import pytest
from django.db import connection

from members.duplicates import normalise
from members.duplicates.normalise import (
    are_variants,
    fold,
    is_known_first_name,
    name_key,
    name_tokens,
    nickname_groups,
    normalise_email,
    normalise_phone,
    normalise_street,
    sound_key,
)

# Every character the Python table covers, and names as they are written.
FOLD_RANGES = (
    (0x00A0, 0x024F),
    (0x0300, 0x036F),
    (0x1E00, 0x1EFF),
    (0x2010, 0x201F),
    (0xFB00, 0xFB06),
)
FOLD_SAMPLES = (
    "Æsøy Ødegård Åse",
    "BJØRN SÆTHER-ÅSHEIM",
    "Jürgen Müller",
    "Zoë Ångström-Lindqvist",
    "Nguyễn Thị Minh Khai",
    "Łukasz Wójcik",
    "Ðorđe Đoković",
    "Søren Kierkegaard",
    "O’Brien Þórsdóttir",
    "Ærlig Œdipus ß",
    "e\u0301mile",  # decomposed é
)


@pytest.mark.django_db
def test_p14_fold_equals_sql_clubadmin_fold_for_every_covered_character_and_names():
    characters = [chr(code) for first, last in FOLD_RANGES for code in range(first, last + 1)]
    values = [*characters, "".join(characters), *FOLD_SAMPLES]
    with connection.cursor() as cursor:
        cursor.execute("SELECT clubadmin_fold(v) FROM unnest(%s::text[]) AS v", [values])
        folded_in_sql = [row[0] for row in cursor.fetchall()]

    mismatches = [
        (value, sql, fold(value))
        for value, sql in zip(values, folded_in_sql, strict=True)
        if sql != fold(value)
    ]

    assert mismatches == []


def test_p14_fold_folds_norwegian_letters_to_ascii_like_unaccent():
    assert fold("Æsøy Ødegård Åse") == "aesoy odegard ase"
    assert fold("Sæther") == "saether"
    assert fold("Jørgen Ähl Öberg Éric ß") == "jorgen ahl oberg eric ss"


@pytest.mark.parametrize(
    ("written", "ascii"),
    [
        ("Åse", "Aase"),
        ("Bjørn", "Bjoern"),
        ("Bjørn", "Bjorn"),
        ("Sæther", "Saether"),
        ("Ødegård", "Oedegaard"),
        ("Ødegård", "Odegard"),
        ("Håkon", "Haakon"),
        ("Kåre", "Kare"),
    ],
)
def test_p14_norwegian_ascii_spellings_have_the_same_name_key(written, ascii):
    assert name_key(written) == name_key(ascii)


def test_p14_name_tokens_split_double_and_hyphenated_names():
    assert name_tokens("Ødegård-Aasen") == ("odegard", "asen")
    assert name_tokens("  Berg   Hansen ") == ("berg", "hansen")
    assert name_tokens("Anne-Marie") == ("anne", "marie")
    assert name_tokens("O'Brien") == ("obrien",)
    assert name_tokens("") == ()
    assert name_key("Hansen–Berg") == "hansen berg"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Kristoffer", "Christoffer"),
        ("Kristoffer", "Kris"),
        ("Alexander", "Aleksander"),
        ("Alex", "Aleksander"),
        ("Elisabeth", "Lise"),
        ("Katrine", "Kathrine"),
        ("Catrine", "Katrine"),
        ("Jon", "John"),
        ("Jonny", "Jon"),
        ("Per", "Peder"),
        ("Mohammed", "Muhammad"),
        ("Mohamed", "Mohammad"),
        ("Jørgen", "Jurgen"),
        ("Mathias", "Matias"),
        ("Mattias", "Mathias"),
        ("Sophie", "Sofie"),
        ("Kjersti", "Kristin"),
        ("Thor", "Tor"),
    ],
)
def test_p14_nicknames_and_spelling_variants_are_variants(first, second):
    assert are_variants(first, second)
    assert are_variants(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Mats", "Mads"),
        ("Emil", "Emilie"),
        ("Ida", "Ina"),
        ("Anders", "Andreas"),
        ("Kristian", "Kristoffer"),  # both "Kris", but not each other
        ("Ola", "Kari"),
        ("", "Kari"),
    ],
)
def test_p14_sibling_names_are_not_variants(first, second):
    assert not are_variants(first, second)


def test_p14_nickname_table_is_realistic_and_loaded_once():
    groups = normalise._nickname_groups()

    assert len({group for ids in groups.values() for group in ids}) >= 150
    assert normalise._nickname_groups() is groups
    assert len(nickname_groups("kris")) == 2  # Kristoffer and Kristian


def test_p14_sound_key_equates_common_spellings():
    assert sound_key("mathias") == sound_key("matias") == sound_key("mattias") == "matias"
    assert sound_key("christoffer") == sound_key("kristoffer") == "kristofer"
    assert sound_key("sarah") == sound_key("sara") == "sara"


def test_p14_known_first_names_tell_names_from_typos():
    assert is_known_first_name("ida")
    assert is_known_first_name("ina")
    assert is_known_first_name(name_key("Sølvi"))
    assert is_known_first_name("kris")  # from the nickname table
    assert not is_known_first_name("elala")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("912 34 567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("0047 91234567", "+4791234567"),
        ("+4791234567", "+4791234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("", ""),
        ("  ", ""),
        ("12", ""),
    ],
)
def test_p14_phones_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw) == expected


def test_p14_email_and_street_keys():
    assert normalise_email("  Ola.Nordmann@Gmail.COM ") == "ola.nordmann@gmail.com"
    assert normalise_street("Storgata 5B") == normalise_street("storgt. 5 b") == "storgt5b"
    assert normalise_street("Kirkeveien 12") == normalise_street("Kirkevn 12")
    assert normalise_street("Kirkeveien 12") != normalise_street("Kirkeveien 21")
