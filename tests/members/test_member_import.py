"""Importing a club's member list from the old system (issue 5 scope 9, M-01..M-03): column
guessing, the cleaning report (M-02 passive members skipped, M-03 e-mail typos, invalid
dates, persons already in the register, duplicates inside the file, M-13/M-14 e-mail rules),
the atomic commit, the pages and their access matrix."""

import datetime
import io

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members import member_import
from members.duplicates import importing
from members.forms_import import (
    COLUMN_PREFIX,
    COLUMN_USED_TWICE,
    FIELD_LABELS,
    FILE_TOO_LARGE,
    FILE_TYPE_NOT_ACCEPTED,
    NAMES_REQUIRED,
)
from members.models import (
    ContactSet,
    Function,
    Membership,
    MembershipStatus,
    Person,
)
from members.views import member_import as views
from tests.access_matrix import HTML_DENIED, Case, check_case, get
from tests.conftest import ROLES, World
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
HEADER = "Medlemsnr;Fornavn;Etternavn;Fødselsdato;Kjønn;E-post;Mobil;Adresse;Postnr;Poststed;Status"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def table(*rows: str, header: str = HEADER) -> importing.Table:
    return importing.read_csv(csv_bytes(*rows, header=header))


def plan_for(
    world: World, *rows: str, header: str = HEADER, **options
) -> member_import.MemberImportPlan:
    parsed = table(*rows, header=header)
    types = default_types(world.club_a)
    return member_import.member_import_plan(
        table=parsed,
        mapping=member_import.guess_mapping(parsed.header),
        club=world.club_a,
        membership_type=options.pop("membership_type", types["ordinary"]),
        **options,
    )


def commit_for(world: World, *rows: str, header: str = HEADER, actor=None, **options):
    parsed = table(*rows, header=header)
    types = default_types(world.club_a)
    return member_import.member_import_commit(
        actor=actor,
        table=parsed,
        mapping=member_import.guess_mapping(parsed.header),
        club=world.club_a,
        membership_type=options.pop("membership_type", types["ordinary"]),
        skip_invalid=options.pop("skip_invalid", False),
        change_reason="member import medlemmer.csv",
        **options,
    )


def by_line(plan: member_import.MemberImportPlan) -> dict[int, member_import.MemberLine]:
    return {line.line: line for line in plan.lines}


def messages_of(line: member_import.MemberLine, *, errors: bool) -> list[str]:
    return [issue.message for issue in line.row.issues if issue.is_error == errors]


def state() -> tuple:
    return (
        sorted(Person.objects.values_list("pk", flat=True)),
        sorted(ContactSet.objects.values_list("pk", flat=True)),
        sorted(Function.objects.values_list("pk", "person_id", "to_date")),
        sorted(Membership.objects.values_list("pk", "person_id", "status")),
        Person.history.count(),
        ContactSet.history.count(),
        Function.history.count(),
        Membership.history.count(),
    )


ADULT = "101;Kari;Nordmann;15.08.1986;K;kari@example.org;91234567;Storgata 1;0150;;aktiv"
CHILD = "102;Ola;Nordmann;2015-03-05;gutt;;;Storgata 1;0150;Oslo;"
PASSIVE = "103;Per;Passiv;31.02.1970;mann;not-an-email;;;;;passiv"


# ------------------------------------------------------------------- pure rules


def test_guess_mapping_norwegian_header():
    header = [
        "Medlemsnr",
        "Fornavn",
        "Mellomnavn",
        "Etternavn",
        "Fødselsdato",
        "Kjønn",
        "E-post",
        "Mobil",
        "Adresse",
        "Postnr",
        "Poststed",
        "Land",
        "Medlemstype",
        "Status",
        "Innmeldt",
        "Kommentar",
    ]

    mapping = member_import.guess_mapping(header)

    assert mapping == {
        "source_id": 0,
        "first_name": 1,
        "middle_name": 2,
        "last_name": 3,
        "birth_date": 4,
        "gender": 5,
        "email": 6,
        "phone": 7,
        "street": 8,
        "postcode": 9,
        "city": 10,
        "country": 11,
        "membership_type": 12,
        "status": 13,
        "start_date": 14,
    }


def test_guess_mapping_english_header():
    header = ["First name", "Last Name", "Date of birth", "E-mail", "Mobile", "ZIP", "City", "Sex"]

    assert member_import.guess_mapping(header) == {
        "first_name": 0,
        "last_name": 1,
        "birth_date": 2,
        "email": 3,
        "phone": 4,
        "postcode": 5,
        "city": 6,
        "gender": 7,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "active"),
        ("Aktiv", "active"),
        ("active", "active"),
        ("Passiv", "passive"),
        ("inaktiv", "passive"),
        ("Sluttet", "former"),
        ("utmeldt", "former"),
        ("æresmedlem", None),
    ],
)
def test_m02_member_status(value, expected):
    assert member_import.member_status(value) == expected


# --------------------------------------------------------------- cleaning report


def test_m02_passive_and_former_members_are_skipped_whatever_their_data(world):
    plan = plan_for(world, ADULT, PASSIVE, "104;Siri;Sluttet;;;;;;;;Sluttet")

    lines = by_line(plan)
    assert lines[3].skipped == str(member_import.SKIPPED_PASSIVE)
    assert lines[3].row.issues == []  # its impossible date and bad e-mail are not checked
    assert lines[4].skipped == str(member_import.SKIPPED_FORMER)
    assert [line.line for line in plan.imported] == [2]
    assert plan.may_commit


def test_m03_email_typos_are_warnings(world):
    plan = plan_for(world, "101;Kari;Nordmann;15.08.1986;K;kari@hotmial.com;;;;;")

    line = by_line(plan)[2]
    assert line.is_imported
    assert messages_of(line, errors=False) == [
        str(
            importing.EMAIL_LIKELY_TYPO
            % {"value": "kari@hotmial.com", "suggestion": "kari@hotmail.com"}
        )
    ]


def test_invalid_values_are_errors(world):
    tomorrow = TODAY() + datetime.timedelta(days=1)
    header = HEADER + ";Innmeldt"
    plan = plan_for(
        world,
        "101;Kari;Nordmann;31.02.1986;K;;;;;;;",
        "102;;Nordmann;;;;;;;;;",
        f"103;Per;Berg;;;;;;;;;{tomorrow:%d.%m.%Y}",
        "104;Liv;Berg;;;;;;;;Æresmedlem;",
        header=header,
    )

    lines = by_line(plan)
    assert messages_of(lines[2], errors=True) == [
        str(importing.DATE_IMPOSSIBLE % {"value": "31.02.1986"})
    ]
    assert messages_of(lines[3], errors=True) == [str(importing.VALUE_REQUIRED)]
    assert messages_of(lines[4], errors=True) == [
        str(member_import.START_DATE_IN_FUTURE % {"value": tomorrow.isoformat()})
    ]
    assert messages_of(lines[5], errors=True) == [
        str(member_import.STATUS_UNKNOWN % {"value": "Æresmedlem"})
    ]
    assert not plan.may_commit
    assert plan.refusal == str(member_import.ROWS_REJECTED_IN_FORM % {"count": 4, "valid": 0})


def test_person_already_in_the_register_gets_the_membership(world):
    """Same folded name and birth date as one person of the register: matched, not created.
    The report names the person only to a user who may see them."""
    existing = PersonFactory(
        first_name="Åse", last_name="Ødegård", birth_date=datetime.date(1990, 1, 2)
    )
    FunctionFactory(person=existing, organisation=world.club_b)
    registrar = world.user("official_this_club", Capability.MEMBERS_MANAGE)

    plan = plan_for(world, "201;ASE;Odegard;02.01.1990;;;;;;;", user=registrar)

    line = by_line(plan)[2]
    assert (line.is_imported, line.person_id) == (True, existing.pk)
    assert messages_of(line, errors=False) == [str(member_import.MATCHED_PERSON_ELSEWHERE)]
    staff = world.user("federation_staff", Capability.MEMBERS_MANAGE)
    plan = plan_for(world, "201;ASE;Odegard;02.01.1990;;;;;;;", user=staff)
    assert messages_of(by_line(plan)[2], errors=False) == [
        str(member_import.MATCHED_PERSON % {"name": "Åse Ødegård", "sports_id": existing.sports_id})
    ]


def test_several_possible_persons_are_skipped(world):
    for _ in range(2):
        PersonFactory(first_name="Eva", last_name="Eng", birth_date=datetime.date(1990, 1, 2))

    plan = plan_for(world, "201;Eva;Eng;1990-01-02;;;;;;;")

    assert by_line(plan)[2].skipped == str(member_import.SKIPPED_SEVERAL_MATCHES % {"count": 2})


def test_existing_members_are_skipped(world):
    member = PersonFactory(first_name="Eva", last_name="Eng", birth_date=datetime.date(1990, 1, 2))
    MembershipFactory(person=member, club=world.club_a)

    plan = plan_for(world, "201;Eva;Eng;1990-01-02;;;;;;;")

    assert by_line(plan)[2].skipped == str(member_import.SKIPPED_ALREADY_MEMBER)
    assert plan.refusal == str(member_import.NOTHING_TO_COMMIT)


def test_the_clubs_source_id_finds_the_person(world):
    """A person of the club with the row's member number is that person (even with another
    spelling of the name), and the import can run again without creating anyone twice."""
    known = PersonFactory(first_name="Katrine", last_name="Nordmann", source_id="101")
    FunctionFactory(person=known, organisation=world.club_a)
    stranger = PersonFactory(source_id="102")  # another club's number 102: not this person
    FunctionFactory(person=stranger, organisation=world.club_b)

    plan = plan_for(world, ADULT, "102;Ny;Person;;;;;;;;")

    lines = by_line(plan)
    assert lines[2].person_id == known.pk
    assert lines[3].person_id is None


def test_duplicates_inside_the_file(world):
    """Same name and birth date twice: imported once. The same member number twice: an
    error on both lines."""
    plan = plan_for(
        world,
        "301;Per;Berg;2001-05-06;;;;;;;",
        "302;PÉR;berg;6.5.2001;;;;;;;",
        "303;Liv;Berg;;;;;;;;",
        "303;Gro;Berg;;;;;;;;",
    )

    lines = by_line(plan)
    assert lines[3].skipped == str(member_import.SKIPPED_SAME_PERSON_AS_LINE % {"line": 2})
    repeated = str(importing.SOURCE_ID_REPEATED % {"source_id": "303", "lines": "4, 5"})
    assert messages_of(lines[4], errors=True) == [repeated]
    assert messages_of(lines[5], errors=True) == [repeated]


def test_m13_an_adults_email_is_their_own(world):
    taken = PersonFactory()
    MembershipFactory(person=taken, club=world.club_a)
    taken_email = taken.contact_sets.get().email

    plan = plan_for(
        world,
        "401;Kari;Nordmann;1980-01-01;;felles@example.org;;;;;",
        "402;Knut;Nordmann;1981-01-01;;FELLES@example.org;;;;;",
        f"403;Per;Berg;1970-01-01;;{taken_email};;;;;",
    )

    lines = by_line(plan)
    assert messages_of(lines[3], errors=True) == [
        str(member_import.EMAIL_TAKEN_IN_FILE % {"email": "felles@example.org", "line": 2})
    ]
    assert messages_of(lines[4], errors=True) == [
        str(member_import.EMAIL_TAKEN_BY_MEMBER % {"email": taken_email})
    ]


def test_m14_a_child_with_an_adults_email_is_imported_without_it(world):
    plan = plan_for(
        world,
        "501;Ola;Nordmann;2015-03-05;;familie@example.org;91234567;;;;",  # the child first
        "502;Kari;Nordmann;1980-01-01;;familie@example.org;91234567;;;;",
    )

    lines = by_line(plan)
    assert lines[2].row.person.email == ""
    assert lines[3].row.person.email == "familie@example.org"
    assert messages_of(lines[2], errors=False) == [
        str(member_import.CHILD_EMAIL_DROPPED % {"other": member_import.LINE_N % {"line": 3}}),
        str(member_import.CHILD_SHARES_MOBILE_IN_FILE % {"line": 3}),
    ]
    assert plan.may_commit


def test_membership_type_column(world):
    header = HEADER + ";Medlemstype"
    plan = plan_for(
        world,
        "601;Kari;Nordmann;;;;;;;;;Junior",
        "602;Per;Berg;;;;;;;;;Familiemedlem",
        "603;Liv;Berg;;;;;;;;;Støttemedlem",
        "604;Gro;Berg;;;;;;;;;",
        header=header,
    )

    lines = by_line(plan)
    types = default_types(world.club_a)
    assert lines[2].membership_type == types["junior"]
    assert messages_of(lines[3], errors=True) == [
        str(member_import.MEMBERSHIP_TYPE_FAMILY % {"type": "Familiemedlem"})
    ]
    names = ", ".join(sorted(t.name for t in types.values()))
    assert messages_of(lines[4], errors=True) == [
        str(member_import.MEMBERSHIP_TYPE_UNKNOWN % {"value": "Støttemedlem", "types": names})
    ]
    assert lines[5].membership_type == types["ordinary"]


def test_deceased_and_overlapping_memberships_are_errors(world):
    header = HEADER + ";Innmeldt"
    dead = PersonFactory(first_name="Dag", last_name="Død", birth_date=datetime.date(1940, 1, 1))
    Person.objects.filter(pk=dead.pk).update(is_deceased=True)
    former = PersonFactory(first_name="Eva", last_name="Eng", birth_date=datetime.date(1990, 1, 2))
    MembershipFactory(
        person=former,
        club=world.club_a,
        status=MembershipStatus.ENDED,
        start_date=datetime.date(2015, 1, 1),
        end_date=datetime.date(2020, 6, 30),
    )

    plan = plan_for(
        world,
        "701;Dag;Død;1940-01-01;;;;;;;;",
        "702;Eva;Eng;1990-01-02;;;;;;;;01.01.2019",
        header=header,
    )

    lines = by_line(plan)
    assert messages_of(lines[2], errors=True) == [
        str(member_import.PERSON_IS_DECEASED % {"name": "Dag Død"})
    ]
    assert messages_of(lines[3], errors=True) == [
        str(member_import.MEMBERSHIP_OVERLAPS % {"name": "Eva Eng", "end": "2020-06-30"})
    ]


def test_a_family_type_cannot_be_the_default(world):
    with pytest.raises(Exception) as raised:
        plan_for(world, ADULT, membership_type=default_types(world.club_a)["family"])

    assert str(member_import.MEMBER_TYPE_NOT_ALLOWED) in str(raised.value)


# ------------------------------------------------------------------------ commit


def test_commit_creates_persons_functions_and_memberships(world):
    registrar = world.user("official_this_club", Capability.MEMBERS_MANAGE)
    existing = PersonFactory(
        first_name="Åse",
        last_name="Ødegård",
        birth_date=datetime.date(1990, 1, 2),
        national_person_id="NP-1",
    )
    header = HEADER + ";Innmeldt"

    plan = commit_for(
        world,
        ADULT + ";01.02.2020",
        CHILD + ";",
        PASSIVE + ";",
        "201;Ase;Odegard;1990-01-02;;;;;;;;",
        header=header,
        actor=registrar,
    )

    assert plan.committed
    kari = Person.objects.get(source_id="101")
    assert (kari.first_name, kari.gender, kari.birth_date) == (
        "Kari",
        "female",
        datetime.date(1986, 8, 15),
    )
    assert kari.contact_sets.get().mobile == "+4791234567"
    assert not Person.objects.filter(last_name="Passiv").exists()  # M-02
    memberships = {m.person_id: m for m in Membership.objects.filter(club=world.club_a)}
    ola = Person.objects.get(source_id="102")
    assert set(memberships) >= {kari.pk, ola.pk, existing.pk}
    assert memberships[kari.pk].start_date == datetime.date(2020, 2, 1)
    assert memberships[ola.pk].start_date == TODAY()
    # M-14: new persons confirm their data first; a person already traced is active at once.
    assert memberships[kari.pk].status == MembershipStatus.PENDING_VERIFICATION
    assert memberships[existing.pk].status == MembershipStatus.ACTIVE
    assert {m.membership_type.code for m in memberships.values()} == {"ordinary"}
    member_functions = Function.objects.filter(
        organisation=world.club_a, function_type__code="member", person__in=[kari, ola, existing]
    )
    assert sorted(member_functions.values_list("person_id", "from_date")) == sorted(
        [(kari.pk, datetime.date(2020, 2, 1)), (ola.pk, TODAY()), (existing.pk, TODAY())]
    )
    for model, rows in (
        (Person, Person.history.filter(id__in=[kari.pk, ola.pk])),
        (Membership, Membership.history.filter(person_id__in=[kari.pk, ola.pk, existing.pk])),
        (Function, Function.history.filter(id__in=member_functions.values("pk"))),
    ):
        assert set(rows.values_list("history_user", "history_change_reason")) == {
            (registrar.pk, "member import medlemmer.csv")
        }, model
    assert sorted(plan.created_person_ids) == sorted([kari.pk, ola.pk])


def test_commit_twice_imports_nothing_the_second_time(world):
    commit_for(world, ADULT, CHILD)
    before = state()

    plan = commit_for(world, ADULT, CHILD)

    assert not plan.committed
    assert [line.skipped for line in plan.lines] == [str(member_import.SKIPPED_ALREADY_MEMBER)] * 2
    assert state() == before


def test_commit_with_errors_changes_nothing_unless_skipping(world):
    bad = "109;Per;Berg;31.02.1986;;;;;;;"
    before = state()

    plan = commit_for(world, ADULT, bad)

    assert not plan.committed
    assert state() == before

    plan = commit_for(world, ADULT, bad, skip_invalid=True)

    assert plan.committed
    assert Person.objects.filter(source_id="101").exists()
    assert not Person.objects.filter(source_id="109").exists()


def test_commit_needs_members_manage(world):
    from django.core.exceptions import PermissionDenied

    outsider = world.user("official_other_club", Capability.MEMBERS_MANAGE)
    before = state()

    with pytest.raises(PermissionDenied):
        commit_for(world, ADULT, actor=outsider)

    assert state() == before


# ------------------------------------------------------------------------ pages


def upload(client, world: World, data: bytes, name: str = "medlemmer.csv"):
    return client.post(
        reverse("members:member-import", args=[world.club_a.pk]),
        {"file": SimpleUploadedFile(name, data)},
    )


def token_of(response) -> str:
    assert response.status_code == 302, response.content[:500]
    return response.url.rstrip("/").split("/")[-1]


def mapping_data(world: World, mapping: dict[str, int], **extra) -> dict:
    data = {COLUMN_PREFIX + name: str(index) for name, index in mapping.items()}
    data["membership_type"] = str(default_types(world.club_a)["ordinary"].pk)
    return {**data, **extra}


def test_the_three_steps(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    types = default_types(world.club_a)

    token = token_of(upload(client, world, csv_bytes(ADULT, CHILD, PASSIVE)))
    map_url = reverse("members:member-import-map", args=[world.club_a.pk, token])
    page = client.get(map_url)

    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial[COLUMN_PREFIX + "first_name"] == "1"
    assert form.initial[COLUMN_PREFIX + "status"] == "10"
    assert form.initial["membership_type"] == types["ordinary"].pk

    response = client.post(
        map_url, mapping_data(world, member_import.guess_mapping(HEADER.split(";")))
    )
    check_url = reverse("members:member-import-check", args=[world.club_a.pk, token])
    assert response.status_code == 302 and response.url == check_url
    before = state()
    report = client.get(check_url)

    assert report.status_code == 200
    assert report.context["counts"] == {
        "rows": 3,
        "imported": 2,
        "new": 2,
        "existing": 0,
        "skipped": 1,
        "rejected": 0,
        "errors": 0,
        "warnings": 0,
    }
    assert str(member_import.SKIPPED_PASSIVE) in report.content.decode()
    assert state() == before  # the report is a dry run

    response = client.post(check_url)

    assert response.status_code == 302
    assert response.url == reverse("members:membership-list", args=[world.club_a.pk])
    assert (
        Membership.objects.filter(club=world.club_a, person__source_id__in=["101", "102"]).count()
        == 2
    )
    assert cache.get(views.CACHE_PREFIX + token) is None
    assert client.get(check_url).status_code == 404  # the upload is gone


def test_xlsx_upload(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Fornavn", "Etternavn", "Fødselsdato", "Mobil", "Postnr"])
    sheet.append(["Kari", "Nordmann", datetime.datetime(1986, 8, 15), 91234567, "0150"])
    sheet.append(["Ola", "Nordmann"])  # a short row: spreadsheets leave empty cells out
    buffer = io.BytesIO()
    workbook.save(buffer)

    token = token_of(upload(client, world, buffer.getvalue(), name="medlemmer.xlsx"))
    mapping = {"first_name": 0, "last_name": 1, "birth_date": 2, "phone": 3, "postcode": 4}
    client.post(
        reverse("members:member-import-map", args=[world.club_a.pk, token]),
        mapping_data(world, mapping),
    )
    response = client.post(reverse("members:member-import-check", args=[world.club_a.pk, token]))

    assert response.status_code == 302
    # (the factories may have made another Kari Nordmann: the imported one has the sheet's date)
    kari = Person.objects.get(
        first_name="Kari", last_name="Nordmann", birth_date=datetime.date(1986, 8, 15)
    )
    assert (kari.contact_sets.get().mobile, kari.contact_sets.get().city) == ("+4791234567", "Oslo")
    assert Person.objects.filter(first_name="Ola", last_name="Nordmann").exists()


def test_upload_errors(world, settings):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    big = b"Fornavn;Etternavn\n" + b"x" * (5 * 1024 * 1024)

    response = upload(client, world, big)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [str(FILE_TOO_LARGE % {"limit": 5})]

    response = upload(client, world, b"x", name="medlemmer.pdf")
    assert response.context["form"].errors["file"] == [str(FILE_TYPE_NOT_ACCEPTED)]

    response = upload(client, world, "Fornavn;Etternavn\nBjørn;Sæther".encode("latin-1"))
    assert response.status_code == 200
    issue = importing.Issue(2, "", importing.FILE_NOT_UTF8 % {"byte": "f8", "position": 3})
    assert str(issue) in response.content.decode()

    response = upload(client, world, b"not a workbook", name="medlemmer.xlsx")
    assert str(importing.XLSX_UNREADABLE) in response.content.decode()

    huge = b"Fornavn;Etternavn\n" + b"x" * (6 * 1024 * 1024)
    response = upload(client, world, huge)
    assert response.status_code == 200
    assert str(FILE_TOO_LARGE % {"limit": 5}) in response.content.decode()


def test_xlsx_that_unpacks_too_large(world, monkeypatch):
    monkeypatch.setattr(importing, "XLSX_MAX_UNPACKED_BYTES", 1000)
    workbook = openpyxl.Workbook()
    workbook.active.append(["Fornavn", "Etternavn"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    parsed = importing.read_xlsx(buffer.getvalue())

    assert [issue.message for issue in parsed.issues] == [str(importing.XLSX_TOO_LARGE)]


def test_too_many_rows(world, monkeypatch):
    monkeypatch.setattr(member_import, "MEMBER_IMPORT_MAX_ROWS", 2)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    response = upload(client, world, csv_bytes(ADULT, CHILD, PASSIVE))

    assert response.status_code == 200
    assert str(importing.FILE_TOO_MANY_ROWS % {"limit": 2}) in response.content.decode()


def test_mapping_form_errors(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    token = token_of(upload(client, world, csv_bytes(ADULT)))
    url = reverse("members:member-import-map", args=[world.club_a.pk, token])

    response = client.post(url, mapping_data(world, {"first_name": 1}))
    assert response.context["form"].non_field_errors() == [str(NAMES_REQUIRED)]

    response = client.post(url, mapping_data(world, {"first_name": 1, "last_name": 2, "city": 2}))
    assert response.context["form"].errors[COLUMN_PREFIX + "city"] == [
        str(
            COLUMN_USED_TWICE
            % {
                "column": "Etternavn",
                "first": FIELD_LABELS["last_name"],
                "second": FIELD_LABELS["city"],
            }
        )
    ]
    family = default_types(world.club_a)["family"]
    response = client.post(
        url, mapping_data(world, {"first_name": 1, "last_name": 2}, membership_type=family.pk)
    )
    assert "membership_type" in response.context["form"].errors


def test_an_upload_belongs_to_its_user_and_club(world):
    owner = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    token = token_of(upload(owner, world, csv_bytes(ADULT)))
    other = world.client("federation_staff", Capability.MEMBERS_MANAGE)

    assert (
        other.get(reverse("members:member-import-map", args=[world.club_a.pk, token])).status_code
        == 404
    )
    assert (
        owner.get(reverse("members:member-import-map", args=[world.club_b.pk, token])).status_code
        == 404
    )
    assert (
        owner.get(
            reverse("members:member-import-map", args=[world.club_a.pk, "x" * 30])
        ).status_code
        == 404
    )
    # The report before the mapping: back to the mapping.
    response = owner.get(reverse("members:member-import-check", args=[world.club_a.pk, token]))
    assert response.status_code == 302
    assert response.url == reverse("members:member-import-map", args=[world.club_a.pk, token])


def test_a_failed_commit_changes_nothing(world, monkeypatch):
    """The persons are written before the memberships: a failure at the end rolls all back."""
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    token = token_of(upload(client, world, csv_bytes(ADULT, CHILD)))
    client.post(
        reverse("members:member-import-map", args=[world.club_a.pk, token]),
        mapping_data(world, member_import.guess_mapping(HEADER.split(";"))),
    )

    def fail(**kwargs):
        raise IntegrityError("membership_no_overlap")

    monkeypatch.setattr(member_import, "_create_memberships", fail)
    before = state()

    response = client.post(reverse("members:member-import-check", args=[world.club_a.pk, token]))

    assert response.status_code == 200
    assert state() == before
    assert (
        str(views.NOTHING_IMPORTED % {"reason": "membership_no_overlap"})
        in response.content.decode()
    )
    assert cache.get(views.CACHE_PREFIX + token) is not None  # the registrar may try again


def test_the_report_page_queries_do_not_grow_with_the_rows(world, django_assert_max_num_queries):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    rows = [
        f"{n};Navn{n};Nordmann;1990-01-{n % 28 + 1:02d};;p{n}@example.org;;;;;" for n in range(300)
    ]
    token = token_of(upload(client, world, csv_bytes(*rows)))
    client.post(
        reverse("members:member-import-map", args=[world.club_a.pk, token]),
        mapping_data(world, member_import.guess_mapping(HEADER.split(";"))),
    )

    with django_assert_max_num_queries(30):
        response = client.get(reverse("members:member-import-check", args=[world.club_a.pk, token]))

    assert response.context["counts"]["imported"] == 300


def test_the_membership_list_links_to_the_import(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    page = client.get(reverse("members:membership-list", args=[world.club_a.pk]))

    assert reverse("members:member-import", args=[world.club_a.pk]) in page.content.decode()


# ---------------------------------------------------------------- access matrix


def _memberships_state(world: World) -> object:
    return sorted(Membership.objects.values_list("pk", "person_id", "club_id"))


def _commit_as_client_user(world: World, client) -> object:
    """Stores an upload for the client's own user (as step 1 and 2 would), then commits."""
    user_id = client.session.get("_auth_user_id")
    parsed = table(ADULT)
    token = views._store(
        {
            "user": int(user_id) if user_id else None,
            "club": world.club_a.pk,
            "name": "medlemmer.csv",
            "header": parsed.header,
            "rows": parsed.rows,
            "short_rows_allowed": False,
            "mapping": member_import.guess_mapping(parsed.header),
            "membership_type": default_types(world.club_a)["ordinary"].pk,
            "skip_invalid": False,
        }
    )
    return client.post(reverse("members:member-import-check", args=[world.club_a.pk, token]))


CASES = [
    Case(
        "upload page",
        Capability.MEMBERS_MANAGE,
        get(lambda w: reverse("members:member-import", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "commit",
        Capability.MEMBERS_MANAGE,
        _commit_as_client_user,
        302,
        HTML_DENIED,
        302,
        state=_memberships_state,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, case, role):
    check_case(world, case, role)
