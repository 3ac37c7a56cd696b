"""Person search (P-01..P-03): the criteria of the simple and the advanced search, parsed by
pure functions, and the selector that finds the first 100 persons a user may see.

Names (P-01) are compared folded: lower case, accents and æøå spelled in ASCII by the database
function `clubadmin_fold` behind `Person.first_name_folded`/`last_name_folded`. A name part
matches a name that
- equals it (rank 3),
- starts with it (rank 2 + similarity),
- has a later word (after a space or hyphen) that starts with it (rank 1 + similarity), or
- is trigram-similar to it (pg_trgm's similarity of at least SIMILARITY_THRESHOLD; parts of
  three letters or more), so that "Odegard", "Ødegaard" and "odegård" find "Ødegård" and
  "Hansn" finds "Hansen".
Every part must match the first or the last name (the simple search) or the field it was typed
in (first name / last name of the advanced search). Results are ordered by the sum of the
parts' ranks (best similarity first), then folded last name, first name and id.

How it stays fast at federation scale (1,000,000 persons; tests/bench/bench_person_search.py):
a person's rank depends only on the spelling of their names, and a register has few distinct
spellings (some hundreds of first and last names). `NameDictionary` keeps the distinct folded
spellings in memory, so the matching spellings of each part are found in Python (pure
functions: `Spellings`, `name_rank`, `name_branches`); the database then looks persons up by
exact folded names, which the btree index (last_name_folded, first_name_folded) answers in
order. Each matching spelling (or pair of first and last name spellings) is a `Branch`; the
search asks the best branches for their first 101 persons in index order (a UNION ALL that
stops early), and the weaker ones only when those cannot fill the result. For a user who sees
one club (or a search limited to a club, group or team) the club's persons are read first
(an id array); a common name is then ranked among them in one query, a rare one (a first and
last name pair) still through the branches.

Access (P-03): every query goes through `clubadmin.access.scope(user, "persons.view", ...)`, so
a person outside the user's scope is never returned. The shortcuts above only narrow further.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.postgres.aggregates import StringAgg
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    ContactSet,
    Fold,
    Function,
    FunctionType,
    Gender,
    Organisation,
    OrganisationType,
    Person,
    SportsIdHistory,
    User,
)

# ------------------------------------------------------------------------------- constants

MAX_RESULTS = 100  # P-03: the first 100 matches
MAX_NAME_PARTS = 4
MAX_PART_LENGTH = 50
MAX_SPELLINGS_PER_PART = 30  # the best-matching spellings of a name part, per name column
MAX_BRANCHES = 400  # the best spellings (or pairs of spellings) a name search looks at
BATCH_FACTOR = 3  # the first batch of branches is expected to hold 3 x 101 persons
BIG_BRANCH = 500  # expected persons from which a branch is read from the index on its own
OVERFETCH = 4  # among few candidates, rank 4 x 101 before checking access
LOOKBACK = 100  # the name dictionary re-reads this many ids below its last maximum
BIRTH_YEARS = 90  # a register spans about 90 birth years
DECEASED_SHARE = 0.003
SIMILARITY_THRESHOLD = (
    0.4  # above pg_trgm's default 0.3: Norwegian names share endings (-sen, -gard)
)
MIN_FUZZY_LENGTH = 3  # shorter parts match by prefix only

EXACT_RANK = 3.0
PREFIX_RANK = 2.0
WORD_PREFIX_RANK = 1.0

FIRST = "first_name_folded"
LAST = "last_name_folded"
NAME_COLUMNS = (FIRST, LAST)

# Organisations whose persons are few enough to collect first (a club and below).
NARROW_ORGANISATION_TYPES = frozenset(
    {OrganisationType.CLUB, OrganisationType.GROUP, OrganisationType.TEAM}
)
NARROW_DEPTH = 3  # federation > region > club: a node this deep is a club or below

# The query parameters of a search (HTML form and API alike).
CRITERIA_FIELDS = (
    "q",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "birth_year",
    "sports_id",
    "organisation",
    "function_type",
    "postcode",
    "country",
    "deceased",
)
NON_FIELD = "__all__"

# Columns a result can be sorted by (P-03); "" keeps the best matches first.
ORDERINGS = ("name", "birth_date", "sports_id", "place")
ORDERING_CHOICES = ("", *ORDERINGS, *(f"-{name}" for name in ORDERINGS))

# Error messages (STYLE 14), reused by the tests.
NO_CRITERION = _("Give at least one search criterion (P-02).")


def _formatted_lazily(message: Promise, **values: object) -> Promise:
    """`lazy_message % values` would translate once, at import; this formats per use."""
    return lazy(lambda: str(message) % values, str)()


TOO_MANY_NAME_PARTS = _formatted_lazily(
    _("Give at most %(count)s name parts."), count=MAX_NAME_PARTS
)
NAME_PART_TOO_LONG = _formatted_lazily(
    _("A name part can have at most %(count)s characters."), count=MAX_PART_LENGTH
)
INVALID_GENDER = _("Choose male, female or unknown.")
INVALID_DATE = _("Enter a date as DD.MM.YYYY or YYYY-MM-DD.")
INVALID_YEAR = _("Enter a year with four digits.")
INVALID_SPORTS_ID = _("A sports id has only digits.")
INVALID_ORGANISATION = _("Choose an organisation from the list.")
ORGANISATION_NOT_VISIBLE = _("Choose an organisation you can see.")
INVALID_FUNCTION_TYPE = _(
    "Enter a function type number or name; * stands for any characters (e.g. Tren*, 1*)."
)
NO_FUNCTION_TYPE_MATCHES = _("No function type matches this.")
INVALID_POSTCODE = _("Enter a postcode (or its first digits) or a place name.")
INVALID_COUNTRY = _("Enter a two-letter country code (ISO 3166-1), e.g. SE.")
INVALID_DECEASED = _("Choose yes or no.")
INVALID_ORDERING = _("Sort by name, birth_date, sports_id or place (- for descending).")

_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")
_NAME_SEPARATORS = re.compile(r"[\s,;]+")
_WORD_SEPARATORS = re.compile(r"[\s-]+")
_FUNCTION_TYPE_PATTERN = re.compile(r"[\w\s*.'-]{1,100}")
_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"", "0", "false", "off", "no"})


class CriteriaError(Exception):
    """Invalid search criteria: `errors` maps a criterion (or NON_FIELD) to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(errors)
        self.errors = dict(errors)


# --------------------------------------------------------------------------- the criteria


@dataclass(frozen=True)
class FunctionTypePattern:
    """P-02: a function type by number or name; `*` stands for any characters."""

    by_number: bool
    like: str  # a LIKE pattern: folded name or number digits, with % for *


@dataclass(frozen=True)
class Criteria:
    """The criteria of P-02 (and the birth year, for "last name + birth year + club")."""

    name_parts: tuple[str, ...] = ()  # simple search: each part in the first or last name
    first_name_parts: tuple[str, ...] = ()
    last_name_parts: tuple[str, ...] = ()
    gender: str = ""
    birth_date: datetime.date | None = None
    birth_year: int | None = None
    sports_id: str = ""
    organisation_id: int | None = None
    function_type: FunctionTypePattern | None = None
    postcode: str = ""  # the first digits of a postcode
    place: str = ""  # the beginning of a place name
    country: str = ""
    deceased: bool = False  # P-02: unchecked = living persons only, checked = deceased only

    @property
    def has_names(self) -> bool:
        return bool(self.name_parts or self.first_name_parts or self.last_name_parts)


def parse_criteria(data: Mapping[str, object]) -> Criteria:
    """The criteria of a search request (query parameters as strings). Raises CriteriaError
    naming each invalid criterion, or NON_FIELD when none is given (P-02)."""
    values = {name: str(data.get(name) or "").strip() for name in CRITERIA_FIELDS}
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    parsers = {
        "q": ("name_parts", parse_name_parts),
        "first_name": ("first_name_parts", parse_name_parts),
        "last_name": ("last_name_parts", parse_name_parts),
        "gender": ("gender", parse_gender),
        "birth_date": ("birth_date", parse_date),
        "birth_year": ("birth_year", parse_year),
        "sports_id": ("sports_id", parse_sports_id),
        "organisation": ("organisation_id", parse_organisation_id),
        "function_type": ("function_type", parse_function_type),
        "country": ("country", parse_country),
        "deceased": ("deceased", parse_deceased),
    }
    for name, (attribute, parser) in parsers.items():
        if not values[name]:
            continue
        try:
            parsed[attribute] = parser(values[name])
        except ValueError as error:
            errors[name] = str(error)
    if values["postcode"]:
        try:
            parsed["postcode"], parsed["place"] = parse_postcode_or_place(values["postcode"])
        except ValueError as error:
            errors["postcode"] = str(error)
    if errors:
        raise CriteriaError(errors)
    criteria = Criteria(**parsed)  # type: ignore[arg-type]
    if not has_criterion(criteria):
        raise CriteriaError({NON_FIELD: str(NO_CRITERION)})
    return criteria


def has_criterion(criteria: Criteria) -> bool:
    """P-02: at least one criterion. A checked "deceased" box counts (deceased persons only);
    an unchecked one is the default and does not."""
    return criteria != Criteria()


def parse_name_parts(text: str) -> tuple[str, ...]:
    """P-01: name parts separated by spaces (commas and semicolons too)."""
    parts = tuple(part for part in _NAME_SEPARATORS.split(text) if part.strip("-'.*"))
    if len(parts) > MAX_NAME_PARTS:
        raise ValueError(str(TOO_MANY_NAME_PARTS))
    if any(len(part) > MAX_PART_LENGTH for part in parts):
        raise ValueError(str(NAME_PART_TOO_LONG))
    return tuple(part.strip("*") for part in parts)


def parse_gender(text: str) -> str:
    value = text.lower()
    if value not in Gender.values:
        raise ValueError(str(INVALID_GENDER))
    return value


def parse_date(text: str) -> datetime.date:
    for date_format in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise ValueError(str(INVALID_DATE))


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text) or not 1850 <= int(text) <= 2200:
        raise ValueError(str(INVALID_YEAR))
    return int(text)


def parse_sports_id(text: str) -> str:
    value = re.sub(r"[\s.-]", "", text)
    if not re.fullmatch(r"\d{1,20}", value):
        raise ValueError(str(INVALID_SPORTS_ID))
    return value


def parse_organisation_id(text: str) -> int:
    if not re.fullmatch(r"\d{1,18}", text) or int(text) == 0:
        raise ValueError(str(INVALID_ORGANISATION))
    return int(text)


def parse_function_type(text: str) -> FunctionTypePattern:
    """P-02: `1*` (numbers starting with 1), `Tren*`, `*leder`, `Trener`, `17`. The name is
    matched case- and accent-insensitively (folded like names)."""
    value = re.sub(r"\s+", " ", text)
    if not _FUNCTION_TYPE_PATTERN.fullmatch(value) or not value.replace("*", "").strip():
        raise ValueError(str(INVALID_FUNCTION_TYPE))
    like = escape_like(value).replace("*", "%")
    return FunctionTypePattern(by_number=bool(re.fullmatch(r"[\d*]+", value)), like=like)


def parse_postcode_or_place(text: str) -> tuple[str, str]:
    """(postcode prefix, "") for digits, ("", place) for a place name."""
    value = re.sub(r"\s+", " ", text)
    if re.fullmatch(r"\d{1,10}", value):
        return value, ""
    if len(value) > 100 or not re.search(r"\w", value) or re.search(r"[%_\\]", value):
        raise ValueError(str(INVALID_POSTCODE))
    return "", value


def parse_country(text: str) -> str:
    value = text.upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(str(INVALID_COUNTRY))
    return value


def parse_deceased(text: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(str(INVALID_DECEASED))


def parse_ordering(text: str | None) -> str:
    value = (text or "").strip()
    if value not in ORDERING_CHOICES:
        raise ValueError(str(INVALID_ORDERING))
    return value


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ------------------------------------------------------------------ name matching (pure)


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams: each alphanumeric word padded with two spaces in front and one
    behind, lower case."""
    result: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        result.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(result)


def similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """pg_trgm's similarity: shared trigrams over all distinct trigrams."""
    if not first or not second:
        return 0.0
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)


def name_rank(
    part: str,
    value: str,
    part_trigrams: frozenset[str] | None = None,
    value_trigrams: frozenset[str] | None = None,
) -> float:
    """How well the folded name `value` matches the folded name part (0 = not at all)."""
    if value == part:
        return EXACT_RANK
    score = similarity(part_trigrams or trigrams(part), value_trigrams or trigrams(value))
    if value.startswith(part):
        return PREFIX_RANK + score
    if any(word.startswith(part) for word in _WORD_SEPARATORS.split(value)[1:]):
        return WORD_PREFIX_RANK + score
    if len(part) >= MIN_FUZZY_LENGTH and score >= SIMILARITY_THRESHOLD:
        return score
    return 0.0


class Spellings:
    """The distinct spellings of one name column with how many persons have each, indexed for
    matching: sorted (prefixes), by later word (word prefixes) and by trigram (similarity)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._trigrams: dict[str, frozenset[str]] = {}
        self._by_trigram: dict[str, set[str]] = {}
        self._sorted: list[str] = []
        self._later_words: list[tuple[str, str]] = []

    def add(self, value: str | None, count: int = 1) -> None:
        if not value:
            return
        if value not in self.counts:
            self.counts[value] = 0
            value_trigrams = trigrams(value)
            self._trigrams[value] = value_trigrams
            for trigram in value_trigrams:
                self._by_trigram.setdefault(trigram, set()).add(value)
            bisect.insort(self._sorted, value)
            for word in _WORD_SEPARATORS.split(value)[1:]:
                bisect.insort(self._later_words, (word, value))
        self.counts[value] += count

    def add_if_new(self, value: str | None) -> None:
        """A spelling seen again (re-read rows) counts once."""
        if value and value not in self.counts:
            self.add(value)

    def matching(self, part: str, limit: int = MAX_SPELLINGS_PER_PART) -> list[tuple[str, float]]:
        """The best `limit` spellings matching `part` (see name_rank), best first. The part
        itself always matches exactly, also when it is not (yet) a known spelling."""
        part_trigrams = trigrams(part)
        candidates = set(_starting_with(self._sorted, part))
        candidates.update(value for _word, value in _starting_with(self._later_words, (part,)))
        if len(part) >= MIN_FUZZY_LENGTH:
            # Only spellings sharing enough trigrams can reach the similarity threshold.
            shared = Counter(
                value for trigram in part_trigrams for value in self._by_trigram.get(trigram, ())
            )
            size = len(part_trigrams)
            candidates.update(
                value
                for value, count in shared.items()
                if count >= SIMILARITY_THRESHOLD * (size + len(self._trigrams[value]) - count)
            )
        ranked = [(part, EXACT_RANK)] if part else []
        for value in candidates - {part}:
            rank = name_rank(part, value, part_trigrams, self._trigrams[value])
            if rank > 0:
                ranked.append((value, rank))
        ranked.sort(key=lambda item: (-item[1], item[0]))
        return ranked[:limit]


def _starting_with(ordered: list, prefix):  # type: ignore[no-untyped-def]
    """The items of a sorted list that start with `prefix` (strings, or tuples whose first
    element starts with prefix[0])."""
    if isinstance(prefix, tuple):
        index = bisect.bisect_left(ordered, prefix)
        while index < len(ordered) and ordered[index][0].startswith(prefix[0]):
            yield ordered[index]
            index += 1
        return
    index = bisect.bisect_left(ordered, prefix)
    while index < len(ordered) and ordered[index].startswith(prefix):
        yield ordered[index]
        index += 1


def sort_key(ordering: str):  # type: ignore[no-untyped-def]
    """The key for sorting result rows by a column of P-03 (the rows are Person objects
    annotated with the standard contact set's postcode and city)."""
    name = ordering.lstrip("-")
    if name == "name":
        return lambda p: (p.last_name_folded or "", p.first_name_folded or "", p.pk)
    if name == "birth_date":
        return lambda p: (p.birth_date is None, p.birth_date or datetime.date.min, p.pk)
    if name == "sports_id":
        return lambda p: (p.sports_id, p.pk)
    if name == "place":
        return lambda p: (p.contact_postcode or "", p.contact_city or "", p.pk)
    raise ValueError(ordering)


def sort_rows(rows: Sequence[Person], ordering: str) -> list[Person]:
    if not ordering:
        return list(rows)
    return sorted(rows, key=sort_key(ordering), reverse=ordering.startswith("-"))


# ----------------------------------------------------------------------- name dictionary


@dataclass
class _Register:
    """The spellings of one database's register and the change token they were read at."""

    token: tuple[int, int, int] = (0, 0, 0)  # max person id, max history id, table file
    columns: dict[str, Spellings] = field(
        default_factory=lambda: {FIRST: Spellings(), LAST: Spellings()}
    )

    @property
    def persons(self) -> int:
        return max(1, sum(self.columns[LAST].counts.values()))


_PREPARE_SQL = """
SELECT
    (SELECT max(id) FROM members_person),
    (SELECT max(history_id) FROM members_historicalperson),
    pg_relation_filenode('members_person'),
    ARRAY(SELECT clubadmin_fold(t.part) FROM unnest(%s::text[]) WITH ORDINALITY AS t(part, n)
          ORDER BY t.n),
    ARRAY(SELECT first_name_folded FROM members_person WHERE id > %s
          UNION SELECT clubadmin_fold(first_name) FROM members_historicalperson
          WHERE history_id > %s),
    ARRAY(SELECT last_name_folded FROM members_person WHERE id > %s
          UNION SELECT clubadmin_fold(last_name) FROM members_historicalperson
          WHERE history_id > %s)
"""
_BUILD_SQL = """
SELECT first_name_folded, last_name_folded, count(*) FROM members_person
GROUP BY GROUPING SETS ((first_name_folded), (last_name_folded))
"""


class NameDictionary:
    """The distinct folded first and last names of the register, kept in memory per process
    and database (a few hundred to a few thousand spellings).

    Every search runs one query that folds its text, reads a change token and returns the
    names of persons added (higher id) or changed (a new history row: every save through the
    ORM writes one) since the last search, so a new or renamed person is findable at once.
    A name changed without a history row (a bulk UPDATE) is still found by its exact
    spelling, which every search looks up whether known or not.
    A TRUNCATE (seed_demo --reset) gives the table a new file, which rebuilds the dictionary.
    Names that no longer exist stay until then: they only cost a lookup that finds nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_database: dict[str, _Register] = {}

    def prepare(self, texts: Sequence[str]) -> tuple[list[str], _Register]:
        """Fold `texts` like the database folds names, and refresh the dictionary."""
        database = connection.settings_dict["NAME"]
        with self._lock:
            register = self._by_database.get(database) or _Register()
            max_id, max_history_id, file_read = register.token
            # Re-read a few rows below the last maximum: a transaction that took a lower id
            # may have committed after a higher one was read. (Unknown yet: read nothing, the
            # build below reads everything.)
            since_id = max_id - LOOKBACK if file_read else 2**62
            since_history = max_history_id - LOOKBACK if file_read else 2**62
            with connection.cursor() as cursor:
                cursor.execute(
                    _PREPARE_SQL,
                    [list(texts), since_id, since_history, since_id, since_history],
                )
                new_max_id, new_max_history, file, folded, firsts, lasts = cursor.fetchone()
                token = (new_max_id or 0, new_max_history or 0, file)
                if file != register.token[2]:
                    register = self._build(cursor, token)
                else:
                    for value in firsts:
                        register.columns[FIRST].add_if_new(value)
                    for value in lasts:
                        register.columns[LAST].add_if_new(value)
                    register.token = (max(max_id, token[0]), max(max_history_id, token[1]), file)
            self._by_database[database] = register
            return list(folded), register

    @staticmethod
    def _build(cursor, token: tuple[int, int, int]) -> _Register:  # type: ignore[no-untyped-def]
        register = _Register(token=token)
        cursor.execute(_BUILD_SQL)
        for first, last, count in cursor.fetchall():
            if first is not None:
                register.columns[FIRST].add(first, count)
            if last is not None:
                register.columns[LAST].add(last, count)
        return register

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


NAME_DICTIONARY = NameDictionary()


# ---------------------------------------------------------------------------- the search


class Like(Lookup):
    """`lhs LIKE rhs` with a pattern built by the caller (escaped, % for *)."""

    lookup_name = "like"

    def as_sql(self, compiler, connection):  # type: ignore[no-untyped-def]
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} LIKE {rhs_sql}", [*lhs_params, *rhs_params]


@dataclass(frozen=True)
class NameTerm:
    """A folded name part with the spellings it matches, per name column, best first."""

    part: str
    spellings: dict[str, dict[str, float]]

    @property
    def matches_nothing(self) -> bool:
        return not any(self.spellings.values())

    def rank_in(self, column: str, value: str | None) -> float:
        return self.spellings.get(column, {}).get(value or "", 0.0)

    def condition_sql(self, *, use_index: bool = True) -> tuple[str, list[object]]:
        """SQL: the row has one of the part's spellings in one of its columns. Among few
        candidates (`use_index=False`), `|| ''` keeps the database from looking the
        spellings up in the name indexes: reading the candidates is cheaper than that."""
        pieces: list[tuple[str, list[object]]] = []
        for column, ranked in self.spellings.items():
            if not ranked:
                continue
            if use_index:
                pieces.append(_spelling_in(column, list(ranked)))
            else:
                pieces.append((f"{_column(column)} || '' = ANY(%s)", [list(ranked)]))
        return _joined(pieces, " OR ")

    def rank_sql(self) -> tuple[str, list[object]]:
        """SQL: the part's rank for a row, the best of its columns."""
        cases, params = [], []
        for column, ranked in self.spellings.items():
            if ranked:
                whens = " ".join("WHEN %s THEN %s::float8" for _value in ranked)
                cases.append(f"CASE {_column(column)} {whens} ELSE 0.0::float8 END")
                params.extend(item for pair in ranked.items() for item in pair)
        sql = cases[0] if len(cases) == 1 else f"GREATEST({', '.join(cases)})"
        return sql, params


def _id_in(ids: Iterable[int] | str) -> RawSQL:
    """SQL: the person's id is one of `ids` (ints, or their text joined with commas). Passed
    as one array literal: fast to send and to parse, also for thousands of ids."""
    text = ids if isinstance(ids, str) else ",".join(str(int(pk)) for pk in ids)
    if not re.fullmatch(r"[0-9,]*", text):
        raise ValueError(text)
    sql = f"{_column('id')} = ANY(%s::bigint[])"
    return RawSQL(sql, [f"{{{text}}}"], output_field=BooleanField())  # noqa: S611 (a param)


def _spelling_in(column: str, values: list[str]) -> tuple[str, list[object]]:
    """SQL: `column` has one of the spellings. A last name as a range of one value each: only
    the btree index answers ranges, and it does so much faster than the trigram index
    answers equality for a common name."""
    if column == LAST:
        sql = " OR ".join(f"({_column(LAST)} >= %s AND {_column(LAST)} <= %s)" for _v in values)
        return f"({sql})", [v for value in values for v in (value, value)]
    if len(values) == 1:
        # Equality: the btree index (last name, first name) can read a common first name in
        # name order and stop after 101 persons.
        return f"{_column(column)} = %s", values
    return f"{_column(column)} = ANY(%s)", [values]


def _column(column: str) -> str:
    return f'"{Person._meta.db_table}"."{column}"'


def _joined(pieces: Iterable[tuple[str, list[object]]], separator: str) -> tuple[str, list]:
    sqls, params = [], []
    for sql, piece_params in pieces:
        sqls.append(sql)
        params.extend(piece_params)
    return "(" + separator.join(sqls) + ")", params


def names_condition(terms: Sequence[NameTerm], *, use_index: bool = True) -> RawSQL:
    sql, params = _joined((term.condition_sql(use_index=use_index) for term in terms), " AND ")
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 (values are params)


def names_rank(terms: Sequence[NameTerm]) -> RawSQL:
    """A row's rank: the sum of its parts' ranks (module docstring)."""
    sql, params = _joined((term.rank_sql() for term in terms), " + ")
    return RawSQL(sql, params, output_field=FloatField())  # noqa: S611 (values are params)


@dataclass(frozen=True)
class Branch:
    """A part of the name search that the name index answers: the persons with a first name
    spelling, a last name spelling, or a pair of both (`None` = any, except the `excluded`
    spellings of that column). Every person of a branch has the same `rank`."""

    first: str | None
    last: str | None
    rank: float
    expected_rows: float
    excluded: tuple[str, ...] = ()


def name_branches(terms: Sequence[NameTerm], register: _Register) -> list[Branch]:
    """The branches of a name search, best first. One part: a branch per matching spelling.
    Several parts: each part is assigned to the first or the last name; a branch per pair of
    spellings that fit every part assigned to each column; when all parts fit one column, a
    branch per spelling of it, split by the other column's spellings that add to the rank."""
    builder = _BranchBuilder(terms, register)
    for assignment in itertools.product(*(tuple(term.spellings) for term in terms)):
        values = {
            column: _fitting_spellings(
                [t for t, c in zip(terms, assignment, strict=True) if c == column], column
            )
            for column in NAME_COLUMNS
        }
        if values[FIRST] is not None and values[LAST] is not None:
            for first, last in itertools.product(values[FIRST], values[LAST]):
                builder.pair(first, last)
        else:
            column = FIRST if values[FIRST] is not None else LAST
            for value in values[column] or ():
                builder.single(column, value)
    ordered = sorted(builder.branches.values(), key=lambda branch: -branch.rank)
    return ordered[:MAX_BRANCHES]


class _BranchBuilder:
    def __init__(self, terms: Sequence[NameTerm], register: _Register) -> None:
        self.terms = terms
        self.counts = {column: register.columns[column].counts for column in NAME_COLUMNS}
        self.persons = register.persons
        self.branches: dict[tuple[str | None, str | None], Branch] = {}

    def rank(self, first: str | None, last: str | None) -> float:
        return sum(max(t.rank_in(FIRST, first), t.rank_in(LAST, last)) for t in self.terms)

    def pair(self, first: str, last: str) -> None:
        expected = self.counts[FIRST].get(first, 1) * self.counts[LAST].get(last, 1)
        self.branches[first, last] = Branch(
            first, last, self.rank(first, last), expected / self.persons
        )

    def single(self, column: str, value: str) -> None:
        """Persons with `value` in `column`: those whose other name adds to the rank get a
        pair branch each, the rest one branch."""
        other = LAST if column == FIRST else FIRST
        adding = sorted({v for t in self.terms for v in t.spellings.get(other, {})})
        if len(self.terms) == 1:
            adding = []  # one part: its rank is the best of the columns, the union's maximum
        for other_value in adding:
            if column == FIRST:
                self.pair(value, other_value)
            else:
                self.pair(other_value, value)
        first, last = (value, None) if column == FIRST else (None, value)
        self.branches[first, last] = Branch(
            first,
            last,
            self.rank(first, last),
            self.counts[column].get(value, 1),
            tuple(adding),
        )


def _fitting_spellings(terms: list[NameTerm], column: str) -> list[str] | None:
    """Spellings of `column` that every term matches; None when no term is assigned to it."""
    if not terms:
        return None
    common = set(terms[0].spellings[column])
    for term in terms[1:]:
        common &= set(term.spellings[column])
    return sorted(common)


def first_batch(branches: Sequence[Branch], limit: int, share: float = 1.0) -> int:
    """How many of the (best first) branches to ask first: enough for about BATCH_FACTOR times
    `limit` expected persons (of whom `share` are candidates), and every branch tied with the
    last one taken."""
    expected, count = 0.0, 0
    while count < len(branches) and expected < BATCH_FACTOR * limit:
        expected += branches[count].expected_rows * share
        count += 1
    while count < len(branches) and branches[count].rank == branches[count - 1].rank:
        count += 1
    return count


@dataclass
class SearchResult:
    """The first MAX_RESULTS persons (P-03), annotated with their standard contact set's
    `contact_postcode`, `contact_city` and `contact_country`; `has_more` when there were more
    matches than shown."""

    persons: list[Person]
    has_more: bool

    @property
    def ids(self) -> list[int]:
        return [person.pk for person in self.persons]


def person_search(*, user: User, criteria: Criteria, ordering: str = "") -> SearchResult:
    """P-01..P-03: the first 100 persons matching `criteria` that `user` may see, best match
    first (or sorted by `ordering`, one of ORDERING_CHOICES, within those 100). Raises
    CriteriaError for an organisation the user cannot see or a function type pattern that
    matches no function type."""
    plan = _SearchPlan.make(user, criteria)
    if plan.finds_nothing:
        return SearchResult(persons=[], has_more=False)
    ranked_ids = plan.ranked_ids(limit=MAX_RESULTS + 1)
    persons = _with_standard_contact(Person.objects.filter(pk__in=ranked_ids[:MAX_RESULTS]))
    by_id = {person.pk: person for person in persons}
    rows = [by_id[pk] for pk in ranked_ids[:MAX_RESULTS] if pk in by_id]
    return SearchResult(persons=sort_rows(rows, ordering), has_more=len(ranked_ids) > MAX_RESULTS)


def _with_standard_contact(queryset: QuerySet[Person], *, full: bool = False) -> list[Person]:
    """The persons with their standard contact set's fields as `contact_<field>` (P-08)."""
    fields = ["postcode", "city", "country"]
    if full:
        fields += ["street", "email", "mobile", "hide_address", "hide_email", "hide_phone"]
    return list(
        queryset.annotate(
            standard_contact=FilteredRelation(
                "contact_sets", condition=Q(contact_sets__is_standard=True)
            )
        ).annotate(**{f"contact_{name}": F(f"standard_contact__{name}") for name in fields})
    )


def persons_with_contact(ids: Iterable[int]) -> dict[int, Person]:
    """The persons of a search result with every field of their standard contact set, for
    exports and login links."""
    return {
        person.pk: person
        for person in _with_standard_contact(Person.objects.filter(pk__in=list(ids)), full=True)
    }


@dataclass
class _SearchPlan:
    user: User
    criteria: Criteria
    register: _Register
    terms: list[NameTerm]
    filters: Q
    narrowed: bool = False  # the candidates are known to be few (a club or a sports id)
    candidates: int | None = None  # how many, when narrowed
    driver: Q = field(default_factory=Q)  # the candidates, as id arrays read first
    finds_nothing: bool = False

    @classmethod
    def make(cls, user: User, criteria: Criteria) -> _SearchPlan:
        organisation = _visible_organisation(user, criteria.organisation_id)
        type_ids = _function_type_ids(criteria.function_type)
        texts = [*criteria.name_parts, *criteria.first_name_parts, *criteria.last_name_parts]
        register, terms, folded_place = _Register(), [], ""
        if texts or criteria.place:
            folded, register = NAME_DICTIONARY.prepare([*texts, criteria.place])
            folded_place = folded.pop()
            terms = _name_terms(criteria, folded, register)
        plan = cls(user, criteria, register, terms, _person_filters(criteria, folded_place))
        plan.finds_nothing = any(term.matches_nothing for term in terms)
        if not plan.finds_nothing:
            plan._add_function_criteria(organisation, type_ids)
            plan._add_sports_id(criteria.sports_id)
            if not plan.narrowed and _has_narrow_scope(user):
                plan._narrow_to_scope()
        return plan

    def _add_function_criteria(
        self, organisation: Organisation | None, type_ids: list[int] | None
    ) -> None:
        """P-02: affiliated organisation (a function in it or below it) and function type.
        Functions active today count; for deceased persons any function (theirs ended)."""
        if organisation is None and type_ids is None:
            return
        functions = Function.objects.all() if self.criteria.deceased else _active_functions()
        if organisation is not None:
            self.narrowed = organisation.organisation_type in NARROW_ORGANISATION_TYPES
            if self.narrowed:
                functions = functions.filter(organisation_id__in=_subtree_ids([organisation.path]))
            else:
                functions = functions.filter(organisation__path__startswith=organisation.path)
        if type_ids is not None:
            functions = functions.filter(function_type_id__in=type_ids)
        if self.narrowed:
            self._narrow_to(functions)
        else:
            # Checked per person as the name index is read: it stops after 101.
            self.filters &= Q(Exists(functions.filter(person_id=OuterRef("pk"))))

    def _narrow_to(self, functions: QuerySet[Function]) -> None:
        """The persons of these functions are the only candidates. Read first and passed as
        an array: the database then meets them with the name index (twice as fast as a
        subquery at club size)."""
        # One text value ("1,2,3"), not thousands of rows: read and passed on as it is.
        ids = functions.order_by().aggregate(
            ids=StringAgg(Cast("person_id", CharField()), ",", distinct=True, default="")
        )["ids"]
        count = ids.count(",") + 1 if ids else 0
        self.driver &= Q(_id_in(ids))
        self.finds_nothing = self.finds_nothing or not count
        self.candidates = min(count, self.candidates or count)

    def _add_sports_id(self, sports_id: str) -> None:
        """P-05: the current sports id, or one the person had before."""
        if not sports_id:
            return
        current = Person.objects.filter(sports_id=sports_id).values_list("pk")
        previous = SportsIdHistory.objects.filter(sports_id=sports_id).values_list("person_id")
        ids = sorted({pk for (pk,) in current.union(previous)})
        self.driver &= Q(_id_in(ids))
        self.narrowed = True
        self.candidates = min(len(ids), self.candidates or len(ids))
        self.finds_nothing = self.finds_nothing or not ids

    def _narrow_to_scope(self) -> None:
        """A user who sees one club (or a few): their persons are the candidates. (The user's
        own person is among them: their rights come from their own functions there.)
        access.scope still decides what is shown."""
        prefixes = access.grants_for(self.user).paths(Capability.PERSONS_VIEW)
        self.narrowed = True
        self._narrow_to(Function.objects.filter(organisation_id__in=_subtree_ids(prefixes)))

    def _scoped(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        return access.scope(self.user, Capability.PERSONS_VIEW, queryset)

    def ranked_ids(self, *, limit: int) -> list[int]:
        if self.finds_nothing:
            return []
        if self.narrowed:
            return self._ranked_among_candidates(limit)
        if not self.terms:
            queryset = self._scoped(Person.objects.filter(self.filters))
            ids = queryset.order_by(LAST, FIRST, "pk").values_list("pk", flat=True)
            return list(ids[:limit])
        return self._ranked_by_branches(name_branches(self.terms, self.register), limit)

    def _ranked_among_candidates(self, limit: int) -> list[int]:
        """Few candidates (a club, a sports id): one query ranks them, without the access
        check; access.scope then checks the best (one cheap query in the usual case that all
        of them are visible): cheaper than checking every candidate before ranking."""
        queryset = Person.objects.filter(self.filters, self.driver)
        if self.terms:
            condition = names_condition(self.terms, use_index=self._names_are_fewer())
            queryset = queryset.filter(condition).annotate(rank=names_rank(self.terms))
            queryset = queryset.order_by("-rank", LAST, FIRST, "pk")
        else:
            queryset = queryset.order_by(LAST, FIRST, "pk")
        ids = queryset.values_list("pk", flat=True)
        candidates = list(ids[: OVERFETCH * limit])
        visible = set(
            self._scoped(Person.objects.filter(pk__in=candidates[:limit])).values_list(
                "pk", flat=True
            )
        )
        if len(visible) < min(limit, len(candidates)):
            # Some of the best are not visible: check all candidates, and rank in the
            # database with the access check when even those may not suffice.
            visible = set(
                self._scoped(Person.objects.filter(pk__in=candidates)).values_list("pk", flat=True)
            )
            if len(visible) < limit and len(candidates) == OVERFETCH * limit:
                return list(self._scoped(ids)[:limit])
        return [pk for pk in candidates if pk in visible][:limit]

    def _names_are_fewer(self) -> bool:
        """Whether the persons with the matching names (as far as the other criteria keep
        them) are fewer than the candidates: then the name index finds them, and the
        candidates (an id array) only filter. Else the candidates are read one by one."""
        if self.candidates is None:
            return False
        counts = {column: self.register.columns[column].counts for column in NAME_COLUMNS}
        names = min(
            sum(
                counts[column].get(value, 1)
                for column, ranked in term.spellings.items()
                for value in ranked
            )
            for term in self.terms
        )
        return names * _selectivity(self.criteria) < self.candidates

    def _ranked_by_branches(self, branches: Sequence[Branch], limit: int) -> list[int]:
        """Many candidates: ask the best branches first, each for its first `limit` persons in
        name index order; the rest only when those cannot fill the result. A person's best
        branch holds them among its first `limit` whenever they belong to the overall first
        `limit`, so the union is exact."""
        # Which share of a branch's persons the other criteria keep.
        share = _selectivity(self.criteria)
        split = first_batch(branches, limit, share)
        rows = self._branch_rows(branches[:split], limit, share)
        rest = branches[split:]
        if rest:
            # Only persons ranked above anything the other branches can give are certain.
            bound = max(branch.rank for branch in rest)
            if sum(1 for row in rows if row[1] > bound) < limit:
                rows = _best_rows([*rows, *self._branch_rows(rest, limit, share)], limit)
        return [row[0] for row in rows[:limit]]

    def _branch_rows(self, branches: Sequence[Branch], limit: int, share: float) -> list[Row]:
        """Big branches (a common spelling, of which the other criteria keep many) each read
        their first `limit` persons from the name index in order; the small ones go together
        in one part of the query, where the database meets the name index with the others."""
        if not branches:
            return []
        base = self._scoped(Person.objects.filter(self.filters))
        parts = []
        small = []
        for branch in branches:
            if branch.expected_rows * share < BIG_BRANCH:
                small.append(branch)
                continue
            rank = RawSQL("%s::float8", [branch.rank], output_field=FloatField())
            parts.append(_ranked_part(base.filter(_branches_condition([branch])), rank, limit))
        if small:
            condition = _branches_condition(small)
            parts.append(_ranked_part(base.filter(condition), names_rank(self.terms), limit))
        return _union_ranked(parts, limit)


def _ranked_part(queryset: QuerySet[Person], rank: RawSQL, limit: int) -> QuerySet:
    queryset = queryset.annotate(rank=rank).order_by("-rank", LAST, FIRST, "pk")
    return queryset.values_list("pk", "rank", LAST, FIRST)[:limit]


def _branches_condition(branches: Sequence[Branch]) -> RawSQL:
    """SQL: the row belongs to one of the branches."""
    pairs = [(b.first, b.last) for b in branches if b.first is not None and b.last is not None]
    pieces: list[tuple[str, list[object]]] = []
    if pairs:
        rows = ", ".join("(%s, %s)" for _pair in pairs)
        pieces.append(
            (f"({_column(FIRST)}, {_column(LAST)}) IN ({rows})", [v for p in pairs for v in p])
        )
    for branch in branches:
        if branch.first is None or branch.last is None:
            column, other = (FIRST, LAST) if branch.first is not None else (LAST, FIRST)
            sql, params = _spelling_in(column, [branch.first or branch.last or ""])
            if branch.excluded:
                sql += f" AND NOT ({_column(other)} = ANY(%s))"
                params.append(list(branch.excluded))
            pieces.append((f"({sql})", params))
    sql, params = _joined(pieces, " OR ")
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 (values are params)


Row = tuple[int, float, str, str]  # id, rank, folded last name, folded first name


def _best_rows(rows: Iterable[Row], limit: int) -> list[Row]:
    """Each person once with their best rank; best first, then last name, first name, id."""
    best: dict[int, Row] = {}
    for row in rows:
        if row[0] not in best or row[1] > best[row[0]][1]:
            best[row[0]] = row
    return sorted(best.values(), key=lambda row: (-row[1], row[2], row[3], row[0]))[:limit]


def _union_ranked(branches: Sequence[QuerySet], limit: int) -> list[Row]:
    """UNION ALL of ranked branches: each person once, with their best rank."""
    parts, params = [], []
    for branch in branches:
        sql, branch_params = branch.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(branch_params)
    # The parts are SQL that Django compiled from querysets; every value is a parameter.
    union = " UNION ALL ".join(parts)
    sql = (
        "SELECT id, rank, last_name, first_name FROM (SELECT id, MAX(rank) AS rank, last_name, "  # noqa: S608
        f"first_name FROM ({union}) AS branches (id, rank, last_name, first_name) "
        "GROUP BY id, last_name, first_name) AS best "
        "ORDER BY rank DESC, last_name, first_name, id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [(pk, float(rank), last, first) for pk, rank, last, first in cursor.fetchall()]


def _name_terms(criteria: Criteria, folded: list[str], register: _Register) -> list[NameTerm]:
    columns_by_source = (
        (criteria.name_parts, NAME_COLUMNS),
        (criteria.first_name_parts, (FIRST,)),
        (criteria.last_name_parts, (LAST,)),
    )
    terms, position = [], 0
    for parts, columns in columns_by_source:
        for _part in parts:
            part = folded[position]
            position += 1
            terms.append(
                NameTerm(
                    part=part,
                    spellings={
                        column: dict(register.columns[column].matching(part)) for column in columns
                    },
                )
            )
    return terms


def _active_functions() -> QuerySet[Function]:
    return Function.objects.active(timezone.localdate())


def _person_filters(criteria: Criteria, folded_place: str) -> Q:
    # P-14: a person merged into another is found through the survivor only.
    filters = Q(is_deceased=criteria.deceased, merged_into__isnull=True)
    if criteria.gender:
        filters &= Q(gender=criteria.gender)
    if criteria.birth_date:
        filters &= Q(birth_date=criteria.birth_date)
    if criteria.birth_year:
        filters &= Q(
            birth_date__gte=datetime.date(criteria.birth_year, 1, 1),
            birth_date__lt=datetime.date(criteria.birth_year + 1, 1, 1),
        )
    contact = _contact_filter(criteria, folded_place)
    if contact is not None:
        standard = ContactSet.objects.filter(person_id=OuterRef("pk"), is_standard=True)
        filters &= Q(Exists(standard.alias(city_folded=Fold("city")).filter(contact)))
    return filters


def _contact_filter(criteria: Criteria, folded_place: str) -> Q | None:
    """Postcode (its first digits: a range the postcode index answers), place (folded, its
    beginning: the trigram index on the folded place answers it) and country (ISO code)."""
    condition = Q()
    if criteria.postcode:
        prefix = criteria.postcode
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        condition &= Q(postcode__gte=prefix, postcode__lt=after)
    if criteria.place:
        condition &= Q(city_folded__startswith=folded_place)
    if criteria.country:
        condition &= Q(country=criteria.country)
    return condition if condition else None


def _visible_organisation(user: User, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = (
        access.visible_organisations(user)
        .filter(pk=organisation_id)
        .only("pk", "path", "organisation_type", "name")
        .first()
    )
    if organisation is None:
        raise CriteriaError({"organisation": str(ORGANISATION_NOT_VISIBLE)})
    return organisation


def _function_type_ids(pattern: FunctionTypePattern | None) -> list[int] | None:
    if pattern is None:
        return None
    if pattern.by_number:
        condition = Like(Cast("number", CharField()), Value(pattern.like))
    else:
        condition = Like(Fold("name"), Fold(Value(pattern.like)))
    ids = list(FunctionType.objects.filter(condition).values_list("pk", flat=True))
    if not ids:
        raise CriteriaError({"function_type": str(NO_FUNCTION_TYPE_MATCHES)})
    return ids


def _selectivity(criteria: Criteria) -> float:
    """Roughly which share of persons the criteria other than names keep (the indexes on
    birth date and names then meet each other before any person is read)."""
    share = 1.0
    if criteria.birth_date:
        share /= 365 * BIRTH_YEARS
    elif criteria.birth_year:
        share /= BIRTH_YEARS
    if criteria.deceased:
        share *= DECEASED_SHARE
    return share


def _subtree_ids(prefixes: Iterable[str]) -> list[int]:
    """The organisations below (and at) the paths. Read first: the planner estimates a path
    prefix badly, and then scans every function instead of using the organisation index."""
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(path__startswith=prefix)
    return list(Organisation.objects.filter(condition).values_list("pk", flat=True))


def _has_narrow_scope(user: User) -> bool:
    """Whether every organisation where the user may view persons is a club or below: then
    their persons are collected first (few thousand at most). A node three levels deep is
    at least a club (a child is always of a lower level than its parent); a club right
    under a federation counts as wide, which is only slower."""
    grants = access.grants_for(user)
    if grants.is_superuser:
        return False
    depths = [len(path) // Organisation.steplen for path in grants.paths(Capability.PERSONS_VIEW)]
    return all(depth >= NARROW_DEPTH for depth in depths)


# ------------------------------------------------------------------------------ export


EXPORT_COLUMNS = (
    ("sports_id", _("Sports id")),
    ("first_name", _("First name")),
    ("middle_name", _("Middle name")),
    ("last_name", _("Last name")),
    ("gender", _("Gender")),
    ("birth_date", _("Birth date")),
    ("street", _("Street address")),
    ("postcode", _("Postcode")),
    ("place", _("Place")),
    ("country", _("Country")),
    ("email", _("E-mail")),
    ("mobile", _("Mobile phone")),
)
# P-03 + P-08: contact data only for persons the user may edit (who may see all of it).
CONTACT_EXPORT_FIELDS = frozenset({"street", "postcode", "country", "email", "mobile"})
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_rows(*, user: User, result: SearchResult) -> list[dict[str, object]]:
    """The rows of a search result's export (P-03), in the result's order: names, gender,
    birth date, sports id and place for every person; street, postcode, country, e-mail and
    mobile only for persons the user may edit (persons.edit). Two queries."""
    ids = result.ids
    persons = persons_with_contact(ids)
    editable = set(
        access.scope(
            user, Capability.PERSONS_EDIT, Person.objects.filter(pk__in=ids), include_own=False
        ).values_list("pk", flat=True)
    )
    rows = []
    for pk in ids:
        person = persons[pk]
        row: dict[str, object] = {
            "sports_id": person.sports_id,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "last_name": person.last_name,
            "gender": str(Gender(person.gender).label),
            "birth_date": person.birth_date,
            "street": person.contact_street or "",
            "postcode": person.contact_postcode or "",
            "place": person.contact_city or "",
            "country": person.contact_country or "",
            "email": person.contact_email or "",
            "mobile": person.contact_mobile or "",
        }
        if pk not in editable:
            row.update(dict.fromkeys(CONTACT_EXPORT_FIELDS, ""))
        rows.append(row)
    return rows


def spreadsheet_safe(value: object) -> object:
    """Guard against formula injection: a text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe, so that a spreadsheet shows it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value
