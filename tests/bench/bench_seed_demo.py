"""Benchmark: `manage.py seed_demo --reset` at federation scale.

Seeds BENCH_SEED_PERSONS persons (default 100,000) into its own database (BENCH_DATABASE_NAME,
default `clubadmin_bench`, created and migrated when missing) and prints:
    BENCH seed_demo.persons_per_second <value> persons/s
    BENCH seed_demo.seconds_<size> <value> s      (size: 100k, 1m, ...)
The goal: 1,000,000 persons in under 10 minutes on 2 cores.
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchdb import setup_django

DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME", "clubadmin_bench")
PERSONS = int(os.environ.get("BENCH_SEED_PERSONS", "100000"))
SEED = 1

setup_django(DATABASE_NAME)

from django.core.management import call_command  # noqa: E402

from members.models import Person  # noqa: E402


def size_label(persons: int) -> str:
    if persons % 1_000_000 == 0:
        return f"{persons // 1_000_000}m"
    if persons % 1_000 == 0:
        return f"{persons // 1_000}k"
    return str(persons)


def main() -> int:
    output = io.StringIO()
    started = time.perf_counter()
    call_command("seed_demo", persons=PERSONS, seed=SEED, reset=True, stdout=output)
    seconds = time.perf_counter() - started
    # The command's own summary goes to stderr so that stdout holds only the BENCH lines.
    sys.stderr.write(output.getvalue())
    seeded = Person.objects.count()
    if seeded != PERSONS:
        sys.stderr.write(f"Expected {PERSONS} persons, found {seeded}.\n")
        return 1
    print(f"BENCH seed_demo.persons_per_second {PERSONS / seconds:.1f} persons/s")
    print(f"BENCH seed_demo.seconds_{size_label(PERSONS)} {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
