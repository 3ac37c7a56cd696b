"""`manage.py import_persons` (issue 4 scope 6): the error report for malformed files, dry
runs, all-or-nothing and --skip-invalid, the organisation by id or organisation number, the
functions and history rows created, and the warnings (M-03 e-mail typos; persons already in
the register or twice in the file, P-14)."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from members import rules
from members.duplicates import importing
from members.models import ContactSet, Function, FunctionType, OrganisationType, Person
from members.services.functions import FUNCTION_TYPE_NOT_ALLOWED_HERE
from tests.members.factories import FunctionFactory, PersonFactory


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

HEADER = ",".join(importing.COLUMNS)
KARI = "A1,Kari,Nordmann,K,15.08.1986,kari@example.org,91234567,Storgata 1,0150,,NO"
OLA = "A2,Ola,Hansen,mann,2010-03-05,,,,,,"
SIGRID = "A3,Sigrid,Bø,jente,2012-12-24,sigrid@example.no,+46 70 123 45 67,,,,"


def write(tmp_path: Path, *lines: str, name: str = "people.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    data = "\n".join(lines).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)
    return path


def run(path: Path, *options: str, organisation: object) -> str:
    out = StringIO()
    call_command(
        "import_persons", str(path), "--organisation", str(organisation), *options, stdout=out
    )
    return out.getvalue()


def run_failing(path: Path, *options: str, organisation: object) -> tuple[str, str]:
    """The report (stdout) and the error of a run that imports nothing."""
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_persons", str(path), "--organisation", str(organisation), *options, stdout=out
        )
    return out.getvalue(), str(raised.value)


def register_state() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM members_sports_id_serial")
        sequence = cursor.fetchone()
    return (
        sorted(Person.objects.values_list("pk", "source_id")),
        ContactSet.objects.count(),
        Function.objects.count(),
        Person.history.count(),
        ContactSet.history.count(),
        Function.history.count(),
        sequence,
    )


def error_line(line: int, field: str, message: object) -> str:
    return str(importing.Issue(line, field, str(message)))


def warning_line(line: int, field: str, message: object) -> str:
    return str(importing.Issue(line, field, str(message), is_error=False))


# ------------------------------------------------------------------------- happy path


def test_import_creates_persons_contact_sets_functions_and_history(world, tmp_path):
    path = write(tmp_path, HEADER, KARI, OLA, SIGRID)

    output = run(path, organisation=world.club_a.pk)

    persons = {p.source_id: p for p in Person.objects.filter(source_id__in=["A1", "A2", "A3"])}
    assert set(persons) == {"A1", "A2", "A3"}
    kari = persons["A1"]
    assert (kari.first_name, kari.last_name, kari.gender, kari.birth_date) == (
        "Kari",
        "Nordmann",
        "female",
        datetime.date(1986, 8, 15),
    )
    # P-05: the sports id is the birth date, the gender digit and a serial of the sequence.
    assert kari.sports_id.startswith("1508862") and len(kari.sports_id) == 14
    contact = kari.contact_sets.get()
    assert (contact.is_standard, contact.email, contact.mobile, contact.street) == (
        True,
        "kari@example.org",
        "+4791234567",
        "Storgata 1",
    )
    # P-08: the place comes from the postcode register when the file leaves it empty.
    assert (contact.postcode, contact.city, contact.country) == ("0150", "Oslo", "NO")
    assert persons["A2"].gender == "male" and persons["A3"].gender == "female"
    assert persons["A3"].contact_sets.get().mobile == "+46701234567"
    member = FunctionType.objects.get(code="member")
    functions = Function.objects.filter(person__in=persons.values())
    assert (
        sorted(functions.values_list("organisation_id", "function_type_id", "to_date"))
        == [(world.club_a.pk, member.pk, None)] * 3
    )
    assert all(f.from_date == timezone.localdate() for f in functions)
    # History: created by the system, with the file as the reason.
    for model, filter_ in (
        (Person, {"id__in": [p.pk for p in persons.values()]}),
        (ContactSet, {"person_id__in": [p.pk for p in persons.values()]}),
        (Function, {"person_id__in": [p.pk for p in persons.values()]}),
    ):
        history = model.history.filter(**filter_)
        assert history.count() == 3
        assert set(
            history.values_list("history_type", "history_user", "history_change_reason")
        ) == {("+", None, "import_persons people.csv")}
    assert "Rows: 3 read, 3 valid, 0 rejected. Errors: 0. Warnings: 0." in output
    assert "Created 3 persons with a member function in Sagene IF; skipped 0 rows." in output


def test_imported_persons_are_visible_to_the_organisation(world, tmp_path):
    """Persons are scoped through functions (clubadmin.access): the club sees its imports."""
    from clubadmin import access
    from clubadmin.capabilities import Capability

    run(write(tmp_path, HEADER, KARI), organisation=world.club_a.pk)

    official = world.user("official_this_club", Capability.PERSONS_VIEW)
    other = world.user("official_other_club", Capability.PERSONS_VIEW)
    imported = Person.objects.filter(source_id="A1")
    assert access.scope(official, Capability.PERSONS_VIEW, imported).count() == 1
    assert access.scope(other, Capability.PERSONS_VIEW, imported).count() == 0


def test_organisation_by_organisation_number(world, tmp_path):
    output = run(write(tmp_path, HEADER, KARI), organisation="988077917")

    assert Function.objects.get(person__source_id="A1").organisation == world.club_a
    assert "Created 1 persons" in output


def test_unknown_organisation_imports_nothing(world, tmp_path):
    before = register_state()

    _, error = run_failing(write(tmp_path, HEADER, KARI), organisation="999999")

    assert error == str(importing.ORGANISATION_NOT_FOUND % {"value": "999999"})
    assert register_state() == before


def test_function_type_not_allowed_at_the_organisation_level(world, tmp_path):
    """`member` is held in a club: a team needs another type (P-11)."""
    before = register_state()

    _, error = run_failing(write(tmp_path, HEADER, KARI), organisation=world.team_a.pk)

    assert error == str(
        FUNCTION_TYPE_NOT_ALLOWED_HERE
        % {"function_type": "Medlem", "type": OrganisationType.TEAM.label}
    )
    assert register_state() == before


def test_function_type_option(world, tmp_path):
    run(write(tmp_path, HEADER, KARI), "--function-type", "player", organisation=world.team_a.pk)

    function = Function.objects.get(person__source_id="A1")
    assert (function.organisation, function.function_type.code) == (world.team_a, "player")


def test_unknown_function_type(world, tmp_path):
    _, error = run_failing(
        write(tmp_path, HEADER, KARI), "--function-type", "nope", organisation=world.club_a.pk
    )

    assert error == str(importing.FUNCTION_TYPE_NOT_FOUND % {"code": "nope"})


def test_missing_file(world, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv", organisation=world.club_a.pk)


# ---------------------------------------------------------------------- dry run


def test_dry_run_reports_and_changes_nothing(world, tmp_path):
    before = register_state()

    output = run(write(tmp_path, HEADER, KARI, OLA), "--dry-run", organisation=world.club_a.pk)

    assert register_state() == before
    assert "(dry run)" in output
    assert "Dry run: would create 2 persons and skip 0 rows; nothing was changed." in output


def test_dry_run_lists_the_persons_with_verbosity_2(world, tmp_path):
    output = run(
        write(tmp_path, HEADER, KARI, OLA), "--dry-run", "-v", "2", organisation=world.club_a.pk
    )

    assert "  line 2: Kari Nordmann, 1986-08-15 [A1]" in output
    assert "  line 3: Ola Hansen, 2010-03-05 [A2]" in output


def test_dry_run_with_bad_rows_fails_and_changes_nothing(world, tmp_path):
    before = register_state()

    output, error = run_failing(
        write(tmp_path, HEADER, KARI, "A9,,Hansen,,,,,,,,"),
        "--dry-run",
        organisation=world.club_a.pk,
    )

    assert register_state() == before
    assert error == str(importing.ROWS_REJECTED % {"count": 1, "valid": 1})
    assert error_line(3, "first_name", importing.VALUE_REQUIRED) in output


# ------------------------------------------------------------------- bad files


def test_bad_dates_are_reported_with_their_lines_and_nothing_is_imported(world, tmp_path):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    path = write(
        tmp_path,
        HEADER,
        KARI,
        "B1,Per,Berg,,31.02.2010,,,,,,",
        "B2,Pål,Berg,,2010/03/05,,,,,,",
        f"B3,Siri,Berg,,{tomorrow.isoformat()},,,,,,",
        "B4,Gro,Berg,,1899-12-31,,,,,,",
        "B5,Liv,Berg,,05.03.10,,,,,,",
    )
    before = register_state()

    output, error = run_failing(path, organisation=world.club_a.pk)

    assert register_state() == before
    assert error == str(importing.ROWS_REJECTED % {"count": 5, "valid": 1})
    assert (
        error_line(3, "birth_date", importing.DATE_IMPOSSIBLE % {"value": "31.02.2010"}) in output
    )
    assert error_line(4, "birth_date", importing.DATE_FORMAT % {"value": "2010/03/05"}) in output
    assert (
        error_line(
            5, "birth_date", importing.BIRTH_DATE_IN_FUTURE % {"value": tomorrow.isoformat()}
        )
        in output
    )
    assert (
        error_line(
            6,
            "birth_date",
            importing.BIRTH_DATE_TOO_EARLY % {"value": "1899-12-31", "earliest": "1900-01-01"},
        )
        in output
    )
    assert error_line(7, "birth_date", importing.DATE_FORMAT % {"value": "05.03.10"}) in output
    assert "Rows: 6 read, 1 valid, 5 rejected. Errors: 5. Warnings: 0." in output


def test_latin1_bytes_are_a_file_error_naming_the_lines(world, tmp_path):
    """An export saved as Latin-1: æøå are invalid UTF-8. The whole file is refused, even with
    --skip-invalid, naming every line that holds such bytes."""
    lines = [HEADER, KARI, "C1,Bjørn,Sæther,,,,,,,,", OLA, "C2,Åse,Ødegård,,,,,,,,"]
    path = tmp_path / "latin1.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    before = register_state()

    output, error = run_failing(path, "--skip-invalid", organisation=world.club_a.pk)

    assert register_state() == before
    assert error == str(importing.FILE_REJECTED)
    # "Bjørn": "ø" is byte 0xf8, the 6th byte of line 3.
    assert error_line(3, "", importing.FILE_NOT_UTF8 % {"byte": "f8", "position": 6}) in output
    assert error_line(5, "", importing.FILE_NOT_UTF8 % {"byte": "c5", "position": 4}) in output
    assert "line 2" not in output and "line 4" not in output


def test_many_bad_lines_are_counted_after_the_first_ten(world, tmp_path):
    path = tmp_path / "latin1.csv"
    rows = [f"D{n},Bjørn,Berg,,,,,,,," for n in range(15)]
    path.write_bytes("\n".join([HEADER, *rows]).encode("latin-1"))

    output, _ = run_failing(path, organisation=world.club_a.pk)

    assert str(importing.Issue(0, "", str(importing.FILE_NOT_UTF8_MORE % {"count": 5}))) in output


def test_bom_is_fine(world, tmp_path):
    run(write(tmp_path, HEADER, KARI, bom=True), organisation=world.club_a.pk)

    assert Person.objects.filter(source_id="A1").exists()


def test_missing_unknown_and_duplicated_columns(world, tmp_path):
    header = "source_id,first_name,last_name,gender,birth_date,email,email,street,zip,city,country"
    path = write(tmp_path, header, "A1,Kari,Nordmann,K,,a@example.org,a@example.org,,0150,,NO")
    before = register_state()

    output, error = run_failing(path, "--skip-invalid", organisation=world.club_a.pk)

    assert register_state() == before
    assert error == str(importing.FILE_REJECTED)
    assert (
        error_line(1, "", importing.HEADER_MISSING_COLUMNS % {"columns": "phone, postcode"})
        in output
    )
    assert (
        error_line(
            1,
            "",
            importing.HEADER_UNKNOWN_COLUMNS
            % {"columns": "zip", "expected": ", ".join(importing.COLUMNS)},
        )
        in output
    )
    assert error_line(1, "", importing.HEADER_DUPLICATED_COLUMNS % {"columns": "email"}) in output


def test_columns_in_any_order_and_case_and_semicolons(world, tmp_path):
    header = (
        "Last_Name;First Name;SOURCE_ID;gender;birth_date;email;phone;street;postcode;city;country"
    )
    run(write(tmp_path, header, "Nordmann;Kari;X7;;;;;;;;"), organisation=world.club_a.pk)

    person = Person.objects.get(source_id="X7")
    assert (person.first_name, person.last_name) == ("Kari", "Nordmann")


def test_duplicated_source_ids_are_errors_on_every_line(world, tmp_path):
    path = write(
        tmp_path,
        HEADER,
        KARI,
        "E1,Per,Berg,,,,,,,,",
        "E1,Pål,Berg,,,,,,,,",
        OLA,
        "E1,Siri,Berg,,,,,,,,",
    )
    before = register_state()

    output, error = run_failing(path, organisation=world.club_a.pk)

    assert register_state() == before
    message = importing.SOURCE_ID_REPEATED % {"source_id": "E1", "lines": "3, 4, 6"}
    for line in (3, 4, 6):
        assert error_line(line, "source_id", message) in output
    assert error == str(importing.ROWS_REJECTED % {"count": 3, "valid": 2})


def test_source_id_already_used_in_the_organisation(world, tmp_path):
    existing = PersonFactory(first_name="Eva", last_name="Eng", source_id="A1")
    FunctionFactory(person=existing, organisation=world.team_a)  # below the club: in it
    elsewhere = PersonFactory(source_id="A2")
    FunctionFactory(person=elsewhere, organisation=world.club_b)

    output, _ = run_failing(write(tmp_path, HEADER, KARI, OLA), organisation=world.club_a.pk)

    message = importing.SOURCE_ID_IN_USE % {
        "source_id": "A1",
        "name": "Eva Eng",
        "sports_id": existing.sports_id,
    }
    assert error_line(2, "source_id", message) in output
    assert "line 3" not in output  # A2 belongs to another club: no conflict


def test_empty_names(world, tmp_path):
    path = write(tmp_path, HEADER, ",,Nordmann,,,,,,,,", "F2,Kari,  ,,,,,,,,")

    output, _ = run_failing(path, organisation=world.club_a.pk)

    assert error_line(2, "first_name", importing.VALUE_REQUIRED) in output
    assert error_line(3, "last_name", importing.VALUE_REQUIRED) in output


def test_too_many_and_too_few_cells(world, tmp_path):
    path = write(
        tmp_path,
        HEADER,
        KARI + ",extra",
        "G2,Kari,Nordmann",
        KARI.replace("A1", "G3") + ",,",  # trailing empty cells do not count
    )

    output, _ = run_failing(path, organisation=world.club_a.pk)

    assert error_line(2, "", importing.ROW_TOO_MANY_CELLS % {"count": 12, "expected": 11}) in output
    assert error_line(3, "", importing.ROW_TOO_FEW_CELLS % {"count": 3, "expected": 11}) in output
    assert "line 4" not in output


def test_quoted_cells_with_line_breaks_keep_the_line_numbers(world, tmp_path):
    path = write(
        tmp_path,
        HEADER,
        'H1,Kari,Nordmann,,,,,"Storgata 1\noppgang B",0150,,NO',
        "H2,,Berg,,,,,,,,",
    )

    output, _ = run_failing(path, organisation=world.club_a.pk)

    assert error_line(4, "first_name", importing.VALUE_REQUIRED) in output


def test_empty_file_and_header_only(world, tmp_path):
    _, error = run_failing(write(tmp_path, ""), organisation=world.club_a.pk)
    assert error == str(importing.FILE_REJECTED)

    output, _ = run_failing(
        write(tmp_path, HEADER, name="header.csv"), organisation=world.club_a.pk
    )
    assert str(importing.Issue(0, "", str(importing.FILE_NO_ROWS))) in output


def test_contact_values_are_checked(world, tmp_path):
    path = write(
        tmp_path,
        HEADER,
        "K1,Kari,Nordmann,x,,kari@@example,12,,,,",
        "K2,Kari,Nordmann,,,,,Storgata 1,,,NO",
        "K3,Kari,Nordmann,,,,,,150,,NO",
        "K4,Kari,Nordmann,,,,,,0150,Bergen,NO",
        "K5,Kari,Nordmann,,,,,,,,Norway",
        "K6,Kari,Nordmann,,,,,,12345,Stockholm,SE",
    )

    output, error = run_failing(path, organisation=world.club_a.pk)

    assert error_line(2, "gender", importing.GENDER_UNKNOWN_VALUE % {"value": "x"}) in output
    assert error_line(2, "email", importing.EMAIL_INVALID % {"value": "kari@@example"}) in output
    assert error_line(2, "phone", importing.PHONE_INVALID % {"value": "12"}) in output
    assert error_line(3, "postcode", importing.POSTCODE_MISSING) in output
    assert error_line(4, "postcode", importing.POSTCODE_FORMAT) in output
    assert (
        error_line(
            5, "city", importing.POSTCODE_PLACE_MISMATCH % {"postcode": "0150", "place": "Oslo"}
        )
        in output
    )
    assert error_line(6, "country", importing.COUNTRY_INVALID % {"value": "Norway"}) in output
    assert "line 7" not in output  # a Swedish address: its postcode is not checked
    assert error == str(importing.ROWS_REJECTED % {"count": 5, "valid": 1})


def test_too_long_values(world, tmp_path):
    path = write(tmp_path, HEADER, f"L1,{'K' * 101},Nordmann,,,,,,,,")

    output, _ = run_failing(path, organisation=world.club_a.pk)

    assert (
        error_line(2, "first_name", importing.VALUE_TOO_LONG % {"limit": 100, "length": 101})
        in output
    )


# ------------------------------------------------------------------ skip invalid


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(world, tmp_path):
    path = write(tmp_path, HEADER, KARI, "M1,,Berg,,,,,,,,", OLA, "M2,Per,Berg,,31.02.2010,,,,,,")

    output = run(path, "--skip-invalid", organisation=world.club_a.pk)

    assert set(
        Person.objects.filter(source_id__startswith=("A")).values_list("source_id", flat=True)
    ) == {
        "A1",
        "A2",
    }
    assert not Person.objects.filter(source_id__startswith="M").exists()
    assert error_line(3, "first_name", importing.VALUE_REQUIRED) in output
    assert (
        error_line(5, "birth_date", importing.DATE_IMPOSSIBLE % {"value": "31.02.2010"}) in output
    )
    assert "Created 2 persons with a member function in Sagene IF; skipped 2 rows." in output


def test_skip_invalid_with_no_valid_row_fails(world, tmp_path):
    before = register_state()

    _, error = run_failing(
        write(tmp_path, HEADER, "N1,,Berg,,,,,,,,"), "--skip-invalid", organisation=world.club_a.pk
    )

    assert error == str(importing.NOTHING_TO_IMPORT)
    assert register_state() == before


# ----------------------------------------------------------------------- warnings


def test_warnings_do_not_stop_the_import(world, tmp_path):
    """M-03 typos, a person already in the register (same folded name and birth date, P-14)
    and the same person twice in the file with different source ids are warnings."""
    existing = PersonFactory(
        first_name="Åse", last_name="Ødegård", birth_date=datetime.date(1990, 1, 2)
    )
    path = write(
        tmp_path,
        HEADER,
        "W1,Kari,Nordmann,,,kari@gmail.bo,,,,,",
        "W2,ASE,Odegard,,02.01.1990,,,,,,",
        "W3,Per,Berg,,2001-05-06,,,,,,",
        "W4,Pér,BERG,,6.5.2001,,,,,,",
    )

    output = run(path, organisation=world.club_a.pk)

    assert Person.objects.filter(source_id__startswith="W").count() == 4
    assert (
        warning_line(
            2,
            "email",
            importing.EMAIL_LIKELY_TYPO % {"value": "kari@gmail.bo", "suggestion": "kari@gmail.no"},
        )
        in output
    )
    assert (
        warning_line(
            3,
            "",
            importing.SAME_PERSON_IN_REGISTER
            % {"name": "Åse Ødegård", "sports_id": existing.sports_id},
        )
        in output
    )
    assert warning_line(4, "", importing.SAME_PERSON_IN_FILE % {"lines": "5"}) in output
    assert warning_line(5, "", importing.SAME_PERSON_IN_FILE % {"lines": "4"}) in output
    assert "Rows: 4 read, 4 valid, 0 rejected. Errors: 0. Warnings: 4." in output


def test_merged_persons_are_not_reported_as_in_the_register(world, tmp_path):
    survivor = PersonFactory(
        first_name="Eva", last_name="Eng", birth_date=datetime.date(1990, 1, 2)
    )
    PersonFactory(
        first_name="Eva",
        last_name="Eng",
        birth_date=datetime.date(1990, 1, 2),
        merged_into=survivor,
    )

    output = run(
        write(tmp_path, HEADER, "Y1,Eva,Eng,,1990-01-02,,,,,,"), organisation=world.club_a.pk
    )

    assert output.count(survivor.sports_id) == 1


# ----------------------------------------------------------------------- speed


def test_import_is_bulk(world, tmp_path, django_assert_max_num_queries):
    """A federation imports 100,000 rows: the queries do not grow with the rows."""
    rows = [f"S{n},Kari{n},Nordmann,K,1986-08-15,k{n}@example.org,9{n:07d},,,," for n in range(600)]
    path = write(tmp_path, HEADER, *rows)

    with django_assert_max_num_queries(40):
        run(path, organisation=world.club_a.pk)

    assert Function.objects.filter(person__source_id__startswith="S").count() == 600


# ------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("male", "male"),
        ("M", "male"),
        ("Mann", "male"),
        ("gutt", "male"),
        ("female", "female"),
        ("K", "female"),
        ("F", "female"),
        ("kvinne", "female"),
        ("Jente", "female"),
        ("unknown", "unknown"),
        ("", "unknown"),
        ("  ", "unknown"),
        ("x", None),
        ("hann", None),
    ],
)
def test_parse_gender(value, expected):
    assert importing.parse_gender(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2010-03-05", (datetime.date(2010, 3, 5), None)),
        ("05.03.2010", (datetime.date(2010, 3, 5), None)),
        ("5.3.2010", (datetime.date(2010, 3, 5), None)),
        ("29.02.2012", (datetime.date(2012, 2, 29), None)),
        ("29.02.2011", (None, "impossible")),
        ("2011-13-01", (None, "impossible")),
        ("05/03/2010", (None, "format")),
        ("05.03.10", (None, "format")),
        ("yesterday", (None, "format")),
    ],
)
def test_parse_date(value, expected):
    assert importing.parse_date(value) == expected


def test_split_phone_by_number_type():
    assert importing.split_phone("912 34 567") == ("+4791234567", "")
    assert importing.split_phone("22 12 34 56") == ("", "+4722123456")
    assert importing.split_phone("12") is None
    assert rules.normalise_phone("912 34 567") == "+4791234567"


def test_country_codes_are_iso_3166():
    assert {"NO", "SE", "DK", "GB", "US", "XK"} <= importing.COUNTRY_CODES
    assert not {"EU", "ZZ", "UN", "XA"} & importing.COUNTRY_CODES
    assert len(importing.COUNTRY_CODES) == 250
