"""The engine's texts in the user's language (issue 5; billing.texts): every reason, issue and
error carries a translatable Text whose English rendering is the engine's own text, and the
pages render it in the user's language with amounts written as that language writes them."""

import ast
import dataclasses
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from billing import pricing, selectors, texts
from billing.pricing import (
    Activity,
    Agreement,
    LeaveReason,
    Membership,
    PaymentMethod,
    PersonFacts,
    Role,
    RoleKind,
    example_season_config,
    price_season,
)
from billing.pricing.example import FOOTBALL, HANDBALL

SEASON = 2027
PRICING = Path(pricing.__file__).parent


def rich_season() -> pricing.SeasonDues:
    """Persons that make every kind of line and an issue of the example club's season."""
    family = [
        PersonFacts(
            person_id=1,
            birth_date=datetime.date(1980, 1, 1),
            family_id=9,
            family_contact=True,
            memberships=(Membership("family", datetime.date(2020, 1, 1)),),
            roles=(Role(RoleKind.MAIN_BOARD),),
            volunteer_contract_signed=True,
            children_ids=(2, 3, 4),
            payment_method=PaymentMethod.INVOICE,
            volunteer_hours=Decimal("2.5"),
        ),
        *[
            PersonFacts(
                person_id=pid,
                birth_date=datetime.date(born, 3, 3),
                gender="female",
                family_id=9,
                memberships=(Membership("family", datetime.date(2020, 1, 1)),),
                activities=(
                    Activity(FOOTBALL, datetime.date(2020, 1, 1)),
                    Activity(HANDBALL, datetime.date(2020, 1, 1)),
                ),
            )
            for pid, born in ((2, 2012), (3, 2014), (4, 2016))
        ],
    ]
    others = [
        PersonFacts(  # honorary member (D-05), pensioner (D-01)
            person_id=10,
            birth_date=datetime.date(1950, 1, 1),
            memberships=(Membership("honorary", datetime.date(2000, 1, 1)),),
        ),
        PersonFacts(  # late start and moving away (D-09), hardship (D-11)
            person_id=11,
            birth_date=datetime.date(2010, 5, 5),
            memberships=(Membership("ordinary", datetime.date(2020, 1, 1)),),
            activities=(
                Activity(FOOTBALL, datetime.date(SEASON, 8, 15)),
                Activity(
                    HANDBALL,
                    datetime.date(2020, 1, 1),
                    end=datetime.date(SEASON, 11, 1),
                    leave_reason=LeaveReason.MOVING,
                    leave_documented=True,
                    leave_reported_on=datetime.date(SEASON, 11, 20),
                ),
            ),
            agreements=(Agreement("D-11 hardship", percent=Decimal(50)),),
        ),
        PersonFacts(  # a player without a membership (M-16 issue)
            person_id=12,
            birth_date=datetime.date(2015, 1, 1),
            activities=(Activity(FOOTBALL, datetime.date(2020, 1, 1)),),
        ),
    ]
    return price_season(example_season_config(SEASON), [*family, *others])


def all_lines(season: pricing.SeasonDues) -> list[pricing.Line]:
    lines = list(season.lines())
    return lines + [line.redacted() for line in lines if line.confidential]


def test_every_line_carries_its_reason_as_a_text_and_english_renders_the_reason():
    lines = all_lines(rich_season())
    templates = {line.text.template for line in lines}

    with translation.override("en"):
        rendered = [texts.line_reason(line) for line in lines]

    assert rendered == [line.reason for line in lines]
    assert [str(line.text) for line in lines] == [line.reason for line in lines]
    # the season above makes every kind of reason the engine writes
    assert {
        "Membership fee {period} family {family_id}, contact person's share {amount} of "
        "{total} ({rule_id})",
        "Activity fee {cohort} {group} {amount} ({rule_id})",
        "Volunteer-work fee {period} {amount} ({rule_id})",
        "Invoice fee {amount} ({rule_id})",
        "{rule_id} {hours} h x {rate}: -{amount}",
        "{rule_id} -{percent}%: -{amount}",
        "{rule_id} ({detail}) -{percent}%: -{amount}",
        "Exemption (confidential): {amount}",
    } <= templates


def test_issues_and_errors_render_in_english_as_the_engine_wrote_them():
    season = rich_season()
    with translation.override("en"):
        assert [texts.issue_message(issue) for issue in season.issues] == [
            issue.message for issue in season.issues
        ]
        assert season.issues[0].message == (
            "D-05/M-16: person 12 plays or holds a function but has no membership for 2027."
        )
        with pytest.raises(pricing.ConfigError) as error:
            dataclasses.replace(example_season_config(SEASON), membership_minimum=Decimal(600))
        assert texts.error_message(error.value) == str(error.value)
        assert texts.error_message(selectors.NoFeeSchedule(2030)) == (
            "The club has no fee schedule for 2030."
        )


def test_norwegian_writes_amounts_with_a_space_and_a_decimal_comma():
    line = next(
        line for line in rich_season().lines() if line.text.template.startswith("Activity fee")
    )

    with translation.override("nb"):
        text = texts.line_reason(line)

    assert text.endswith("J2012 football 3\xa0000 (D-07)")
    with translation.override("nb"):
        assert texts.money(Decimal("1177.5")) == "1\xa0177,50"
    with translation.override("en"):
        assert texts.money(Decimal("1177.5")) == "1,177.50"
        assert texts.money(Decimal(-720)) == "-720"


def test_a_translation_that_does_not_fit_falls_back_to_english(monkeypatch):
    line = next(iter(rich_season().lines()))
    monkeypatch.setitem(texts.TEMPLATES, line.text.template, "Broken {unknown}")

    assert texts.line_reason(line) == line.reason


def _template_constants(path: Path) -> dict[str, str]:
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, str) and "{" in value:
                found[node.targets[0].id] = value
    return found


@pytest.mark.parametrize("module", ["engine.py", "config.py", "helpers.py", "lines.py"])
def test_every_template_of_the_engine_is_in_the_catalogue_with_the_same_english(module):
    constants = _template_constants(PRICING / module)

    assert constants
    with translation.override("en"):
        for name, template in constants.items():
            assert template in texts.TEMPLATES, name
            assert str(texts.TEMPLATES[template]) == template, name
