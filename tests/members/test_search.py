"""Person search (P-01..P-03): criteria parsing, matching, scope, results, export, API."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from members import search
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Person,
    SportsIdHistory,
    User,
)
from members.search import (
    NON_FIELD,
    Criteria,
    CriteriaError,
    FunctionTypePattern,
    parse_criteria,
)
from tests.conftest import ANY, World
from tests.members.factories import (
    ContactSetFactory,
    FunctionFactory,
    PersonFactory,
    UserFactory,
)

SEARCH_URL = reverse("members:person-search")
CSV_URL = reverse("members:person-search-export-csv")
XLSX_URL = reverse("members:person-search-export-xlsx")
API_URL = "/api/v1/persons/"


def user_of(world: World, role: str, capability: str = ANY) -> User:
    """The role's user, their person renamed so that it never matches the names searched."""
    user = world.user(role, capability)
    Person.objects.filter(pk=user.person_id).update(first_name="Bruker", last_name="Rollesen")
    return user


def client_of(world: World, role: str, capability: str = ANY):
    user_of(world, role, capability)
    client = world.client(role, capability)
    client.cookies["django_language"] = "en"
    return client


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(CriteriaError) as raised:
        parse_criteria(data)
    return raised.value.errors


def found(user: User, **data: str) -> list[str]:
    result = search.person_search(user=user, criteria=parse_criteria(data))
    return [person.full_name for person in result.persons]


def in_club(organisation, **fields) -> Person:
    """A person with an active player function in `organisation`."""
    person = PersonFactory(**fields)
    FunctionFactory(
        person=person,
        organisation=organisation,
        function_type=FunctionType.objects.get(code="player"),
    )
    return person


# ------------------------------------------------------------------ criteria (pure, P-02)


def test_p02_at_least_one_criterion_is_required():
    assert errors_of({}) == {NON_FIELD: str(search.NO_CRITERION)}
    assert errors_of({"q": "   ", "gender": "", "deceased": "false"}) == {
        NON_FIELD: str(search.NO_CRITERION)
    }


def test_p02_a_checked_deceased_box_is_a_criterion():
    assert parse_criteria({"deceased": "on"}) == Criteria(deceased=True)


def test_p01_simple_search_splits_name_parts_on_spaces():
    assert parse_criteria({"q": "  Kari  Anne, Hansen "}).name_parts == ("Kari", "Anne", "Hansen")
    assert parse_criteria({"q": "Hans*"}).name_parts == ("Hans",)
    assert errors_of({"q": "a b c d e"}) == {"q": str(search.TOO_MANY_NAME_PARTS)}


def test_p02_every_criterion_is_parsed():
    criteria = parse_criteria(
        {
            "q": "Ola",
            "first_name": "Kari Anne",
            "last_name": "Ødegård",
            "gender": "Female",
            "birth_date": "15.08.1986",
            "birth_year": "1986",
            "sports_id": "150886 2000 0042",
            "organisation": "7",
            "function_type": "Tren*",
            "postcode": "01",
            "country": "se",
            "deceased": "true",
        }
    )

    assert criteria == Criteria(
        name_parts=("Ola",),
        first_name_parts=("Kari", "Anne"),
        last_name_parts=("Ødegård",),
        gender="female",
        birth_date=datetime.date(1986, 8, 15),
        birth_year=1986,
        sports_id="15088620000042",
        organisation_id=7,
        function_type=FunctionTypePattern(by_number=False, like="Tren%"),
        postcode="01",
        place="",
        country="SE",
        deceased=True,
    )


def test_p02_invalid_criteria_are_named_each():
    assert errors_of(
        {
            "gender": "other",
            "birth_date": "31.02.2000",
            "birth_year": "86",
            "sports_id": "12ab",
            "organisation": "x",
            "function_type": "*",
            "postcode": "50%",
            "country": "SWE",
            "deceased": "maybe",
        }
    ) == {
        "gender": str(search.INVALID_GENDER),
        "birth_date": str(search.INVALID_DATE),
        "birth_year": str(search.INVALID_YEAR),
        "sports_id": str(search.INVALID_SPORTS_ID),
        "organisation": str(search.INVALID_ORGANISATION),
        "function_type": str(search.INVALID_FUNCTION_TYPE),
        "postcode": str(search.INVALID_POSTCODE),
        "country": str(search.INVALID_COUNTRY),
        "deceased": str(search.INVALID_DECEASED),
    }


def test_p02_birth_date_in_both_formats():
    assert search.parse_date("1986-08-15") == datetime.date(1986, 8, 15)
    assert search.parse_date("5.8.1986") == datetime.date(1986, 8, 5)
    with pytest.raises(ValueError, match=re.escape(str(search.INVALID_DATE))):
        search.parse_date("1986/08/15")


@pytest.mark.parametrize(
    ("text", "by_number", "like"),
    [
        ("Tren*", False, "Tren%"),
        ("*leder", False, "%leder"),
        ("Daglig leder", False, "Daglig leder"),
        ("1*", True, "1%"),
        ("17", True, "17"),
        ("Lag_leder", False, "Lag\\_leder"),
    ],
)
def test_p02_function_type_wildcards(text, by_number, like):
    assert search.parse_function_type(text) == FunctionTypePattern(by_number, like)


def test_p02_postcode_digits_or_place_name():
    assert search.parse_postcode_or_place("0150") == ("0150", "")
    assert search.parse_postcode_or_place("01") == ("01", "")
    assert search.parse_postcode_or_place("Bodø") == ("", "Bodø")


def test_p03_ordering_is_checked_against_a_whitelist():
    assert search.parse_ordering("-birth_date") == "-birth_date"
    assert search.parse_ordering(None) == ""
    with pytest.raises(ValueError, match=re.escape(str(search.INVALID_ORDERING))):
        search.parse_ordering("password")


# --------------------------------------------------------------- name matching (pure, P-01)


def test_p01_trigram_similarity_equals_pg_trgm():
    assert search.similarity(search.trigrams("hansn"), search.trigrams("hansen")) == 4 / 9
    assert search.trigrams("ola") == frozenset({"  o", " ol", "ola", "la "})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second"),
    [("hansn", "hansen"), ("odegaard", "odegard"), ("anne-lise", "lise"), ("kari", "kare")],
)
def test_p01_python_similarity_matches_the_database(first, second):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [first, second])
        expected = cursor.fetchone()[0]

    assert search.similarity(search.trigrams(first), search.trigrams(second)) == pytest.approx(
        expected, abs=1e-6
    )


def test_p01_name_rank_prefers_exact_then_prefix_then_word_then_similar():
    assert search.name_rank("hansen", "hansen") == search.EXACT_RANK
    assert 2 < search.name_rank("hans", "hansen") < 3
    assert 1 < search.name_rank("lise", "anne-lise") < 2
    assert 0.4 < search.name_rank("hansn", "hansen") < 1
    assert search.name_rank("ha", "johansen") == 0
    assert search.name_rank("xyz", "hansen") == 0


def test_p01_spellings_find_prefixes_words_and_similar_names():
    spellings = search.Spellings()
    for value in ("hansen", "hanssen", "johansen", "anne-lise", "lise", "odegard", "olsen"):
        spellings.add(value)

    # The part itself always comes first: it may be a name the dictionary has not seen.
    assert [value for value, _rank in spellings.matching("hans")] == [
        "hans",
        "hansen",
        "hanssen",
    ]
    assert [value for value, _rank in spellings.matching("lise")] == ["lise", "anne-lise"]
    assert [value for value, _rank in spellings.matching("odegaard")] == ["odegaard", "odegard"]
    assert spellings.matching("zzz") == [("zzz", search.EXACT_RANK)]


def test_p03_spreadsheet_cells_cannot_start_a_formula():
    assert search.spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert search.spreadsheet_safe("+4791234567") == "'+4791234567"
    assert search.spreadsheet_safe("-1") == "'-1"
    assert search.spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert search.spreadsheet_safe("Ola") == "Ola"
    assert search.spreadsheet_safe(datetime.date(2000, 1, 1)) == datetime.date(2000, 1, 1)


# ----------------------------------------------------------------- search behaviour (P-01)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["Odegard", "Ødegaard", "odegård", "ØDEGÅRD", "Øde", "Odegrd"])
def test_p01_accents_typos_and_prefixes_find_the_person(world, typed):
    staff = user_of(world, "federation_staff")

    assert found(staff, q=typed)[0] == "Åse Ødegård"


@pytest.mark.django_db
def test_p01_a_misspelt_last_name_finds_hansen(world):
    in_club(world.club_a, first_name="Kari", last_name="Hansen")

    assert found(user_of(world, "federation_staff"), q="Kari Hansn") == ["Kari Hansen"]


@pytest.mark.django_db
def test_p01_best_match_first_then_last_and_first_name(world):
    for first, last in [
        ("Hans", "Berg"),
        ("Kari", "Hansen"),
        ("Anne", "Hansen"),
        ("Ola", "Hanssen"),
    ]:
        in_club(world.club_a, first_name=first, last_name=last)

    assert found(user_of(world, "federation_staff"), q="hans") == [
        "Hans Berg",  # exact
        "Anne Hansen",  # prefix, then by last and first name
        "Kari Hansen",
        "Ola Hanssen",  # a longer name: less similar
    ]


@pytest.mark.django_db
def test_p02_first_and_last_name_fields_match_their_own_column(world):
    in_club(world.club_a, first_name="Hansen", last_name="Berg")
    in_club(world.club_a, first_name="Kari", last_name="Hansen")

    staff = user_of(world, "federation_staff")
    assert found(staff, last_name="Hansen") == ["Kari Hansen"]
    assert found(staff, first_name="hansen") == ["Hansen Berg"]


@pytest.mark.django_db
def test_p01_a_name_changed_without_history_is_found_by_its_exact_spelling(world):
    staff = user_of(world, "federation_staff")
    found(staff, q="Ødegård")  # the name dictionary is read
    Person.objects.filter(pk=world.player_a.pk).update(last_name="Quist")

    assert found(staff, q="Quist") == ["Åse Quist"]


@pytest.mark.django_db
def test_p01_a_new_person_is_found_at_once(world):
    staff = user_of(world, "federation_staff")
    found(staff, q="Ødegård")
    in_club(world.club_a, first_name="Ny", last_name="Zakariassen")

    assert found(staff, q="Zakarias") == ["Ny Zakariassen"]
    assert found(staff, q="Zakariasen") == ["Ny Zakariassen"]


@pytest.mark.django_db
def test_p05_an_old_sports_id_still_finds_the_person(world):
    SportsIdHistory.objects.create(person=world.player_a, sports_id="01018000000099")
    staff = user_of(world, "federation_staff")

    assert found(staff, sports_id="01018000000099") == ["Åse Ødegård"]
    assert found(staff, sports_id=world.player_a.sports_id) == ["Åse Ødegård"]
    assert found(staff, sports_id="01018000000098") == []


@pytest.mark.django_db
def test_p02_deceased_unchecked_living_only_checked_deceased_only(world):
    in_club(
        world.club_a,
        first_name="Gammel",
        last_name="Ødegård",
        birth_date=datetime.date(1930, 1, 1),
        is_deceased=True,
        date_of_death=datetime.date(2020, 5, 1),
    )
    staff = user_of(world, "federation_staff")

    assert found(staff, last_name="Ødegård") == ["Åse Ødegård"]
    assert found(staff, last_name="Ødegård", deceased="on") == ["Gammel Ødegård"]


@pytest.mark.django_db
def test_p02_affiliated_organisation_includes_the_organisations_below(world):
    coach = in_club(world.group_a, first_name="Trond", last_name="Trener")
    staff = user_of(world, "federation_staff")

    in_club_a = found(staff, organisation=str(world.club_a.pk), q="Ødegård Trener")
    assert in_club_a == []  # both parts must match one person
    assert found(staff, organisation=str(world.club_a.pk), last_name="Ødegård") == ["Åse Ødegård"]
    assert found(staff, organisation=str(world.group_a.pk), last_name="Trener") == [coach.full_name]
    assert found(staff, organisation=str(world.club_b.pk), last_name="Ødegård") == []
    # A region (not narrow): the subtree is checked per person.
    assert found(staff, organisation=str(world.region.pk), last_name="Ødegård") == ["Åse Ødegård"]


@pytest.mark.django_db
def test_p02_an_ended_function_is_no_affiliation(world):
    """Functions active today count (the player's volunteer function in club A ended)."""
    staff = user_of(world, "federation_staff")
    world.function_a.to_date = datetime.date(2022, 1, 1)
    world.function_a.save()

    assert found(staff, organisation=str(world.club_a.pk), last_name="Ødegård") == []


@pytest.mark.django_db
def test_p02_organisation_the_user_cannot_see_is_an_error(world):
    user = user_of(world, "official_other_club")

    with pytest.raises(CriteriaError) as raised:
        found(user, organisation=str(world.club_a.pk), q="Ødegård")
    assert raised.value.errors == {"organisation": str(search.ORGANISATION_NOT_VISIBLE)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Tren*", ["Trond Trener"]),  # Trener (coach)
        ("*trener", ["Trond Trener"]),  # Trener, Hovedtrener, Assistenttrener
        ("3", ["Trond Trener"]),  # number 3: coach
        ("1*", ["Kari Medlem"]),  # 1 member (and 10..19: none held)
        ("Spiller", ["Åse Ødegård"]),
    ],
)
def test_p02_function_type_by_number_or_name_with_wildcards(world, pattern, expected):
    coach = PersonFactory(first_name="Trond", last_name="Trener")
    FunctionFactory(
        person=coach,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
    )
    member = PersonFactory(first_name="Kari", last_name="Medlem")
    FunctionFactory(
        person=member,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="member"),
    )

    admin = User.objects.create_superuser("root", password="x")  # holds no function itself

    assert found(admin, function_type=pattern, organisation=str(world.club_a.pk)) == expected


@pytest.mark.django_db
def test_p02_function_type_that_matches_nothing_is_an_error(world):
    with pytest.raises(CriteriaError) as raised:
        found(user_of(world, "federation_staff"), function_type="Astronaut*")
    assert raised.value.errors == {"function_type": str(search.NO_FUNCTION_TYPE_MATCHES)}


@pytest.mark.django_db
def test_p02_postcode_prefix_place_and_country(world):
    bergen = in_club(world.club_a, first_name="Berit", last_name="Bergen", standard_contact=None)
    ContactSetFactory(person=bergen, is_standard=True, postcode="5003", city="Bergen")
    sweden = in_club(world.club_a, first_name="Sven", last_name="Svensk", standard_contact=None)
    ContactSetFactory(
        person=sweden, is_standard=True, postcode="11122", city="Stockholm", country="SE"
    )
    staff = user_of(world, "federation_staff")

    assert found(staff, postcode="50") == ["Berit Bergen"]
    assert found(staff, postcode="bergen") == ["Berit Bergen"]
    assert found(staff, postcode="Stockh", country="SE") == ["Sven Svensk"]
    assert found(staff, country="se") == ["Sven Svensk"]
    assert found(staff, postcode="11122", country="NO") == []


@pytest.mark.django_db
def test_p02_gender_birth_date_and_birth_year(world):
    in_club(
        world.club_a,
        first_name="Ola",
        last_name="Nordmann",
        gender="male",
        birth_date=datetime.date(1986, 8, 15),
    )
    in_club(
        world.club_a,
        first_name="Kari",
        last_name="Nordmann",
        gender="female",
        birth_date=datetime.date(1986, 1, 2),
    )
    staff = user_of(world, "federation_staff")

    assert found(staff, last_name="Nordmann", gender="male") == ["Ola Nordmann"]
    assert found(staff, birth_date="15.08.1986") == ["Ola Nordmann"]
    assert found(staff, last_name="Nordmann", birth_year="1986") == [
        "Kari Nordmann",
        "Ola Nordmann",
    ]


@pytest.mark.django_db
def test_p03_the_first_100_matches_and_more_flag(world):
    player = FunctionType.objects.get(code="player")
    persons = Person.objects.bulk_create(
        Person(first_name=f"Navn{n:03d}", last_name="Mangesen", sports_id=f"8{n:013d}")
        for n in range(101)
    )
    Function.objects.bulk_create(
        Function(person=p, organisation=world.club_a, function_type=player) for p in persons
    )

    result = search.person_search(
        user=user_of(world, "official_this_club"), criteria=parse_criteria({"q": "Mangesen"})
    )

    assert len(result.persons) == 100
    assert result.has_more is True
    assert result.persons[0].first_name == "Navn000"
    assert result.persons[-1].first_name == "Navn099"


@pytest.mark.django_db
def test_p03_sorting_reorders_the_first_100(world):
    for first, born in [("Berit", 1990), ("Anne", 2001), ("Cecilie", 1975)]:
        in_club(
            world.club_a,
            first_name=first,
            last_name="Sortesen",
            birth_date=datetime.date(born, 1, 1),
        )
    user = user_of(world, "official_this_club")

    def names(ordering):
        result = search.person_search(
            user=user, criteria=parse_criteria({"q": "Sortesen"}), ordering=ordering
        )
        return [person.first_name for person in result.persons]

    assert names("") == ["Anne", "Berit", "Cecilie"]
    assert names("birth_date") == ["Cecilie", "Berit", "Anne"]
    assert names("-birth_date") == ["Anne", "Berit", "Cecilie"]
    assert names("-name") == ["Cecilie", "Berit", "Anne"]


# --------------------------------------------------------------------- scope (P-03)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees_player_a"),
    [
        ("official_this_club", True),
        ("federation_staff", True),
        ("official_other_club", False),
    ],
)
def test_p03_never_a_person_outside_the_users_scope(world, role, sees_player_a):
    names = found(user_of(world, role), q="Ødegård")

    assert ("Åse Ødegård" in names) is sees_player_a
    # Federation 2's player is no one's here: not even federation 1's staff see her.
    assert found(user_of(world, role), q="Fanebust") == []


@pytest.mark.django_db
def test_p03_a_team_leader_sees_only_the_team(world):
    leader = UserFactory(username="lagleder", person__first_name="Lars", person__last_name="Leder")
    FunctionFactory(
        person=leader.person,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="team-leader"),
    )
    in_club(world.club_a, first_name="Ikke", last_name="Ødegård")  # club level: not the team's

    assert found(leader, last_name="Ødegård") == ["Åse Ødegård"]


@pytest.mark.django_db
def test_p03_a_superuser_sees_every_federation(world):
    admin = User.objects.create_superuser("root", password="x")

    assert found(admin, q="Fanebust") == ["Sølvi Fanebust"]


# ----------------------------------------------------------------------- the HTML page


@pytest.mark.django_db
def test_p01_search_page_shows_results_with_links_to_the_person_card(world):
    client = client_of(world, "official_this_club")

    response = client.get(SEARCH_URL, {"q": "odegard"})

    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("members:person-detail", args=[world.player_a.pk]) in content
    assert "Ødegård, Åse" in content
    assert f'name="person" value="{world.player_a.pk}"' in content


@pytest.mark.django_db
def test_p02_search_page_without_criteria_says_so(world):
    client = client_of(world, "official_this_club")

    fresh = client.get(SEARCH_URL)
    empty = client.get(SEARCH_URL, {"q": "", "last_name": ""})

    assert str(search.NO_CRITERION) not in fresh.content.decode()
    assert str(search.NO_CRITERION) in empty.content.decode()


@pytest.mark.django_db
def test_p02_search_page_names_the_invalid_field(world):
    response = client_of(world, "official_this_club").get(SEARCH_URL, {"birth_date": "xx"})

    assert str(search.INVALID_DATE) in response.content.decode()


@pytest.mark.django_db
def test_p03_country_shown_only_when_not_norway(world):
    sweden = in_club(world.club_a, first_name="Sven", last_name="Ødegård", standard_contact=None)
    ContactSetFactory(person=sweden, is_standard=True, country="SE", city="Malmö")
    client = client_of(world, "official_this_club")

    with_sweden = client.get(SEARCH_URL, {"last_name": "Ødegård"}).content.decode()
    only_norway = client.get(SEARCH_URL, {"first_name": "Åse"}).content.decode()

    assert '<td data-label="Country">SE</td>' in with_sweden
    assert '<td data-label="Country"></td>' in with_sweden  # Åse lives in Norway
    assert 'data-label="Country"' not in only_norway


@pytest.mark.django_db
def test_p03_more_than_100_matches_asks_to_narrow(world):
    player = FunctionType.objects.get(code="player")
    persons = Person.objects.bulk_create(
        Person(first_name="Per", last_name="Mangesen", sports_id=f"7{n:013d}") for n in range(101)
    )
    Function.objects.bulk_create(
        Function(person=p, organisation=world.club_a, function_type=player) for p in persons
    )
    client = client_of(world, "official_this_club")

    content = client.get(SEARCH_URL, {"q": "Mangesen"}).content.decode()

    assert "Showing the first 100 matches. Narrow your search to find the others." in content
    assert content.count('name="person"') == 100


@pytest.mark.django_db
def test_htmx_request_gets_the_results_only(world):
    client = client_of(world, "official_this_club")

    response = client.get(SEARCH_URL, {"q": "Ødegård"}, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert '<div id="search-results">' in content
    assert "<html" not in content
    assert "Ødegård, Åse" in content


@pytest.mark.django_db
def test_organisation_lookup_offers_visible_organisations_only(world):
    client = client_of(world, "official_this_club")

    content = client.get(
        reverse("members:person-search-organisations"), {"organisation_name": "IL"}
    ).content.decode()

    assert "Frogner IL" not in content  # club B
    content = client.get(
        reverse("members:person-search-organisations"), {"organisation_name": "Sagene"}
    ).content.decode()
    assert f'value="{world.group_a.pk}"' in content


# ------------------------------------------------------------------------------ export


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.fixture
def contact_of_player_a(world):
    contact = world.player_a.contact_sets.get(is_standard=True)
    contact.street = "Sandakerveien 1"
    contact.postcode = "0477"
    contact.city = "Oslo"
    contact.email = "ase@example.org"
    contact.mobile = "+4791234567"
    contact.hide_email = True
    contact.save()
    return contact


@pytest.mark.django_db
def test_p03_csv_export_for_an_editor_has_the_contact_data(world, contact_of_player_a):
    client = client_of(world, "official_this_club", "persons.edit")

    rows = csv_rows(client.get(CSV_URL, {"q": "Ødegård"}))

    assert rows[0] == [
        "Sports id",
        "First name",
        "Middle name",
        "Last name",
        "Gender",
        "Birth date",
        "Street address",
        "Postcode",
        "Place",
        "Country",
        "E-mail",
        "Mobile phone",
    ]
    player = world.player_a
    assert rows[1] == [
        player.sports_id,
        "Åse",
        "",
        "Ødegård",
        "Unknown",
        player.birth_date.isoformat(),
        "Sandakerveien 1",
        "0477",
        "Oslo",
        "NO",
        "ase@example.org",
        "'+4791234567",
    ]


@pytest.mark.django_db
def test_p03_csv_export_for_a_viewer_has_names_and_place_only(world, contact_of_player_a):
    viewer = UserFactory(username="trener", person__first_name="Tor", person__last_name="Trener")
    FunctionFactory(
        person=viewer.person,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="coach"),  # persons.view only
    )
    client = client_of(world, "official_this_club")
    client.force_login(viewer)

    rows = csv_rows(client.get(CSV_URL, {"q": "Ødegård"}))

    player = world.player_a
    assert rows[1] == [
        player.sports_id,
        "Åse",
        "",
        "Ødegård",
        "Unknown",
        player.birth_date.isoformat(),
        "",
        "",
        "Oslo",
        "",
        "",
        "",
    ]


@pytest.mark.django_db
def test_p03_export_guards_against_formula_injection(world):
    in_club(world.club_a, first_name='=HYPERLINK("http://evil")', last_name="Ødegård")
    client = client_of(world, "official_this_club")

    rows = csv_rows(client.get(CSV_URL, {"last_name": "Ødegård"}))
    workbook = load_workbook(io.BytesIO(client.get(XLSX_URL, {"last_name": "Ødegård"}).content))

    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "Åse"]
    sheet = workbook.active
    assert sheet["B2"].value == '\'=HYPERLINK("http://evil")'
    assert sheet["B2"].data_type == "s"


@pytest.mark.django_db
def test_p03_xlsx_export_has_the_same_rows(world, contact_of_player_a):
    client = client_of(world, "official_this_club")

    response = client.get(XLSX_URL, {"q": "Ødegård"})

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][:4] == (world.player_a.sports_id, "Åse", None, "Ødegård")
    assert rows[1][5].date() == world.player_a.birth_date
    assert rows[1][10:] == ("ase@example.org", "'+4791234567")


@pytest.mark.django_db
def test_p02_export_without_criteria_goes_back_to_the_search(world):
    response = client_of(world, "official_this_club").get(CSV_URL)

    assert response.status_code == 302
    assert response["Location"] == SEARCH_URL + "?"


# ------------------------------------------------------------------------------- the API


@pytest.mark.django_db
def test_api_requires_a_criterion_naming_p02(world):
    response = client_of(world, "official_this_club").get(API_URL)

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [str(search.NO_CRITERION)]}


@pytest.mark.django_db
def test_api_validation_errors_name_the_parameter(world):
    client = client_of(world, "official_this_club")

    assert client.get(API_URL, {"birth_date": "1986-13-01", "gender": "x"}).json() == {
        "birth_date": [str(search.INVALID_DATE)],
        "gender": [str(search.INVALID_GENDER)],
    }
    assert client.get(API_URL, {"q": "Åse", "ordering": "password"}).json() == {
        "ordering": [str(search.INVALID_ORDERING)]
    }


@pytest.mark.django_db
def test_api_lists_matches_with_the_country_always(world):
    response = client_of(world, "official_this_club").get(API_URL, {"q": "odegard"})

    assert response.status_code == 200
    data = response.json()
    player = world.player_a
    assert data == {
        "count": 1,
        "next": None,
        "previous": None,
        "has_more_matches": False,
        "results": [
            {
                "id": player.pk,
                "sports_id": player.sports_id,
                "first_name": "Åse",
                "middle_name": "",
                "last_name": "Ødegård",
                "gender": "unknown",
                "birth_date": player.birth_date.isoformat(),
                "is_deceased": False,
                "postcode": "0150",
                "city": "Oslo",
                "country": "NO",
            }
        ],
    }


@pytest.mark.django_db
def test_api_pages_through_the_first_100(world):
    player = FunctionType.objects.get(code="player")
    persons = Person.objects.bulk_create(
        Person(first_name="Per", last_name="Mangesen", sports_id=f"6{n:013d}") for n in range(120)
    )
    Function.objects.bulk_create(
        Function(person=p, organisation=world.club_a, function_type=player) for p in persons
    )
    client = client_of(world, "official_this_club")

    first = client.get(API_URL, {"last_name": "Mangesen"}).json()
    second = client.get(first["next"]).json()

    assert (first["count"], len(first["results"]), first["has_more_matches"]) == (100, 50, True)
    assert len(second["results"]) == 50
    assert second["next"] is None


@pytest.mark.django_db
def test_api_is_list_only(world):
    client = client_of(world, "federation_staff")

    assert client.post(API_URL, {}, content_type="application/json").status_code == 405


# ------------------------------------------------------------------ query counts (STYLE 3)


def add_matches(world, count: int, start: int) -> None:
    player = FunctionType.objects.get(code="player")
    persons = Person.objects.bulk_create(
        Person(first_name="Per", last_name="Tellesen", sports_id=f"5{start + n:013d}")
        for n in range(count)
    )
    ContactSet.objects.bulk_create(ContactSet(person=p, is_standard=True) for p in persons)
    Function.objects.bulk_create(
        Function(person=p, organisation=world.team_a, function_type=player) for p in persons
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["official_this_club", "federation_staff"])
@pytest.mark.parametrize("url", [SEARCH_URL, API_URL, CSV_URL], ids=["html", "api", "csv"])
def test_list_query_count_does_not_grow_with_rows(world, role, url):
    client = client_of(world, role)
    add_matches(world, 3, 0)
    client.get(url, {"q": "Tellesen"})  # warm up: session, user, name dictionary

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"q": "Tellesen"}).status_code == 200
        return len(queries)

    few = count()
    add_matches(world, 60, 100)
    assert count() == few
