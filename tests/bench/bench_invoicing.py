"""Benchmark: an invoicing run for 100,000 members commits in under 30 s with 2 worker
processes (issue 6 acceptance).

Seeds (once) its own database (BENCH_INVOICING_DATABASE, default `clubadmin_bench_invoicing`)
with one club of BENCH_INVOICING_MEMBERS members (default 100,000): adults, families with a
family membership (two adults and two children), children invoiced to a guardian, and
pensioners, on the example club's 2027 fee schedule. Then, BENCH_INVOICING_RUNS times
(default 1), empties the invoice tables, starts a real Celery worker with
`--concurrency BENCH_INVOICING_WORKERS` (default 2) on a private queue, starts the membership
run and waits until it is done. Prints:
    BENCH invoicing.run_100k.seconds <s> s        (start to the last chunk committed)
    BENCH invoicing.invoices_per_second <n> invoices/s
    BENCH invoicing.invoices <n> count
and, because the machine may be shared, the CPU seconds per phase (of the median run):
    BENCH invoicing.start.cpu_seconds <s> s       (this process and its database backend)
    BENCH invoicing.workers.cpu_seconds <s> s     (the worker processes, start-up included)
    BENCH invoicing.database.cpu_seconds <s> s    (backends on the bench database other than
                                                   this process's, sampled while the run
                                                   goes: the workers', autovacuum included)
    BENCH invoicing.chunk.seconds <s> s           (mean claim-to-commit time of a chunk)
Their sum over 2 cores is what the run needs from an otherwise idle machine. The workers are
stopped with SIGKILL at the end: the run queued PDF renderings (scope 3) on the same private
queue, behind its chunks; they are dropped, not waited for.

Run from the repository root: `make bench ONLY=invoicing`.
"""

import datetime
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

QUEUE = f"clubadmin-bench-invoicing-{uuid.uuid4().hex[:8]}"
os.environ["CELERY_QUEUE"] = QUEUE  # this process sends to the private queue by default

from tests.bench.benchdb import bench_line, setup_django  # noqa: E402

DATABASE_NAME = os.environ.get("BENCH_INVOICING_DATABASE", "clubadmin_bench_invoicing")
MEMBERS = int(os.environ.get("BENCH_INVOICING_MEMBERS", "100000"))
RUNS = int(os.environ.get("BENCH_INVOICING_RUNS", "1"))
WORKERS = int(os.environ.get("BENCH_INVOICING_WORKERS", "2"))
SEASON = 2027
CLUB_NAME = "Benk Invoicing IL"
GOAL_SECONDS = 30

setup_django(DATABASE_NAME)

from django.db import connection, transaction  # noqa: E402

from billing import services as billing_services  # noqa: E402
from billing.invoicing import services  # noqa: E402
from billing.models import Invoice, InvoicingChunk, InvoicingRun  # noqa: E402
from members.models import (  # noqa: E402
    ContactSet,
    Family,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    Organisation,
    OrganisationType,
    Person,
)

BATCH = 5000


def _club() -> Organisation | None:
    return Organisation.objects.filter(name=CLUB_NAME).first()


def _persons(count: int, start: int, born: datetime.date, prefix: str) -> list[Person]:
    people = Person.objects.bulk_create(
        (
            Person(
                first_name=f"{prefix}{start + i}",
                last_name="Benk",
                birth_date=born + datetime.timedelta(days=(start + i) % 3000),
                sports_id=f"BI{start + i:09d}",
            )
            for i in range(count)
        ),
        batch_size=BATCH,
    )
    ContactSet.objects.bulk_create(
        (
            ContactSet(
                person=p,
                is_standard=True,
                street=f"Benkveien {p.pk % 200}",
                postcode="0477",
                city="Oslo",
                email=f"p{p.pk}@example.org",
            )
            for p in people
        ),
        batch_size=BATCH,
    )
    return people


@transaction.atomic
def seed() -> Organisation:
    """One club of MEMBERS members: 40% in families of four (family membership), 10%
    children invoiced to a guardian, 5% pensioners, the rest adults."""
    federation = Organisation.add_root(
        name="Benkforbundet", organisation_type=OrganisationType.FEDERATION
    )
    club = federation.add_child(
        name=CLUB_NAME,
        organisation_type=OrganisationType.CLUB,
        organisation_number="974760673",
        bank_account="12345678903",
    )
    billing_services.fee_schedule_create_from_example(actor=None, club=club, season=SEASON)
    types = {
        category: MembershipType.objects.create(
            club=club, code=category, name=category.title(), category=category
        )
        for category in (MembershipCategory.ORDINARY, MembershipCategory.FAMILY)
    }
    families_count = MEMBERS * 4 // 10 // 4
    children_count = MEMBERS // 10
    pensioners = MEMBERS // 20
    adults_count = MEMBERS - families_count * 4 - children_count - pensioners
    memberships: list[Membership] = []
    joined = datetime.date(2024, 1, 1)

    def member(person: Person, kind: str, family: Family | None = None) -> None:
        memberships.append(
            Membership(
                person=person,
                club=club,
                membership_type=types[kind],
                family=family,
                status=MembershipStatus.ACTIVE,
                start_date=joined,
            )
        )

    n = 0
    for person in _persons(adults_count, n, datetime.date(1970, 1, 1), "Voksen"):
        member(person, MembershipCategory.ORDINARY)
    n += adults_count
    for person in _persons(pensioners, n, datetime.date(1940, 1, 1), "Pensjonist"):
        member(person, MembershipCategory.ORDINARY)
    n += pensioners
    parents = _persons(families_count * 2, n, datetime.date(1980, 1, 1), "Forelder")
    n += families_count * 2
    kids = _persons(families_count * 2, n, datetime.date(2012, 1, 1), "Barn")
    n += families_count * 2
    families = Family.objects.bulk_create(
        (
            Family(club=club, name=f"Familie {i}", contact_person=parents[2 * i])
            for i in range(families_count)
        ),
        batch_size=BATCH,
    )
    relations = []
    for i, family in enumerate(families):
        for person in (parents[2 * i], parents[2 * i + 1], kids[2 * i], kids[2 * i + 1]):
            member(person, MembershipCategory.FAMILY, family)
        for kid in (kids[2 * i], kids[2 * i + 1]):
            relations += [
                GuardianRelation(guardian=parents[2 * i], child=kid),
                GuardianRelation(guardian=parents[2 * i + 1], child=kid),
            ]
    # Children without a family membership, invoiced to a guardian (an ordinary adult member).
    adults = list(
        Person.objects.filter(first_name__startswith="Voksen").order_by("pk")[:children_count]
    )
    for index, child in enumerate(_persons(children_count, n, datetime.date(2014, 1, 1), "Ungdom")):
        member(child, MembershipCategory.ORDINARY)
        relations.append(GuardianRelation(guardian=adults[index // 2], child=child))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    GuardianRelation.objects.bulk_create(relations, batch_size=BATCH)
    return club


def empty_invoices() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_invoiceline, billing_invoiceevent, billing_historicalinvoice, "
            "billing_invoice, billing_invoicingchunk, billing_invoicingrun, "
            "billing_invoicenumberseries CASCADE"
        )


def start_worker() -> subprocess.Popen:
    db = connection.settings_dict
    url = (
        f"postgres://{db.get('USER') or 'postgres'}"
        f"{(':' + db['PASSWORD']) if db.get('PASSWORD') else ''}"
        f"@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or '5432'}/{db['NAME']}"
    )
    celery = str(Path(sys.executable).with_name("celery"))
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [
            *(celery, "-A", "clubadmin", "worker", "-Q", QUEUE, "--concurrency", str(WORKERS)),
            *("--loglevel", "WARNING", "--without-gossip", "--without-mingle"),
            *("--hostname", f"{QUEUE}@%h"),
        ],
        env={**os.environ, "DATABASE_URL": url, "CELERY_QUEUE": QUEUE},
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,
    )


def wait_ready() -> None:
    from clubadmin.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(destination=[f"{QUEUE}@{os.uname().nodename}"], timeout=1)
        if replies:
            return
    raise RuntimeError("the worker did not start")


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (0 when it is gone or not ours to read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pids(*, own: bool) -> list[int]:
    """The database backends of this process (own) or of everyone else on the bench
    database (the workers)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND (pid = pg_backend_pid()) = %s",
            [own],
        )
        return [row[0] for row in cursor.fetchall()]


def _session_cpu(session_id: int) -> float:
    """CPU seconds of the worker's processes (its own session: the main process and pool)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            total += _process_cpu(int(stat.parent.name))
    return total


def stop_worker(worker: subprocess.Popen) -> None:
    """Stop the worker without waiting for the PDF renderings the run queued behind its
    chunks (scope 3, measured by its own benchmark), and drop those messages."""
    from clubadmin.celery import app

    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(60)
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(QUEUE)


def one_run(club: Organisation) -> tuple[float, int, dict[str, float]]:
    empty_invoices()
    cpu: dict[str, float] = {}
    worker = start_worker()
    try:
        wait_ready()
        started = time.monotonic()
        own_backend = _backend_pids(own=True)[0]
        start_cpu = time.process_time() + _process_cpu(own_backend)
        run = services.invoicing_run_start(
            actor=None,
            club=club,
            season=SEASON,
            fee_kinds=["membership"],
            issue_date=datetime.date(SEASON, 1, 15),
        )
        cpu["start"] = time.process_time() + _process_cpu(own_backend) - start_cpu
        start_seconds = time.monotonic() - started
        backends: dict[int, float] = {}  # the workers' backends (one per task): CPU seen
        while True:
            run.refresh_from_db()
            if run.state in ("done", "failed"):
                break
            for pid in _backend_pids(own=False):
                backends[pid] = max(backends.get(pid, 0.0), _process_cpu(pid))
            time.sleep(0.05)
        seconds = time.monotonic() - started
        for pid in _backend_pids(own=False):
            backends[pid] = max(backends.get(pid, 0.0), _process_cpu(pid))
        cpu["database"] = sum(backends.values())
        cpu["workers"] = _session_cpu(worker.pid)
    finally:
        stop_worker(worker)
    assert run.state == "done", run.errors
    chunk_times = [
        (finished - claimed).total_seconds()
        for claimed, finished in InvoicingChunk.objects.filter(run=run).values_list(
            "claimed_at", "finished_at"
        )
    ]
    cpu["chunk_seconds"] = statistics.mean(chunk_times) if chunk_times else 0.0
    print(
        f"   start {start_seconds:.1f} s wall, {cpu['start']:.1f} s CPU; workers "
        f"{cpu['workers']:.1f} s CPU, their database backends {cpu['database']:.1f} s CPU; "
        f"a chunk {cpu['chunk_seconds']:.2f} s on average (claim to commit)",
        flush=True,
    )
    invoices = Invoice.objects.filter(run=run).count()
    numbers = Invoice.objects.order_by("-number").values_list("number", flat=True).first()
    assert numbers == invoices, "numbers are not contiguous"
    print(
        f"   run {run.pk}: {run.chunks_total} chunks, {invoices} invoices, "
        f"{run.lines_created} lines, {seconds:.1f} s",
        flush=True,
    )
    return seconds, invoices, cpu


def main() -> int:
    club = _club()
    if club is None or Membership.objects.filter(club=club).count() != MEMBERS:
        if club is not None:
            print(f"The bench database has another size; drop {DATABASE_NAME} to re-seed.")
            return 1
        began = time.monotonic()
        club = seed()
        print(f"   seeded {MEMBERS} members in {time.monotonic() - began:.0f} s", flush=True)
    results = sorted((one_run(club) for _ in range(RUNS)), key=lambda result: result[0])
    median, invoices, cpu = results[(len(results) - 1) // 2]  # the median run (lower middle)
    size = f"{MEMBERS // 1000}k" if MEMBERS % 1000 == 0 else str(MEMBERS)
    print(bench_line(f"invoicing.run_{size}.seconds", median, "s"))
    print(bench_line("invoicing.invoices_per_second", invoices / median, "invoices/s"))
    print(bench_line("invoicing.invoices", invoices, "count"))
    print(bench_line("invoicing.start.cpu_seconds", cpu["start"], "s"))
    print(bench_line("invoicing.workers.cpu_seconds", cpu["workers"], "s"))
    print(bench_line("invoicing.database.cpu_seconds", cpu["database"], "s"))
    print(bench_line("invoicing.chunk.seconds", cpu["chunk_seconds"], "s"))
    print(f"   goal: under {GOAL_SECONDS} s with {WORKERS} worker processes", flush=True)
    InvoicingRun.objects.all()  # keep the last run's rows for inspection
    return 0


if __name__ == "__main__":
    sys.exit(main())
