"""Benchmark: quality of the pure duplicate engine on the seed_demo register, in memory.

`seed_demo --persons N --seed 1` plants about 1.5 % duplicates (a second registration of
someone in another club, with a typo: letters swapped, æøå typed in ASCII, the middle name
dropped, day and month swapped; e-mail and phone each re-entered half of the time, the address
kept 60 % of the time). Its names come from short lists, so at federation size it is full of
namesakes: same first and last name, birth dates days apart, other addresses. This bench
builds the very register plan `seed_demo` writes (`clubadmin.demo_data.RegisterGenerator`, the
same random stream as `tests/bench/bench_duplicates.py::demo_truth`), as records with ids
index + 1, without a database; it builds the candidate pairs (`blocking.candidate_pairs`, what
the full run's chunks compare together), the register's name frequencies
(`scoring.name_frequencies`, as the full run computes them in SQL) and scores every pair
(`scoring.score`), then measures the pairs at or above `scoring.DEFAULT_THRESHOLD` against the
planted duplicates:
    BENCH duplicates.demo_inmemory.<n>.precision <0..1> ratio   (aim >= 0.9)
    BENCH duplicates.demo_inmemory.<n>.recall <0..1> ratio      (goal >= 0.95)
    BENCH duplicates.demo_inmemory.<n>.f1 <0..1> ratio
    BENCH duplicates.demo_inmemory.<n>.candidates_stored <n> pairs (at or above
        `scoring.STORE_THRESHOLD`: the review queue a full run would fill)
    BENCH duplicates.demo_inmemory.<n>.blocking_recall <0..1> ratio
    BENCH duplicates.demo_inmemory.<n>.false_pairs_sharing_an_email <n> pairs (namesakes
        the generator gave the same e-mail address, first.last@provider: not unique there)
and the same without the name frequencies ("no_tf.": what the model does without them).
The demo generator itself is not tuned to this bench (that would be tuning data to a metric).

BENCH_DUP_DEMO_PERSONS: comma-separated sizes (default 200000); BENCH_DUP_VERBOSE=1 prints the
most frequent level patterns of the false positives and of the missed duplicates.

Run from the repository root:
    .venv/bin/python tests/bench/bench_duplicates_demo_inmemory.py
"""

import gc
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from clubadmin.demo_data import RegisterGenerator, plan_organisations
from members.duplicates import blocking, scoring, synthetic
from members.duplicates.records import PersonRecord

SIZES = [int(size) for size in os.environ.get("BENCH_DUP_DEMO_PERSONS", "200000").split(",")]
DEMO_SEED = 1  # as seed_demo --seed 1 and bench_duplicates.DEMO_SEED
VERBOSE = bool(os.environ.get("BENCH_DUP_VERBOSE"))


def line(label: str, name: str, value: float, unit: str, digits: int = 4) -> None:
    print(f"BENCH duplicates.demo_inmemory.{label}.{name} {value:.{digits}f} {unit}", flush=True)


def size_label(persons: int) -> str:
    if persons % 1_000_000 == 0:
        return f"{persons // 1_000_000}m"
    if persons % 1_000 == 0:
        return f"{persons // 1_000}k"
    return str(persons)


def demo_register(persons: int) -> tuple[list[PersonRecord], set[tuple[int, int]]]:
    """The records seed_demo writes (standard contact set: e-mail, phone as mobile, address)
    with ids index + 1, and the planted duplicate pairs."""
    rng = random.Random(DEMO_SEED)  # the demo's own stream
    generator = RegisterGenerator(rng, plan_organisations(rng, persons), persons)
    records, truth = [], set()
    for planned in generator.persons():
        record_id = planned.index + 1
        records.append(
            PersonRecord(
                id=record_id,
                first_name=planned.first_name,
                last_name=planned.last_name,
                middle_name=planned.middle_name,
                gender=planned.gender,
                birth_date=planned.birth_date,
                email=planned.email.lower(),
                mobile=planned.phone,
                street=planned.street,
                postcode=planned.postcode,
                city=planned.city,
            )
        )
        if planned.duplicate_of is not None:
            truth.add((planned.duplicate_of + 1, record_id))
    return records, truth


def scored(pairs, prepared, parameters, frequencies):
    return {
        pair: scoring.score(prepared[pair[0]], prepared[pair[1]], parameters, frequencies)
        for pair in pairs
    }


def report(label, scores, truth, by_id, prepared, parameters, frequencies):
    predicted = {pair for pair, value in scores.items() if value >= scoring.DEFAULT_THRESHOLD}
    metrics = synthetic.evaluate(predicted, truth)
    line(label, "precision", metrics.precision, "ratio")
    line(label, "recall", metrics.recall, "ratio")
    line(label, "f1", metrics.f1, "ratio")
    stored = sum(value >= scoring.STORE_THRESHOLD for value in scores.values())
    line(label, "candidates_stored", stored, "pairs", 0)
    line(label, "pairs_above_threshold", len(predicted), "pairs", 0)
    # The generator makes e-mail addresses from names (first.last@provider) without keeping
    # them unique, so namesakes may share one: a thing a real register cannot have.
    shared_email = sum(
        1 for a, b in predicted - truth if by_id[a].email and by_id[a].email == by_id[b].email
    )
    line(label, "false_pairs_sharing_an_email", shared_email, "pairs", 0)
    if VERBOSE:
        for kind, pairs in (
            ("false positive", predicted - truth),
            ("missed", (truth & scores.keys()) - predicted),
        ):
            patterns = Counter(
                tuple(
                    scoring.compare(prepared[a], prepared[b], parameters, frequencies).levels[field]
                    for field in scoring.FIELDS
                )
                for a, b in pairs
            )
            print(f"# {kind}: {len(pairs)} pairs, top level patterns:")
            for pattern, count in patterns.most_common(12):
                print(f"#   {count:7d} {pattern}")
            for a, b in sorted(pairs)[:6]:
                comparison = scoring.compare(prepared[a], prepared[b], parameters, frequencies)
                print(f"#   {by_id[a]}\n#   {by_id[b]}\n#   -> {comparison.score:.3f}")
                for item in comparison.explanation():
                    print(f"#      {item}")


def measure(persons: int) -> None:
    label = size_label(persons)
    started = time.perf_counter()
    records, truth = demo_register(persons)
    gc.freeze()  # millions of long-lived objects: keep the collector off them
    print(
        f"# {label}: {len(records)} records, {len(truth)} planted duplicates "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    by_id = {record.id: record for record in records}
    frequencies = scoring.name_frequencies(records)
    cpu = time.process_time()
    pairs = blocking.candidate_pairs(records)
    print(
        f"# {len(pairs)} candidate pairs in {time.process_time() - cpu:.0f} s CPU",
        flush=True,
    )
    line(label, "candidate_pairs", len(pairs), "pairs", 0)
    line(label, "blocking_recall", len(pairs & truth) / len(truth), "ratio")
    prepare = getattr(scoring.prepare, "__wrapped__", scoring.prepare)
    prepared = {record.id: prepare(record) for record in records}
    parameters = scoring.default_parameters()
    cpu = time.process_time()
    scores = scored(pairs, prepared, parameters, frequencies)
    line(label, "score_us", (time.process_time() - cpu) / max(len(pairs), 1) * 1e6, "us/pair", 1)
    report(label, scores, truth, by_id, prepared, parameters, frequencies)
    scores = scored(pairs, prepared, parameters, None)
    report(f"{label}.no_tf", scores, truth, by_id, prepared, parameters, None)


def main() -> None:
    for persons in SIZES:
        measure(persons)
        gc.unfreeze()
        gc.collect()


if __name__ == "__main__":
    main()
