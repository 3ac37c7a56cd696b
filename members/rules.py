"""Pure rules of the person register: plain values in, plain values out, no ORM."""

from __future__ import annotations

import datetime
import re

import phonenumbers

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


# ------------------------------------------------------------------ contact data (P-08, M-03)

# M-03: top-level domains that are almost always a slip of the finger.
TLD_TYPOS = {
    "bo": "no",
    "nno": "no",
    "con": "com",
    "cmo": "com",
    "ocm": "com",
    "vom": "com",
    "xom": "com",
    "comm": "com",
    "nett": "net",
    "nte": "net",
}

# M-03: the mail providers most Norwegians use. A domain one slip away from one of them
# (a letter missing, added, swapped or mistyped) is most likely a typo of it.
COMMON_MAIL_DOMAINS = (
    "gmail.com",
    "hotmail.com",
    "hotmail.no",
    "outlook.com",
    "live.no",
    "live.com",
    "online.no",
    "yahoo.com",
    "yahoo.no",
    "icloud.com",
    "altibox.no",
    "getmail.no",
    "broadpark.no",
    "frisurf.no",
    "lyse.net",
    "telia.no",
    "start.no",
)

# Real domains one slip away from a common one: never "correct" these.
KNOWN_MAIL_DOMAINS = frozenset({*COMMON_MAIL_DOMAINS, "mail.com", "email.com", "me.com"})

# Slips that are more than one edit away but frequent enough to name.
DOMAIN_TYPOS = {
    "gmail.co": "gmail.com",
    "gmail.cm": "gmail.com",
    "gamil.com": "gmail.com",
    "hotmail.co": "hotmail.com",
    "onlien.no": "online.no",
    "onine.no": "online.no",
}


def _one_edit_apart(first: str, second: str) -> bool:
    """True when `second` results from `first` by one inserted, deleted or replaced character
    or two neighbouring characters swapped (Damerau-Levenshtein distance 1)."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        differences = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
        if len(differences) == 1:
            return True
        return (
            len(differences) == 2
            and differences[1] == differences[0] + 1
            and first[differences[0]] == second[differences[1]]
            and first[differences[1]] == second[differences[0]]
        )
    shorter, longer = sorted((first, second), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def email_typo_suggestion(email: str) -> str | None:
    """M-03: the address the user most likely meant, when `email` looks like a typo (".bo"
    for ".no", "gmial.com" for "gmail.com"); None when it looks fine."""
    local, separator, domain = email.strip().rpartition("@")
    if not separator or not local or not domain:
        return None
    domain = domain.lower()
    name, dot, tld = domain.rpartition(".")
    corrected = f"{name}.{TLD_TYPOS[tld]}" if dot and tld in TLD_TYPOS else domain
    if corrected not in KNOWN_MAIL_DOMAINS:
        corrected = DOMAIN_TYPOS.get(corrected, corrected)
    if corrected not in KNOWN_MAIL_DOMAINS:
        near = [common for common in COMMON_MAIL_DOMAINS if _one_edit_apart(corrected, common)]
        if len(near) == 1:
            corrected = near[0]
    return f"{local}@{corrected}" if corrected != domain else None


def normalise_phone(raw: str, default_region: str = "NO") -> str | None:
    """P-08: a phone number in E.164 form (+4791234567), or None when it is not a valid
    number. Numbers without a country code are read as numbers of `default_region`."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


NORWEGIAN_POSTCODE = re.compile(r"\d{4}")


def postcode_error(postcode: str, country: str, *, has_address: bool) -> str | None:
    """P-08: a Norwegian address has a four-digit postcode. Returns "missing", "format" or
    None. Other countries' postcodes are not checked."""
    if country != "NO":
        return None
    if not postcode:
        return "missing" if has_address else None
    return None if NORWEGIAN_POSTCODE.fullmatch(postcode) else "format"


def same_place(first: str, second: str) -> bool:
    """Place names compare without regard to case and repeated spaces ("OSLO" is "Oslo")."""
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


# ------------------------------------------------------------------ data wash (P-07)

PERSON_WASH_FIELDS = ("first_name", "middle_name", "last_name", "birth_date")
ADDRESS_WASH_FIELDS = ("street", "postcode", "city", "mobile")


def wash_corrections(
    current: dict[str, object], register: dict[str, object], fields: tuple[str, ...]
) -> dict[str, object]:
    """P-07: the register's values that differ from ours, field by field. An empty value in
    the register means "unknown" and corrects nothing, except the middle name, which the
    register always states (empty: the person has none)."""
    corrections: dict[str, object] = {}
    for name in fields:
        value = register.get(name)
        if (value in (None, "")) and name != "middle_name":
            continue
        if (value or "") != (current.get(name) or ""):
            corrections[name] = value or ""
    return corrections
