"""Pure rules of the person register: plain values in, plain values out, no ORM."""

from __future__ import annotations

import datetime

GENDER_DIGITS = {"male": "1", "female": "2"}
IDENTITY_FIELDS = frozenset({"first_name", "middle_name", "last_name", "gender", "birth_date"})


def format_sports_id(birth_date: datetime.date | None, gender: str, serial: int) -> str:
    """P-05: a sports id is the birth date (DDMMYY), a gender digit (1 male, 2 female, 0
    unknown) and a serial from the register's sequence, e.g. 15088620000042."""
    born = birth_date.strftime("%d%m%y") if birth_date else "000000"
    return f"{born}{GENDER_DIGITS.get(gender, '0')}{serial:07d}"


def changes_identity(changed_fields: set[str] | frozenset[str]) -> bool:
    """P-05: changing name, gender or birth date changes the sports id."""
    return bool(IDENTITY_FIELDS & set(changed_fields))


def death_date_error(
    date_of_death: datetime.date | None, birth_date: datetime.date | None, today: datetime.date
) -> str | None:
    """P-06: the date of death is after the birth date and not in the future."""
    if date_of_death is None:
        return "missing"
    if date_of_death > today:
        return "future"
    if birth_date is not None and date_of_death < birth_date:
        return "before_birth"
    return None
