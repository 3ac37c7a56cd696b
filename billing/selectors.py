"""The adapter between the register and the price engine (issue 5), and the dues preview.

- `season_config(club, season)`: the club's stored fee schedule as a `SeasonConfig`.
- `person_facts(club, season, persons)`: `PersonFacts` built from memberships, functions,
  guardians, contracts, agreements, volunteer hours and payment preferences, in a bounded
  number of queries whatever the number of persons (a whole club included).
- `dues_preview(user, target, season)`: the engine's dues for a person, a family or a club,
  with D-11 hardship lines redacted for everyone but the club's general manager.

Reads only: writes are in billing.services.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet, Sum

from billing import pricing
from billing.eligibility import TRIAL_DAYS
from billing.models import (
    ActivityGroup,
    ExemptionAgreement,
    FeeSchedule,
    PaymentPreference,
    VolunteerContract,
    VolunteerHours,
)
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import (
    Family,
    Function,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
    User,
)

NO_FEE_SCHEDULE = "The club has no fee schedule for {season}."
GENERAL_MANAGER = "general-manager"
PLAYER_CODES = ("player", "licensed-player")
# D-10: the register's function types as the engine's role kinds. Board functions are the
# main board at club level and a group board in a group.
BOARD_CODES = ("board-member", "chair")
ROLE_KINDS_BY_CODE = {
    "team-leader": pricing.RoleKind.TEAM_LEADER,
    "head-coach": pricing.RoleKind.HEAD_COACH,
    "assistant-coach": pricing.RoleKind.ASSISTANT_COACH,
    "coach": pricing.RoleKind.COACH,
    "referee": pricing.RoleKind.REFEREE,
    "volunteer": pricing.RoleKind.VOLUNTEER,
    "general-manager": pricing.RoleKind.OFFICIAL,
    "treasurer": pricing.RoleKind.OFFICIAL,
    "membership-registrar": pricing.RoleKind.OFFICIAL,
}
FACT_FUNCTION_CODES = (*PLAYER_CODES, *BOARD_CODES, *ROLE_KINDS_BY_CODE)
# D-01/D-05: membership categories as the engine's registered membership types. Junior,
# senior, pensioner and other memberships pay their category's fee when the schedule gives
# one, else the ordinary fee (the engine prices them by age, e.g. the pensioner fee from 67).
ENGINE_MEMBERSHIP_TYPES = {
    MembershipCategory.ORDINARY: pricing.MembershipType.ORDINARY,
    MembershipCategory.JUNIOR: pricing.MembershipType.JUNIOR,
    MembershipCategory.SENIOR: pricing.MembershipType.SENIOR,
    MembershipCategory.PENSIONER: pricing.MembershipType.PENSIONER,
    MembershipCategory.OTHER: pricing.MembershipType.OTHER,
    MembershipCategory.FAMILY: pricing.MembershipType.FAMILY,
    MembershipCategory.HONORARY: pricing.MembershipType.HONORARY,
}


class NoFeeSchedule(LookupError):
    def __init__(self, season: int) -> None:
        self.text = pricing.Text(NO_FEE_SCHEDULE, (("season", season),))  # billing.texts
        super().__init__(str(self.text))


def _season_range(season: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(season, 1, 1), datetime.date(season, 12, 31)


class _AnyOf(Lookup):
    """`field = ANY(%s::bigint[])`: the ids travel as one array parameter. A Django `IN`
    list of a few thousand ids costs more to build, quote and parse than the query takes
    to run (an invoicing chunk reads some 1,500 persons in a dozen queries)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        # The array literal as text: psycopg's client-side quoting of a list of 6,000 ints
        # costs more than the query.
        return "%s", ["{" + ",".join(str(int(pk)) for pk in value) + "}"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]


def any_of(field: str, ids: Iterable[int]) -> _AnyOf:
    """A filter `field` is one of `ids`: `queryset.filter(any_of("person_id", ids))`."""
    return _AnyOf(F(field), list(ids))


# ------------------------------------------------------------------ fee schedule


def fee_schedule(club: Organisation, season: int) -> FeeSchedule | None:
    return (
        FeeSchedule.objects.filter(club=club, season=season)
        .prefetch_related(
            Prefetch(
                "activity_groups",
                queryset=ActivityGroup.objects.prefetch_related("cohort_fees").order_by(
                    "position", "pk"
                ),
            )
        )
        .first()
    )


def club_trial_days(club: Organisation, season: int) -> int:
    """D-06: how many days a new player may train before registering, as the club's fee
    schedule for the season says (3 weeks when the club has no schedule)."""
    days = (
        FeeSchedule.objects.filter(club=club, season=season)
        .values_list("trial_days", flat=True)
        .first()
    )
    return days or TRIAL_DAYS


def season_config(club: Organisation, season: int) -> pricing.SeasonConfig:
    """The club's SeasonConfig for `season` (3 queries). Raises NoFeeSchedule."""
    schedule = fee_schedule(club, season)
    if schedule is None:
        raise NoFeeSchedule(season)
    return schedule.to_config()


# ------------------------------------------------------------------ the adapter


def _season_memberships(club: Organisation, season: int) -> QuerySet[Membership]:
    """Memberships of the club that may be invoiced for the season (as
    members.selectors_memberships.invoiceable_memberships: ended ones never again)."""
    first, last = _season_range(season)
    return (
        Membership.objects.filter(club=club, start_date__lte=last)
        .exclude(status=MembershipStatus.ENDED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
    )


def _season_functions(club: Organisation, season: int) -> QuerySet[Function]:
    """Functions in the club or below it that overlap the season and matter to pricing."""
    first, last = _season_range(season)
    return Function.objects.filter(
        Q(to_date__isnull=True) | Q(to_date__gte=first),
        from_date__lte=last,
        organisation__path__startswith=club.path,
        function_type__code__in=FACT_FUNCTION_CODES,
    )


def club_person_ids(club: Organisation, season: int) -> list[int]:
    """Everyone the engine prices for the club's season: members and function holders."""
    members = _season_memberships(club, season).filter(person_id=OuterRef("pk"))
    holders = _season_functions(club, season).filter(person_id=OuterRef("pk"))
    return list(
        Person.objects.filter(Q(Exists(members)) | Q(Exists(holders)))
        .filter(merged_into__isnull=True)  # P-14: a merged person is priced as the survivor
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def related_person_ids(club: Organisation, season: int, person_ids: Iterable[int]) -> list[int]:
    """`person_ids` with whom their dues depend on (engine: "the person, their family and
    their guardians"): the rest of their families, their guardians, and the holders of
    roles in their teams (D-10 caps assistant coaches per team). Three queries."""
    ids = set(person_ids)
    memberships = _season_memberships(club, season)
    families = memberships.filter(any_of("person_id", ids), family__isnull=False).values(
        "family_id"
    )
    ids |= set(memberships.filter(family_id__in=families).values_list("person_id", flat=True))
    ids |= set(
        GuardianRelation.objects.filter(any_of("child_id", ids)).values_list(
            "guardian_id", flat=True
        )
    )
    functions = _season_functions(club, season)
    teams = functions.filter(
        any_of("person_id", ids),
        function_type__code__in=PLAYER_CODES,
        organisation__organisation_type=OrganisationType.TEAM,
    ).values("organisation_id")
    ids |= set(
        functions.filter(organisation_id__in=teams)
        .exclude(function_type__code__in=PLAYER_CODES)
        .values_list("person_id", flat=True)
    )
    return sorted(ids)


@dataclass(frozen=True)
class _Tree:
    """The club's groups and teams: the group (and its engine code) of each organisation."""

    organisations: dict[int, Organisation]
    group_of: dict[int, Organisation | None]
    codes: dict[int, str]

    def code(self, organisation_id: int) -> str | None:
        group = self.group_of.get(organisation_id)
        return None if group is None else self.codes.get(group.pk)

    def team_id(self, organisation_id: int) -> int | None:
        organisation = self.organisations.get(organisation_id)
        if organisation is None or organisation.organisation_type != OrganisationType.TEAM:
            return None
        return organisation.pk


def _tree(club: Organisation, season: int) -> _Tree:
    """Two queries: the organisations below the club and the schedule's group links."""
    organisations = {
        o.pk: o
        for o in Organisation.objects.filter(path__startswith=club.path).only(
            "pk", "path", "organisation_type", "sport", "name"
        )
    }
    by_path = {o.path: o for o in organisations.values()}
    group_of: dict[int, Organisation | None] = {}
    for organisation in organisations.values():
        group_of[organisation.pk] = None
        step = Organisation.steplen
        for end in range(len(organisation.path), 0, -step):
            candidate = by_path.get(organisation.path[:end])
            if candidate and candidate.organisation_type == OrganisationType.GROUP:
                group_of[organisation.pk] = candidate
                break
    linked = dict(
        ActivityGroup.objects.filter(
            fee_schedule__club=club, fee_schedule__season=season, organisation__isnull=False
        ).values_list("organisation_id", "code")
    )
    codes = {
        o.pk: linked.get(o.pk) or (o.sport or o.name).casefold()
        for o in organisations.values()
        if o.organisation_type == OrganisationType.GROUP
    }
    return _Tree(organisations, group_of, codes)


def activity_group_code(club: Organisation, season: int, organisation_id: int) -> str | None:
    """The code of the schedule's activity group that an organisation of the club (a team, a
    group) belongs to for the season; None when it belongs to none."""
    return _tree(club, season).code(organisation_id)


def person_facts(
    club: Organisation, season: int, persons: Iterable[int] | None = None
) -> list[pricing.PersonFacts]:
    """PersonFacts for `persons` (ids; None = everyone of the club's season), in a constant
    number of queries. Pass what `related_person_ids` returns to price a person or family
    exactly as the season run does. Persons without a birth date cannot be priced and are
    left out. Rows are read as tuples (no model instances, no prefetch objects): the
    invoicing run builds the facts of 100,000 persons this way (issue 6 benchmark)."""
    ids = sorted(club_person_ids(club, season) if persons is None else set(persons))
    tree = _tree(club, season)
    people = (
        Person.objects.filter(any_of("pk", ids), birth_date__isnull=False)
        .order_by("pk")
        .values_list("pk", "birth_date", "gender")
    )
    register = _Register.load(club, season, ids)
    extras = _Extras.load(club, season, ids, tree)
    return [_facts(row, season, tree, register, extras) for row in people]


@dataclass(frozen=True)
class _Register:
    """The register's rows about persons, by person id (three queries): memberships
    (category, family, family contact, dates, resignation) and functions (code,
    organisation, dates) in the season, in date order, and the children of guardians."""

    memberships: dict[int, list[tuple]]
    functions: dict[int, list[tuple]]
    children: dict[int, list[int]]

    @classmethod
    def load(cls, club: Organisation, season: int, ids: list[int]) -> _Register:
        memberships: dict[int, list[tuple]] = defaultdict(list)
        for person_id, *row in (
            _season_memberships(club, season)
            .filter(any_of("person_id", ids))
            .order_by("start_date", "pk")
            .values_list(
                "person_id",
                "membership_type__category",
                "family_id",
                "family__contact_person_id",
                "start_date",
                "end_date",
                "resignation_received_on",
            )
        ):
            memberships[person_id].append(tuple(row))
        functions: dict[int, list[tuple]] = defaultdict(list)
        for person_id, *row in (
            _season_functions(club, season)
            .filter(any_of("person_id", ids))
            .order_by("from_date", "pk")
            .values_list(
                "person_id", "function_type__code", "organisation_id", "from_date", "to_date"
            )
        ):
            functions[person_id].append(tuple(row))
        children: dict[int, list[int]] = defaultdict(list)
        for guardian_id, child_id in (
            GuardianRelation.objects.filter(any_of("guardian_id", ids))
            .order_by("child_id")
            .values_list("guardian_id", "child_id")
        ):
            children[guardian_id].append(child_id)
        return cls(memberships, functions, children)


@dataclass(frozen=True)
class _Extras:
    """Billing's own rows about persons, by person id (five queries)."""

    contracts: set[int]
    agreements: dict[int, list[pricing.Agreement]]
    hours: dict[int, Decimal]
    methods: dict[int, str]

    @classmethod
    def load(cls, club: Organisation, season: int, ids: list[int], tree: _Tree) -> _Extras:
        first, last = _season_range(season)
        persons = any_of("person_id", ids)
        contracts = set(
            VolunteerContract.objects.filter(persons, club=club, signed_on__lte=last)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
            .values_list("person_id", flat=True)
        )
        agreements: dict[int, list[pricing.Agreement]] = defaultdict(list)
        rows = ExemptionAgreement.objects.filter(persons, club=club, season=season)
        children: dict[int, list[int]] = defaultdict(list)
        through = ExemptionAgreement.children.through.objects.filter(
            exemptionagreement__in=rows.values("pk")
        ).order_by("person_id")
        for agreement_id, child_id in through.values_list("exemptionagreement_id", "person_id"):
            children[agreement_id].append(child_id)
        for row in rows.order_by("pk"):
            agreements[row.person_id].append(_agreement(row, tuple(children[row.pk]), tree))
        hours = dict(
            VolunteerHours.objects.filter(persons, club=club, season=season)
            .values("person_id")
            .annotate(total=Sum("hours"))
            .values_list("person_id", "total")
        )
        methods = dict(
            PaymentPreference.objects.filter(persons, club=club).values_list("person_id", "method")
        )
        return cls(contracts, agreements, hours, methods)


def _agreement(
    row: ExemptionAgreement, child_ids: tuple[int, ...], tree: _Tree
) -> pricing.Agreement:
    return pricing.Agreement(
        rule_id=row.rule_id,
        for_self=row.for_self,
        for_children=row.for_children,
        child_ids=child_ids,
        group=tree.codes.get(row.group_id) if row.group_id else None,
        team_id=row.team_id,
        fee_kinds=tuple(pricing.FeeKind(kind) for kind in row.fee_kinds),
        percent=row.percent.normalize() if row.percent is not None else None,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


_INVOICE = pricing.PaymentMethod.INVOICE
_NO_HOURS = Decimal(0)


def _facts(
    person: tuple, season: int, tree: _Tree, register: _Register, extras: _Extras
) -> pricing.PersonFacts:
    person_id, birth_date, gender = person
    memberships = register.memberships.get(person_id, ())
    # the family of the latest membership with one (category, family, contact, ...)
    family = next(((m[1], m[2]) for m in reversed(memberships) if m[1] is not None), None)
    resignations = [m[5] for m in memberships if m[5]]
    activities: list[pricing.Activity] = []
    roles: list[pricing.Role] = []
    for function in register.functions.get(person_id, ()):
        _add_function(function, tree, activities, roles)
    method = extras.methods.get(person_id)
    return pricing.PersonFacts(
        person_id=person_id,
        birth_date=birth_date,
        gender=gender,
        family_id=family[0] if family else None,
        family_contact=bool(family and family[1] == person_id),
        memberships=tuple(
            pricing.Membership(ENGINE_MEMBERSHIP_TYPES.get(m[0], "ordinary"), m[3], m[4])
            for m in memberships
        ),
        resigned_on=min(resignations) if resignations else None,
        payment_method=_INVOICE if method is None else pricing.PaymentMethod(method),
        activities=tuple(activities),
        roles=tuple(roles),
        volunteer_contract_signed=person_id in extras.contracts,
        agreements=tuple(extras.agreements.get(person_id, ())),
        children_ids=tuple(register.children.get(person_id, ())),
        volunteer_hours=extras.hours.get(person_id, _NO_HOURS),
    )


def _add_function(
    function: tuple,
    tree: _Tree,
    activities: list[pricing.Activity],
    roles: list[pricing.Role],
) -> None:
    code, organisation_id, from_date, to_date = function
    organisation = tree.organisations[organisation_id]
    group = tree.code(organisation.pk)
    team_id = tree.team_id(organisation.pk)
    if code in PLAYER_CODES:
        if group is not None:  # a player on a team or in a group (D-07)
            activities.append(pricing.Activity(group, from_date, team_id=team_id, end=to_date))
    elif code in BOARD_CODES:
        if organisation.organisation_type == OrganisationType.CLUB:
            roles.append(pricing.Role(pricing.RoleKind.MAIN_BOARD))
        elif organisation.organisation_type == OrganisationType.GROUP:
            roles.append(pricing.Role(pricing.RoleKind.GROUP_BOARD, group=group))
    else:
        roles.append(pricing.Role(ROLE_KINDS_BY_CODE[code], group=group, team_id=team_id))


# ------------------------------------------------------------------ the preview


def is_general_manager(user: User | None, club: Organisation) -> bool:
    """D-11: the club's general manager (an active general-manager function in the club)."""
    if user is None or not user.is_authenticated or user.person_id is None:
        return False
    return (
        Function.objects.active()
        .filter(person_id=user.person_id, organisation=club, function_type__code=GENERAL_MANAGER)
        .exists()
    )


def may_preview_club(user: User | None, club: Organisation) -> bool:
    """Administrators of the club's members or billing see every member's preview."""
    return access.has_capability(user, Capability.MEMBERS_MANAGE, club) or access.has_capability(
        user, Capability.BILLING_MANAGE, club
    )


@dataclass(frozen=True)
class DuesPreview:
    """What a preview page or the API shows. `names` holds the display name of every person
    in the dues (one query); `redacted` says whether D-11 lines were hidden."""

    club: Organisation
    season: int
    config: pricing.SeasonConfig
    redacted: bool
    names: dict[int, str]
    person: pricing.PersonDues | None = None
    family: pricing.FamilyDues | None = None
    season_dues: pricing.SeasonDues | None = None

    @property
    def family_rows(self) -> list[tuple[pricing.PersonDues, str]]:
        members = self.family.members if self.family else ()
        return [(dues, self.names.get(dues.person_id, "")) for dues in members]


def _redact_family(dues: pricing.FamilyDues) -> pricing.FamilyDues:
    return dataclasses.replace(dues, members=tuple(member.redacted() for member in dues.members))


def _names(ids: Iterable[int]) -> dict[int, str]:
    return {
        p.pk: p.full_name
        for p in Person.objects.filter(any_of("pk", ids)).only(
            "pk", "first_name", "middle_name", "last_name"
        )
    }


def dues_preview(
    user: User | None,
    target: Person | Family | Organisation,
    season: int,
    *,
    club: Organisation | None = None,
) -> DuesPreview:
    """The engine's dues for a person (in `club`), a family or a whole club, redacted (D-11)
    unless `user` is the club's general manager. Access is the caller's job (the views and
    the API fetch the target with 404 for missing and forbidden). Raises NoFeeSchedule and
    pricing.PricingError."""
    if isinstance(target, Family):
        club = target.club
    elif isinstance(target, Organisation):
        club = target
    assert club is not None, "a person's preview needs the club"
    config = season_config(club, season)
    redact = not is_general_manager(user, club)
    if isinstance(target, Organisation):
        dues = pricing.price_season(config, person_facts(club, season))
        if redact:
            dues = dataclasses.replace(
                dues,
                persons=tuple(p.redacted() for p in dues.persons),
                families=tuple(_redact_family(f) for f in dues.families),
            )
        return DuesPreview(
            club,
            season,
            config,
            redact,
            _names(p.person_id for p in dues.persons),
            season_dues=dues,
        )
    if isinstance(target, Family):
        seed = (
            _season_memberships(club, season)
            .filter(family=target)
            .values_list("person_id", flat=True)
        )
        facts = person_facts(club, season, related_person_ids(club, season, seed))
        family_dues = pricing.price_family(config, facts, target.pk)
        if redact:
            family_dues = _redact_family(family_dues)
        names = _names(member.person_id for member in family_dues.members)
        return DuesPreview(club, season, config, redact, names, family=family_dues)
    facts = person_facts(club, season, related_person_ids(club, season, [target.pk]))
    person_dues = pricing.price_person(config, facts, target.pk)
    if redact:
        person_dues = person_dues.redacted()
    return DuesPreview(
        club, season, config, redact, {target.pk: target.full_name}, person=person_dues
    )


def person_clubs(person: Person) -> QuerySet[Organisation]:
    """The clubs of the person's memberships that are not ended, newest first."""
    memberships = Membership.objects.filter(person=person, club=OuterRef("pk")).exclude(
        status=MembershipStatus.ENDED
    )
    return Organisation.objects.filter(Exists(memberships)).order_by("name", "pk")


def belongs_to_club(person: Person, club: Organisation) -> bool:
    """A person has a membership in the club or a function in it or below it."""
    return (
        Membership.objects.filter(person=person, club=club).exists()
        or Function.objects.filter(person=person, organisation__path__startswith=club.path).exists()
    )
