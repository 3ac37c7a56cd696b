"""Benchmark: person search (P-01..P-03) at federation scale (issue 3 acceptance).

Uses its own database (BENCH_DATABASE_NAME, default `clubadmin_bench_search`), seeded once with
`seed_demo --persons 1000000 --seed 1` (BENCH_SEARCH_PERSONS to change the size; seeding is
skipped when the register is already there). Then, in-process, it calls the search selector
and materialises the (up to) 100 result rows for BENCH_SEARCH_QUERIES (default 240) varied
queries of each kind, after one untimed warm-up round:
- simple: a name search as the simple search box sends it (last name; first and last name;
  a first name; the beginning of a last name; a misspelt or accent-less name), drawn from
  random persons of the register (so common names come up as often as in real life);
- advanced: last name + birth year + club (P-02), from random persons and their club;
each as the federation staff user (`forbund`, sees the whole register) and as the general
manager of the demo club (`dagligleder`, sees the club: the names come from its persons).
Prints, in milliseconds:
    BENCH person_search.simple.p95 <ms> ms            (federation staff)
    BENCH person_search.advanced.p95 <ms> ms
    BENCH person_search.simple_club_user.p95 <ms> ms  (club general manager)
    BENCH person_search.advanced_club_user.p95 <ms> ms
and the p50 of each. The goal: p95 under 50 ms.
"""

import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchdb import bench_line, percentile, setup_django

DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME", "clubadmin_bench_search")
PERSONS = int(os.environ.get("BENCH_SEARCH_PERSONS", "1000000"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "240"))
VERBOSE = bool(os.environ.get("BENCH_SEARCH_VERBOSE"))  # list the slowest queries
SEED = 1
GOAL_MS = 50.0

setup_django(DATABASE_NAME)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from clubadmin.demo_data import DEMO_CLUB_ORGANISATION_NUMBER  # noqa: E402
from clubadmin.management.commands.seed_demo import demo_data_present  # noqa: E402
from members import search  # noqa: E402
from members.models import Function, Organisation, Person, User  # noqa: E402

ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def ensure_register() -> None:
    if demo_data_present() and Person.objects.count() == PERSONS:
        return
    sys.stderr.write(f"Seeding {PERSONS} persons into {DATABASE_NAME} (once)...\n")
    call_command("seed_demo", persons=PERSONS, seed=SEED, reset=True, stdout=io.StringIO())
    # A steady-state database: visibility map and statistics as autovacuum leaves them.
    with connection.cursor() as cursor:
        for table in ("members_person", "members_contactset", "members_function"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def sample_persons(rng: random.Random, count: int, club: Organisation | None) -> list[Person]:
    """Random living persons (of the club's subtree when given)."""
    queryset = Person.objects.filter(is_deceased=False)
    if club is not None:
        queryset = queryset.filter(
            pk__in=Function.objects.filter(organisation__path__startswith=club.path).values(
                "person_id"
            )
        )
        ids = list(queryset.values_list("pk", flat=True))
    else:
        top = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
        ids = [rng.randint(1, top) for _ in range(count * 3)]
    chosen = rng.sample(ids, min(len(ids), count * 2))
    persons = {p.pk: p for p in queryset.filter(pk__in=chosen)}
    return [persons[pk] for pk in chosen if pk in persons][:count]


def misspelt(rng: random.Random, name: str) -> str:
    """What a hurried user types: æøå as ASCII, or one letter dropped or doubled."""
    ascii_name = name.translate(ASCII)
    if ascii_name != name and rng.random() < 0.6:
        return ascii_name
    position = rng.randrange(1, len(name)) if len(name) > 2 else 1
    if rng.random() < 0.5:
        return name[:position] + name[position:][1:]
    return name[:position] + name[position - 1] + name[position:]


def simple_query(rng: random.Random, person: Person) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.35:
        text = person.last_name
    elif roll < 0.65:
        text = f"{person.first_name} {person.last_name}"
    elif roll < 0.75:
        text = person.first_name
    elif roll < 0.87:
        text = person.last_name[: max(3, len(person.last_name) - 2)]
    else:
        text = f"{person.first_name} {misspelt(rng, person.last_name)}"
    return {"q": text}


def advanced_query(person: Person, club: Organisation) -> dict[str, str]:
    return {
        "last_name": person.last_name,
        "birth_year": str(person.birth_date.year),
        "organisation": str(club.pk),
    }


def clubs_of(persons: list[Person]) -> dict[int, Organisation]:
    functions = Function.objects.filter(
        person__in=persons, function_type__code="member"
    ).select_related("organisation")
    return {function.person_id: function.organisation for function in functions}


def timed(user: User, queries: list[dict[str, str]]) -> list[float]:
    timings = []
    for data in queries:
        started = time.perf_counter()
        criteria = search.parse_criteria(data)
        result = search.person_search(user=user, criteria=criteria)
        rows = [(p.pk, p.last_name, p.contact_postcode) for p in result.persons]
        timings.append((time.perf_counter() - started) * 1000)
        assert len(rows) <= search.MAX_RESULTS
    return timings


def main() -> int:
    ensure_register()
    rng = random.Random(42)
    staff = User.objects.get(username="forbund")
    manager = User.objects.get(username="dagligleder")
    club = Organisation.objects.get(organisation_number=DEMO_CLUB_ORGANISATION_NUMBER)

    everyone = sample_persons(rng, QUERIES, None)
    their_clubs = clubs_of(everyone)
    members = sample_persons(rng, QUERIES, club)
    workloads = {
        "simple": (staff, [simple_query(rng, p) for p in everyone]),
        "advanced": (
            staff,
            [advanced_query(p, their_clubs[p.pk]) for p in everyone if p.pk in their_clubs],
        ),
        "simple_club_user": (manager, [simple_query(rng, p) for p in members]),
        "advanced_club_user": (manager, [advanced_query(p, club) for p in members]),
    }
    results = {}
    for name, (user, queries) in workloads.items():
        timed(user, queries)  # warm-up: caches, the name dictionary
        results[name] = (len(queries), timed(user, queries))
    missed = []
    for name, (count, timings) in results.items():
        p95 = percentile(timings, 0.95)
        print(bench_line(f"person_search.{name}.p95", p95, "ms"))
        print(bench_line(f"person_search.{name}.p50", percentile(timings, 0.5), "ms"))
        sys.stderr.write(f"{name}: {count} queries, max {max(timings):.1f} ms\n")
        if VERBOSE:
            queries = workloads[name][1]
            for ms, data in sorted(zip(timings, queries, strict=True), key=lambda x: -x[0])[:8]:
                sys.stderr.write(f"    {ms:8.1f} ms {data}\n")
        if p95 >= GOAL_MS:
            missed.append(name)
    if missed:
        sys.stderr.write(f"Goal p95 < {GOAL_MS:.0f} ms missed by: {', '.join(missed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
