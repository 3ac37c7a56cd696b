"""Copying a season's configuration to another season (issue 5: "copy last season's
schedule"): dates move by the years between, birth-year cohorts move with them (D-07: each
fee keeps its age band), amounts and rules stay."""

import datetime

from billing.pricing import copied_to_season, example_season_config
from billing.pricing.seasons import shift_date


def test_d07_cohorts_and_dates_move_one_year():
    config = example_season_config(2027)

    copy = copied_to_season(config, 2028)

    assert copy == example_season_config(2028, config.club_id)


def test_29_february_becomes_28_february():
    assert shift_date(datetime.date(2028, 2, 29), 1) == datetime.date(2029, 2, 28)
    assert shift_date(datetime.date(2027, 3, 1), -1) == datetime.date(2026, 3, 1)
