"""The fee schedule pages (issue 5, scopes 4 and 5): a season from the example or as a copy,
the settings (M-04, M-10, M-11, M-15, D-01, D-02), membership fees per category (D-01),
activity groups and cohort fees (D-07, D-08), reduction and exemption rules (D-05,
D-09..D-11) with their conditions and effect in plain words. Every save goes through the
services with its history; a failed save shows why and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from djmoney.money import Money

from billing import pricing, selectors, services_schedules
from billing.forms_schedules import (
    BELOW_MINIMUM,
    COHORTS_OVERLAP,
    DUE_BEFORE_INVOICE,
    FAMILY_FEE_TOO_LOW,
    MEMBERSHIP_BELOW_50,
    NO_PRICES,
    RULE_FORMS,
    SEASON_TAKEN,
    VOLUNTEER_DATES_REQUIRED,
)
from billing.models import ActivityGroup, ExemptionAgreement, FeeSchedule
from billing.pricing.example import HARDSHIP, SIBLINGS, TWO_SPORTS
from tests.billing.factories import SEASON, build_example_club
from tests.billing.pages import billing_state, general_manager, manager
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]


@pytest.fixture
def club(world):
    return build_example_club(world)


@pytest.fixture
def schedule(club) -> FeeSchedule:
    return FeeSchedule.objects.get(club=club.world.club_a, season=SEASON)


def settings_data(schedule: FeeSchedule, **changes) -> dict:
    data = {
        "membership_minimum": "50",
        "membership_period_mode": "calendar_year",
        "membership_invoice_date": f"{SEASON}-01-15",
        "membership_due_date": f"{SEASON}-03-01",
        "membership_due_days": "14",
        "family_fee": "700",
        "family_max_members": "7",
        "trial_days": "21",
        "invoice_fee": "50",
        "invoice_fee_kinds": ["membership"],
        "volunteer_fee": "500",
        "volunteer_invoice_date": f"{SEASON}-02-01",
        "volunteer_due_date": f"{SEASON}-03-01",
        "volunteer_min_age": "12",
        "volunteer_max_age": "80",
        "volunteer_refund_per_hour": "100",
        "volunteer_refund_capped": "on",
        "rounding_unit": "1",
        "invoice_help_text": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def last_history_user(instance):  # type: ignore[no-untyped-def]
    return instance.history.order_by("-history_id").first().history_user


# ------------------------------------------------------------------ list and new seasons


def test_schedule_list_shows_the_seasons_in_bounded_queries(
    club, schedule, django_assert_max_num_queries
):
    client = manager(club.world)
    url = reverse("billing:schedule-list", args=[club.world.club_a.pk])
    client.get(url)  # warm up (session, grants)
    with django_assert_max_num_queries(12):
        few = client.get(url)
    for season in (2028, 2029, 2030):
        services_schedules.fee_schedule_copy(actor=None, schedule=schedule, season=season)
    with django_assert_max_num_queries(12):
        many = client.get(url)

    assert few.status_code == many.status_code == 200
    assert [s.season for s in many.context["schedules"]] == [2030, 2029, 2028, 2027]


def test_new_season_from_the_example(world):
    client = manager(world)

    response = client.post(
        reverse("billing:schedule-create", args=[world.club_a.pk]),
        {"season": "2030", "source": "example"},
    )

    schedule = FeeSchedule.objects.get(club=world.club_a, season=2030)
    assert response.status_code == 302
    assert selectors.season_config(world.club_a, 2030) == pricing.example_season_config(
        2030, str(world.club_a.pk)
    )
    assert last_history_user(schedule).username == "official_this_club-billing.manage"


def test_d07_new_season_as_a_copy_moves_dates_and_cohorts(club, schedule):
    client = manager(club.world)
    schedule.invoice_help_text = "Ask the general manager."
    schedule.save()

    response = client.post(
        reverse("billing:schedule-create", args=[club.world.club_a.pk]),
        {"season": "2028", "source": str(SEASON)},
    )

    copy = FeeSchedule.objects.get(club=club.world.club_a, season=2028)
    assert response.status_code == 302
    assert copy.to_config() == pricing.copied_to_season(schedule.to_config(), 2028)
    football = copy.activity_groups.get(code="football")
    assert football.organisation == club.football
    assert sorted(
        (fee.birth_year_from, fee.birth_year_to) for fee in football.cohort_fees.all()
    ) == [(1929, 2008), (2009, 2015), (2016, 2022)]
    assert copy.invoice_help_text == "Ask the general manager."


def test_a_season_only_once(club, schedule):
    client = manager(club.world)
    before = billing_state()

    response = client.post(
        reverse("billing:schedule-create", args=[club.world.club_a.pk]),
        {"season": str(SEASON), "source": "example"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["season"] == [SEASON_TAKEN % {"season": SEASON}]
    assert billing_state() == before


# ------------------------------------------------------------------ the detail page


def test_detail_states_every_rule_with_its_conditions_and_effect(club, schedule):
    response = manager(club.world).get(reverse("billing:schedule-detail", args=[schedule.pk]))

    assert response.status_code == 200
    text = response.content.decode()
    rules = {item["rule"].rule_id: item for item in response.context["rules"]}
    assert list(rules) == [rule.rule_id for rule in schedule.to_config().rules]
    assert rules[TWO_SPORTS]["conditions"] == "A player active in all of: football, handball."
    assert rules[TWO_SPORTS]["effect"] == "30% off each of those activity fees."
    assert rules[SIBLINGS]["effect"] == "Only the 2 oldest pay activity fees; the others pay none."
    assert rules["D-10 main board"]["conditions"] == (
        "Holders of the roles: Main board. With a signed volunteer contract on file (D-10)."
    )
    assert "Players in both handball and football: 30% off the activity fees." in text
    # D-11: the confidential rules are the general manager's to change
    assert rules[HARDSHIP]["confidential"] is True
    assert rules[HARDSHIP]["may_change"] is False
    assert rules[TWO_SPORTS]["may_change"] is True


def test_detail_is_read_only_for_members_manage(club, schedule):
    client = club.world.client("official_without_capability", "billing.manage")

    response = client.get(reverse("billing:schedule-detail", args=[schedule.pk]))

    assert response.status_code == 200
    assert response.context["may_manage"] is False
    assert reverse("billing:schedule-settings", args=[schedule.pk]) not in response.content.decode()


# ------------------------------------------------------------------ settings


def test_settings_change_family_limit_and_fees_with_history(club, schedule):
    client = manager(club.world)

    response = client.post(
        reverse("billing:schedule-settings", args=[schedule.pk]),
        settings_data(schedule, family_fee="800", family_max_members="6", invoice_fee=None),
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.family_fee, schedule.family_max_members) == (Money(800, "NOK"), 6)
    assert schedule.invoice_fee is None
    assert last_history_user(schedule).username == "official_this_club-billing.manage"
    assert schedule.to_config().family_fee == pricing.FamilyFee(Decimal(800), 6)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"membership_minimum": "40"}, "membership_minimum", MEMBERSHIP_BELOW_50),
        (
            {"family_fee": "300"},
            "family_fee",
            # Formatted when compared (in English), not when the module is collected.
            lazy(
                lambda: (
                    FAMILY_FEE_TOO_LOW
                    % {"members": 7, "minimum": Decimal(50), "total": Decimal(350)}
                ),
                str,
            )(),
        ),
        (
            {"volunteer_invoice_date": None, "volunteer_due_date": None},
            "volunteer_fee",
            VOLUNTEER_DATES_REQUIRED,
        ),
        ({"membership_due_date": f"{SEASON}-01-01"}, "membership_due_date", DUE_BEFORE_INVOICE),
    ],
    ids=["m04-minimum-50", "m11-family-fee", "m15-volunteer-dates", "d02-due-date"],
)
def test_settings_refused_with_the_rule_and_nothing_changed(
    club, schedule, changes, field, message
):
    client = manager(club.world)
    before = billing_state()

    response = client.post(
        reverse("billing:schedule-settings", args=[schedule.pk]), settings_data(schedule, **changes)
    )

    assert response.status_code == 200
    with translation.override("en"):  # the manager's client reads the pages in English
        expected = str(message)
    assert expected in response.context["form"].errors[field]
    assert billing_state() == before


def test_m04_a_minimum_above_a_fee_is_refused_by_the_engine_and_nothing_changed(club, schedule):
    client = manager(club.world)
    before = billing_state()

    response = client.post(
        reverse("billing:schedule-settings", args=[schedule.pk]),
        settings_data(schedule, membership_minimum="300", family_fee="2100"),
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "M-04: the membership fee 'pensioner' is NOK 200; it must be at least NOK 300."
    ]
    assert billing_state() == before


# ------------------------------------------------------------------ membership fees (D-01)


def prices_data(rows: list[dict], initial: int = 2) -> dict:
    """The formset as the page posts it: the schedule's 2 fees first, then new rows."""
    data = {
        "prices-TOTAL_FORMS": str(len(rows)),
        "prices-INITIAL_FORMS": str(initial),
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"prices-{index}-{key}"] = value
    return data


MEMBER = {
    "category": "member",
    "amount": "500",
    "rule_id": "D-01",
    "membership_types": ["ordinary", "family", "honorary"],
}
PENSIONER = {
    **MEMBER,
    "category": "pensioner",
    "amount": "200",
    "rule_id": "D-01 pensioner",
    "min_age": "67",
}
JUNIOR = {
    "category": "junior",
    "amount": "250",
    "rule_id": "D-01 junior",
    "membership_types": ["junior"],
}


def test_d01_a_category_gets_its_own_fee_and_the_preview_uses_it(club, schedule):
    client = manager(club.world)
    types = default_types(club.world.club_a)
    junior = PersonFactory(first_name="Junior", birth_date=datetime.date(2012, 6, 6))
    MembershipFactory(person=junior, club=club.world.club_a, membership_type=types["junior"])

    response = client.post(
        reverse("billing:schedule-prices", args=[schedule.pk]),
        prices_data([MEMBER, PENSIONER, JUNIOR]),
    )

    assert response.status_code == 302
    preview = selectors.dues_preview(None, junior, SEASON, club=club.world.club_a)
    lines = preview.person.lines_for(pricing.FeeKind.MEMBERSHIP)
    assert [(line.category, line.amount, line.rule_id) for line in lines] == [
        ("junior", Decimal(250), "D-01 junior")
    ]
    pensioner = selectors.dues_preview(None, club["pensioner"], SEASON, club=club.world.club_a)
    assert pensioner.person.lines_for(pricing.FeeKind.MEMBERSHIP)[0].amount == Decimal(200)


def test_m04_a_fee_below_the_minimum_is_refused_and_nothing_changed(club, schedule):
    client = manager(club.world)
    before = billing_state()

    response = client.post(
        reverse("billing:schedule-prices", args=[schedule.pk]),
        prices_data([MEMBER, PENSIONER, {**JUNIOR, "amount": "40"}]),
    )

    assert response.status_code == 200
    assert response.context["formset"].forms[2].errors["amount"] == [
        BELOW_MINIMUM % {"minimum": Decimal(50)}
    ]
    assert billing_state() == before


def test_d01_at_least_one_membership_fee(club, schedule):
    before = billing_state()

    response = manager(club.world).post(
        reverse("billing:schedule-prices", args=[schedule.pk]),
        prices_data([{**MEMBER, "DELETE": "on"}, {**PENSIONER, "DELETE": "on"}]),
    )

    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [NO_PRICES]
    assert billing_state() == before


# ------------------------------------------------------------------ groups and cohort fees (D-07)


def fees_data(rows: list[tuple], initial: int = 0) -> dict:
    """The formset as the page posts it: the group's `initial` fees first, then new rows."""
    data = {
        "fees-TOTAL_FORMS": str(len(rows)),
        "fees-INITIAL_FORMS": str(initial),
        "fees-MIN_NUM_FORMS": "0",
        "fees-MAX_NUM_FORMS": "1000",
    }
    for index, (first, last, amount) in enumerate(rows):
        data.update(
            {
                f"fees-{index}-birth_year_from": str(first),
                f"fees-{index}-birth_year_to": str(last),
                f"fees-{index}-amount": str(amount),
                f"fees-{index}-rule_id": "D-07",
            }
        )
    return data


def test_d07_a_new_group_with_its_cohort_fees(club, schedule):
    client = manager(club.world)

    created = client.post(
        reverse("billing:group-add", args=[schedule.pk]),
        {
            "code": "skiing",
            "name": "skiing",
            "season_start": f"{SEASON}-11-01",
            "season_end": f"{SEASON + 1}-03-31",
            "invoice_date": f"{SEASON}-11-01",
            "due_days": "28",
            "instalment_min_share_percent": "70",
        },
    )
    group = ActivityGroup.objects.get(fee_schedule=schedule, code="skiing")
    fees = client.post(
        reverse("billing:group-fees", args=[group.pk]),
        fees_data([(2015, 2021, 900), (2008, 2014, 1200)]),
    )

    assert created.status_code == fees.status_code == 302
    config = selectors.season_config(club.world.club_a, SEASON)
    assert config.activity_fee("skiing", 2016).amount == Decimal(900)
    assert config.activity_fee("skiing", 2008).amount == Decimal(1200)
    assert last_history_user(group.cohort_fees.get(birth_year_from=2015)).username == (
        "official_this_club-billing.manage"
    )


def test_d07_overlapping_cohorts_are_refused_and_nothing_changed(club, schedule):
    group = schedule.activity_groups.get(code="football")
    before = billing_state()

    response = manager(club.world).post(
        reverse("billing:group-fees", args=[group.pk]),
        fees_data([(2015, 2021, 2400), (2010, 2015, 3000), (1928, 2007, 3600)], initial=3),
    )

    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [
        COHORTS_OVERLAP % {"first": "2010-2015", "second": "2015-2021"}
    ]
    assert billing_state() == before


def test_d07_a_cohort_fee_changes_in_place(club, schedule):
    group = schedule.activity_groups.get(code="football")
    kept = group.cohort_fees.get(birth_year_from=SEASON - 12)

    services_schedules.cohort_fees_set(
        actor=None,
        group=group,
        fees=[
            pricing.ActivityFee("football", SEASON - 12, SEASON - 6, Decimal(2500)),
            pricing.ActivityFee("football", SEASON - 19, SEASON - 13, Decimal(3000)),
        ],
    )

    kept.refresh_from_db()
    assert kept.amount == Money(2500, "NOK")
    assert group.cohort_fees.count() == 2


def test_a_group_that_rules_name_cannot_be_removed(club, schedule):
    group = schedule.activity_groups.get(code="handball")
    before = billing_state()

    response = manager(club.world).post(
        reverse("billing:group-delete", args=[group.pk]), follow=True
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "'D-09 two sports' refers to the group 'handball', which the season does not define."
    ]
    assert billing_state() == before


# ------------------------------------------------------------------ rules (D-05, D-09..D-11)


def rule_url(schedule: FeeSchedule, rule_id: str, action: str = "") -> str:
    name = f"billing:rule-{action}" if action else "billing:rule-edit"
    return reverse(name, args=[schedule.pk, rule_id])


def test_d09_change_a_rule_and_the_engine_uses_it(club, schedule):
    client = manager(club.world)

    response = client.post(
        rule_url(schedule, TWO_SPORTS),
        {
            "statement": "Both sports: 40% off.",
            "enabled": "on",
            "groups": ["football", "handball"],
            "percent": "40",
        },
    )

    assert response.status_code == 302
    rule = selectors.season_config(club.world.club_a, SEASON).rule(TWO_SPORTS)
    assert rule.params == pricing.TwoSportsParams(
        groups=("football", "handball"), percent=Decimal(40)
    )
    assert rule.statement == "Both sports: 40% off."
    dues = selectors.dues_preview(None, club["boy"], SEASON, club=club.world.club_a).person
    assert "D-09 two sports -40%: -960" in [line.reason for line in dues.lines]


def test_d09_a_rule_with_one_group_is_refused_and_nothing_changed(club, schedule):
    before = billing_state()

    response = manager(club.world).post(
        rule_url(schedule, TWO_SPORTS),
        {"statement": "x", "enabled": "on", "groups": ["football"], "percent": "130"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["groups"] == ["D-09: choose at least two groups."]
    assert errors["percent"] == ["Ensure this value is less than or equal to 100."]
    assert billing_state() == before


def test_switch_move_add_and_remove_rules(club, schedule):
    client = manager(club.world)

    client.post(rule_url(schedule, SIBLINGS, "switch"), {"enabled": "0"})
    client.post(
        reverse("billing:rule-add", args=[schedule.pk]),
        {
            "kind": "late_start",
            "rule_id": "D-09 late start skiing",
            "statement": "Late starters in football pay 25% less.",
            "enabled": "on",
            "group": "football",
            "started_after": f"{SEASON}-10-01",
            "percent": "25",
        },
    )
    client.post(rule_url(schedule, "D-09 late start skiing", "move"), {"direction": "earlier"})

    config = selectors.season_config(club.world.club_a, SEASON)
    assert config.rule(SIBLINGS).enabled is False
    percentages = [rule.rule_id for rule in config.rules if rule.phase == 3]
    assert percentages == [
        TWO_SPORTS,
        "D-09 late start football",
        "D-09 late start skiing",
        "D-09 late start handball",
    ]
    client.post(rule_url(schedule, "D-09 late start skiing", "delete"))
    assert "D-09 late start skiing" not in [
        r.rule_id for r in selectors.season_config(club.world.club_a, SEASON).rules
    ]


def test_a_rule_id_only_once(club, schedule):
    before = billing_state()

    response = manager(club.world).post(
        reverse("billing:rule-add", args=[schedule.pk]) + "?kind=two_sports",
        {
            "kind": "two_sports",
            "rule_id": TWO_SPORTS,
            "statement": "x",
            "groups": ["football", "handball"],
            "percent": "10",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["rule_id"] == [
        services_schedules.RULE_ID_TAKEN % {"rule_id": TWO_SPORTS}
    ]
    assert billing_state() == before


def test_a_rule_agreements_grant_is_switched_off_not_removed(club, schedule):
    ExemptionAgreement.objects.create(
        person=club["parent"],
        club=club.world.club_a,
        season=SEASON,
        kind="referee",
        rule_id="D-10 referees",
        fee_kinds=["activity"],
    )
    before = billing_state()

    response = manager(club.world).post(rule_url(schedule, "D-10 referees", "delete"), follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        services_schedules.RULE_IN_USE % {"season": SEASON, "rule_id": "D-10 referees"}
    ]
    assert billing_state() == before


def test_d11_only_the_general_manager_changes_a_confidential_rule(club, schedule):
    before = billing_state()
    denied = manager(club.world).post(rule_url(schedule, HARDSHIP, "switch"), {"enabled": "0"})
    denied_page = manager(club.world).get(rule_url(schedule, HARDSHIP))
    assert (denied.status_code, denied_page.status_code) == (404, 404)
    assert billing_state() == before

    _user, client = general_manager(club.world)
    allowed = client.post(rule_url(schedule, HARDSHIP, "switch"), {"enabled": "0"})

    assert allowed.status_code == 302
    assert selectors.season_config(club.world.club_a, SEASON).rule(HARDSHIP).enabled is False


def test_copy_button_makes_the_next_season(club, schedule):
    response = manager(club.world).post(
        reverse("billing:schedule-copy", args=[schedule.pk]), {"season": "2028"}
    )

    copy = FeeSchedule.objects.get(club=club.world.club_a, season=2028)
    assert response.status_code == 302
    assert response.url == reverse("billing:schedule-detail", args=[copy.pk])


def test_services_refuse_an_official_without_billing_manage(club, schedule):
    official = club.world.user("official_without_capability", "billing.manage")
    before = billing_state()

    with pytest.raises(PermissionDenied):
        services_schedules.fee_schedule_rule_switch(
            actor=official, schedule=schedule, rule_id=SIBLINGS, enabled=False
        )

    assert billing_state() == before


def test_every_schedule_page_renders_for_the_manager(club, schedule):
    client = manager(club.world)
    group = schedule.activity_groups.get(code="football")
    urls = [
        reverse("billing:schedule-list", args=[club.world.club_a.pk]),
        reverse("billing:schedule-detail", args=[schedule.pk]),
        reverse("billing:schedule-settings", args=[schedule.pk]),
        reverse("billing:schedule-prices", args=[schedule.pk]),
        reverse("billing:group-add", args=[schedule.pk]),
        reverse("billing:group-edit", args=[group.pk]),
        reverse("billing:group-fees", args=[group.pk]),
        *[reverse("billing:rule-add", args=[schedule.pk]) + f"?kind={kind}" for kind in RULE_FORMS],
        *[rule_url(schedule, rule.rule_id) for rule in schedule.to_config().rules[:7]],  # not D-11,
    ]

    statuses = {url: client.get(url).status_code for url in urls}

    assert set(statuses.values()) == {200}, statuses
