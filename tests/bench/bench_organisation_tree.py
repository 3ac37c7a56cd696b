"""Benchmark: "this organisation and everything below" at 10,000 organisations (issue 2).

Builds a federation of 10,000 organisations (regions, clubs, groups, teams) in its own
database, then measures over 300 varied queries each:
- subtree: every organisation below a random club or region (path prefix, index range scan);
- scoped organisations for a user holding functions in three clubs (clubadmin.access);
- has_capability for a user (grants computed once, then cached on the user object).
Prints `BENCH organisation_tree.<measure>.p95 <ms> ms` lines.
"""

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchdb import bench_line, percentile, setup_django

setup_django("clubadmin_bench_tree")

from django.db import connection, transaction  # noqa: E402

from clubadmin import access  # noqa: E402
from clubadmin.capabilities import Capability  # noqa: E402
from members.models import Function, FunctionType, Organisation, Person, User  # noqa: E402

TARGET = 10_000
QUERIES = 300


def build_tree() -> None:
    if Organisation.objects.count() >= TARGET:
        return
    with transaction.atomic():
        Function.objects.all().delete()
        User.objects.all().delete()
        Organisation.objects.all().delete()
        regions = []
        for r in range(15):
            clubs = []
            for c in range(40):
                groups = []
                for g, sport in enumerate(("Fotball", "Håndball")):
                    teams = [
                        {"data": {"name": f"Lag {r}-{c}-{g}-{t}", "organisation_type": "team"}}
                        for t in range(7)
                    ]
                    groups.append(
                        {
                            "data": {"name": f"{sport} {r}-{c}", "organisation_type": "group"},
                            "children": teams,
                        }
                    )
                clubs.append(
                    {
                        "data": {"name": f"Klubb {r}-{c}", "organisation_type": "club"},
                        "children": groups,
                    }
                )
            regions.append(
                {"data": {"name": f"Region {r}", "organisation_type": "region"}, "children": clubs}
            )
        Organisation.objects.load_bulk(
            [
                {
                    "data": {"name": "Benchforbundet", "organisation_type": "federation"},
                    "children": regions,
                }
            ],
            bulk_create=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_organisation")


def timed(function, arguments) -> list[float]:
    durations = []
    for argument in arguments:
        start = time.perf_counter()
        function(argument)
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def main() -> None:
    build_tree()
    total = Organisation.objects.count()
    print(f"organisations: {total}")
    rng = random.Random(2)
    tops = list(Organisation.objects.filter(organisation_type__in=["club", "region"]))
    samples = [rng.choice(tops) for _ in range(QUERIES)]

    subtree = timed(lambda o: list(o.subtree().values_list("pk", flat=True)), samples)
    print(bench_line("organisation_tree.subtree.p95", percentile(subtree, 0.95), "ms"))

    clubs = list(Organisation.objects.filter(organisation_type="club"))
    person = Person.objects.create(first_name="Bench", last_name="Person")
    user, _ = User.objects.get_or_create(username="bench", defaults={"person": person})
    user.person = person
    user.save()
    manager = FunctionType.objects.get(code="general-manager")
    Function.objects.filter(person=person).delete()
    for club in rng.sample(clubs, 3):
        Function.objects.create(person=person, organisation=club, function_type=manager)

    def scoped(_):
        fresh = User.objects.get(pk=user.pk)  # new object: grants computed again
        return list(access.visible_organisations(fresh).values_list("pk", flat=True))

    scoped_ms = timed(scoped, range(QUERIES))
    print(bench_line("organisation_tree.scoped_list.p95", percentile(scoped_ms, 0.95), "ms"))

    fresh = User.objects.get(pk=user.pk)
    checks = timed(
        lambda o: access.has_capability(fresh, Capability.MEMBERS_MANAGE, o),
        [rng.choice(tops) for _ in range(QUERIES)],
    )
    print(bench_line("organisation_tree.has_capability.p95", percentile(checks, 0.95), "ms"))


if __name__ == "__main__":
    main()
