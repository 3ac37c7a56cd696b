"""`manage.py seed_demo`: a deterministic Norwegian demo register with its logins.

    manage.py seed_demo --persons 2000 --seed 1 [--reset]

The organisation tree goes in through treebeard's `load_bulk`; persons and functions are
streamed into PostgreSQL with COPY in one transaction, so that a federation-sized register
(1,000,000 persons) takes minutes. What the data looks like is planned in `clubadmin.demo_data`.
Bulk rows get no history rows (django-simple-history only sees ORM saves).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from clubadmin import demo_data
from clubadmin.demo_data import (
    DEMO_PASSWORD,
    FEDERATION_ORGANISATION_NUMBER,
    LOGINS,
    OrganisationPlan,
    PlannedPerson,
    RegisterGenerator,
    plan_organisations,
)
from members.models import Function, FunctionType, Organisation, Person, User

ALREADY_PRESENT = "Demo data already present; nothing done."
TOO_FEW_PERSONS = "--persons must be at least %(minimum)s (the logins and their families)."
USERNAMES_TAKEN = "Users %(usernames)s exist already: run with --reset to replace them."
FUNCTION_TYPES_MISSING = "Function types %(codes)s are missing: run `manage.py migrate` first."

MIN_PERSONS = 20
SUPERUSER_NAME = "admin"
DEMO_USERNAMES = (*(login.username for login in LOGINS), SUPERUSER_NAME)
CHUNK_SIZE = 25_000
PROGRESS_EVERY = 250_000

# The tables --reset empties. Function types stay: they come from a data migration.
REGISTER_MODELS = (Function, Person, Organisation, User)

PERSON_COLUMNS = (
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "gender",
    "birth_date",
    "national_person_id",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "created_at",
    "updated_at",
)
FUNCTION_COLUMNS = (
    "person_id",
    "organisation_id",
    "function_type_id",
    "from_date",
    "to_date",
    "created_at",
    "updated_at",
)


@dataclass
class WrittenRegister:
    persons: int = 0
    functions: int = 0
    login_persons: dict[str, tuple[int, PlannedPerson]] = field(default_factory=dict)


class Command(BaseCommand):
    help = "Seed a deterministic Norwegian demo register (organisations, persons, logins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=2000, help="Number of person rows.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty persons, functions, organisations and users first (other superusers stay).",
        )

    def handle(self, *args: Any, persons: int, seed: int, reset: bool, **options: Any) -> None:
        if persons < MIN_PERSONS:
            raise CommandError(TOO_FEW_PERSONS % {"minimum": MIN_PERSONS})
        if not reset and demo_data_present():
            self.stdout.write(ALREADY_PRESENT)
            return
        with transaction.atomic():
            if reset:
                reset_register()
            else:
                check_usernames_free()
            rng = random.Random(seed)
            plan = plan_organisations(rng, persons)
            load_organisations(plan)
            self.stdout.write(f"Organisations: {describe_tree(plan)}.")
            generator = RegisterGenerator(rng, plan, persons)
            written = write_register(generator, self._progress)
            create_logins(written.login_persons)
        analyze_register()
        self.stdout.write(
            f"Seeded {written.persons} persons ({generator.duplicates} of them registered twice), "
            f"{written.functions} functions and {sum(1 for _ in plan.federation.walk())} "
            f"organisations in {len(plan.clubs)} clubs."
        )
        self._print_logins(written)

    def _progress(self, persons: int) -> None:
        self.stdout.write(f"  {persons} persons written")

    def _print_logins(self, written: WrittenRegister) -> None:
        self.stdout.write(f"Logins (password {DEMO_PASSWORD}):")
        for login in LOGINS:
            person = written.login_persons[login.username][1]
            functions = ", ".join(
                f"{function.function_type} in {function.organisation.name}"
                for function in person.functions
            )
            name = f"{person.first_name} {person.last_name}"
            self.stdout.write(f"  {login.username:<12} {name}, {login.role}: {functions}")
        self.stdout.write(f"  {SUPERUSER_NAME:<12} superuser")


def demo_data_present() -> bool:
    return Organisation.objects.filter(organisation_number=FEDERATION_ORGANISATION_NUMBER).exists()


def check_usernames_free() -> None:
    taken = sorted(
        User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
    )
    if taken:
        raise CommandError(USERNAMES_TAKEN % {"usernames": ", ".join(taken)})


def _raw_cursor() -> psycopg.Cursor:
    """A psycopg cursor on Django's connection, inside Django's transaction: COPY needs it."""
    connection.ensure_connection()
    return connection.connection.cursor()


def reset_register() -> None:
    """Empty persons, functions, organisations, users and their history (TRUNCATE ... CASCADE
    also empties every table that points at them). Superusers other than the demo's `admin`
    survive, without their person link, so that a reset does not lock out the operator."""
    tables = [model._meta.db_table for model in REGISTER_MODELS]
    tables += [model.history.model._meta.db_table for model in REGISTER_MODELS]
    users = sql.Identifier(User._meta.db_table)
    # TRUNCATE refuses tables with pending deferred foreign-key checks: run them now.
    connection.check_constraints()
    with _raw_cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE seed_demo_kept_users AS SELECT * FROM {} "
                "WHERE is_superuser AND NOT username = ANY(%s)"
            ).format(users),
            [list(DEMO_USERNAMES)],
        )
        cursor.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )
        cursor.execute("UPDATE seed_demo_kept_users SET person_id = NULL")
        cursor.execute(sql.SQL("INSERT INTO {} SELECT * FROM seed_demo_kept_users").format(users))
        cursor.execute("DROP TABLE seed_demo_kept_users")
        cursor.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                "FROM {}"
            ).format(users),
            [User._meta.db_table],
        )


def load_organisations(plan: OrganisationPlan) -> None:
    """The whole tree in one `load_bulk`: treebeard computes path, depth and numchild."""
    nodes = list(plan.federation.walk())
    ids = Organisation.objects.load_bulk([plan.federation.bulk_data()], bulk_create=True)
    # load_bulk returns the ids in pre-order, the order of `walk()`.
    for node, organisation_id in zip(nodes, ids, strict=True):
        node.id = organisation_id


TREE_LEVELS = (
    ("federation", "federation", "federations"),
    ("region", "region", "regions"),
    ("club", "club", "clubs"),
    ("group", "group", "groups"),
    ("team", "team", "teams"),
)


def describe_tree(plan: OrganisationPlan) -> str:
    parts = []
    for organisation_type, singular, plural in TREE_LEVELS:
        count = plan.count(organisation_type)
        parts.append(f"{count} {singular if count == 1 else plural}")
    return ", ".join(parts)


def function_type_ids() -> dict[str, int]:
    ids = dict(
        FunctionType.objects.filter(code__in=demo_data.FUNCTION_TYPE_CODES).values_list(
            "code", "id"
        )
    )
    missing = sorted(set(demo_data.FUNCTION_TYPE_CODES) - set(ids))
    if missing:
        raise CommandError(FUNCTION_TYPES_MISSING % {"codes": ", ".join(missing)})
    return ids


def reserve_person_ids(count: int) -> int:
    """Take a block of `count` ids from the person id sequence, so that functions can point at
    persons while both are streamed; returns the first id."""
    with _raw_cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Person._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first_id = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first_id + count - 1])
    return first_id


def write_register(
    generator: RegisterGenerator, progress: Callable[[int], None]
) -> WrittenRegister:
    """Stream the generator's persons and functions into the database, chunk by chunk."""
    type_ids = function_type_ids()
    first_id = reserve_person_ids(generator.count)
    now = timezone.now()
    written = WrittenRegister()
    persons: list[tuple[object, ...]] = []
    functions: list[tuple[object, ...]] = []
    with _raw_cursor() as cursor:
        for person in generator.persons():
            person_id = first_id + person.index
            persons.append(_person_row(person_id, person, now))
            functions.extend(
                (
                    person_id,
                    f.organisation.id,
                    type_ids[f.function_type],
                    f.from_date,
                    f.to_date,
                    now,
                    now,
                )
                for f in person.functions
            )
            if person.login:
                written.login_persons[person.login] = (person_id, person)
            if len(persons) >= CHUNK_SIZE:
                _flush(cursor, persons, functions, written, progress)
        _flush(cursor, persons, functions, written, progress)
    return written


def _person_row(person_id: int, person: PlannedPerson, now: object) -> tuple[object, ...]:
    return (
        person_id,
        person.first_name,
        person.middle_name,
        person.last_name,
        person.gender,
        person.birth_date,
        person.national_person_id,
        person.email,
        person.phone,
        person.street,
        person.postcode,
        person.city,
        "NO",
        now,
        now,
    )


def _flush(
    cursor: Any,
    persons: list[tuple[object, ...]],
    functions: list[tuple[object, ...]],
    written: WrittenRegister,
    progress: Callable[[int], None],
) -> None:
    _copy(cursor, Person._meta.db_table, PERSON_COLUMNS, persons)
    _copy(cursor, Function._meta.db_table, FUNCTION_COLUMNS, functions)
    before = written.persons
    written.persons += len(persons)
    written.functions += len(functions)
    if written.persons // PROGRESS_EVERY > before // PROGRESS_EVERY:
        progress(written.persons)
    persons.clear()
    functions.clear()


def _copy(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def create_logins(login_persons: dict[str, tuple[int, PlannedPerson]]) -> None:
    for login in LOGINS:
        person_id, person = login_persons[login.username]
        User.objects.create_user(
            login.username,
            email=person.email,
            password=DEMO_PASSWORD,
            first_name=person.first_name,
            last_name=person.last_name,
            person_id=person_id,
            is_staff=login.is_staff,
        )
    User.objects.create_superuser(
        SUPERUSER_NAME, email="admin@demoidrett.no", password=DEMO_PASSWORD
    )


def analyze_register() -> None:
    """Fresh planner statistics after a bulk load, so that the first queries are not slow."""
    tables = [model._meta.db_table for model in (Person, Function, Organisation)]
    with _raw_cursor() as cursor:
        cursor.execute(
            sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
