"""Duplicate detection on the live register (P-14, issue 4 scopes 1, 2 and 7): the full run in
chunks that several Celery workers share, and the incremental check on create or change.

Why our own pipeline and not a record-linkage library (Splink on DuckDB was the obvious
candidate): the comparison itself is a Fellegi-Sunter model (`scoring`) whose weights we learn
from staff decisions (`learning`), which is what Splink would give us too; what is left is
getting the pairs to it. The register already lives in PostgreSQL with the folded names and the
trigram indexes we need, the chunks must be rows that any worker can take and a reconciler can
re-queue (STYLE 8), and the incremental check must answer in under 100 ms at 1,000,000
persons, which an in-process DuckDB copy of the register cannot do without a second store to
keep in sync. So: SQL picks the persons of a chunk, `blocking.candidate_pairs` makes the pairs
in Python, `scoring.compare` scores them, one `INSERT ... ON CONFLICT` stores them.

The full run (`detection_start`)
- A run is split into chunks (`DetectionChunk.key`) that together compare every pair the
  blocking keys propose exactly once:
  - `year:Y` loads the persons born in Y and Y+1 and owns the pairs whose earlier birth year is
    Y: every pair born within a year of each other (which is what the name, birth date and
    trigram keys need) belongs to exactly one year chunk. The chunks are created and queued
    largest first, so two workers finish at about the same time.
  - The pairs the year chunks cannot see (born more than a year apart, or a birth date
    missing) belong, in this order, to `email:K` (the persons sharing an e-mail address in
    their standard contact set), `mobile:K` (sharing a mobile number), `no-birth-date:K`
    (the persons without a birth date with everyone of the same last name: blocking pairs
    them by full name and similar first name) and `name-day:K` (the same full name and
    birthday in years more than a year apart: a typo in the year). K < CONTACT_BUCKETS splits
    each kind by a hash of its value. A shared e-mail or mobile of more than
    CONTACT_GROUP_LIMIT persons (a club's address) is no identity and skipped, as blocking
    skips it. Together they give exactly the pairs `blocking.candidate_pairs` gives for the
    whole register (measured on the synthetic register), each once.
  - `_owner` says which kind of chunk owns a pair; each chunk keeps only its own pairs, so
    no pair is scored twice and the counters add up.
- Merged persons (`merged_into` set) are left out; deceased persons are kept (a deceased
  person can still have been registered twice).
- `organisation`: the run looks for duplicates *of that organisation's persons* (those holding
  or having held a function in its subtree, as `access.person_scope_filter` defines them) in the
  whole register: a pair is kept when at least one of the two is in the subtree. That is what a
  club or a region needs after importing an old member list (is this child already registered by
  another club?). It loads and blocks like a full run, but only creates the chunks that can
  hold such a pair and only scores the pairs that touch the subtree.

Workers and the reconciler
- A worker claims a chunk with `SELECT ... FOR UPDATE SKIP LOCKED` (pending, or running but
  stale), computes outside any transaction, then in one transaction stores the candidates,
  marks the chunk done with the counts of *this* result and adds them to the run's counters
  with `F()`, unless the chunk was already done: a chunk done twice (a re-delivered message, a
  slow worker the reconciler gave up on) stores the same rows again and counts once. The run
  ends (done, or failed when a chunk failed) when its last chunk ends; the run row is locked
  for that check, so two last chunks cannot both miss it.
- `detection_reconcile` (Celery beat, every two minutes, migration 0013) re-queues chunks that
  have been running longer than CHUNK_TIMEOUT (their worker died: we do not rely on the broker's
  visibility timeout) and the pending chunks of a run on which nothing happened for
  CHUNK_TIMEOUT (their message was lost); it fails a chunk after MAX_ATTEMPTS attempts (a
  claim, or a re-queue that nobody took up). On a pending chunk `claimed_at` is the time the
  reconciler last re-queued it, so it does not queue the same chunk again every two minutes.
- `inline=True` processes the chunks in the calling process (the command without a worker,
  unit tests). The management command also queues the chunks and then works on them itself
  while it waits, so it finishes with or without workers.

Name frequencies (the term frequency adjustment of `scoring`)
- A run computes the register's name frequencies once when it starts (one SQL aggregate over
  the unmerged persons' folded first and last names, tokenised by
  `scoring.name_frequencies_from_counts` as `scoring.name_frequencies` tokenises records;
  about a second at 1,000,000 persons) and keeps them on the run
  (`DetectionRun.name_frequencies`); every chunk scores with that table, read once per
  worker process, so a run weighs names alike whatever changes while it runs. An
  organisation's run uses the whole register's table (its pairs reach everyone).
- The incremental check uses `current_name_frequencies`: this process's copy for
  NAME_FREQUENCIES_PROCESS_SECONDS, else the copy shared through the cache (Redis) for
  NAME_FREQUENCIES_CACHE_SECONDS, else computed and shared; a full run shares its fresh table.
  Name frequencies change slowly, so an hour-old table weighs names as well as a fresh one.

Candidates
- Pairs with a score of at least `scoring.STORE_THRESHOLD` are stored with their score, the
  explanation and the comparison levels (the features `learning` fits on) by one bulk
  `INSERT ... ON CONFLICT (person_a, person_b) DO UPDATE ... WHERE status = 'open'`: a pair
  staff decided (not a duplicate, merged) or that became obsolete is never reopened or
  changed. An open candidate that a chunk compares again gets its new score even when it fell
  below the threshold (its persons were corrected), so scores follow the data and the active
  match model. These machine-written rows get no history rows (the decisions do, through
  `candidates`). A row is only written while both persons are unmerged, checked in the same
  statement, so a merge that commits during a chunk cannot get a candidate back.

The incremental check (`find_possible_duplicates`)
- One SQL statement unites a few indexed lookups on the live register, each capped: the same
  birth date; a birth date within a year and similar first and last names; first and last
  name swapped; the same folded full name (any birth date, nearest first); the same e-mail;
  the same mobile. It returns the records; they are scored in Python and the best at or above
  STORE_THRESHOLD returned.
- "Similar names" are the register's spellings whose pg_trgm similarity to the name is at
  least NAME_SIMILARITY, taken from the search module's in-memory dictionary of distinct folded
  names (`search.NAME_DICTIONARY`, kept fresh per query), and then looked up exactly on the
  (last name, first name) btree index. Measured at 1,000,000 persons: the GIN trigram indexes
  with `%` read ~700,000 rows for a surname ending in -sen (260 ms); the dictionary gives the
  spellings in under a millisecond and the btree finds their persons in a few.
- `person_check_duplicates` runs it for a saved person (queued on commit by `person_create`,
  `person_update` and a change of the standard contact set's e-mail or mobile) and stores what
  it finds as incremental candidates. The e-mail lookup is exact on the stored value (its
  index is on the column as written; the services store the domain in lower case).
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from celery import current_app
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members import search
from members.duplicates import blocking, scoring
from members.duplicates.normalise import normalise_phone
from members.duplicates.records import Comparison, PersonRecord
from members.models import (
    CandidateSource,
    CandidateStatus,
    ContactSet,
    DetectionChunk,
    DetectionRun,
    DuplicateCandidate,
    Function,
    MatchModel,
    Organisation,
    Person,
    RunState,
    User,
)

logger = logging.getLogger(__name__)

NOT_ALLOWED = _("You may not start a duplicate detection run here.")
RUN_IN_PROGRESS = _("A duplicate detection run is already in progress; wait until it has finished.")
CHUNK_GAVE_UP = "Gave up after %(attempts)s attempts."
CHUNKS_FAILED = "%(count)s chunks failed; see their errors."

# Celery task names (members/duplicates/tasks.py): queued by name, so this module does not
# import the tasks module that imports it.
CHUNK_TASK = "members.detect_duplicates_chunk"
RECONCILE_TASK = "members.detection_reconcile"

# The largest chunk at 1,000,000 persons takes about a minute (a few on a busy machine); one
# running this long lost its worker.
CHUNK_TIMEOUT = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 30
CONTACT_BUCKETS = 2
# A shared e-mail or mobile is a household signal: a group larger than this is an
# organisation's or a family's address, not one person's.
CONTACT_GROUP_LIMIT = blocking.MAX_SHARED_CONTACT
# Persons loaded per last name of someone without a birth date (blocking pairs at most as
# many namesakes).
NAMESAKE_LIMIT = blocking.MAX_GROUP * 5
STORE_BATCH_SIZE = 5000

YEAR_PREFIX = "year:"
EMAIL_PREFIX = "email:"
MOBILE_PREFIX = "mobile:"
NAME_DAY_PREFIX = "name-day:"
NO_BIRTH_DATE_PREFIX = "no-birth-date:"

# The incremental check: rows per lookup (the union scores at most a few hundred records);
# similar spellings per name: looked at, kept (pg_trgm similarity at least NAME_SIMILARITY).
LOOKUP_LIMIT = 100
SIMILAR_BIRTH_DAYS = 366
DICTIONARY_CANDIDATES = 60
SPELLINGS_PER_NAME = 15
NAME_SIMILARITY = 0.4

PERSON_TABLE = Person._meta.db_table
CONTACT_TABLE = ContactSet._meta.db_table
FUNCTION_TABLE = Function._meta.db_table
ORGANISATION_TABLE = Organisation._meta.db_table
CANDIDATE_TABLE = DuplicateCandidate._meta.db_table

# A person as the engine sees them: the standard contact set's data, never NULL.
RECORD_COLUMNS = """
    p.id, p.first_name, p.last_name, p.middle_name, p.gender, p.birth_date,
    lower(coalesce(c.email, '')), coalesce(c.mobile, ''), coalesce(c.phone, ''),
    coalesce(c.street, ''), coalesce(c.postcode, ''), coalesce(c.city, ''), p.source_id
"""
RECORD_FROM = f"""
    FROM {PERSON_TABLE} p
    LEFT JOIN {CONTACT_TABLE} c ON c.person_id = p.id AND c.is_standard
"""
# Appended to the record columns when a run is limited to an organisation's subtree.
IN_SCOPE_COLUMN = f"""
    , EXISTS (
        SELECT 1 FROM {FUNCTION_TABLE} f
        JOIN {ORGANISATION_TABLE} o ON o.id = f.organisation_id
        WHERE f.person_id = p.id AND o.path LIKE %(scope)s
    )
"""  # noqa: S608 (table names are ours; values are parameters)

IN_SCOPE_WHERE = f"""
    AND EXISTS (
        SELECT 1 FROM {FUNCTION_TABLE} f
        JOIN {ORGANISATION_TABLE} o ON o.id = f.organisation_id
        WHERE f.person_id = p.id AND o.path LIKE %(scope)s
    )
"""  # noqa: S608 (table names are ours; values are parameters)

Pair = tuple[int, int]


# ------------------------------------------------------------------------------- records


def _record(row: Sequence) -> PersonRecord:
    return PersonRecord(
        id=row[0],
        first_name=row[1],
        last_name=row[2],
        middle_name=row[3] or "",
        gender=row[4] or "unknown",
        birth_date=row[5],
        email=row[6],
        mobile=row[7],
        phone=row[8],
        street=row[9],
        postcode=row[10],
        city=row[11],
        source_id=row[12] or "",
    )


def _fetch(sql: str, params: dict | Sequence = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def load_records(person_ids: Iterable[int]) -> list[PersonRecord]:
    """The persons as the engine sees them (merged ones too: callers decide), by id; one
    query."""
    ids = sorted(set(person_ids))
    if not ids:
        return []
    rows = _fetch(
        f"SELECT {RECORD_COLUMNS} {RECORD_FROM} WHERE p.id = ANY(%(ids)s) ORDER BY p.id",
        {"ids": ids},
    )
    return [_record(row) for row in rows]


def _load(where: str, params: dict, scope: str | None) -> tuple[list[PersonRecord], set[int]]:
    """Unmerged persons matching `where`, and the ids of those in the organisation scope (all
    of them without a scope)."""
    columns = RECORD_COLUMNS + (IN_SCOPE_COLUMN if scope else "")
    rows = _fetch(
        f"SELECT {columns} {RECORD_FROM} WHERE p.merged_into_id IS NULL AND ({where})",
        {**params, "scope": scope},
    )
    records = [_record(row) for row in rows]
    if scope is None:
        return records, {record.id for record in records}
    return records, {row[0] for row in rows if row[13]}


# --------------------------------------------------------------------- name frequencies

# One scan of the register: the persons per folded first name and per folded last name.
NAME_COUNTS_SQL = f"""
SELECT grouping(p.first_name_folded) = 0, coalesce(p.first_name_folded, p.last_name_folded),
       count(*)
FROM {PERSON_TABLE} p
WHERE p.merged_into_id IS NULL
GROUP BY GROUPING SETS ((p.first_name_folded), (p.last_name_folded))
"""  # noqa: S608 (the table name is ours)

# The incremental check's table: kept per process this long, shared through the cache this
# long (a full run puts its fresh table there). Name frequencies change slowly: an hour-old
# table weighs names as well as a fresh one.
NAME_FREQUENCIES_PROCESS_SECONDS = 10 * 60
NAME_FREQUENCIES_CACHE_SECONDS = 60 * 60
_NAME_FREQUENCIES_CACHE_KEY = "members.duplicates.name_frequencies:{database}"
_process_frequencies: dict[str, tuple[float, scoring.NameFrequencies]] = {}
_run_frequencies_cache: dict[int, scoring.NameFrequencies | None] = {}


def register_name_frequencies() -> scoring.NameFrequencies:
    """The name frequencies of the live register (unmerged persons), from one aggregate
    (about a second at 1,000,000 persons): `scoring.name_frequencies_from_counts` tokenises
    the distinct folded names as `scoring.name_frequencies` does records."""
    first: list[tuple[str, int]] = []
    last: list[tuple[str, int]] = []
    for is_first_name, name, count in _fetch(NAME_COUNTS_SQL):
        (first if is_first_name else last).append((name or "", count))
    persons = sum(count for _name, count in last)
    return scoring.name_frequencies_from_counts(persons, first, last)


def _cache_key() -> str:
    return _NAME_FREQUENCIES_CACHE_KEY.format(database=connection.settings_dict["NAME"])


def _share_name_frequencies(frequencies: scoring.NameFrequencies) -> None:
    _process_frequencies[connection.settings_dict["NAME"]] = (
        time.monotonic() + NAME_FREQUENCIES_PROCESS_SECONDS,
        frequencies,
    )
    try:
        cache.set(_cache_key(), frequencies.as_json(), NAME_FREQUENCIES_CACHE_SECONDS)
    except Exception:  # the cache is an optimisation: the check works without it
        logger.warning("Could not share the name frequencies through the cache", exc_info=True)


def current_name_frequencies() -> scoring.NameFrequencies:
    """The register's name frequencies for the incremental check: this process's copy while
    fresh, else the shared cache's, else computed (and shared)."""
    database = connection.settings_dict["NAME"]
    held = _process_frequencies.get(database)
    if held is not None and held[0] > time.monotonic():
        return held[1]
    try:
        shared = scoring.NameFrequencies.from_json(cache.get(_cache_key()))
    except Exception:  # the cache is an optimisation: the check works without it
        logger.warning("Could not read the name frequencies from the cache", exc_info=True)
        shared = None
    if shared is not None:
        _process_frequencies[database] = (
            time.monotonic() + NAME_FREQUENCIES_PROCESS_SECONDS,
            shared,
        )
        return shared
    frequencies = register_name_frequencies()
    _share_name_frequencies(frequencies)
    return frequencies


def forget_name_frequencies() -> None:
    """Drop the incremental check's copies (this process's and the shared one)."""
    _process_frequencies.pop(connection.settings_dict["NAME"], None)
    _run_frequencies_cache.clear()
    try:
        cache.delete(_cache_key())
    except Exception:  # the cache is an optimisation: the check works without it
        logger.warning("Could not drop the name frequencies from the cache", exc_info=True)


def _run_frequencies(run: DetectionRun) -> scoring.NameFrequencies | None:
    """The table a run scores with (None for a run made before runs had one), read once per
    process and run."""
    if run.pk not in _run_frequencies_cache:
        data = DetectionRun.objects.filter(pk=run.pk).values_list("name_frequencies", flat=True)
        if len(_run_frequencies_cache) >= 4:
            _run_frequencies_cache.clear()
        _run_frequencies_cache[run.pk] = scoring.NameFrequencies.from_json(data.first())
    return _run_frequencies_cache[run.pk]


# ------------------------------------------------------------------------- match model


def active_match_model() -> MatchModel | None:
    return MatchModel.objects.filter(is_active=True).first()


def active_parameters() -> dict:
    """The parameters of the active match model, or the shipped defaults."""
    model = active_match_model()
    return model.parameters if model is not None else scoring.default_parameters()


def _run_parameters(run: DetectionRun) -> dict:
    # Every chunk of a run scores with the model the run started with.
    if run.match_model_id is not None:
        return run.match_model.parameters
    return scoring.default_parameters()


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class ScoredPair:
    person_a_id: int
    person_b_id: int
    comparison: Comparison


UPSERT_SQL = f"""
INSERT INTO {CANDIDATE_TABLE} AS c
    (person_a_id, person_b_id, score, explanation, levels, status, source, run_id,
     created_at, updated_at)
SELECT t.a, t.b, t.score, t.explanation::jsonb, t.levels::jsonb, %(open)s, %(source)s,
       %(run)s, now(), now()
FROM unnest(%(a)s::bigint[], %(b)s::bigint[], %(score)s::float8[], %(explanation)s::text[],
            %(levels)s::text[]) AS t(a, b, score, explanation, levels)
JOIN {PERSON_TABLE} pa ON pa.id = t.a AND pa.merged_into_id IS NULL
JOIN {PERSON_TABLE} pb ON pb.id = t.b AND pb.merged_into_id IS NULL
ORDER BY t.a, t.b
ON CONFLICT (person_a_id, person_b_id) DO UPDATE
SET score = EXCLUDED.score, explanation = EXCLUDED.explanation, levels = EXCLUDED.levels,
    run_id = coalesce(EXCLUDED.run_id, c.run_id), updated_at = EXCLUDED.updated_at
WHERE c.status = %(open)s
RETURNING c.id
"""  # noqa: S608 (table names are ours; values are parameters)

REFRESH_SQL = f"""
UPDATE {CANDIDATE_TABLE} AS c
SET score = t.score, explanation = t.explanation::jsonb, levels = t.levels::jsonb,
    run_id = coalesce(%(run)s, c.run_id), updated_at = now()
FROM unnest(%(a)s::bigint[], %(b)s::bigint[], %(score)s::float8[], %(explanation)s::text[],
            %(levels)s::text[]) AS t(a, b, score, explanation, levels)
WHERE c.person_a_id = t.a AND c.person_b_id = t.b
  -- IS TRUE: checked on the row, never an index condition (see `_open_pairs_among`)
  AND (c.status = %(open)s) IS TRUE
"""  # noqa: S608 (table names are ours; values are parameters)


def _ordered(first: int, second: int) -> Pair:
    return (first, second) if first < second else (second, first)


def _columns(pairs: Sequence[ScoredPair]) -> dict[str, list]:
    return {
        "a": [pair.person_a_id for pair in pairs],
        "b": [pair.person_b_id for pair in pairs],
        "score": [pair.comparison.score for pair in pairs],
        "explanation": [json.dumps(pair.comparison.explanation()) for pair in pairs],
        "levels": [json.dumps(pair.comparison.levels) for pair in pairs],
    }


def store_candidates(
    pairs: Iterable[ScoredPair], *, source: str, run: DetectionRun | None = None
) -> list[int]:
    """Insert or refresh open candidates in bulk (ids ordered a < b by the caller); decided and
    obsolete pairs are left alone, pairs with a merged person skipped. Returns the ids of the
    rows written."""
    ordered = sorted(pairs, key=lambda pair: (pair.person_a_id, pair.person_b_id))
    written: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), STORE_BATCH_SIZE):
            batch = ordered[start : start + STORE_BATCH_SIZE]
            params = {
                **_columns(batch),
                "open": CandidateStatus.OPEN.value,
                "source": source,
                "run": run.pk if run is not None else None,
            }
            cursor.execute(UPSERT_SQL, params)
            written.extend(row[0] for row in cursor.fetchall())
    return written


def _refresh_open(pairs: Sequence[ScoredPair], run: DetectionRun | None) -> None:
    """New scores for open candidates that now score below the store threshold."""
    ordered = sorted(pairs, key=lambda pair: (pair.person_a_id, pair.person_b_id))
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), STORE_BATCH_SIZE):
            batch = ordered[start : start + STORE_BATCH_SIZE]
            params = {
                **_columns(batch),
                "open": CandidateStatus.OPEN.value,
                "run": run.pk if run is not None else None,
            }
            cursor.execute(REFRESH_SQL, params)


def store_candidate(
    *,
    person_a_id: int,
    person_b_id: int,
    comparison: Comparison,
    source: str,
    run: DetectionRun | None = None,
) -> DuplicateCandidate | None:
    """Store one pair as an open candidate (or refresh the open one). None when the pair was
    decided (never reopened), is obsolete, names one person twice or a merged person."""
    if person_a_id == person_b_id:
        return None
    first, second = _ordered(person_a_id, person_b_id)
    written = store_candidates([ScoredPair(first, second, comparison)], source=source, run=run)
    if not written:
        return None
    return DuplicateCandidate.objects.get(pk=written[0])


def _open_pairs_among(person_ids: Iterable[int]) -> set[Pair]:
    """The open candidates whose person A is one of `person_ids`: one probe of the pair
    index per id. Written so that the plan does not depend on the table's statistics, which
    a run makes stale by adding many rows: "OFFSET 0" keeps the planner from scanning the
    whole table, the status is checked here and not in the index condition."""
    rows = _fetch(
        f"""
        SELECT c.person_a_id, c.person_b_id, c.status FROM unnest(%(ids)s::bigint[]) AS t(id)
        CROSS JOIN LATERAL (
            SELECT person_a_id, person_b_id, status FROM {CANDIDATE_TABLE}
            WHERE person_a_id = t.id OFFSET 0
        ) c
        """,  # noqa: S608 (the table name is ours; values are parameters)
        {"ids": sorted(set(person_ids))},
    )
    return {(a, b) for a, b, status in rows if status == CandidateStatus.OPEN}


# ------------------------------------------------------------------------- chunk plans


@dataclass
class ChunkWork:
    """What a chunk computed: how many pairs it compared, the pairs reaching the store
    threshold, and the open candidates it compared again that no longer reach it."""

    compared: int = 0
    stored: list[ScoredPair] = field(default_factory=list)
    below_threshold: list[ScoredPair] = field(default_factory=list)


# `scoring.prepare` without its module-wide cache: a chunk prepares tens of thousands of
# records once each, and a long-lived worker should not keep them all.
_prepare = getattr(scoring.prepare, "__wrapped__", scoring.prepare)


def _score(
    pairs: Sequence[Pair],
    by_id: dict[int, PersonRecord],
    parameters: dict,
    frequencies: scoring.NameFrequencies | None = None,
) -> ChunkWork:
    """Score every pair (the fast path, no explanation), then explain only the pairs that are
    stored or refresh an open candidate."""
    prepared: dict[int, scoring.Prepared] = {}

    def get(person_id: int) -> scoring.Prepared:
        found = prepared.get(person_id)
        if found is None:
            found = prepared[person_id] = _prepare(by_id[person_id])
        return found

    threshold = scoring.STORE_THRESHOLD
    work = ChunkWork(compared=len(pairs))
    # Open candidates among these pairs: compared again, they get their new score even when
    # it fell below the threshold.
    existing = _open_pairs_among(by_id)
    for first, second in pairs:
        a, b = get(first), get(second)
        if scoring.score(a, b, parameters, frequencies) >= threshold:
            work.stored.append(
                ScoredPair(first, second, scoring.compare(a, b, parameters, frequencies))
            )
        elif (first, second) in existing:
            work.below_threshold.append(
                ScoredPair(first, second, scoring.compare(a, b, parameters, frequencies))
            )
    return work


def _scope_prefix(organisation: Organisation | None) -> str | None:
    return None if organisation is None else f"{organisation.path}%"


def _is_close_in_age(a: PersonRecord, b: PersonRecord) -> bool:
    """Both born, within a year of each other: a pair of the year chunks."""
    return (
        a.birth_date is not None
        and b.birth_date is not None
        and abs(a.birth_date.year - b.birth_date.year) <= 1
    )


def _in_scope(pairs: Iterable[Pair], scoped: set[int] | None) -> list[Pair]:
    if scoped is None:
        return list(pairs)
    return [pair for pair in pairs if pair[0] in scoped or pair[1] in scoped]


def _year_chunk(year: int, scope: str | None) -> tuple[list[Pair], dict[int, PersonRecord]]:
    records, scoped = _load(
        "p.birth_date >= %(start)s AND p.birth_date < %(end)s",
        {"start": datetime.date(year, 1, 1), "end": datetime.date(year + 2, 1, 1)},
        scope,
    )
    by_id = {record.id: record for record in records}
    born_in_year = {record.id for record in records if record.birth_date.year == year}
    owned = [
        _ordered(first, second)
        for first, second in blocking.candidate_pairs(records)
        if first in born_in_year or second in born_in_year
    ]
    return _in_scope(owned, scoped if scope else None), by_id


def _owner(a: PersonRecord, b: PersonRecord) -> str:
    """The kind of chunk that owns the pair: every pair belongs to exactly one chunk."""
    if _is_close_in_age(a, b):
        return "year"
    if a.email and a.email == b.email:
        return "email"
    if a.mobile and a.mobile == b.mobile:
        return "mobile"
    if a.birth_date is None or b.birth_date is None:
        return "no-birth-date"
    return "name-day"


def _group_pairs(
    groups: Iterable[Sequence[int]], by_id: dict[int, PersonRecord], owner: str
) -> set[Pair]:
    owned: set[Pair] = set()
    for ids in groups:
        for index, first in enumerate(ids):
            for second in ids[index + 1 :]:
                a, b = by_id.get(first), by_id.get(second)
                if a is not None and b is not None and _owner(a, b) == owner:
                    owned.add(_ordered(first, second))
    return owned


CONTACT_GROUPS_SQL = f"""
SELECT array_agg(c.person_id ORDER BY c.person_id)
FROM {CONTACT_TABLE} c JOIN {PERSON_TABLE} p ON p.id = c.person_id
WHERE c.is_standard AND c.{{column}} <> '' AND p.merged_into_id IS NULL
  AND abs(hashtext({{value}}) %% %(buckets)s) = %(bucket)s
GROUP BY {{value}}
HAVING count(*) BETWEEN 2 AND %(limit)s
"""  # noqa: S608 (table names are ours; values are parameters)


def _contact_chunk(
    column: str, bucket: int, scope: str | None
) -> tuple[list[Pair], dict[int, PersonRecord]]:
    """Persons sharing an e-mail address / a mobile number: the pairs the year chunks cannot
    see (born more than a year apart, or a birth date missing)."""
    value = "lower(c.email)" if column == "email" else "c.mobile"
    groups = [
        ids
        for (ids,) in _fetch(
            CONTACT_GROUPS_SQL.format(column=column, value=value),
            {"buckets": CONTACT_BUCKETS, "bucket": bucket, "limit": CONTACT_GROUP_LIMIT},
        )
    ]
    members = sorted({person_id for ids in groups for person_id in ids})
    records, scoped = _load("p.id = ANY(%(ids)s)", {"ids": members}, scope)
    by_id = {record.id: record for record in records}
    owned = _group_pairs(groups, by_id, column)
    return _in_scope(sorted(owned), scoped if scope else None), by_id


# The folded full name as blocking's name tokens join it (separators to one space, apostrophes
# dropped, "aa" as å and "oe" as ø), first and last name apart.
NAME_KEY_SQL = r"""
replace(replace(regexp_replace(regexp_replace(
    p.first_name_folded || '|' || p.last_name_folded,
    '[''`´"]', '', 'g'), '[[:space:]_/,.;:()-]+', ' ', 'g'), 'aa', 'a'), 'oe', 'o')
"""

NAME_DAY_GROUPS_SQL = f"""
SELECT array_agg(p.id ORDER BY p.id)
FROM {PERSON_TABLE} p
WHERE p.merged_into_id IS NULL AND p.birth_date IS NOT NULL
  AND abs(hashtext({NAME_KEY_SQL}) %% %(buckets)s) = %(bucket)s
GROUP BY {NAME_KEY_SQL}, extract(month FROM p.birth_date), extract(day FROM p.birth_date)
HAVING count(*) BETWEEN 2 AND %(limit)s
   AND max(p.birth_date) - min(p.birth_date) > 366
"""  # noqa: S608 (table names are ours; values are parameters)


def _name_day_chunk(bucket: int, scope: str | None) -> tuple[list[Pair], dict[int, PersonRecord]]:
    """The same full name and birthday in years more than a year apart (a typo in the birth
    year), not sharing contact data."""
    groups = [
        ids
        for (ids,) in _fetch(
            NAME_DAY_GROUPS_SQL,
            {"buckets": CONTACT_BUCKETS, "bucket": bucket, "limit": blocking.MAX_GROUP},
        )
    ]
    members = sorted({person_id for ids in groups for person_id in ids})
    records, scoped = _load("p.id = ANY(%(ids)s)", {"ids": members}, scope)
    by_id = {record.id: record for record in records}
    owned = _group_pairs(groups, by_id, "name-day")
    return _in_scope(sorted(owned), scoped if scope else None), by_id


UNDATED_LAST_NAMES = f"""
    SELECT DISTINCT last_name_folded FROM {PERSON_TABLE}
    WHERE birth_date IS NULL AND merged_into_id IS NULL
      AND abs(hashtext(last_name_folded) %% %(buckets)s) = %(bucket)s
"""  # noqa: S608 (table names are ours; values are parameters)

NAMESAKES_SQL = f"""
SELECT q.id
FROM ({UNDATED_LAST_NAMES}) n
JOIN LATERAL (
    SELECT id FROM {PERSON_TABLE} q
    WHERE q.last_name_folded = n.last_name_folded AND q.merged_into_id IS NULL
    ORDER BY q.birth_date IS NULL DESC, q.id
    LIMIT %(limit)s
) q ON true
"""  # noqa: S608 (table names are ours; values are parameters)


def _no_birth_date_chunk(
    bucket: int, scope: str | None
) -> tuple[list[Pair], dict[int, PersonRecord]]:
    """Persons without a birth date (their last names hashed to `bucket`) with everyone of
    the same last name: blocking pairs them by full name and by a similar first name; the
    chunk owns the pairs with a birth date missing that share no contact data."""
    params = {"buckets": CONTACT_BUCKETS, "bucket": bucket, "limit": NAMESAKE_LIMIT}
    namesakes = [person_id for (person_id,) in _fetch(NAMESAKES_SQL, params)]
    records, scoped = _load("p.id = ANY(%(ids)s)", {"ids": namesakes}, scope)
    by_id = {record.id: record for record in records}
    owned = [
        _ordered(first, second)
        for first, second in blocking.candidate_pairs(records)
        if _owner(by_id[first], by_id[second]) == "no-birth-date"
    ]
    return _in_scope(sorted(owned), scoped if scope else None), by_id


def chunk_pairs(key: str, scope: str | None) -> tuple[list[Pair], dict[int, PersonRecord]]:
    """The pairs (a < b) chunk `key` owns, and the records they name; `scope` is a path
    prefix of a run limited to an organisation (see the module docstring)."""
    if key.startswith(YEAR_PREFIX):
        return _year_chunk(int(key.removeprefix(YEAR_PREFIX)), scope)
    if key.startswith(EMAIL_PREFIX):
        return _contact_chunk("email", int(key.removeprefix(EMAIL_PREFIX)), scope)
    if key.startswith(MOBILE_PREFIX):
        return _contact_chunk("mobile", int(key.removeprefix(MOBILE_PREFIX)), scope)
    if key.startswith(NAME_DAY_PREFIX):
        return _name_day_chunk(int(key.removeprefix(NAME_DAY_PREFIX)), scope)
    if key.startswith(NO_BIRTH_DATE_PREFIX):
        return _no_birth_date_chunk(int(key.removeprefix(NO_BIRTH_DATE_PREFIX)), scope)
    raise ValueError(f"Unknown detection chunk {key!r}")


def compute_chunk(chunk: DetectionChunk) -> ChunkWork:
    """The scored pairs a chunk owns (no writes)."""
    run = chunk.run
    pairs, by_id = chunk_pairs(chunk.key, _scope_prefix(run.organisation))
    return _score(pairs, by_id, _run_parameters(run), _run_frequencies(run))


def _year_sizes(scope: str | None) -> tuple[dict[int, int], set[int]]:
    """Unmerged persons per birth year, and the years that need a chunk: all of them, or
    with a scope the years holding someone of the subtree and the years before them."""
    rows = _fetch(
        f"SELECT extract(year FROM p.birth_date)::int, count(*) FROM {PERSON_TABLE} p "  # noqa: S608
        "WHERE p.merged_into_id IS NULL AND p.birth_date IS NOT NULL GROUP BY 1"
    )
    sizes = dict(rows)
    if scope is None:
        return sizes, set(sizes)
    scoped_years = {
        year
        for (year,) in _fetch(
            f"SELECT DISTINCT extract(year FROM p.birth_date)::int FROM {PERSON_TABLE} p "  # noqa: S608
            f"WHERE p.merged_into_id IS NULL AND p.birth_date IS NOT NULL {IN_SCOPE_WHERE}",
            {"scope": scope},
        )
    }
    return sizes, (scoped_years | {year - 1 for year in scoped_years}) & set(sizes)


def plan_chunks(organisation: Organisation | None) -> list[str]:
    """The chunk keys of a run in the order they are queued (none for an empty register or
    scope): the large ones first, so that the workers end together. The shared-contact and
    name-and-birthday chunks cost about as much as a large year (measured at 1,000,000
    persons: 10-25 s against 1-45 s); the year chunks follow by the pairs they are expected
    to compare (persons born in Y times those born in Y and Y+1)."""
    scope = _scope_prefix(organisation)
    sizes, years = _year_sizes(scope)
    years = sorted(
        years, key=lambda year: (-sizes[year] * (sizes[year] + sizes.get(year + 1, 0)), year)
    )
    year_keys = [f"{YEAR_PREFIX}{year}" for year in years]
    undated = Person.objects.filter(merged_into__isnull=True, birth_date__isnull=True)
    scoped_undated = undated
    if organisation is not None:
        scoped_undated = undated.filter(access.person_scope_filter([organisation.path]))
    if not year_keys and not scoped_undated.exists():
        return []  # nobody to look for
    prefixes = [EMAIL_PREFIX, NAME_DAY_PREFIX, MOBILE_PREFIX]
    if undated.exists():
        prefixes.append(NO_BIRTH_DATE_PREFIX)
    keys = [f"{prefix}{bucket}" for prefix in prefixes for bucket in range(CONTACT_BUCKETS)]
    return keys + year_keys


# ------------------------------------------------------------------------------- runs


def may_start_detection(actor: User | None, organisation: Organisation | None) -> bool:
    """The system itself, superusers anywhere; duplicates.merge holders on their
    organisation's subtree (the whole register is for superusers only)."""
    if actor is None:
        return True
    if organisation is None:
        return access.grants_for(actor).is_superuser
    return access.has_capability(actor, Capability.DUPLICATES_MERGE, organisation)


def _queue_chunk(chunk_id: int, *, countdown: int | None = None) -> None:
    options = {"countdown": countdown} if countdown else {}
    transaction.on_commit(
        lambda: current_app.send_task(CHUNK_TASK, kwargs={"chunk_id": chunk_id}, **options)
    )


@transaction.atomic
def _create_run(actor: User | None, organisation: Organisation | None, queue: bool) -> DetectionRun:
    # One run at a time: a second start (a double click) would only do the work twice.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('members.detection_start'))")
    if DetectionRun.objects.filter(state__in=[RunState.PENDING, RunState.RUNNING]).exists():
        raise ValidationError(RUN_IN_PROGRESS, code="run_in_progress")
    keys = plan_chunks(organisation)
    # The whole register's, also for an organisation's run: its pairs reach everyone.
    frequencies = register_name_frequencies()
    run = DetectionRun.objects.create(
        organisation=organisation,
        started_by=actor,
        match_model=active_match_model(),
        chunks_total=len(keys),
        name_frequencies=frequencies.as_json(),
    )
    # Fresh: the incremental check may use it too (a table of the register, whether or not
    # this run commits).
    _share_name_frequencies(frequencies)
    chunks = DetectionChunk.objects.bulk_create(DetectionChunk(run=run, key=key) for key in keys)
    if not chunks:
        now = timezone.now()
        DetectionRun.objects.filter(pk=run.pk).update(
            state=RunState.DONE, started_at=now, finished_at=now
        )
        run.refresh_from_db()
    elif queue:
        for chunk in chunks:
            _queue_chunk(chunk.pk)
    return run


def detection_start(
    *, actor: User | None, organisation: Organisation | None = None, inline: bool = False
) -> DetectionRun:
    """Start a full detection run (over the whole register, or for an organisation's
    persons). Its chunks are queued when the transaction commits; `inline` processes them
    here instead and returns the finished run."""
    if not may_start_detection(actor, organisation):
        raise PermissionDenied(NOT_ALLOWED)
    run = _create_run(actor, organisation, queue=not inline)
    if inline:
        detection_work(run=run)
        run.refresh_from_db()
    return run


def detection_work(*, run: DetectionRun) -> int:
    """Process pending chunks of the run in this process until none is left; returns how
    many this process finished."""
    finished = 0
    while True:
        chunk_id = (
            DetectionChunk.objects.filter(run=run, state=RunState.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if chunk_id is None:
            break
        finished += detection_chunk_process(chunk_id=chunk_id, retry_delay=None)
    return finished


def _claim(chunk_id: int, timeout: datetime.timedelta) -> DetectionChunk | None:
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            DetectionChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run__organisation", "run__match_model")
            .defer("run__name_frequencies")  # read once per process (`_run_frequencies`)
            .filter(pk=chunk_id)
            .filter(
                Q(state=RunState.PENDING)
                # a re-delivered message of a chunk whose worker died (the reconciler would
                # re-queue it later; a chunk out of attempts is left to it to fail)
                | Q(
                    state=RunState.RUNNING,
                    claimed_at__lt=now - timeout,
                    attempts__lt=MAX_ATTEMPTS,
                )
            )
            .first()
        )
        if chunk is None:
            return None  # done, failed, taken by a live worker, or being claimed right now
        chunk.state, chunk.claimed_at, chunk.attempts = RunState.RUNNING, now, chunk.attempts + 1
        chunk.save(update_fields=["state", "claimed_at", "attempts"])
        DetectionRun.objects.filter(pk=chunk.run_id, state=RunState.PENDING).update(
            state=RunState.RUNNING, started_at=now
        )
    return chunk


def _finish_run_if_complete(run_id: int) -> None:
    """Called with the run row locked: end the run when no chunk is left to do."""
    states = set(
        DetectionChunk.objects.filter(run_id=run_id).values_list("state", flat=True).distinct()
    )
    if states & {RunState.PENDING, RunState.RUNNING}:
        return
    failed = DetectionChunk.objects.filter(run_id=run_id, state=RunState.FAILED).count()
    # The run added or changed many candidates: fresh statistics for the review queue.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {CANDIDATE_TABLE}")
    DetectionRun.objects.filter(pk=run_id).update(
        state=RunState.FAILED if failed else RunState.DONE,
        finished_at=timezone.now(),
        error=CHUNKS_FAILED % {"count": failed} if failed else "",
    )


def _finish(chunk: DetectionChunk, work: ChunkWork) -> bool:
    with transaction.atomic():
        locked = DetectionChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state == RunState.DONE:
            return False  # another worker finished the same chunk first
        stored = store_candidates(work.stored, source=CandidateSource.DETECTED, run=chunk.run)
        _refresh_open(work.below_threshold, chunk.run)
        locked.state, locked.finished_at, locked.error = RunState.DONE, timezone.now(), ""
        locked.pairs_compared, locked.candidates_found = work.compared, len(stored)
        locked.save(
            update_fields=["state", "finished_at", "error", "pairs_compared", "candidates_found"]
        )
        DetectionRun.objects.select_for_update().filter(pk=chunk.run_id).only("pk").get()
        DetectionRun.objects.filter(pk=chunk.run_id).update(
            chunks_done=F("chunks_done") + 1,
            pairs_compared=F("pairs_compared") + work.compared,
            candidates_found=F("candidates_found") + len(stored),
        )
        _finish_run_if_complete(chunk.run_id)
    return True


def _release_after_error(chunk: DetectionChunk, error: Exception, retry_delay: int | None) -> None:
    with transaction.atomic():
        locked = DetectionChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state != RunState.RUNNING:
            return
        locked.error = f"{type(error).__name__}: {error}"[:2000]
        if locked.attempts >= MAX_ATTEMPTS:
            locked.state = RunState.FAILED
            locked.finished_at = timezone.now()
            locked.save(update_fields=["error", "state", "finished_at"])
            DetectionRun.objects.select_for_update().filter(pk=locked.run_id).only("pk").get()
            _finish_run_if_complete(locked.run_id)
            return
        locked.state, locked.claimed_at = RunState.PENDING, None
        locked.save(update_fields=["error", "state", "claimed_at"])
        if retry_delay is not None:
            _queue_chunk(locked.pk, countdown=retry_delay * locked.attempts)


def detection_chunk_process(
    *,
    chunk_id: int,
    timeout: datetime.timedelta = CHUNK_TIMEOUT,
    retry_delay: int | None = RETRY_DELAY_SECONDS,
) -> bool:
    """Claim the chunk, compute it and store the result. False when there was nothing to do
    (done, failed, or another worker on it). An error puts the chunk back (re-queued after
    `retry_delay` seconds times its attempts; not at all with None) until MAX_ATTEMPTS."""
    chunk = _claim(chunk_id, timeout)
    if chunk is None:
        return False
    started = time.monotonic()
    try:
        work = compute_chunk(chunk)
    except Exception as error:
        logger.exception("Duplicate detection chunk %s failed", chunk)
        _release_after_error(chunk, error, retry_delay)
        return False
    finished = _finish(chunk, work)
    logger.info(
        "Duplicate detection chunk %s: %s pairs, %s candidates in %.1f s",
        chunk,
        work.compared,
        len(work.stored),
        time.monotonic() - started,
    )
    return finished


@dataclass(frozen=True)
class ReconcileReport:
    requeued: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


def detection_reconcile(
    *,
    timeout: datetime.timedelta = CHUNK_TIMEOUT,
    max_attempts: int = MAX_ATTEMPTS,
    run: DetectionRun | None = None,
) -> ReconcileReport:
    """Re-queue stalled chunks: running longer than `timeout` (the worker died), or pending in
    a run on which nothing happened for `timeout` (the message was lost). A chunk claimed
    `max_attempts` times fails. Chunks another transaction holds are left for the next round."""
    now = timezone.now()
    stale_before = now - timeout
    requeued: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        chunks = DetectionChunk.objects.select_for_update(skip_locked=True).filter(
            Q(state=RunState.RUNNING, claimed_at__lt=stale_before)
            | Q(state=RunState.PENDING, run__in=_idle_runs(stale_before))
        )
        if run is not None:
            chunks = chunks.filter(run=run)
        for chunk in chunks.order_by("pk"):
            if chunk.attempts >= max_attempts:
                chunk.state, chunk.finished_at = RunState.FAILED, now
                chunk.error = CHUNK_GAVE_UP % {"attempts": chunk.attempts}
                chunk.save(update_fields=["state", "finished_at", "error"])
                failed.append(chunk.pk)
                continue
            if chunk.state == RunState.PENDING:
                # Nobody took it: this hand-out counts as an attempt too, so a run whose
                # messages go where no worker listens ends (failed) instead of blocking the
                # next run for ever.
                chunk.attempts += 1
            # On a pending chunk, claimed_at is when it was last re-queued (see the docstring).
            chunk.state, chunk.claimed_at = RunState.PENDING, now
            chunk.save(update_fields=["state", "claimed_at", "attempts"])
            _queue_chunk(chunk.pk)
            requeued.append(chunk.pk)
        run_ids = sorted(
            set(DetectionChunk.objects.filter(pk__in=failed).values_list("run_id", flat=True))
        )
        for run_id in run_ids:
            DetectionRun.objects.select_for_update().filter(pk=run_id).only("pk").get()
            _finish_run_if_complete(run_id)
    return ReconcileReport(requeued=tuple(requeued), failed=tuple(failed))


def _idle_runs(stale_before: datetime.datetime):
    """Unfinished runs on which no chunk was claimed, re-queued or finished since
    `stale_before` (and that were created before it)."""
    recent = DetectionChunk.objects.filter(
        Q(claimed_at__gte=stale_before) | Q(finished_at__gte=stale_before)
    ).values("run_id")
    return (
        DetectionRun.objects.filter(
            state__in=[RunState.PENDING, RunState.RUNNING], created_at__lt=stale_before
        )
        .exclude(pk__in=recent)
        .values("pk")
    )


# ------------------------------------------------------------------ incremental check

FIND_SQL = f"""
WITH ids AS (
    (SELECT p.id FROM {PERSON_TABLE} p
     WHERE %(birth)s::date IS NOT NULL AND p.birth_date = %(birth)s::date
     LIMIT %(limit)s)
    UNION
    (SELECT p.id FROM {PERSON_TABLE} p
     WHERE p.last_name_folded = ANY(%(lasts)s) AND p.first_name_folded = ANY(%(firsts)s)
       -- "+ 0": filter the few rows the name index finds, do not scan the birth date index
       AND p.birth_date + 0 BETWEEN %(birth_from)s::date AND %(birth_to)s::date
     LIMIT %(limit)s)
    UNION
    (SELECT p.id FROM {PERSON_TABLE} p
     WHERE p.last_name_folded = %(first)s AND p.first_name_folded = %(last)s
     LIMIT %(limit)s)
    UNION
    (SELECT p.id FROM {PERSON_TABLE} p
     WHERE p.last_name_folded = %(last)s AND p.first_name_folded = %(first)s
     ORDER BY abs(coalesce(p.birth_date, %(birth)s::date) - %(birth)s::date) NULLS FIRST
     LIMIT %(limit)s)
    UNION
    (SELECT c.person_id FROM {CONTACT_TABLE} c
     WHERE %(email)s <> '' AND c.email = %(email)s AND c.is_standard
     LIMIT %(limit)s)
    UNION
    (SELECT c.person_id FROM {CONTACT_TABLE} c
     WHERE %(mobile)s <> '' AND c.mobile = %(mobile)s AND c.is_standard
     LIMIT %(limit)s)
)
SELECT {RECORD_COLUMNS} {RECORD_FROM}
WHERE p.id IN (SELECT id FROM ids) AND p.merged_into_id IS NULL
"""  # noqa: S608 (table names are ours; values are parameters)


def _e164(mobile: str) -> str:
    if not mobile or mobile.startswith("+"):
        return mobile
    return normalise_phone(mobile) or mobile


def _similar_spellings(spellings: search.Spellings, folded: str) -> list[str]:
    """The register's spellings of a folded name that are trigram-similar to it (pg_trgm's
    similarity, from the search module's in-memory name dictionary), best first; the name
    itself always."""
    if not folded:
        return []
    own = search.trigrams(folded)
    ranked = {folded: 1.0}
    for value, _rank in spellings.matching(folded, DICTIONARY_CANDIDATES):
        similarity = search.similarity(own, search.trigrams(value))
        if similarity >= NAME_SIMILARITY:
            ranked[value] = max(ranked.get(value, 0.0), similarity)
    ordered = sorted(ranked, key=lambda value: (-ranked[value], value))
    return ordered[:SPELLINGS_PER_NAME]


def _possible_duplicates(
    record: PersonRecord,
    exclude_ids: Iterable[int],
    limit: int,
    parameters: dict,
    frequencies: scoring.NameFrequencies | None,
) -> list[tuple[PersonRecord, Comparison]]:
    (first, last), dictionary = search.NAME_DICTIONARY.prepare(
        [record.first_name, record.last_name]
    )
    birth = record.birth_date
    params = {
        "first": first,
        "last": last,
        "firsts": _similar_spellings(dictionary.columns[search.FIRST], first),
        "lasts": _similar_spellings(dictionary.columns[search.LAST], last),
        "birth": birth,
        "birth_from": birth - datetime.timedelta(days=SIMILAR_BIRTH_DAYS) if birth else None,
        "birth_to": birth + datetime.timedelta(days=SIMILAR_BIRTH_DAYS) if birth else None,
        "email": record.email.strip().lower(),
        "mobile": _e164(record.mobile.strip()),
        "limit": LOOKUP_LIMIT,
    }
    excluded = {*exclude_ids, record.id}
    own = _prepare(record)
    scored = []
    for row in _fetch(FIND_SQL, params):
        candidate = _prepare(_record(row))
        if candidate.record.id in excluded:
            continue
        if scoring.score(own, candidate, parameters, frequencies) >= scoring.STORE_THRESHOLD:
            scored.append(
                (candidate.record, scoring.compare(own, candidate, parameters, frequencies))
            )
    scored.sort(key=lambda item: (-item[1].score, item[0].id))
    return scored[:limit]


def find_possible_duplicates(
    record: PersonRecord, *, exclude_ids: Iterable[int] = (), limit: int = 10
) -> list[tuple[Person, Comparison]]:
    """The existing (unmerged) persons the record may be, best first, scoring at least
    STORE_THRESHOLD with the active match model and the register's name frequencies
    (`current_name_frequencies`). `record.id` (when saved) is left out."""
    best = _possible_duplicates(
        record, exclude_ids, limit, active_parameters(), current_name_frequencies()
    )
    persons = Person.objects.in_bulk([candidate.id for candidate, _comparison in best])
    return [(persons[candidate.id], comparison) for candidate, comparison in best]


def person_check_duplicates(*, person_id: int, limit: int = 10) -> list[DuplicateCandidate]:
    """The incremental check for a saved person: store the persons they may be as open
    candidates (never reopening a decided pair). Returns the candidates written, best first."""
    records = load_records([person_id])
    if not records or Person.objects.filter(pk=person_id, merged_into__isnull=False).exists():
        return []
    record = records[0]
    parameters, frequencies = active_parameters(), current_name_frequencies()
    pairs = []
    for candidate, comparison in _possible_duplicates(record, (), limit, parameters, frequencies):
        if candidate.id < person_id:
            # A candidate's explanation reads person A, then person B (lower id first).
            comparison = scoring.compare(candidate, record, parameters, frequencies)
            pairs.append(ScoredPair(candidate.id, person_id, comparison))
        else:
            pairs.append(ScoredPair(person_id, candidate.id, comparison))
    written = store_candidates(pairs, source=CandidateSource.INCREMENTAL)
    return list(DuplicateCandidate.objects.filter(pk__in=written).order_by("-score", "pk"))
