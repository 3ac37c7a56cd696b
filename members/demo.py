"""The members app's part of `manage.py seed_demo` (called through
`MembersConfig.seed_demo_data`, see clubadmin.demo_hooks): membership types, memberships,
families and guardians, written after the register.

- Every club gets the default membership types, and every holder of a `member` function a
  membership from the function's from date (calendar year, D-02): junior under 18, pensioner
  from 67 in the year (D-01), else ordinary; ended with the function (deceased persons, old
  registrations); pending verification when they joined in the last weeks before the
  reference date (M-14). One INSERT ... SELECT over the functions; in a register of more
  than ALL_CLUBS_UP_TO_PERSONS persons only in the three named clubs, to keep a
  federation-sized seed fast.
- The demo club gets the richer data, planned in Python from its members: families for the
  households where the data makes it obvious (an address shared by adults and children with
  an adult's last name, at most the family limit, M-11/D-01), with guardian relations for the
  children (M-14); `forelder`'s family, two honorary members (D-05) and three resignations
  through the membership services, by the general manager; a newcomer who joined a week ago
  (pending verification, on trial with a team: billing.demo gives the trial period).
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clubadmin import demo_data
from members import club_settings, membership_rules
from members.models import (
    Family,
    Function,
    FunctionType,
    GuardianRelation,
    Membership,
    MembershipStatus,
    MembershipType,
    Organisation,
    OrganisationType,
    PeriodKind,
    Person,
    User,
)
from members.services import memberships as services
from members.services.memberships import DEFAULT_MEMBERSHIP_TYPES, MEMBER_FUNCTION_CODE

if TYPE_CHECKING:
    from clubadmin.demo_hooks import DemoContext

# D-01: the pensioner fee from the year a member turns 67 (the example club's age).
PENSIONER_AGE = 67
# M-14: members who joined in the last weeks before the reference date have not confirmed
# their data yet.
PENDING_DAYS = 30
# D-05: the annual meeting that named the demo club's honorary members.
HONORARY_SINCE = datetime.date(2022, 3, 17)
HONORARY_MEMBERS = 2
HONORARY_FROM_AGE = 60
# Resignations received in the autumn before the reference date.
RESIGNED_BETWEEN = (datetime.date(2025, 9, 1), datetime.date(2025, 12, 15))
RESIGNING_ADULTS = 2
# A parent is at least this much older than a child of the household (guardian, M-14).
PARENT_AGE_GAP = 16
# Memberships for every club up to this size of the register; in a bigger one only for the
# named clubs (demo_data.FIXED_CLUBS, the demo club first): a membership row costs about as
# much as a person (the exclusion constraint's GiST index and four foreign keys), which would
# add most of a minute to a federation-sized seed.
ALL_CLUBS_UP_TO_PERSONS = 50_000
# The newcomer joined (and started a trial with a team, D-06) this many days before seeding.
NEWCOMER_DAYS_AGO = 7

JUNIOR, ORDINARY, PENSIONER, FAMILY, HONORARY = (
    "junior",
    "ordinary",
    "pensioner",
    "family",
    "honorary",
)

INSERT_MEMBERSHIPS = """
INSERT INTO members_membership (
    person_id, club_id, membership_type_id, family_id, status, start_date, end_date,
    resignation_received_on, created_at, updated_at
)
SELECT f.person_id, f.organisation_id, t.id, NULL,
    CASE
        WHEN f.to_date IS NOT NULL AND f.to_date <= %(today)s THEN %(ended)s
        WHEN f.from_date > %(pending_after)s THEN %(pending)s
        ELSE %(active)s
    END,
    f.from_date, f.to_date, NULL, %(now)s, %(now)s
FROM members_function f
JOIN members_person p ON p.id = f.person_id
LEFT JOIN unnest(%(excluded)s::bigint[]) AS excluded(id) ON excluded.id = f.person_id
JOIN members_membershiptype t ON t.club_id = f.organisation_id AND t.code = CASE
    WHEN p.birth_date IS NULL THEN %(ordinary)s
    WHEN %(year)s - EXTRACT(YEAR FROM p.birth_date) >= %(pensioner_age)s THEN %(pensioner)s
    WHEN p.birth_date > %(adult_born_before)s THEN %(junior)s
    ELSE %(ordinary)s
END
WHERE f.function_type_id = %(member_type)s AND excluded.id IS NULL
    AND (%(clubs)s::bigint[] IS NULL OR f.organisation_id = ANY(%(clubs)s::bigint[]))
"""


@dataclass(eq=False)
class Member:
    """A holder of the `member` function in the demo club, with what planning needs."""

    person_id: int
    function_id: int
    last_name: str
    birth_date: datetime.date
    joined: datetime.date
    left: datetime.date | None
    address: tuple[str, str]


@dataclass(eq=False)
class PlannedFamily:
    """A household that joins as a family (M-11): the contact person first."""

    name: str
    members: list[Member]
    # (guardian, child) person ids
    guardians: list[tuple[int, int]] = field(default_factory=list)

    @property
    def person_ids(self) -> list[int]:
        return [member.person_id for member in self.members]


@dataclass
class DemoClubPlan:
    families: list[PlannedFamily]
    parent_family: PlannedFamily | None
    honorary: list[Member]
    resigning: list[Member]
    newcomer: Member | None

    @property
    def special_person_ids(self) -> list[int]:
        """Members whose memberships are not the plain ones of the bulk insert."""
        ids = [pid for family in self.families for pid in family.person_ids]
        if self.parent_family is not None:
            ids += self.parent_family.person_ids
        ids += [member.person_id for member in self.honorary]
        return sorted(ids)


# ---------------------------------------------------------------------------------- hook


def seed(context: DemoContext) -> None:
    club = context.demo_club
    manager = context.users.get("dagligleder")
    types = create_membership_types(context, actor=manager)
    rng = context.rng("members")
    plan = plan_demo_club(context, rng)
    if plan.newcomer is not None:
        _move_newcomer(context, plan.newcomer)
    parent_family = _register_parent_family(context, plan, types, actor=manager)
    honorary = _register_honorary(context, plan, types, actor=manager)
    families, guardians = _bulk_families(context, plan, types)
    clubs = member_clubs(context)
    plain = insert_plain_memberships(context, exclude=plan.special_person_ids, clubs=clubs)
    resigned = _register_resignations(context, plan, rng, actor=manager)
    context.analyze(Membership, MembershipType, Family, GuardianRelation)
    statuses = list(Membership.objects.filter(club=club).values_list("status", flat=True))
    pending = statuses.count(MembershipStatus.PENDING_VERIFICATION)
    context.report(
        f"Memberships: {plain_count(plain, plan, honorary)} in "
        f"{len(context.plan.clubs) if clubs is None else len(clubs)} clubs; {club.name}: "
        f"{len(statuses)} memberships ({pending} pending verification, {resigned} resigned, "
        f"{len(honorary)} honorary), {families + bool(parent_family)} families, {guardians} "
        f"guardian relations."
    )


def plain_count(plain: int, plan: DemoClubPlan, honorary: Sequence[Member]) -> int:
    """All memberships written: the bulk ones, the families' and the honorary members' two."""
    family_members = sum(len(family.members) for family in plan.families)
    if plan.parent_family is not None:
        family_members += len(plan.parent_family.members)
    return plain + family_members + 2 * len(honorary)


# ---------------------------------------------------------------------------------- types


def create_membership_types(
    context: DemoContext, *, actor: User | None
) -> dict[str, MembershipType]:
    """The default types: through the service in the demo club, in bulk in the others.
    Returns the demo club's by code."""
    club = context.demo_club
    types = services.membership_types_create_defaults(actor=actor, club=club)
    other_clubs = [c.organisation.id for c in context.plan.clubs if c.organisation.id != club.pk]
    MembershipType.objects.bulk_create(
        [
            MembershipType(
                club_id=club_id,
                code=code,
                name=name,
                category=category,
                period_kind=PeriodKind.CALENDAR_YEAR,
            )
            for club_id in other_clubs
            for code, name, category in DEFAULT_MEMBERSHIP_TYPES
        ],
        batch_size=5000,
    )
    return {membership_type.code: membership_type for membership_type in types}


def membership_type_code(birth_date: datetime.date | None, reference_date: datetime.date) -> str:
    """D-01: junior under 18 on the reference date, pensioner from the year of turning 67,
    else ordinary (the same rule as INSERT_MEMBERSHIPS)."""
    if birth_date is None:
        return ORDINARY
    if reference_date.year - birth_date.year >= PENSIONER_AGE:
        return PENSIONER
    if membership_rules.is_child(birth_date, reference_date):
        return JUNIOR
    return ORDINARY


def pending_after(reference_date: datetime.date) -> datetime.date:
    return reference_date - datetime.timedelta(days=PENDING_DAYS + 1)


def status_for(member: Member, context: DemoContext) -> str:
    if member.left is not None and member.left <= context.today:
        return MembershipStatus.ENDED
    if member.joined > pending_after(context.reference_date):
        return MembershipStatus.PENDING_VERIFICATION
    return MembershipStatus.ACTIVE


# ------------------------------------------------------------------------------- planning


def load_members(club: Organisation) -> list[Member]:
    """The holders of the `member` function in the club (one query)."""
    rows = (
        Function.objects.filter(
            organisation=club,
            function_type__code=MEMBER_FUNCTION_CODE,
            person__contact_sets__is_standard=True,
        )
        .order_by("person_id", "from_date")
        .values_list(
            "person_id",
            "pk",
            "person__last_name",
            "person__birth_date",
            "from_date",
            "to_date",
            "person__contact_sets__street",
            "person__contact_sets__postcode",
        )
    )
    return [
        Member(person_id, function_id, last_name, birth_date, joined, left, (street, postcode))
        for person_id, function_id, last_name, birth_date, joined, left, street, postcode in rows
        if birth_date is not None
    ]


def plan_families(
    members: Iterable[Member], on: datetime.date, limit: int = membership_rules.FAMILY_MEMBER_LIMIT
) -> list[PlannedFamily]:
    """Households that obviously are families: current members at one address, adults and
    children under 18 whose last name is an adult's, at most `limit` of them (D-01). The
    contact person is the first registered (M-11); each child's guardians are the adults at
    least PARENT_AGE_GAP years older."""
    households: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for member in members:
        if member.left is None and member.address[0]:
            households[member.address].append(member)
    families = []
    for people in households.values():
        if len({member.person_id for member in people}) != len(people) or len(people) > limit:
            continue
        adults = [m for m in people if not membership_rules.is_child(m.birth_date, on)]
        children = [m for m in people if membership_rules.is_child(m.birth_date, on)]
        adult_names = {adult.last_name for adult in adults}
        if not adults or not children or any(c.last_name not in adult_names for c in children):
            continue
        guardians = [
            (adult.person_id, child.person_id)
            for child in children
            for adult in adults
            if membership_rules.age_on(adult.birth_date, child.birth_date) >= PARENT_AGE_GAP
        ]
        if not guardians:
            continue
        ordered = sorted(people, key=lambda m: (m.joined, m.person_id))
        contact, rest = ordered[0], sorted(ordered[1:], key=lambda m: (m.birth_date, m.person_id))
        families.append(PlannedFamily(children[0].last_name, [contact, *rest], guardians))
    families.sort(key=lambda family: family.members[0].person_id)
    return families


def plan_demo_club(context: DemoContext, rng: random.Random) -> DemoClubPlan:
    club = context.demo_club
    members = load_members(club)
    limit = club_settings.for_club(club, context.reference_date.year).family_member_limit
    families = plan_families(members, context.reference_date, limit)
    parent_id = context.login_person_id("forelder")
    parent_family = next((f for f in families if parent_id in f.person_ids), None)
    in_family = {pid for family in families for pid in family.person_ids}
    families = [family for family in families if family is not parent_family]
    logins = {person_id for person_id, _ in context.written.login_persons.values()}
    busy = _persons_with_other_open_functions(club)
    players = _team_players(club)
    newcomer = _choose_newcomer(families, players, _led_team(context), context.reference_date)
    not_single = in_family | logins
    singles = [m for m in members if m.left is None and m.person_id not in not_single]
    honorary = _choose_honorary(singles, context.reference_date)
    honorary_ids = {m.person_id for m in honorary}
    resigning = _choose_resigning(
        rng,
        [m for m in singles if m.person_id not in honorary_ids and m.person_id not in busy],
        families,
        excluded_families=(_family_of(families, newcomer),),
        players=players,
        on=context.reference_date,
    )
    return DemoClubPlan(families, parent_family, honorary, resigning, newcomer)


def _persons_with_other_open_functions(club: Organisation) -> set[int]:
    return set(
        Function.objects.filter(organisation__path__startswith=club.path, to_date__isnull=True)
        .exclude(function_type__code=MEMBER_FUNCTION_CODE)
        .values_list("person_id", flat=True)
    )


def _team_players(club: Organisation) -> dict[int, set[int]]:
    """The players of the club's teams (open functions): person id -> team ids."""
    players: dict[int, set[int]] = defaultdict(set)
    rows = (
        Function.objects.filter(
            organisation__path__startswith=club.path,
            organisation__organisation_type=OrganisationType.TEAM,
            function_type__code="player",
            to_date__isnull=True,
        )
        .order_by()
        .values_list("person_id", "organisation_id")
    )
    for person_id, team_id in rows:
        players[person_id].add(team_id)
    return players


def _led_team(context: DemoContext) -> int | None:
    """The team the `lagleder` login leads: the newcomer tries out there."""
    return (
        Function.objects.filter(
            person_id=context.login_person_id("lagleder"), function_type__code="team-leader"
        )
        .values_list("organisation_id", flat=True)
        .first()
    )


def _family_of(families: Sequence[PlannedFamily], member: Member | None) -> PlannedFamily | None:
    if member is None:
        return None
    return next((f for f in families if member.person_id in f.person_ids), None)


def _choose_newcomer(
    families: Sequence[PlannedFamily],
    players: dict[int, set[int]],
    led_team: int | None,
    on: datetime.date,
) -> Member | None:
    """A child of a family (`forelder`'s is not among `families`) who plays on a team, on
    the team leader login's team when there is one: they join the club as we seed."""
    candidates = [
        member
        for family in families
        for member in family.members[1:]
        if member.person_id in players and membership_rules.is_child(member.birth_date, on)
    ]
    candidates.sort(key=lambda m: (led_team not in players[m.person_id], m.person_id))
    return candidates[0] if candidates else None


def _choose_honorary(singles: Sequence[Member], on: datetime.date) -> list[Member]:
    """D-05: long-standing members of 60 or more; when the register is too small, the
    longest-standing adults."""
    joined_before = HONORARY_SINCE - datetime.timedelta(days=365)
    adults = [
        m
        for m in singles
        if m.joined < joined_before and not membership_rules.is_child(m.birth_date, on)
    ]
    old = [m for m in adults if membership_rules.age_on(m.birth_date, on) >= HONORARY_FROM_AGE]
    chosen = sorted(old or adults, key=lambda m: (m.joined, m.person_id))
    return chosen[:HONORARY_MEMBERS]


def _choose_resigning(
    rng: random.Random,
    singles: Sequence[Member],
    families: Sequence[PlannedFamily],
    *,
    excluded_families: Sequence[PlannedFamily | None],
    players: dict[int, set[int]],
    on: datetime.date,
) -> list[Member]:
    """Two adults with no other function, and a teenager of a family who still plays on a
    team: leaving the club is not leaving the team, so the "must be a member" work list
    (D-05, M-16) shows them."""
    joined_before = RESIGNED_BETWEEN[0] - datetime.timedelta(days=90)
    adults = [
        m
        for m in singles
        if m.joined < joined_before and 25 <= membership_rules.age_on(m.birth_date, on) < 60
    ]
    chosen = rng.sample(adults, min(RESIGNING_ADULTS, len(adults)))
    teenagers = [
        member
        for family in families
        if family not in excluded_families
        for member in family.members[1:]
        if member.person_id in players
        and member.joined < joined_before
        and 13 <= membership_rules.age_on(member.birth_date, on) < 20
    ]
    if teenagers:
        chosen.append(rng.choice(teenagers))
    return chosen


# ------------------------------------------------------------------------------- writing


def _move_newcomer(context: DemoContext, newcomer: Member) -> None:
    """The newcomer's open functions in the club (member, player) start on the day they
    joined (bulk rows of the register: no history)."""
    joined = context.today - datetime.timedelta(days=NEWCOMER_DAYS_AGO)
    Function.objects.filter(
        person_id=newcomer.person_id,
        organisation__path__startswith=context.demo_club.path,
        to_date__isnull=True,
    ).update(from_date=joined, updated_at=timezone.now())
    newcomer.joined = joined


def _register_parent_family(
    context: DemoContext,
    plan: DemoClubPlan,
    types: dict[str, MembershipType],
    *,
    actor: User | None,
) -> Family | None:
    """`forelder`'s family through the services, as a registrar would: the family with its
    contact person, the other members, the guardians of the children."""
    family_plan = plan.parent_family
    if family_plan is None:
        return None
    persons = Person.objects.in_bulk(family_plan.person_ids)
    contact, *others = family_plan.members
    family = services.family_create(
        actor=actor,
        club=context.demo_club,
        membership_type=types[FAMILY],
        contact_person=persons[contact.person_id],
        name=family_plan.name,
        start_date=contact.joined,
        warnings_confirmed=True,
    )
    for member in others:
        services.family_add_member(
            actor=actor,
            family=family,
            membership_type=types[FAMILY],
            person=persons[member.person_id],
            start_date=member.joined,
            warnings_confirmed=True,
        )
    for guardian_id, child_id in family_plan.guardians:
        services.guardian_relation_create(
            actor=actor,
            guardian=persons[guardian_id],
            child=persons[child_id],
            on=context.reference_date,
        )
    return family


def _register_honorary(
    context: DemoContext,
    plan: DemoClubPlan,
    types: dict[str, MembershipType],
    *,
    actor: User | None,
) -> list[Member]:
    """D-05: named honorary members at the annual meeting; their earlier membership ended the
    day before. A candidate the service refuses (e.g. M-13) stays an ordinary member."""
    named = []
    for member in plan.honorary:
        person = Person.objects.get(pk=member.person_id)
        try:
            services.membership_join(
                actor=actor,
                club=context.demo_club,
                membership_type=types[HONORARY],
                person=person,
                start_date=HONORARY_SINCE,
                warnings_confirmed=True,
            )
        except ValidationError:
            continue
        named.append(member)
    before = {
        code: membership_type.pk
        for code, membership_type in types.items()
        if code in (ORDINARY, PENSIONER)
    }
    now = timezone.now()
    Membership.objects.bulk_create(
        Membership(
            person_id=member.person_id,
            club=context.demo_club,
            membership_type_id=before[
                PENSIONER
                if HONORARY_SINCE.year - member.birth_date.year >= PENSIONER_AGE
                else ORDINARY
            ],
            status=MembershipStatus.ENDED,
            start_date=member.joined,
            end_date=HONORARY_SINCE - datetime.timedelta(days=1),
            created_at=now,
            updated_at=now,
        )
        for member in named
    )
    plan.honorary = named
    return named


def _bulk_families(
    context: DemoContext, plan: DemoClubPlan, types: dict[str, MembershipType]
) -> tuple[int, int]:
    """The other families of the demo club, their family memberships and guardians in bulk.
    Returns (families, guardian relations) with `forelder`'s family counted in."""
    club = context.demo_club
    families = Family.objects.bulk_create(
        Family(club=club, name=family.name, contact_person_id=family.members[0].person_id)
        for family in plan.families
    )
    now = timezone.now()
    Membership.objects.bulk_create(
        (
            Membership(
                person_id=member.person_id,
                club=club,
                membership_type=types[FAMILY],
                family=family,
                status=status_for(member, context),
                start_date=member.joined,
                created_at=now,
                updated_at=now,
            )
            for family, family_plan in zip(families, plan.families, strict=True)
            for member in family_plan.members
        ),
        batch_size=5000,
    )
    relations = GuardianRelation.objects.bulk_create(
        (
            GuardianRelation(guardian_id=guardian_id, child_id=child_id)
            for family in plan.families
            for guardian_id, child_id in family.guardians
        ),
        batch_size=5000,
    )
    parent_guardians = len(plan.parent_family.guardians) if plan.parent_family else 0
    return len(families), len(relations) + parent_guardians


def member_clubs(context: DemoContext) -> list[int] | None:
    """The clubs whose members get memberships: None for every club."""
    if context.written.persons <= ALL_CLUBS_UP_TO_PERSONS:
        return None
    named = context.plan.clubs[: len(demo_data.FIXED_CLUBS)]
    return [club.organisation.id for club in named]


def insert_plain_memberships(
    context: DemoContext, *, exclude: Sequence[int], clubs: Sequence[int] | None
) -> int:
    """One membership per `member` function in `clubs` (None: every club), but for the
    persons in `exclude` (one statement; returns the number of rows)."""
    reference = context.reference_date
    member_type = FunctionType.objects.get(code=MEMBER_FUNCTION_CODE)
    parameters = {
        "today": context.today,
        "ended": MembershipStatus.ENDED.value,
        "pending": MembershipStatus.PENDING_VERIFICATION.value,
        "active": MembershipStatus.ACTIVE.value,
        "pending_after": pending_after(reference),
        "now": timezone.now(),
        "excluded": list(exclude),
        "ordinary": ORDINARY,
        "pensioner": PENSIONER,
        "junior": JUNIOR,
        "year": reference.year,
        "pensioner_age": PENSIONER_AGE,
        "adult_born_before": _years_before(reference, membership_rules.ADULT_AGE),
        "member_type": member_type.pk,
        "clubs": None if clubs is None else list(clubs),
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_MEMBERSHIPS, parameters)
        return cursor.rowcount


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The birth date of someone who turns `years` on `day` (is_child's limit)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _register_resignations(
    context: DemoContext, plan: DemoClubPlan, rng: random.Random, *, actor: User | None
) -> int:
    """Resignations through the service: the membership (and the member function) end on
    the day each was received."""
    resigned = 0
    for member in plan.resigning:
        membership = (
            Membership.objects.filter(club=context.demo_club, person_id=member.person_id)
            .exclude(status=MembershipStatus.ENDED)
            .first()
        )
        if membership is None:
            continue
        received = demo_data.date_between(rng, *RESIGNED_BETWEEN)
        services.membership_resign(actor=actor, membership=membership, received_on=received)
        resigned += 1
    return resigned
