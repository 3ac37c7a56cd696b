"""Benchmark: the price engine computes a club's season for 100,000 members (issue 5).

Generates BENCH_PRICING_MEMBERS (default 100,000) synthetic members deterministically:
families with a family membership and families billed individually, children playing
football and/or handball on cohort teams, parents on boards, leading teams, coaching and
refereeing with contracts and agreements, pensioners, honorary members, late starters,
movers, hardship agreements, resignations, invoice payers and volunteer hours. Then runs
`price_season` with the example club's rules BENCH_PRICING_RUNS times (default 3) and
prints the median:
    BENCH pricing.season_100k <seconds> s
    BENCH pricing.members_per_second <n> members/s
The goal: under 10 s on 2 cores. No database is needed.

Run from the repository root: .venv/bin/python tests/bench/bench_pricing.py
"""

import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from billing.pricing import (
    Activity,
    Agreement,
    FeeKind,
    LeaveReason,
    Membership,
    PaymentMethod,
    PersonFacts,
    Role,
    RoleKind,
    example_season_config,
    price_season,
)

MEMBERS = int(os.environ.get("BENCH_PRICING_MEMBERS", "100000"))
RUNS = int(os.environ.get("BENCH_PRICING_RUNS", "3"))
SEASON = 2027
SEED = 1


class _Generator:
    def __init__(self, seed: int, season: int) -> None:
        self.random = random.Random(seed)
        self.season = season
        self.next_person_id = 1
        self.next_family_id = 1
        self.persons: list[PersonFacts] = []

    def birth_date(self, first_year: int, last_year: int) -> datetime.date:
        year = self.random.randint(first_year, last_year)
        return datetime.date(year, 1, 1) + datetime.timedelta(days=self.random.randrange(365))

    def person_id(self) -> int:
        self.next_person_id += 1
        return self.next_person_id - 1

    def membership(self, membership_type: str, born: datetime.date) -> Membership:
        first_year = max(born.year, self.season - 8)
        joined = self.birth_date(first_year, self.season - 1) if first_year < self.season else born
        if self.random.random() < 0.04:  # new this season
            joined = datetime.date(self.season, 1, 1) + datetime.timedelta(
                days=self.random.randrange(330)
            )
        return Membership(membership_type, joined)

    def activities(self, born: datetime.date, gender: str) -> tuple[Activity, ...]:
        age = self.season - born.year
        if age < 6:
            return ()
        prefix = {"male": "G", "female": "J"}[gender]
        team = f"{prefix}{born.year}" if age < 20 else f"{prefix}senior"
        result = []
        for group, share in (("football", 0.7), ("handball", 0.35)):
            if self.random.random() >= share:
                continue
            first_year = max(born.year + 6, self.season - 6)
            if first_year < self.season:
                start = self.birth_date(first_year, self.season - 1)
            else:  # the new cohort of six-year-olds
                start = datetime.date(self.season, self.random.choice([4, 8, 9]), 15)
            end = reason = reported = None
            documented = False
            roll = self.random.random()
            if roll < 0.04:  # late starter
                start = datetime.date(self.season, 8, 2) + datetime.timedelta(
                    days=self.random.randrange(200)
                )
            elif roll < 0.06:  # moving away
                end = datetime.date(self.season, 4, 1) + datetime.timedelta(
                    days=self.random.randrange(250)
                )
                reason = self.random.choice(list(LeaveReason))
                documented = self.random.random() < 0.8
                reported = end - datetime.timedelta(days=self.random.randrange(60))
            result.append(
                Activity(
                    group,
                    start,
                    team_id=f"{group}-{team}",
                    end=end,
                    leave_reason=reason,
                    leave_documented=documented,
                    leave_reported_on=reported,
                )
            )
        return tuple(result)

    def common(self) -> dict:
        roll = self.random.random()
        return {
            "payment_method": PaymentMethod.INVOICE if roll < 0.2 else PaymentMethod.ONLINE,
            "resigned_on": (
                datetime.date(self.season, 1, 1)
                + datetime.timedelta(days=self.random.randrange(-200, 300))
                if self.random.random() < 0.02
                else None
            ),
            "volunteer_hours": (
                Decimal(self.random.randrange(1, 9)) if self.random.random() < 0.3 else Decimal(0)
            ),
        }

    def roles_for_parent(self, children: list[PersonFacts]) -> dict:
        roll = self.random.random()
        child_teams = [a for child in children for a in child.activities]
        roles: tuple[Role, ...] = ()
        agreements: tuple[Agreement, ...] = ()
        if roll < 0.04:
            roles = (Role(RoleKind.MAIN_BOARD),)
        elif roll < 0.09:
            roles = (
                Role(RoleKind.GROUP_BOARD, group=self.random.choice(["football", "handball"])),
            )
        elif roll < 0.2 and child_teams:
            activity = self.random.choice(child_teams)
            kind = self.random.choice([RoleKind.TEAM_LEADER, RoleKind.HEAD_COACH])
            roles = (Role(kind, group=activity.group, team_id=activity.team_id),)
        elif roll < 0.26 and child_teams:
            activity = self.random.choice(child_teams)
            roles = (
                Role(RoleKind.ASSISTANT_COACH, group=activity.group, team_id=activity.team_id),
            )
            if self.random.random() < 0.7:
                agreements = (
                    Agreement("D-10 assistant coaches", for_self=False, for_children=True),
                )
        elif roll < 0.3:
            roles = (Role(RoleKind.VOLUNTEER),)
            agreements = (
                Agreement(
                    "D-10 other coaches and volunteers",
                    for_self=self.random.random() < 0.5,
                    for_children=True,
                ),
            )
        elif roll < 0.32:
            roles = (Role(RoleKind.REFEREE),)
            agreements = (Agreement("D-10 referees", for_self=True, for_children=True),)
        elif roll < 0.33:
            agreements = (Agreement("D-11 hardship", for_self=False, for_children=True),)
        return {
            "roles": roles,
            "agreements": agreements,
            "volunteer_contract_signed": bool(roles) and self.random.random() < 0.85,
        }

    def add_family(self, size: int, registered: bool) -> None:
        family_id = self.next_family_id
        self.next_family_id += 1
        membership_type = "family" if registered else "ordinary"
        parents = min(2, size - 1) if size > 1 else 1
        children = []
        for _ in range(size - parents):
            born = self.birth_date(self.season - 18, self.season - 3)
            gender = self.random.choice(["male", "female"])
            children.append(
                PersonFacts(
                    person_id=self.person_id(),
                    birth_date=born,
                    gender=gender,
                    family_id=family_id,
                    memberships=(self.membership(membership_type, born),),
                    activities=self.activities(born, gender),
                    **self.common(),
                )
            )
        child_ids = tuple(child.person_id for child in children)
        for index in range(parents):
            born = self.birth_date(self.season - 55, self.season - 28)
            gender = "female" if index == 0 else "male"
            self.persons.append(
                PersonFacts(
                    person_id=self.person_id(),
                    birth_date=born,
                    gender=gender,
                    family_id=family_id,
                    family_contact=index == 0 and registered,
                    memberships=(self.membership(membership_type, born),),
                    activities=self.activities(born, gender) if self.random.random() < 0.2 else (),
                    children_ids=child_ids,
                    **self.roles_for_parent(children),
                    **self.common(),
                )
            )
        self.persons.extend(children)

    def add_single(self) -> None:
        roll = self.random.random()
        if roll < 0.15:
            born = self.birth_date(self.season - 95, self.season - 67)  # pensioners
        elif roll < 0.55:
            born = self.birth_date(self.season - 19, self.season - 6)
        else:
            born = self.birth_date(self.season - 66, self.season - 20)
        gender = self.random.choice(["male", "female"])
        membership_type = "honorary" if self.random.random() < 0.01 else "ordinary"
        agreements = ()
        if self.random.random() < 0.01:
            agreements = (Agreement("D-11 hardship", fee_kinds=(FeeKind.ACTIVITY,)),)
        self.persons.append(
            PersonFacts(
                person_id=self.person_id(),
                birth_date=born,
                gender=gender,
                memberships=(self.membership(membership_type, born),),
                activities=self.activities(born, gender),
                agreements=agreements,
                **self.common(),
            )
        )


def synthetic_members(count: int, *, seed: int = SEED, season: int = SEASON) -> list[PersonFacts]:
    """`count` persons (exactly), the same for the same seed."""
    generator = _Generator(seed, season)
    while len(generator.persons) < count:
        roll = generator.random.random()
        room = count - len(generator.persons)
        if roll < 0.18 and room >= 2:
            generator.add_family(min(room, generator.random.randint(2, 6)), registered=True)
        elif roll < 0.25 and room >= 2:
            generator.add_family(min(room, generator.random.randint(2, 5)), registered=False)
        else:
            generator.add_single()
    return generator.persons


def main() -> int:
    config = example_season_config(SEASON)
    started = time.perf_counter()
    persons = synthetic_members(MEMBERS)
    generated = time.perf_counter() - started
    seconds, cpu_seconds = [], []
    season = None
    for _ in range(RUNS):
        started, cpu_started = time.perf_counter(), time.process_time()
        season = price_season(config, persons)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    median = statistics.median(seconds)
    assert season is not None
    lines = sum(len(dues.lines) for dues in season.persons)
    print(
        f"# {len(persons):,} members in {len(season.families):,} families, {lines:,} lines, "
        f"{len(season.issues):,} issues, total NOK {season.total:,}; generated in "
        f"{generated:.1f} s; runs: {', '.join(f'{s:.2f}' for s in seconds)} s "
        f"(CPU {', '.join(f'{s:.2f}' for s in cpu_seconds)} s; load {os.getloadavg()[0]:.1f})"
    )
    size = f"{MEMBERS // 1000}k" if MEMBERS % 1000 == 0 else str(MEMBERS)
    print(f"BENCH pricing.season_{size} {median:.2f} s")
    print(f"BENCH pricing.members_per_second {MEMBERS / median:,.0f} members/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
