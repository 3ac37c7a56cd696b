"""`manage.py seed_demo`: a deterministic Norwegian demo register with its logins.

    manage.py seed_demo --persons 2000 --seed 1 [--reset]

The organisation tree goes in through treebeard's `load_bulk`; persons, their standard
contact sets (P-08), previous sports ids (P-05) and functions are streamed into PostgreSQL with
COPY in one transaction, so that a federation-sized register (1,000,000 persons) takes minutes.
What the data looks like is planned in `clubadmin.demo_data`. Bulk rows get no history rows
(django-simple-history only sees ORM saves). Sports ids come from the register's sequence
(`members_sports_id_serial`), which `--reset` restarts, so the same size and seed give the same
sports ids.

After the register and the logins, every app that defines `seed_demo_data(context)` on its
AppConfig adds its own demo data in the same transaction (`clubadmin.demo_hooks`): members
gives the clubs their membership types, memberships and families, billing the demo club's
fee schedules and agreements.
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

from clubadmin import demo_data, demo_hooks
from clubadmin.demo_data import (
    DEMO_PASSWORD,
    FEDERATION_ORGANISATION_NUMBER,
    LOGINS,
    OrganisationPlan,
    PlannedPerson,
    RegisterGenerator,
    plan_organisations,
)
from members import rules
from members.models import (
    BankAccount,
    Competence,
    ContactSet,
    Function,
    FunctionContact,
    FunctionType,
    Licence,
    LicenceEvent,
    LicencePeriod,
    LicenceType,
    Organisation,
    Person,
    SportsIdHistory,
    Transfer,
    TransferEvent,
    User,
)

ALREADY_PRESENT = "Demo data already present; nothing done."
TOO_FEW_PERSONS = "--persons must be at least %(minimum)s (the logins and their families)."
USERNAMES_TAKEN = "Users %(usernames)s exist already: run with --reset to replace them."
FUNCTION_TYPES_MISSING = "Function types %(codes)s are missing: run `manage.py migrate` first."

MIN_PERSONS = 20
SUPERUSER_NAME = "admin"
DEMO_USERNAMES = (*(login.username for login in LOGINS), SUPERUSER_NAME)
CHUNK_SIZE = 25_000
PROGRESS_EVERY = 250_000

# The tables --reset empties (with their history tables). Function and competence types stay:
# they come from data migrations.
REGISTER_MODELS = (
    Function,
    Person,
    Organisation,
    User,
    ContactSet,
    BankAccount,
    Competence,
    Licence,
    LicenceEvent,
    LicencePeriod,
    LicenceType,
    Transfer,
    TransferEvent,
    SportsIdHistory,
)
SPORTS_ID_SEQUENCE = "members_sports_id_serial"
STANDARD_CONTACT_LABEL = "Privat"

# The generated columns (first_name_folded, last_name_folded) are computed by PostgreSQL and
# must not be listed.
PERSON_COLUMNS = (
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "gender",
    "birth_date",
    "national_person_id",
    "sports_id",
    "is_deceased",
    "date_of_death",
    "reserved_against_data_wash",
    "created_at",
    "updated_at",
)
CONTACT_SET_COLUMNS = (
    "person_id",
    "label",
    "is_standard",
    "street",
    "postcode",
    "city",
    "country",
    "email",
    "mobile",
    "phone",
    "fax",
    "hide_address",
    "hide_email",
    "hide_phone",
    "hide_fax",
    "created_at",
    "updated_at",
)
SPORTS_ID_HISTORY_COLUMNS = ("person_id", "sports_id", "replaced_at")
FUNCTION_COLUMNS = (
    "person_id",
    "organisation_id",
    "function_type_id",
    "from_date",
    "to_date",
    "contact",
    "is_licensed",
    "created_at",
    "updated_at",
)


@dataclass
class WrittenRegister:
    persons: int = 0
    functions: int = 0
    deceased: int = 0
    licensed: int = 0
    previous_sports_ids: int = 0
    # Person ids are first_person_id + PlannedPerson.index.
    first_person_id: int = 0
    login_persons: dict[str, tuple[int, PlannedPerson]] = field(default_factory=dict)


class Command(BaseCommand):
    help = "Seed a deterministic Norwegian demo register (organisations, persons, logins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=2000, help="Number of person rows.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Empty the register first: persons with their contact sets, accounts, sports ids, "
                "functions, licences, competences, transfers, organisations and users, and what "
                "refers to them (memberships, fee schedules, ...; other superusers stay)."
            ),
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
            users = create_logins(written.login_persons)
            context = demo_hooks.DemoContext(
                seed=seed,
                plan=plan,
                written=written,
                demo_club=Organisation.objects.get(pk=plan.demo_club.organisation.id),
                users=users,
                reference_date=demo_data.REFERENCE_DATE,
                today=timezone.localdate(),
            )
            timings = demo_hooks.run_app_hooks(context)
        analyze_register(context.tables_to_analyze)
        self.stdout.write(
            f"Seeded {written.persons} persons ({generator.duplicates} of them registered twice, "
            f"{written.deceased} deceased, {written.previous_sports_ids} with a previous sports "
            f"id), {written.functions} functions ({written.licensed} licensed) and "
            f"{sum(1 for _ in plan.federation.walk())} organisations in {len(plan.clubs)} clubs."
        )
        for line in context.lines:
            self.stdout.write(line)
        if options.get("verbosity", 1) >= 2:
            for label, seconds in timings:
                self.stdout.write(f"  demo data of {label}: {seconds:.1f} s")
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
    """Empty the register (persons, contact sets, bank accounts, functions, licences,
    competences, transfers, previous sports ids, organisations, users) and their history
    (TRUNCATE ... CASCADE also empties every table that points at them), and restart the
    sports id sequence. Superusers other than the demo's `admin` survive, without their
    person link, so that a reset does not lock out the operator."""
    tables = [model._meta.db_table for model in REGISTER_MODELS]
    tables += [
        model.history.model._meta.db_table for model in REGISTER_MODELS if hasattr(model, "history")
    ]
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
            sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(SPORTS_ID_SEQUENCE))
        )
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


def function_types() -> dict[str, tuple[int, bool]]:
    """Id and `is_licensed` of each function type the demo uses, by code."""
    types = {
        code: (type_id, is_licensed)
        for code, type_id, is_licensed in FunctionType.objects.filter(
            code__in=demo_data.FUNCTION_TYPE_CODES
        ).values_list("code", "id", "is_licensed")
    }
    missing = sorted(set(demo_data.FUNCTION_TYPE_CODES) - set(types))
    if missing:
        raise CommandError(FUNCTION_TYPES_MISSING % {"codes": ", ".join(missing)})
    return types


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


def reserve_sports_id_serials(count: int) -> int:
    """Take a block of `count` serials from the sports id sequence (P-05); returns the first."""
    with _raw_cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT setval({0}, nextval({0}) + %s - 1)").format(
                sql.Literal(SPORTS_ID_SEQUENCE)
            ),
            [count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


@dataclass
class Rows:
    """The rows of one chunk, by table."""

    persons: list[tuple[object, ...]] = field(default_factory=list)
    contact_sets: list[tuple[object, ...]] = field(default_factory=list)
    previous_sports_ids: list[tuple[object, ...]] = field(default_factory=list)
    functions: list[tuple[object, ...]] = field(default_factory=list)

    def clear(self) -> None:
        for rows in (self.persons, self.contact_sets, self.previous_sports_ids, self.functions):
            rows.clear()


def write_register(
    generator: RegisterGenerator, progress: Callable[[int], None]
) -> WrittenRegister:
    """Stream the generator's persons, contact sets and functions into the database, chunk by
    chunk."""
    types = function_types()
    first_id = reserve_person_ids(generator.count)
    # One serial per person, and a block for previous sports ids (about 0.5 %, P-05).
    spare_serials = generator.count // 50 + 10
    first_serial = reserve_sports_id_serials(generator.count + spare_serials)
    spare = iter(
        range(first_serial + generator.count, first_serial + generator.count + spare_serials)
    )
    now = timezone.now()
    written = WrittenRegister(first_person_id=first_id)
    rows = Rows()
    with _raw_cursor() as cursor:
        for person in generator.persons():
            person_id = first_id + person.index
            sports_id = rules.format_sports_id(
                person.birth_date, person.gender, first_serial + person.index
            )
            rows.persons.append(_person_row(person_id, person, sports_id, now))
            rows.contact_sets.append(_contact_set_row(person_id, person, now))
            if person.has_previous_sports_id:
                serial = next(spare, None)
                if serial is not None:
                    # Registered first with unknown gender: the old id still finds them (P-05).
                    old = rules.format_sports_id(person.birth_date, "unknown", serial)
                    rows.previous_sports_ids.append((person_id, old, now))
            for function in person.functions:
                type_id, is_licensed = types[function.function_type]
                written.licensed += is_licensed
                rows.functions.append(
                    (
                        person_id,
                        function.organisation.id,
                        type_id,
                        function.from_date,
                        function.to_date,
                        FunctionContact.PERSON_STANDARD.value,
                        is_licensed,
                        now,
                        now,
                    )
                )
            written.deceased += person.is_deceased
            if person.login:
                written.login_persons[person.login] = (person_id, person)
            if len(rows.persons) >= CHUNK_SIZE:
                _flush(cursor, rows, written, progress)
        _flush(cursor, rows, written, progress)
    return written


def _person_row(
    person_id: int, person: PlannedPerson, sports_id: str, now: object
) -> tuple[object, ...]:
    return (
        person_id,
        person.first_name,
        person.middle_name,
        person.last_name,
        person.gender,
        person.birth_date,
        person.national_person_id,
        sports_id,
        person.is_deceased,
        person.date_of_death,
        person.reserved_against_data_wash,
        now,
        now,
    )


def _contact_set_row(person_id: int, person: PlannedPerson, now: object) -> tuple[object, ...]:
    """The standard contact set (P-08): the person's private address, e-mail and mobile."""
    return (
        person_id,
        STANDARD_CONTACT_LABEL,
        True,
        person.street,
        person.postcode,
        person.city,
        "NO",
        person.email,
        person.phone,
        "",
        "",
        person.hide_address,
        person.hide_email,
        person.hide_phone,
        False,
        now,
        now,
    )


def _flush(
    cursor: Any, rows: Rows, written: WrittenRegister, progress: Callable[[int], None]
) -> None:
    _copy(cursor, Person._meta.db_table, PERSON_COLUMNS, rows.persons)
    _copy(cursor, ContactSet._meta.db_table, CONTACT_SET_COLUMNS, rows.contact_sets)
    _copy(
        cursor, SportsIdHistory._meta.db_table, SPORTS_ID_HISTORY_COLUMNS, rows.previous_sports_ids
    )
    _copy(cursor, Function._meta.db_table, FUNCTION_COLUMNS, rows.functions)
    before = written.persons
    written.persons += len(rows.persons)
    written.functions += len(rows.functions)
    written.previous_sports_ids += len(rows.previous_sports_ids)
    if written.persons // PROGRESS_EVERY > before // PROGRESS_EVERY:
        progress(written.persons)
    rows.clear()


def _copy(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def create_logins(login_persons: dict[str, tuple[int, PlannedPerson]]) -> dict[str, User]:
    """The demo logins by username, the superuser included."""
    # E-mail of the login: the person's standard contact set holds the same address (P-08).
    users = {}
    for login in LOGINS:
        person_id, person = login_persons[login.username]
        users[login.username] = User.objects.create_user(
            login.username,
            email=person.email,
            password=DEMO_PASSWORD,
            first_name=person.first_name,
            last_name=person.last_name,
            person_id=person_id,
            is_staff=login.is_staff,
        )
    users[SUPERUSER_NAME] = User.objects.create_superuser(
        SUPERUSER_NAME, email="admin@demoidrett.no", password=DEMO_PASSWORD
    )
    return users


def analyze_register(extra_tables: Sequence[str] = ()) -> None:
    """Fresh planner statistics after a bulk load, so that the first queries are not slow;
    `extra_tables` are those the apps' demo hooks loaded in bulk."""
    tables = [
        model._meta.db_table
        for model in (Person, ContactSet, SportsIdHistory, Function, Organisation)
    ]
    tables += [table for table in extra_tables if table not in tables]
    with _raw_cursor() as cursor:
        cursor.execute(
            sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
