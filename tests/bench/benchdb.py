"""Shared set-up for benchmark scripts: a separate, migrated database per benchmark, so that
benchmarks never touch the development or test databases.

Usage at the top of a bench script (before importing models):
    from tests.bench.benchdb import setup_django
    setup_django("clubadmin_bench_tree")
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(database_name: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clubadmin.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    _create_database(database_name)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_database(name: str) -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


def bench_line(name: str, value: float, unit: str) -> str:
    return f"BENCH {name} {value:.2f} {unit}"
