"""Scoring two person records as possible duplicates (P-14, issue 4): pure functions, no ORM.

A Fellegi-Sunter model. Each field of two records is compared to one *level*:
- first name: exact (after folding and the æøå/ASCII spellings; also "Anne Marie" against
  "Anne" + middle name "Marie"), swapped (first and last name exchanged), variant (nickname
  table or loose spelling: Kris/Kristoffer, Mathias/Matias), contains (one's given names a part
  of the other's: called by the middle name), typo (one keyboard slip, where at least one of
  the two is *not* a common first name: "Elala" for Ella), jw_high / jw_medium (Jaro-Winkler
  similar, but both real names: Henrik/Henrikke, Mats/Mads), different, missing;
- last name: exact, swapped, shares_token (double surname, hyphen, married name added, a middle
  name that is a surname), similar (Jaro-Winkler), different, missing;
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
semi-supervised EM in `fit`), its term-frequency adjustments (a match on a rare surname
counts more than on "Hansen"), its charts, and Spark beyond one machine. What we gain: no
second data store, scores in the request path, chunked background runs on the database we
already have, and a small model we fully understand.

Speed: `prepare(record)` normalises a record once (lru-cached per record value, ~20 µs);
`compare` then does dictionary look-ups and a few rapidfuzz calls: ~17-20 µs CPU per pair,
`score` (no explanation objects) ~8-12 µs, measured by the bench on a shared 2-core machine.
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
from dataclasses import dataclass

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
from members.duplicates.records import Comparison, Evidence, PersonRecord

PARAMETERS_VERSION = 1

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
    "last_name": {
        "exact": (0.71, 0.59),
        "swapped": (0.03, 0.0015),
        "shares_token": (0.06, 0.04),
        "similar": (0.16, 0.035),
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
    }


_DEFAULT = default_parameters()


def _weight(m: float, u: float) -> float:
    if m <= 0 or u <= 0:
        return -WEIGHT_LIMIT if m <= 0 else WEIGHT_LIMIT
    return max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, math.log2(m / u)))


_Compiled = tuple[tuple[dict[str, float], ...], float, float]
_COMPILED_CACHE: dict[int, tuple[dict, _Compiled]] = {}


def _compiled(parameters: dict | None) -> _Compiled:
    """(per field of `FIELDS`: level → weight; prior; contact cap), cached by identity."""
    parameters = parameters if parameters is not None else _DEFAULT
    cached = _COMPILED_CACHE.get(id(parameters))
    if cached is not None and cached[0] is parameters:
        return cached[1]
    table = {
        field: {level: _weight(pair["m"], pair["u"]) for level, pair in levels.items()}
        for field, levels in parameters["fields"].items()
    }
    compiled = (
        tuple(table.get(field, {}) for field in FIELDS),
        float(parameters.get("prior", _DEFAULT_PRIOR)),
        float(parameters.get("contact_cap", _DEFAULT_CONTACT_CAP)),
    )
    if len(_COMPILED_CACHE) > 64:
        _COMPILED_CACHE.clear()
    _COMPILED_CACHE[id(parameters)] = (parameters, compiled)
    return compiled


def weights(parameters: dict | None = None) -> tuple[dict[str, dict[str, float]], float]:
    """(field → level → weight in bits, prior in bits) of a parameters dict (cached by
    identity: do not change a parameters dict after use)."""
    tables, prior, _cap = _compiled(parameters)
    return dict(zip(FIELDS, tables, strict=True)), prior


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


def last_name_level(a: Prepared, b: Prepared) -> str:
    if not a.last or not b.last:
        return "missing"
    if a.last == b.last:
        return "exact"
    if a.last_tokens & b.last_tokens:
        return "shares_token"
    if JaroWinkler.normalized_similarity(a.last, b.last) >= LAST_NAME_SIMILAR:
        return "similar"
    return "different"


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


def score_levels(a: PersonRecord | Prepared, b: PersonRecord | Prepared) -> tuple[str, ...]:
    """The level of each field of `FIELDS`, in that order (no weights, no explanation)."""
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    if _names_swapped(pa, pb):
        first, last = "swapped", "swapped"
    else:
        first, last = first_name_level(pa, pb), last_name_level(pa, pb)
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


def level_weights(
    levels: tuple[str, ...], parameters: dict | None = None
) -> tuple[list[float], float]:
    """The weight of each field's level (in `FIELDS` order) and the total weight, prior
    included. E-mail, mobile and address agree together far more often than independence
    assumes (one household, one person typing their contact data once), so their positive
    weights together count at most `contact_cap` bits (scaled down evenly when above)."""
    tables, prior, contact_cap = _compiled(parameters)
    field_weights = [table.get(level, 0.0) for table, level in zip(tables, levels, strict=True)]
    email, mobile, address = field_weights[4], field_weights[5], field_weights[6]
    positive = (email > 0) * email + (mobile > 0) * mobile + (address > 0) * address
    if positive > contact_cap:
        factor = contact_cap / positive
        for index in (4, 5, 6):
            if field_weights[index] > 0:
                field_weights[index] *= factor
    return field_weights, prior + sum(field_weights)


def compare(
    a: PersonRecord | Prepared, b: PersonRecord | Prepared, parameters: dict | None = None
) -> Comparison:
    """Compare two records: the match probability, the total weight (prior included) and the
    evidence per field (level, weight, both values as written)."""
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    levels = score_levels(pa, pb)
    field_weights, total = level_weights(levels, parameters)
    evidence = tuple(map(Evidence, FIELDS, levels, field_weights, pa.shown, pb.shown))
    return Comparison(score=probability(total), weight=total, evidence=evidence)


def score(
    a: PersonRecord | Prepared, b: PersonRecord | Prepared, parameters: dict | None = None
) -> float:
    """Only the match probability (no explanation): the fast path for bulk scoring."""
    return probability(level_weights(score_levels(a, b), parameters)[1])


def score_of_levels(levels: Mapping[str, str], parameters: dict | None = None) -> float:
    """The match probability of stored levels (field → level), e.g. to re-score labelled or
    stored candidates with new parameters without the records."""
    ordered = tuple(levels.get(field, _neutral(field)) for field in FIELDS)
    return probability(level_weights(ordered, parameters)[1])


# ------------------------------------------------------------------ learning

PSEUDO_COUNT = 20.0  # strength of the Beta/Dirichlet prior toward the base parameters
MIN_LABELS_FOR_PRIOR = 200

_Pattern = tuple[str, ...]


def _pattern(levels: Mapping[str, str]) -> _Pattern:
    return tuple(levels.get(field, _neutral(field)) for field in FIELDS)


def fit(
    labelled: Iterable[tuple[Mapping[str, str], bool]],
    base: dict | None = None,
    *,
    candidates: Iterable[Mapping[str, str]] = (),
    pseudo_count: float = PSEUDO_COUNT,
    estimate_prior: bool = False,
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
    `MIN_LABELS_FOR_PRIOR` of each kind. Returns a new JSON-able parameters dict."""
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
    """New parameters: per field, the level counts smoothed toward the base distribution."""
    result = copy.deepcopy(base)
    result["version"] = PARAMETERS_VERSION
    for index, field in enumerate(FIELDS):
        levels = result["fields"][field]
        neutral = _neutral(field)
        for key, counts in (("m", m_counts), ("u", u_counts)):
            per_level: Counter[str] = Counter()
            for pattern, count in counts.items():
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
