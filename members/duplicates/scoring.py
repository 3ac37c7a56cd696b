"""Scoring two person records as possible duplicates (P-14, issue 4): pure functions, no ORM.

A Fellegi-Sunter model. Each field of two records is compared to one *level*:
- first name: exact (after folding and the æøå/ASCII spellings; also "Anne Marie" against
  "Anne" + middle name "Marie"), swapped (first and last name exchanged), variant (nickname
  table or loose spelling: Kris/Kristoffer, Mathias/Matias), contains (one's given names a part
  of the other's: called by the middle name), typo (one keyboard slip, where at least one of
  the two is *not* a common first name: "Elala" for Ella), jw_high / jw_medium (Jaro-Winkler
  similar, but both real names: Henrik/Henrikke, Mats/Mads), different, missing;
- last name: exact, swapped, shares_token (double surname, hyphen, married name added, a middle
  name that is a surname), similar (Jaro-Winkler: a misspelling), similar_names (Jaro-Winkler
  similar, but both names of their own in the register: Johansen/Johnsen), different, missing;
- birth date: exact, swapped_day_month, one_digit (DDMMYYYY differ in one digit),
  same_day_month (other year), within_days (<= 7 days), different, missing;
- gender: same, different (both known), unknown;
- e-mail, mobile (mobile and phone, E.164), address (street + postcode): same,
  same_other_name, different, missing (address also same_postcode).
Every level has m (how often true duplicates reach it) and u (how often pairs of different
persons do); its weight is log2(m/u) bits. The prior (log2 odds that a candidate pair is a
duplicate) plus the field weights give the match probability (logistic in base 2). The
weights per field are the explanation the review screen shows (`Comparison.evidence`).

**Households are the trap.** u is measured *among candidate pairs* (the pairs blocking
produces), not among random pairs of the register, and candidate pairs are dominated by
households: siblings and twins share the surname, the address, the parent's e-mail and mobile,
twins also the birth date. Three rules follow:
1. a different first name, a different birth date and a different gender (both known) weigh
   strongly against (-6 to -9 bits), a shared surname weighs little (+0.3);
2. a shared e-mail, mobile or address between persons whose first names disagree is the
   household's ("same_other_name": a negative weight), and only counts as identity evidence
   when the first names agree (exact, variant, contains, typo, swapped, missing): the contact
   levels are conditioned on the first-name level;
3. e-mail, mobile and address agree together (one household, one person typing their data
   once), so their positive weights count at most `contact_cap` bits together (8 by
   default): a father and son of one name at one address stay apart by the birth date.
"Both real names" (known first names, `members/data/first_names_no.txt` and the nickname
table) keeps Ida/Ina and Mats/Mads twins apart while "Elala"/Ella is a typo.

**Namesakes are the other trap.** Households grow with the register, namesakes grow with its
square: at federation size (1,000,000 persons, a few hundred first names) every common name is
borne by thousands, and two Theodor Pedersens born days apart at different addresses are two
persons. Three rules:
4. *The birth date given the names agree* (`SAME_NAME_TABLE`). A pair born on different
   (near) dates only becomes a candidate because its names agree (blocking's full-name keys),
   so among candidate pairs the name and the birth-date levels are not independent: the names
   brought the pair in and cannot count again for a near date. When first and last name agree
   (`same_name`), the birth date is weighed by its own m and u measured among name-agreeing
   candidate pairs (synthetic register, seeds 1-3): there a namesake has a one-digit-off
   birth date 17 times as often as the same one, so one_digit weighs +2.2 bits (against +3.8
   among all candidate pairs) and an exact date +9.1. A common name with a one-digit typo
   and nothing else stays below `DEFAULT_THRESHOLD` (p = 0.84 for a name of average
   frequency in the reference register); supporting evidence (shared e-mail, mobile, address,
   a rare name) lifts it. Day and month swapped is as likely as an exact date for a namesake
   when the day is 12 or less, and rare as a typo (m 2.6 %): +5.4 bits, below the threshold
   for a common name of a federation-sized register.
5. *Term-frequency adjustment* (Splink's, the reference): a name that agrees says more when
   it is rare. The weight of an adjusted level gets log2(u_reference / u_tf) bits, u_tf the
   name's term frequency in the register being scored (`NameFrequencies`: persons per first-
   and last-name token, a name counting by its rarest token), u_reference the average term
   frequency (sum of tf squared, Splink's u of the exact level) of the register the m and u
   probabilities were measured on (`term_frequency_references`, stored in the parameters;
   `fit` replaces them by the register it learns on). Limited to +TF_MAX_BONUS (3 bits: a name
   borne by one person is no proof; Splink's tf_minimum_u_value) and -TF_MAX_PENALTY, and
   only with at least TF_MIN_PERSONS persons (a small register says more about chance than
   about names). Which term frequency:
   - first name: a *count* of persons, not a share. A non-duplicate candidate agreeing on the
     first name is a namesake, one of those bearing the name: their number, not their share,
     sets how many namesakes a person has, so the adjustment also grows with the register
     (Theodor in a million-person register: -6 bits). Exact: the name's; fuzzy levels
     (variant, contains, typo, jw_high, jw_medium): the more common of the two (Splink's rule
     for fuzzy levels: a near miss of a common name is a common coincidence).
   - last name: a *share*. Households share the last name whatever its frequency; given a
     coincidental first-name and birth-date agreement, the last name also agrees as often as
     its share. Exact: the name's; shares_token: the rarest shared token that is a last name.
   No adjustment for a pair sharing a mobile number or a street address: it did not meet by
   chance (one person, or one household, whatever the name's frequency). A shared e-mail
   address is no such proof: addresses are made from names (first.last@provider), so
   namesakes' addresses agree far more often than chance (the demo register, whose generator
   builds addresses from names without keeping them unique, shows it at its extreme: with
   the e-mail stopping the adjustment, namesakes sharing such an address would be five
   sixths of the false pairs at 1,000,000 persons).
   The register's frequencies also split "similar" last names: when the rarer spelling is
   borne by at least `SIMILAR_NAMES_RATIO` as many persons as the other, both are names of
   their own ("similar_names", ~0 bits; Johansen/Johnsen), else it is a misspelling
   ("similar", +2.8 bits; "Hasnen" for Hansen), the register-measured counterpart of the
   known-first-names rule.
   The explanation marks an adjusted name as common or rare (`Evidence.note`), and the stored
   levels carry the term frequency (`Comparison.levels`, "first_name_tf"), so stored pairs
   can be scored again (`score_of_levels`, learning) without the records.
6. The adjustments are pure: `name_frequencies(records)` builds the table the synthetic
   register and the benches use, `name_frequencies_from_counts` the one the full run computes
   with one SQL aggregate (`detection`), from the same tokens.

The defaults were set by hand and then checked and adjusted by measuring on the synthetic
register's seeds 1-3 (`synthetic`, `tests/bench/bench_duplicates_quality_inmemory.py`); the
report seed is 42.

**Why our own scorer on PostgreSQL blocking, not Splink on DuckDB.** Splink is a good,
well-kept implementation of the same model and the natural choice for a one-off deduplication
of an export. We did not take it because:
- the incremental check (a registrar entering a person is warned before saving) must answer
  in < 100 ms against the live register of ~1M persons, with its indexes (folded names,
  trigrams, birth date); Splink works on a DuckDB (or Spark) copy of the data, which would
  have to be kept in sync, and setting up a linker per request costs more than the budget;
- the full run must be split into chunks that several Celery workers share, with progress rows
  the UI polls and a restart after a crash; a Splink run is one job in one engine;
- one engine serves both paths, so a pair gets the same score and explanation in the warning,
  the queue and the full run;
- the explanation (field, level, weight, both values) and the learning from staff decisions
  (`fit`) stay a few hundred lines we test exactly, and the household rules above
  (conditioned contact levels, the contact cap, known names) are easy to express here and
  awkward in Splink's comparison templates.
What we lose: Splink's unsupervised EM training out of the box (we have a small
semi-supervised EM in `fit`), its charts, and Spark beyond one machine (its term-frequency
adjustments we have, rule 5). What we gain: no
second data store, scores in the request path, chunked background runs on the database we
already have, and a small model we fully understand.

Speed: `prepare(record)` normalises a record once (lru-cached per record value, ~20 µs);
`compare` then does dictionary look-ups and a few rapidfuzz calls: ~17-20 µs CPU per pair,
`score` (no explanation objects) ~8-12 µs, measured by the bench on a shared 2-core machine;
the name frequencies add about 1 µs (`NameFrequencies` remembers each name's frequency).
For bulk runs use `score` to filter and `compare` only for the pairs to store, and keep only
those comparisons: holding millions of `Comparison` objects makes Python's garbage collector
the slowest part (`gc.freeze()` after loading the records helps). Both accept `Prepared`.

Parameters are a JSON-able dict (`default_parameters()`), stored with the match model and
replaced by `fit`. Treat a parameters dict as immutable once used: its weights are compiled
and cached by identity.
"""

from __future__ import annotations

import copy
import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

from rapidfuzz.distance import OSA, JaroWinkler

from members.duplicates.normalise import (
    is_known_first_name,
    name_tokens,
    normalise_email,
    normalise_phone,
    normalise_postcode,
    normalise_street,
    variant_keys,
)
from members.duplicates.records import (
    TERM_FREQUENCY_SUFFIX,
    Comparison,
    Evidence,
    PersonRecord,
)

# 2: the birth date conditioned on the names agreeing, and the names' term frequencies.
PARAMETERS_VERSION = 2

# The review threshold: candidates at or above it are "likely duplicates" (precision/recall
# are measured here); STORE_THRESHOLD is the lowest score stored as an open candidate.
DEFAULT_THRESHOLD = 0.9
STORE_THRESHOLD = 0.5

FIELDS = ("first_name", "last_name", "birth_date", "gender", "email", "mobile", "address")

# field → level → (m, u). u is measured among candidate pairs (households dominate them).
_DEFAULT_LEVELS: dict[str, dict[str, tuple[float, float]]] = {
    "first_name": {
        "exact": (0.68, 0.23),
        "swapped": (0.03, 0.0015),
        "variant": (0.12, 0.006),
        "contains": (0.01, 0.002),
        "typo": (0.13, 0.003),
        "jw_high": (0.005, 0.011),
        "jw_medium": (0.005, 0.016),
        "different": (0.015, 0.73),
        "missing": (1.0, 1.0),
    },
    # similar / similar_names: measured on the synthetic register, seeds 1-3 (with its name
    # frequencies: `last_name_level`); together they are the former similar (0.16, 0.035).
    "last_name": {
        "exact": (0.71, 0.59),
        "swapped": (0.03, 0.0015),
        "shares_token": (0.06, 0.04),
        "similar": (0.147, 0.0216),
        "similar_names": (0.013, 0.0143),
        "different": (0.04, 0.33),
        "missing": (1.0, 1.0),
    },
    "birth_date": {
        "exact": (0.77, 0.026),
        "swapped_day_month": (0.02, 0.0002),
        "one_digit": (0.10, 0.0075),
        "same_day_month": (0.004, 0.004),
        "within_days": (0.003, 0.003),
        "different": (0.01, 0.92),
        "missing": (1.0, 1.0),
    },
    # The birth date when first and last name agree (`same_name`): see the module docstring.
    # Measured among the candidate pairs of the synthetic register, seeds 1-3 (6,058 duplicates,
    # 2,545 other pairs with a birth date on both); u of swapped_day_month from the share of
    # birth dates that can be swapped (day <= 12) times u of exact (1 pair seen); m of
    # same_day_month and within_days as in the birth_date table (the generator makes none).
    "birth_date_same_name": {
        "exact": (0.849, 0.00157),
        "swapped_day_month": (0.026, 0.0006),
        "one_digit": (0.122, 0.026),
        "same_day_month": (0.004, 0.028),
        "within_days": (0.003, 0.009),
        "different": (0.0026, 0.935),
        "missing": (1.0, 1.0),
    },
    "gender": {
        "same": (0.97, 0.62),
        "different": (0.003, 0.37),
        "unknown": (1.0, 1.0),
    },
    "email": {
        "same": (0.70, 0.002),
        "same_other_name": (0.02, 0.57),
        "different": (0.08, 0.26),
        "missing": (1.0, 1.0),
    },
    "mobile": {
        "same": (0.65, 0.002),
        "same_other_name": (0.02, 0.37),
        "different": (0.04, 0.38),
        "missing": (1.0, 1.0),
    },
    "address": {
        "same": (0.72, 0.002),
        "same_other_name": (0.02, 0.69),
        "same_postcode": (0.01, 0.002),
        "different": (0.20, 0.30),
        "missing": (1.0, 1.0),
    },
}
_DEFAULT_PRIOR = -2.3  # log2 odds that a candidate pair is a duplicate
_DEFAULT_CONTACT_CAP = 8.0  # bits: e-mail, mobile and address together at most

# The birth-date table used instead of "birth_date" when the names agree.
SAME_NAME_TABLE = "birth_date_same_name"
# First- and last-name levels that make "the same name" for `SAME_NAME_TABLE`.
SAME_FIRST_NAME = frozenset({"exact", "swapped", "variant", "contains", "typo"})
SAME_LAST_NAME = frozenset({"exact", "swapped", "shares_token", "similar"})

# Term frequency adjustment (see the module docstring): the levels it applies to, and the
# reference term frequency per name field, i.e. the average term frequency of the register
# the m and u probabilities were measured on (`term_frequency_references`; `fit` sets them
# to the register it learns on). These are the synthetic register's, seeds 1-3 (20,000
# persons, 22,160 records): a person's first name is borne by 85 persons on average (a
# count: see `NameFrequencies`), their last name by 0.39 % of the register.
TERM_FREQUENCY_LEVELS = {
    "first_name": frozenset({"exact", "variant", "contains", "typo", "jw_high", "jw_medium"}),
    "last_name": frozenset({"exact", "shares_token"}),
}
_DEFAULT_TERM_FREQUENCY = {"first_name": 85.4, "last_name": 0.0039}
# Bits: a rare name may add at most TF_MAX_BONUS (a name borne by one person is no proof:
# Splink's tf_minimum_u_value plays this part), a common one take at most TF_MAX_PENALTY.
TF_MAX_BONUS = 3.0
TF_MAX_PENALTY = 10.0
# A register this small says more about chance than about names: no adjustment below it.
TF_MIN_PERSONS = 1000
# The explanation calls a name common or rare when its adjustment is at least this big.
TF_NOTE_BITS = 0.5
# Two similar last names are both names of their own (not a misspelling) when the rarer is
# borne by at least this share of those bearing the other (`last_name_level`). Measured on
# the synthetic register, seeds 1-3: among the similar last names of two different persons,
# 40 % are at least this close in frequency; among duplicates' misspellings, 7 %.
SIMILAR_NAMES_RATIO = 0.25

JW_HIGH = 0.94
JW_MEDIUM = 0.85
LAST_NAME_SIMILAR = 0.90
WITHIN_DAYS = 7
WEIGHT_LIMIT = 20.0  # bits: no single level may decide alone beyond this


def _neutral(field: str) -> str:
    """The level that carries no information (missing values): kept at m = u = 1."""
    return "unknown" if field == "gender" else "missing"


def default_parameters() -> dict:
    """The default model (JSON-able): per field and level m and u (each a distribution over
    the field's informative levels; the neutral level, missing or unknown, has m = u = 1),
    the prior in bits and the contact cap in bits."""
    fields = {}
    for field, levels in _DEFAULT_LEVELS.items():
        neutral = _neutral(field)
        m_total = sum(m for level, (m, _u) in levels.items() if level != neutral)
        u_total = sum(u for level, (_m, u) in levels.items() if level != neutral)
        fields[field] = {
            level: (
                {"m": 1.0, "u": 1.0}
                if level == neutral
                else {"m": round(m / m_total, 6), "u": round(u / u_total, 6)}
            )
            for level, (m, u) in levels.items()
        }
    return {
        "version": PARAMETERS_VERSION,
        "prior": _DEFAULT_PRIOR,
        "contact_cap": _DEFAULT_CONTACT_CAP,
        "fields": fields,
        "term_frequency": dict(_DEFAULT_TERM_FREQUENCY),
    }


_DEFAULT = default_parameters()


def _weight(m: float, u: float) -> float:
    if m <= 0 or u <= 0:
        return -WEIGHT_LIMIT if m <= 0 else WEIGHT_LIMIT
    return max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, math.log2(m / u)))


def _with_default_levels(fields: Mapping[str, Mapping[str, dict]]) -> dict[str, dict]:
    """Every table and level of the defaults, with those of `fields` in their place."""
    return {
        field: {**_DEFAULT["fields"].get(field, {}), **fields.get(field, {})}
        for field in dict.fromkeys([*_DEFAULT["fields"], *fields])
    }


@dataclass(frozen=True, slots=True)
class _Compiled:
    tables: tuple[dict[str, float], ...]  # per field of FIELDS: level → weight
    same_name: dict[str, float]  # SAME_NAME_TABLE: birth-date level → weight
    prior: float
    contact_cap: float
    references: tuple[float, float]  # term frequency references: first name, last name


_COMPILED_CACHE: dict[int, tuple[dict, _Compiled]] = {}


def _compiled(parameters: dict | None) -> _Compiled:
    """The weights of a parameters dict, cached by identity. Parts missing from parameters
    stored before version 2 (the same-name birth-date table, the similar_names level, the
    term frequency references) come from the defaults."""
    parameters = parameters if parameters is not None else _DEFAULT
    cached = _COMPILED_CACHE.get(id(parameters))
    if cached is not None and cached[0] is parameters:
        return cached[1]
    fields = _with_default_levels(parameters["fields"])
    table = {
        field: {level: _weight(pair["m"], pair["u"]) for level, pair in levels.items()}
        for field, levels in fields.items()
    }
    references = {**_DEFAULT_TERM_FREQUENCY, **parameters.get("term_frequency", {})}
    compiled = _Compiled(
        tables=tuple(table.get(field, {}) for field in FIELDS),
        same_name=table[SAME_NAME_TABLE],
        prior=float(parameters.get("prior", _DEFAULT_PRIOR)),
        contact_cap=float(parameters.get("contact_cap", _DEFAULT_CONTACT_CAP)),
        references=(float(references["first_name"]), float(references["last_name"])),
    )
    if len(_COMPILED_CACHE) > 64:
        _COMPILED_CACHE.clear()
    _COMPILED_CACHE[id(parameters)] = (parameters, compiled)
    return compiled


def weights(parameters: dict | None = None) -> tuple[dict[str, dict[str, float]], float]:
    """(field → level → weight in bits, prior in bits) of a parameters dict (cached by
    identity: do not change a parameters dict after use); the birth date when the names
    agree under SAME_NAME_TABLE."""
    compiled = _compiled(parameters)
    table = dict(zip(FIELDS, compiled.tables, strict=True))
    table[SAME_NAME_TABLE] = compiled.same_name
    return table, compiled.prior


def weight_of(field: str, level: str, parameters: dict | None = None) -> float:
    return weights(parameters)[0][field].get(level, 0.0)


def probability(total_weight: float) -> float:
    """The match probability of a total weight in bits (prior included)."""
    if total_weight >= 60:
        return 1.0
    if total_weight <= -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-total_weight))


# ------------------------------------------------------------------ prepared records


@dataclass(frozen=True, slots=True)
class Prepared:
    """A record's normalised values, computed once per record (`prepare`)."""

    record: PersonRecord
    first: str  # first-name tokens joined
    first_tokens: tuple[str, ...]
    first_known: bool  # every first-name token is a common first name
    given: frozenset[str]  # first and middle name tokens
    first_variants: frozenset[str]
    last: str
    last_name_tokens: tuple[str, ...]  # the last name's own tokens (its term frequency)
    last_tokens: frozenset[str]  # last and middle name tokens (middle names are often surnames)
    birth: tuple[int, int, int] | None
    birth_digits: str
    gender: str
    email: str
    phones: frozenset[str]
    street: str
    postcode: str
    shown: tuple[str, ...]  # the values as written, per field of FIELDS (the explanation)


@functools.lru_cache(maxsize=65_536)  # ~1.7 kB each: ~110 MB at most
def prepare(record: PersonRecord) -> Prepared:
    """Normalise a record once (cached by value): folded name tokens, variant keys, birth
    date parts, contact keys. `compare` accepts prepared records too."""
    first_tokens = name_tokens(record.first_name)
    middle_tokens = name_tokens(record.middle_name)
    last_tokens = name_tokens(record.last_name)
    born = record.birth_date
    phones = frozenset(
        number
        for number in (normalise_phone(record.mobile), normalise_phone(record.phone))
        if number
    )
    gender = record.gender if record.gender in ("male", "female") else "unknown"
    return Prepared(
        record=record,
        first=" ".join(first_tokens),
        first_tokens=first_tokens,
        first_known=bool(first_tokens) and all(map(is_known_first_name, first_tokens)),
        given=frozenset(first_tokens + middle_tokens),
        first_variants=variant_keys(first_tokens[0]) if first_tokens else frozenset(),
        last=" ".join(last_tokens),
        last_name_tokens=last_tokens,
        last_tokens=frozenset(last_tokens + middle_tokens),
        birth=(born.year, born.month, born.day) if born else None,
        birth_digits=f"{born.day:02d}{born.month:02d}{born.year:04d}" if born else "",
        gender=gender,
        email=normalise_email(record.email),
        phones=phones,
        street=normalise_street(record.street),
        postcode=normalise_postcode(record.postcode),
        shown=_shown(record),
    )


# ------------------------------------------------------------------ name frequencies


@dataclass(frozen=True)
class NameFrequencies:
    """How many persons of a register bear each name token: `first` counts the tokens of
    first names, `last` those of last names (`normalise.name_tokens` keys: folded, æøå and
    their ASCII spellings one key; a person counts once per token). Built by
    `name_frequencies` from records, or by `name_frequencies_from_counts` from the counts of
    distinct names (a SQL aggregate); JSON-able with `as_json` / `from_json`.

    The term frequency of a name is that of its rarest token (a double name is rarer than
    either part, but not as rare as independence would make it). The first name's is a count
    of persons, the last name's a share of the register (see the module docstring)."""

    persons: int
    first: Mapping[str, int]
    last: Mapping[str, int]
    # Per prepared name (its tokens joined): the term frequency, computed once (bulk scoring
    # looks the same names up millions of times).
    _first_memo: dict[str, float] = dataclass_field(default_factory=dict, compare=False, repr=False)
    _last_memo: dict[str, float] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def first_of(self, prepared: Prepared) -> float:
        """`first_name_frequency` of a prepared record's first name (memoised)."""
        found = self._first_memo.get(prepared.first)
        if found is None:
            found = self._first_memo[prepared.first] = self.first_name_frequency(
                prepared.first_tokens
            )
        return found

    def last_of(self, prepared: Prepared) -> float:
        """`last_name_frequency` of a prepared record's last name (memoised)."""
        found = self._last_memo.get(prepared.last)
        if found is None:
            found = self._last_memo[prepared.last] = self.last_name_frequency(
                prepared.last_name_tokens
            )
        return found

    def first_name_frequency(self, tokens: Iterable[str]) -> float:
        """The number of persons bearing the first name (its rarest token), at least 1."""
        return float(max(min((self.first.get(token, 0) for token in tokens), default=0), 1))

    def last_name_count(self, tokens: Iterable[str]) -> int:
        """The number of persons bearing the last name (its rarest token), at least 1."""
        return max(min((self.last.get(token, 0) for token in tokens), default=0), 1)

    def last_name_frequency(self, tokens: Iterable[str]) -> float:
        """The share of the register bearing the last name (its rarest token)."""
        return round(self.last_name_count(tokens) / max(self.persons, 1), 8)

    @property
    def usable(self) -> bool:
        """Large enough to say something about names (TF_MIN_PERSONS)."""
        return self.persons >= TF_MIN_PERSONS

    def as_json(self) -> dict:
        return {"persons": self.persons, "first": dict(self.first), "last": dict(self.last)}

    @classmethod
    def from_json(cls, data: Mapping | None) -> NameFrequencies | None:
        if not data:
            return None
        return cls(
            persons=int(data["persons"]),
            first=dict(data.get("first", {})),
            last=dict(data.get("last", {})),
        )


def _token_counts(names: Iterable[tuple[str, int]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for name, count in names:
        for token in set(name_tokens(name or "")):
            counts[token] += count
    return dict(counts)


def name_frequencies_from_counts(
    persons: int, first_names: Iterable[tuple[str, int]], last_names: Iterable[tuple[str, int]]
) -> NameFrequencies:
    """The name frequencies of a register of `persons` persons from (first name, persons)
    and (last name, persons) counts of its distinct names, as written or folded."""
    return NameFrequencies(
        persons=persons, first=_token_counts(first_names), last=_token_counts(last_names)
    )


def name_frequencies(records: Iterable[PersonRecord]) -> NameFrequencies:
    """The name frequencies of a register (pure: the synthetic register, the benches and
    the full run, which feeds `name_frequencies_from_counts` from SQL, agree)."""
    first: Counter[str] = Counter()
    last: Counter[str] = Counter()
    persons = 0
    for record in records:
        persons += 1
        first[record.first_name] += 1
        last[record.last_name] += 1
    return name_frequencies_from_counts(persons, first.items(), last.items())


def term_frequency_references(frequencies: NameFrequencies) -> dict[str, float]:
    """The average term frequency of a register's names, weighted by how many persons bear
    each (Splink's u of the exact level, sum of tf squared): the reference a name's own term
    frequency is compared with. First name as a count, last name as a share."""
    first_total = sum(frequencies.first.values()) or 1
    last_total = sum(frequencies.last.values()) or 1
    first = sum(count * count for count in frequencies.first.values()) / first_total
    last = sum(count * count for count in frequencies.last.values()) / last_total
    return {
        "first_name": round(first, 4),
        "last_name": round(last / max(frequencies.persons, 1), 8),
    }


def tf_adjustment(term_frequency: float | None, reference: float) -> float:
    """The weight adjustment in bits of a name that agrees, log2(reference / its term
    frequency), limited to [-TF_MAX_PENALTY, TF_MAX_BONUS]; 0 without a term frequency."""
    if term_frequency is None or term_frequency <= 0 or reference <= 0:
        return 0.0
    adjustment = math.log2(reference / term_frequency)
    return max(-TF_MAX_PENALTY, min(TF_MAX_BONUS, adjustment))


def _term_frequencies(
    a: Prepared, b: Prepared, levels: tuple[str, ...], frequencies: NameFrequencies | None
) -> tuple[float | None, float | None]:
    """The term frequencies of the first and the last name when they agree at a level that
    is adjusted (TERM_FREQUENCY_LEVELS), else None. None for a pair sharing a mobile number or
    an address: the adjustment is about namesakes, persons who meet by chance, and such a pair
    is one person or one household whatever the name's frequency. A shared e-mail address
    does not stop it: addresses are made from names (first.last@provider), so namesakes'
    addresses agree far more often than chance."""
    if frequencies is None or levels[5] == "same" or levels[6] == "same" or not frequencies.usable:
        return None, None
    first, last = levels[0], levels[1]
    first_tf = last_tf = None
    if first == "exact":
        if a.first == b.first:
            first_tf = frequencies.first_of(a)
        else:  # the same given names, written apart ("Anne Marie" / "Anne" + "Marie")
            first_tf = frequencies.first_name_frequency(a.first_tokens + b.first_tokens)
    elif first in _FIRST_NAME_TF_LEVELS:
        # A fuzzy level (Splink's rule): the more common of the two names.
        first_tf = max(frequencies.first_of(a), frequencies.first_of(b))
    if last == "exact":
        last_tf = frequencies.last_of(a)
    elif last in _LAST_NAME_TF_LEVELS:
        # The rarest last-name token the two share (a middle name that is no last name in
        # the register, such as Marie, gets no adjustment).
        shared = [token for token in a.last_tokens & b.last_tokens if token in frequencies.last]
        if shared:
            last_tf = frequencies.last_name_frequency(shared)
    return first_tf, last_tf


_FIRST_NAME_TF_LEVELS = TERM_FREQUENCY_LEVELS["first_name"]
_LAST_NAME_TF_LEVELS = TERM_FREQUENCY_LEVELS["last_name"]


# ------------------------------------------------------------------ field levels


def _names_swapped(a: Prepared, b: Prepared) -> bool:
    if not (a.first and a.last and b.first and b.last) or a.first == b.first:
        return False
    return _similar_name(a.first, b.last) and _similar_name(a.last, b.first)


def _similar_name(first: str, second: str) -> bool:
    return first == second or JaroWinkler.normalized_similarity(first, second) >= JW_HIGH


def first_name_level(a: Prepared, b: Prepared) -> str:
    if not a.first or not b.first:
        return "missing"
    if a.first == b.first or a.given == b.given:
        return "exact"
    if a.first_variants & b.first_variants:
        return "variant"
    first_a, first_b = frozenset(a.first_tokens), frozenset(b.first_tokens)
    if first_a <= b.given or first_b <= a.given:
        return "contains"
    similarity = JaroWinkler.normalized_similarity(a.first, b.first)
    if not (a.first_known and b.first_known) and _is_typo(a.first, b.first, similarity):
        return "typo"
    if similarity >= JW_HIGH:
        return "jw_high"
    if similarity >= JW_MEDIUM:
        return "jw_medium"
    return "different"


def _is_typo(first: str, second: str, similarity: float) -> bool:
    """One slip of the keyboard (a letter wrong, missing, added or two swapped), or two in a
    long name that still reads alike."""
    distance = OSA.distance(first, second, score_cutoff=2)
    if distance <= 1:
        return True
    return distance == 2 and min(len(first), len(second)) >= 7 and similarity >= 0.9


def last_name_level(a: Prepared, b: Prepared, frequencies: NameFrequencies | None = None) -> str:
    if not a.last or not b.last:
        return "missing"
    if a.last == b.last:
        return "exact"
    if a.last_tokens & b.last_tokens:
        return "shares_token"
    if JaroWinkler.normalized_similarity(a.last, b.last) >= LAST_NAME_SIMILAR:
        if frequencies is not None and frequencies.usable and _both_names(a, b, frequencies):
            return "similar_names"
        return "similar"
    return "different"


def _both_names(a: Prepared, b: Prepared, frequencies: NameFrequencies) -> bool:
    """Whether two similar last names are both names of their own in the register (Johansen
    and Johnsen, Nilsen and Nielsen): the rarer spelling is borne by at least
    SIMILAR_NAMES_RATIO as many persons as the other. A misspelling is borne by a small
    share of those bearing the name it misspells ("Hasnen" for Hansen), a name of its own
    by about as many. The spellings' own tokens count (Berg-Hansen against Berg-Hanssen:
    hansen against hanssen)."""
    own_a = [token for token in a.last_name_tokens if token not in b.last_name_tokens]
    own_b = [token for token in b.last_name_tokens if token not in a.last_name_tokens]
    count_a = frequencies.last_name_count(own_a or a.last_name_tokens)
    count_b = frequencies.last_name_count(own_b or b.last_name_tokens)
    return min(count_a, count_b) >= SIMILAR_NAMES_RATIO * max(count_a, count_b)


def birth_date_level(a: Prepared, b: Prepared) -> str:
    if a.birth is None or b.birth is None:
        return "missing"
    if a.birth == b.birth:
        return "exact"
    year_a, month_a, day_a = a.birth
    year_b, month_b, day_b = b.birth
    if year_a == year_b and month_a == day_b and day_a == month_b:
        return "swapped_day_month"
    if sum(x != y for x, y in zip(a.birth_digits, b.birth_digits, strict=True)) == 1:
        return "one_digit"
    if month_a == month_b and day_a == day_b:
        return "same_day_month"
    days = abs(a.record.birth_date - b.record.birth_date).days  # type: ignore[operator]
    if days <= WITHIN_DAYS:
        return "within_days"
    return "different"


def gender_level(a: Prepared, b: Prepared) -> str:
    if a.gender == "unknown" or b.gender == "unknown":
        return "unknown"
    return "same" if a.gender == b.gender else "different"


# First-name levels that count as "the same first name" for the contact fields below.
NAMES_AGREE = frozenset({"exact", "swapped", "variant", "contains", "typo", "missing"})


def email_level(a: Prepared, b: Prepared, names_agree: bool = True) -> str:
    """Households: a shared e-mail between persons with *different* first names is the
    parent's address on the children ("same_other_name", weak); between persons with the same
    first name it is strong evidence ("same")."""
    if not a.email or not b.email:
        return "missing"
    if a.email != b.email:
        return "different"
    return "same" if names_agree else "same_other_name"


def mobile_level(a: Prepared, b: Prepared, names_agree: bool = True) -> str:
    if not a.phones or not b.phones:
        return "missing"
    if not a.phones & b.phones:
        return "different"
    return "same" if names_agree else "same_other_name"


def address_level(a: Prepared, b: Prepared, names_agree: bool = True) -> str:
    if not a.postcode or not b.postcode:
        if a.street and b.street and a.street == b.street:
            return "same" if names_agree else "same_other_name"
        return "missing"
    if a.postcode != b.postcode:
        return "different"
    if a.street and b.street and a.street == b.street:
        return "same" if names_agree else "same_other_name"
    return "same_postcode"


def score_levels(
    a: PersonRecord | Prepared,
    b: PersonRecord | Prepared,
    frequencies: NameFrequencies | None = None,
) -> tuple[str, ...]:
    """The level of each field of `FIELDS`, in that order (no weights, no explanation). The
    register's name frequencies tell two similar last names that are both names of their
    own ("similar_names") from a misspelling ("similar")."""
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    if _names_swapped(pa, pb):
        first, last = "swapped", "swapped"
    else:
        first, last = first_name_level(pa, pb), last_name_level(pa, pb, frequencies)
    names_agree = first in NAMES_AGREE
    return (
        first,
        last,
        birth_date_level(pa, pb),
        gender_level(pa, pb),
        email_level(pa, pb, names_agree),
        mobile_level(pa, pb, names_agree),
        address_level(pa, pb, names_agree),
    )


def _shown(record: PersonRecord) -> tuple[str, ...]:
    """The values the explanation shows, per field of `FIELDS`, as written."""
    return (
        " ".join(part for part in (record.first_name, record.middle_name) if part),
        record.last_name,
        record.birth_date.isoformat() if record.birth_date else "",
        record.gender,
        record.email,
        record.mobile or record.phone,
        ", ".join(part for part in (record.street, record.postcode) if part),
    )


def same_name(first_level: str, last_level: str) -> bool:
    """Whether first and last name agree (exact, spelling, nickname, typo, swapped ...): the
    birth date is then weighed by SAME_NAME_TABLE."""
    return first_level in SAME_FIRST_NAME and last_level in SAME_LAST_NAME


_NO_TERM_FREQUENCIES: tuple[float | None, float | None] = (None, None)


def level_weights(
    levels: tuple[str, ...],
    parameters: dict | None = None,
    term_frequencies: tuple[float | None, float | None] = _NO_TERM_FREQUENCIES,
) -> tuple[list[float], float]:
    """The weight of each field's level (in `FIELDS` order) and the total weight, prior
    included. The birth date of a pair whose names agree is weighed by SAME_NAME_TABLE; the
    first and last name by their term frequencies when given (`tf_adjustment`). E-mail,
    mobile and address agree together far more often than independence assumes (one
    household, one person typing their contact data once), so their positive weights
    together count at most `contact_cap` bits (scaled down evenly when above)."""
    compiled = _compiled(parameters)
    field_weights = [
        table.get(level, 0.0) for table, level in zip(compiled.tables, levels, strict=True)
    ]
    if levels[0] in SAME_FIRST_NAME and levels[1] in SAME_LAST_NAME:
        field_weights[2] = compiled.same_name.get(levels[2], 0.0)
    first_tf, last_tf = term_frequencies
    if first_tf is not None:
        field_weights[0] += tf_adjustment(first_tf, compiled.references[0])
    if last_tf is not None:
        field_weights[1] += tf_adjustment(last_tf, compiled.references[1])
    email, mobile, address = field_weights[4], field_weights[5], field_weights[6]
    positive = (email > 0) * email + (mobile > 0) * mobile + (address > 0) * address
    if positive > compiled.contact_cap:
        factor = compiled.contact_cap / positive
        for index in (4, 5, 6):
            if field_weights[index] > 0:
                field_weights[index] *= factor
    return field_weights, compiled.prior + sum(field_weights)


def _note(term_frequency: float | None, reference: float) -> str:
    adjustment = tf_adjustment(term_frequency, reference)
    if adjustment <= -TF_NOTE_BITS:
        return "common_name"
    if adjustment >= TF_NOTE_BITS:
        return "rare_name"
    return ""


def compare(
    a: PersonRecord | Prepared,
    b: PersonRecord | Prepared,
    parameters: dict | None = None,
    frequencies: NameFrequencies | None = None,
) -> Comparison:
    """Compare two records: the match probability, the total weight (prior included) and the
    evidence per field (level, weight, both values as written; for a name adjusted by its
    term frequency in the register `frequencies`, that frequency and whether the name is
    common or rare)."""
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    levels = score_levels(pa, pb, frequencies)
    term_frequencies = _term_frequencies(pa, pb, levels, frequencies)
    field_weights, total = level_weights(levels, parameters, term_frequencies)
    evidence = list(map(Evidence, FIELDS, levels, field_weights, pa.shown, pb.shown))
    if term_frequencies != _NO_TERM_FREQUENCIES:
        references = _compiled(parameters).references
        for index, term_frequency in enumerate(term_frequencies):
            if term_frequency is not None:
                evidence[index] = replace(
                    evidence[index],
                    term_frequency=term_frequency,
                    note=_note(term_frequency, references[index]),
                )
    return Comparison(score=probability(total), weight=total, evidence=tuple(evidence))


def score(
    a: PersonRecord | Prepared,
    b: PersonRecord | Prepared,
    parameters: dict | None = None,
    frequencies: NameFrequencies | None = None,
) -> float:
    """Only the match probability (no explanation): the fast path for bulk scoring."""
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    levels = score_levels(pa, pb, frequencies)
    if frequencies is None:
        return probability(level_weights(levels, parameters)[1])
    term_frequencies = _term_frequencies(pa, pb, levels, frequencies)
    return probability(level_weights(levels, parameters, term_frequencies)[1])


def stored_level_weights(
    levels: Mapping[str, str | float], parameters: dict | None = None
) -> tuple[list[float], float]:
    """`level_weights` of stored levels (`Comparison.levels`: field → level, a missing field
    neutral, and the names' term frequencies): to re-score labelled or stored candidates with
    new parameters without the records."""
    ordered = tuple(str(levels.get(field, _neutral(field))) for field in FIELDS)
    term_frequencies = tuple(
        _stored_term_frequency(levels.get(f"{field}{TERM_FREQUENCY_SUFFIX}"))
        for field in FIELDS[:2]
    )
    return level_weights(ordered, parameters, term_frequencies)  # type: ignore[arg-type]


def _stored_term_frequency(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def score_of_levels(levels: Mapping[str, str | float], parameters: dict | None = None) -> float:
    """The match probability of stored levels (see `stored_level_weights`)."""
    return probability(stored_level_weights(levels, parameters)[1])


# ------------------------------------------------------------------ learning

PSEUDO_COUNT = 20.0  # strength of the Beta/Dirichlet prior toward the base parameters
MIN_LABELS_FOR_PRIOR = 200

_Pattern = tuple[str, ...]


def _pattern(levels: Mapping[str, str | float]) -> _Pattern:
    return tuple(str(levels.get(field, _neutral(field))) for field in FIELDS)


def fit(
    labelled: Iterable[tuple[Mapping[str, str | float], bool]],
    base: dict | None = None,
    *,
    candidates: Iterable[Mapping[str, str | float]] = (),
    pseudo_count: float = PSEUDO_COUNT,
    estimate_prior: bool = False,
    frequencies: NameFrequencies | None = None,
) -> dict:
    """Re-estimate m (from labelled duplicates) and u (from labelled non-duplicates) per field
    and level, smoothed toward `base` (default: `default_parameters()`): for each field,
    m(level) = (count among duplicates + k · base m(level)) / (duplicates + k), k =
    `pseudo_count` (a Beta/Dirichlet prior of strength k centred on the base), likewise u. With
    few labels the result stays near the base; with many it follows them. `labelled` holds
    (levels, is_duplicate), levels as `Comparison.levels` gives them (field → level).

    Staff decide on the review queue, whose non-duplicates are the *hard* ones (twins, namesakes
    that scored high): u learnt from them alone drifts toward "everything agrees" and the model
    then under-rates real duplicates (measured: recall 0.98 -> 0.81). Pass `candidates`, the
    levels of the unlabelled candidate pairs of a full run (or a sample of them; not the
    labelled ones), and they count toward u, each weighted by its probability of *not* being a
    duplicate under `base`: u then describes the candidate pairs as they are (mostly
    households). m comes from the labelled duplicates only: the queue holds nearly all
    duplicates, and counting unlabelled pairs toward m (full EM) lets a wrong base talk itself
    into "households are duplicates". `tests/bench/bench_duplicates_quality_inmemory.py`
    measures both.

    The prior (log2 odds of a duplicate among candidate pairs) is kept from `base` unless
    `estimate_prior=True`: then it comes from the labels plus the candidates' expected
    duplicates, or without candidates from the label ratio alone (only sensible when the
    labels are a random sample of candidate pairs, e.g. a synthetic register) given
    `MIN_LABELS_FOR_PRIOR` of each kind.

    The birth date of pairs whose names agree is counted toward SAME_NAME_TABLE, of the others
    toward "birth_date". The term frequency adjustment is not fitted (as in Splink): it is
    relative to the level's u, which is fitted. Its references are kept from `base`, unless
    `frequencies` (the name frequencies of the register the labels and candidates come from)
    are given: m and u then describe that register, so its average term frequencies become
    the references (`term_frequency_references`). Returns a new JSON-able parameters dict."""
    base = base if base is not None else default_parameters()
    labels: dict[bool, Counter[_Pattern]] = {True: Counter(), False: Counter()}
    for levels, is_duplicate in labelled:
        labels[bool(is_duplicate)][_pattern(levels)] += 1
    sample = Counter(_pattern(levels) for levels in candidates)
    m_counts = {pattern: float(count) for pattern, count in labels[True].items()}
    u_counts = {pattern: float(count) for pattern, count in labels[False].items()}
    expected_duplicates = 0.0
    for pattern, count in sample.items():
        match = probability(level_weights(pattern, base)[1])
        expected_duplicates += match * count
        u_counts[pattern] = u_counts.get(pattern, 0.0) + (1.0 - match) * count
    parameters = _smoothed(base, m_counts, u_counts, pseudo_count)
    parameters["prior"] = base.get("prior", _DEFAULT_PRIOR)
    parameters["term_frequency"] = {
        **_DEFAULT_TERM_FREQUENCY,
        **base.get("term_frequency", {}),
        **(term_frequency_references(frequencies) if frequencies and frequencies.usable else {}),
    }
    duplicates, others = sum(labels[True].values()), sum(labels[False].values())
    if estimate_prior and sample:
        share = (duplicates + expected_duplicates) / (duplicates + others + sum(sample.values()))
        share = min(max(share, 1e-6), 1 - 1e-6)
        parameters["prior"] = round(math.log2(share / (1 - share)), 4)
    elif estimate_prior and min(duplicates, others) >= MIN_LABELS_FOR_PRIOR:
        parameters["prior"] = round(math.log2(duplicates / others), 4)
    return parameters


def _smoothed(
    base: dict,
    m_counts: Mapping[_Pattern, float],
    u_counts: Mapping[_Pattern, float],
    pseudo_count: float,
) -> dict:
    """New parameters: per field (and SAME_NAME_TABLE), the level counts smoothed toward the
    base distribution."""
    result = copy.deepcopy(base)
    result["version"] = PARAMETERS_VERSION
    # Parameters of version 1 lack the same-name table and the similar_names level.
    fields = result["fields"] = copy.deepcopy(_with_default_levels(result["fields"]))
    birth_date = FIELDS.index("birth_date")
    tables: list[tuple[str, int, bool | None]] = [
        (field, index, False if field == "birth_date" else None)
        for index, field in enumerate(FIELDS)
    ]
    tables.append((SAME_NAME_TABLE, birth_date, True))
    for table, index, names_agree in tables:
        levels = fields[table]
        neutral = _neutral(table)
        for key, counts in (("m", m_counts), ("u", u_counts)):
            per_level: Counter[str] = Counter()
            for pattern, count in counts.items():
                if names_agree is not None and same_name(pattern[0], pattern[1]) != names_agree:
                    continue
                if pattern[index] != neutral and pattern[index] in levels:
                    per_level[pattern[index]] += count
            observed = sum(per_level.values())
            informative = {level: pair for level, pair in levels.items() if level != neutral}
            base_mass = sum(pair[key] for pair in informative.values()) or 1.0
            for level, pair in informative.items():
                share = pair[key] / base_mass
                estimate = (per_level[level] + pseudo_count * share) / (observed + pseudo_count)
                pair[key] = round(estimate * base_mass, 8)
    return result
