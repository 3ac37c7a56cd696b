"""A season's configuration copied to another season (issue 5: "copy last season's schedule
to a new season"). Pure: every date moves by the same number of years (29 February becomes
28 February), and the activity fees' birth-year cohorts move with them, so each fee keeps
its age band (D-07: the fee of children aged 6-12 stays theirs). Amounts, ages, percentages
and rules stay as they are; the club changes what its annual meeting changed."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from billing.pricing.config import ActivityFee, SeasonConfig


def copied_to_season(config: SeasonConfig, season: int) -> SeasonConfig:
    """`config` as the configuration of `season`."""
    years = season - config.season
    copied = _shift(config, years)
    assert isinstance(copied, SeasonConfig)
    return dataclasses.replace(copied, season=season)


def shift_date(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _shift(value: Any, years: int) -> Any:
    if isinstance(value, datetime.date):
        return shift_date(value, years)
    if isinstance(value, tuple):
        return tuple(_shift(item, years) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _shift(getattr(value, field.name), years)
            for field in dataclasses.fields(value)
            if field.init
        }
        if isinstance(value, ActivityFee):
            changes["birth_year_from"] = value.birth_year_from + years
            changes["birth_year_to"] = value.birth_year_to + years
        return type(value)(**changes)
    return value
