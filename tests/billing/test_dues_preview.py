"""The dues preview (issue 5, scope 6): pages per person, family and club and the API, each
line with its rule and reason, from the same engine; D-11 hardship lines redacted for
everyone but the club's general manager."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import pricing, selectors
from billing.api import SEASON_REQUIRED
from members.models import FunctionType
from tests.billing.factories import (
    SEASON,
    ExampleClub,
    ExemptionAgreementFactory,
    build_example_club,
    function,
)
from tests.members.factories import FunctionFactory, PersonFactory, UserFactory
from tests.members.factories_memberships import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]
HARDSHIP_REASON = "D-11 hardship -100%: -3,000"


@pytest.fixture(autouse=True)
def _english(settings):
    """The pages render the engine's reasons in the user's language (billing.texts): these
    tests read them in English, as the engine writes them."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def club(world) -> ExampleClub:
    example = build_example_club(world)
    agreement = ExemptionAgreementFactory(
        person=example["sibling_1"], club=world.club_a, fee_kinds=["activity"]
    )
    example.hardship = agreement
    return example


def admin_client(club: ExampleClub) -> Client:
    return club.world.client("official_this_club", "members.manage")


def general_manager_client(club: ExampleClub) -> Client:
    user = UserFactory(username="gm")
    FunctionFactory(
        person=user.person,
        organisation=club.world.club_a,
        function_type=FunctionType.objects.get(code="general-manager"),
        from_date=datetime.date(2020, 1, 1),
    )
    client = Client()
    client.force_login(user)
    return client


def person_url(person, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"season": SEASON, **params}.items())
    return f"{reverse('billing:person-dues', args=[person.pk])}?{query}"


def api_url(person, query=f"?season={SEASON}") -> str:
    return f"/api/v1/persons/{person.pk}/dues-preview{query}"


def test_person_page_shows_lines_with_rules_and_reasons(club):
    response = admin_client(club).get(person_url(club["boy"]))

    assert response.status_code == 200
    text = response.content.decode()
    assert "Activity fee G2015 football 2,400 (D-07)" in text
    assert "D-09 two sports -30%: -720" in text
    assert "D-09 two sports" in text


def test_member_sees_own_preview_and_own_family(club):
    user = UserFactory(username="mother-login", person=club["mother"])
    client = Client()
    client.force_login(user)

    own = client.get(person_url(club["mother"]))
    family = client.get(
        reverse("billing:family-dues", args=[club.families["hansen"].pk]) + f"?season={SEASON}"
    )
    other = client.get(person_url(club["pensioner"]))

    assert own.status_code == 200
    assert family.status_code == 200
    assert "D-09 two sports -30%: -720" in family.content.decode()
    assert other.status_code == 404


def test_family_page_totals_m11(club):
    response = admin_client(club).get(
        reverse("billing:family-dues", args=[club.families["hansen"].pk]) + f"?season={SEASON}"
    )

    assert response.status_code == 200
    assert response.context["preview"].family.membership_total == 700


def test_d11_hardship_is_redacted_for_administrators(club):
    response = admin_client(club).get(person_url(club["sibling_1"]))

    text = response.content.decode()
    assert "Exemption (confidential): -3,000" in text
    assert "D-11 hardship" not in text


def test_d11_hardship_is_shown_to_the_general_manager(club):
    response = general_manager_client(club).get(person_url(club["sibling_1"]))

    text = response.content.decode()
    assert HARDSHIP_REASON in text
    assert "Exemption (confidential)" not in text


def test_d11_selector_redacts_unless_general_manager(club):
    admin = club.world.user("official_this_club", "members.manage")

    preview = selectors.dues_preview(admin, club["sibling_1"], SEASON, club=club.world.club_a)

    hardship = [line for line in preview.person.lines if line.confidential]
    assert [(line.rule_id, line.reason) for line in hardship] == [
        ("confidential", "Exemption (confidential): -3,000")
    ]
    assert preview.redacted is True


def test_club_page_lists_persons_with_totals_in_bounded_queries(club):
    client = admin_client(club)
    url = reverse("billing:club-dues", args=[club.world.club_a.pk]) + f"?season={SEASON}"
    client.get(url)  # warm up (session, grants)
    with CaptureQueriesContext(connection) as before:
        first = client.get(url)
    for number in range(5):
        person = PersonFactory(birth_date=datetime.date(2015, 2, number + 1))
        MembershipFactory(person=person, club=club.world.club_a)
        function(person, club.team_football, "player")

    with CaptureQueriesContext(connection) as after:
        second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert len(second.context["rows"]) == 19
    assert len(after) == len(before)
    assert len(after) <= 25
    assert club["pensioner"].full_name in second.content.decode()


def test_api_dues_preview_lines_and_totals(club):
    response = admin_client(club).get(api_url(club["boy"]))

    assert response.status_code == 200
    data = response.json()
    dues = selectors.dues_preview(
        club.world.user("official_this_club", "members.manage"),
        club["boy"],
        SEASON,
        club=club.world.club_a,
    ).person
    assert [line["reason"] for line in data["lines"]] == [line.reason for line in dues.lines]
    assert data["lines"][2]["reason"] == "Activity fee G2015 football 2,400 (D-07)"
    assert data["lines"][2]["amount"] == {"amount": "2400.00", "currency": "NOK"}
    assert data["lines"][3]["amount"] == {"amount": "-720.00", "currency": "NOK"}
    assert data["total"] == {"amount": f"{dues.total:.2f}", "currency": "NOK"}
    assert data["season"] == SEASON


def test_api_redacts_hardship(club):
    data = admin_client(club).get(api_url(club["sibling_1"])).json()

    assert "Exemption (confidential): -3,000" in [line["reason"] for line in data["lines"]]
    assert all("D-11" not in line["rule_id"] for line in data["lines"])


@pytest.mark.parametrize("query", ["", "?season=", "?season=abc", "?season=1800"])
def test_api_season_missing_or_invalid_is_400_naming_season(club, query):
    response = admin_client(club).get(api_url(club["boy"], query))

    assert response.status_code == 400
    assert list(response.json()) == ["season"]


def test_api_season_missing_message(club):
    response = admin_client(club).get(api_url(club["boy"], ""))

    assert response.json() == {"season": [SEASON_REQUIRED]}


def test_api_missing_person_is_404(club):
    response = admin_client(club).get(f"/api/v1/persons/999999/dues-preview?season={SEASON}")

    assert response.status_code == 404


def test_api_season_without_schedule_is_400(club):
    response = admin_client(club).get(api_url(club["boy"], "?season=2030"))

    assert response.status_code == 400
    assert response.json() == {"season": [selectors.NO_FEE_SCHEDULE.format(season=2030)]}


def test_one_source_api_equals_engine(club):
    config = selectors.season_config(club.world.club_a, SEASON)
    season = pricing.price_season(config, selectors.person_facts(club.world.club_a, SEASON))

    data = admin_client(club).get(api_url(club["sibling_2"])).json()

    assert data["total"]["amount"] == f"{season.person(club['sibling_2'].pk).total:.2f}"
