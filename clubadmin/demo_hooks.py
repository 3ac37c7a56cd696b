"""How apps add their own demo data to `manage.py seed_demo`.

The command writes the register (organisations, persons, functions, logins) and then, in the
same transaction, calls `seed_demo_data(context)` on every installed app's AppConfig that
defines it, in INSTALLED_APPS order (members before billing). Each app imports its own demo
module there (`members.demo`, `billing.demo`), so clubadmin never names the apps that depend
on it (ARCHITECTURE.md: billing -> members -> clubadmin).

A hook gets a `DemoContext`: the demo club, the logins, the planned and written register, the
dates the demo is built around and a random stream of its own. It writes through the app's
services where the volume is small (the demo club) and in bulk where it is large (every club),
reports a summary line with `context.report()`, and names bulk-loaded tables with
`context.analyze()` so that the command refreshes their planner statistics.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models

from clubadmin.demo_data import OrganisationPlan

if TYPE_CHECKING:
    from clubadmin.management.commands.seed_demo import WrittenRegister
    from members.models import Organisation, User

HOOK_NAME = "seed_demo_data"


@dataclass
class DemoContext:
    seed: int
    plan: OrganisationPlan
    written: WrittenRegister
    demo_club: Organisation
    # The demo logins by username (the `admin` superuser included).
    users: dict[str, User]
    # Ages and join dates of the register are relative to this date (demo_data).
    reference_date: datetime.date
    # The day the demo is seeded: seasons and "recent" things (trial periods) follow it.
    today: datetime.date
    lines: list[str] = field(default_factory=list)
    tables_to_analyze: list[str] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        """A random stream of its own for `name` (e.g. the app label), from the seed: what one
        app draws does not change what another app gets."""
        return random.Random(f"{self.seed}:{name}")  # noqa: S311 (demo data)

    def person_id(self, index: int) -> int:
        """The id of the register's person number `index` (PlannedPerson.index)."""
        return self.written.first_person_id + index

    def login_person_id(self, username: str) -> int:
        return self.written.login_persons[username][0]

    def report(self, line: str) -> None:
        """A summary line the command prints after seeding."""
        self.lines.append(line)

    def analyze(self, *model_classes: type[models.Model]) -> None:
        """Bulk-loaded tables: ANALYZE them once the data is committed."""
        for model in model_classes:
            table = model._meta.db_table
            if table not in self.tables_to_analyze:
                self.tables_to_analyze.append(table)


Hook = Callable[[DemoContext], None]


def app_hooks() -> list[tuple[str, Hook]]:
    """The (app label, hook) of every installed app with a `seed_demo_data` method."""
    hooks = []
    for app_config in apps.get_app_configs():
        hook = getattr(app_config, HOOK_NAME, None)
        if callable(hook):
            hooks.append((app_config.label, hook))
    return hooks


def run_app_hooks(context: DemoContext) -> list[tuple[str, float]]:
    """Runs every hook; returns (app label, seconds) of each."""
    timings = []
    for label, hook in app_hooks():
        started = time.perf_counter()
        hook(context)
        timings.append((label, time.perf_counter() - started))
    return timings
