"""Reads for memberships, families, guardians and verification links (issue 5).

Lists are scoped through clubadmin.access and fetch what their pages show in a constant
number of queries (select_related / prefetch_related / annotations): an N+1 is a bug.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.capabilities import Capability
from members import dues_status, membership_rules
from members.models import (
    ContactSet,
    Family,
    Fold,
    Function,
    GuardianRelation,
    Membership,
    MembershipStatus,
    MembershipType,
    MembershipVerification,
    Organisation,
    Person,
    User,
    VerificationStatus,
)

# D-05, M-16: holders of these function types must be members of the club they act in.
MUST_BE_MEMBER_FUNCTION_CODES = (
    "player",
    "licensed-player",
    "coach",
    "head-coach",
    "assistant-coach",
    "team-leader",
    "referee",
    "board-member",
    "chair",
    "general-manager",
    "treasurer",
    "membership-registrar",
)

# The status filter of the membership list: "current" is every membership not ended.
STATUS_FILTERS = ("current", *MembershipStatus.values, "all")

CHILD_SHARES_EMAIL = _(
    "%(child)s is under 18 and has the same e-mail address as %(adult)s. Verification would "
    "match the child to the adult (M-14): give the child their own e-mail address, or confirm "
    "to register anyway and record the guardian relation."
)
CHILD_SHARES_MOBILE = _(
    "%(child)s is under 18 and has the same mobile number as %(adult)s. Verification would "
    "match the child to the adult (M-14): remove the adult's number from the child, or confirm "
    "to register anyway and record the guardian relation."
)
ADULT_NOT_VISIBLE = _("another adult in the register")
DUES_ELSEWHERE = _(
    "%(name)s owes dues to %(club)s (due since %(date)s). Confirm to register the membership "
    "anyway."
)
DUES_ELSEWHERE_AMOUNT = _(
    "%(name)s owes %(amount)s in dues to %(club)s (due since %(date)s). Confirm to register "
    "the membership anyway."
)


@dataclass(frozen=True)
class JoinWarning:
    """Something the registrar must see and confirm before a person joins (M-14 and the
    unpaid-dues warning). `person_id` is the other person concerned, when the registrar may
    see them (e.g. the parent to record as guardian)."""

    code: str
    message: str
    person_id: int | None = None


def _current(on: datetime.date | None = None, prefix: str = "") -> Q:
    """Memberships not ended and not ending before `on` (pending and active; future starts
    included: the person is joining). `prefix` reaches them from another model."""
    day = on or timezone.localdate()
    return ~Q(**{f"{prefix}status": MembershipStatus.ENDED}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": day})
    )


def current_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(_current())


def latest_verification_status() -> Subquery:
    newest = MembershipVerification.objects.filter(membership_id=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )
    return Subquery(newest.values("status")[:1])


def name_condition(search: str, person_lookup: str = "person__") -> Q:
    """P-01 style: every word is the start of the first or the last name, accents and æøå
    folded (the folded columns have trigram indexes)."""
    condition = Q()
    for part in search.split()[:3]:
        folded = Fold(Value(part))
        condition &= Q(**{f"{person_lookup}first_name_folded__startswith": folded}) | Q(
            **{f"{person_lookup}last_name_folded__startswith": folded}
        )
    return condition


def person_choices(*, user: User, query: str, limit: int = 20) -> QuerySet[Person]:
    """Persons the user may see whose names start with the words of `query` (at least two
    characters), to choose for a membership or as a guardian."""
    if len(query.strip()) < 2:
        return Person.objects.none()
    visible = access.scope(user, Capability.PERSONS_VIEW, Person.objects.all())
    visible = visible.filter(merged_into__isnull=True)  # P-14: merged persons are gone
    return visible.filter(name_condition(query, person_lookup="")).order_by(
        "last_name", "first_name", "pk"
    )[:limit]


def membership_list(
    *,
    user: User,
    club: Organisation | None = None,
    status: str = "current",
    membership_type_id: int | None = None,
    search: str = "",
    include_own: bool = True,
) -> QuerySet[Membership]:
    """Memberships the user may manage (and with `include_own` their own), filtered by
    status, type and name; with the newest verification status."""
    queryset = access.scope(
        user, Capability.MEMBERS_MANAGE, Membership.objects.all(), include_own=include_own
    )
    if club is not None:
        queryset = queryset.filter(club=club)
    if status == "current":
        queryset = queryset.filter(_current())
    elif status in MembershipStatus.values:
        queryset = queryset.filter(status=status)
    if membership_type_id is not None:
        queryset = queryset.filter(membership_type_id=membership_type_id)
    if search.strip():
        queryset = queryset.filter(name_condition(search))
    return (
        queryset.select_related("person", "club", "membership_type", "family")
        .annotate(verification_status=latest_verification_status())
        .order_by("person__last_name", "person__first_name", "-start_date", "pk")
    )


def membership_types(*, club: Organisation, active_only: bool = False) -> QuerySet[MembershipType]:
    queryset = MembershipType.objects.filter(club=club)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("name", "pk")


def membership_type_list(*, user: User, club: Organisation | None = None) -> QuerySet:
    queryset = access.scope(user, Capability.MEMBERS_MANAGE, MembershipType.objects.all())
    if club is not None:
        queryset = queryset.filter(club=club)
    return queryset.select_related("club").order_by("club__name", "name", "pk")


def family_list(
    *, user: User, club: Organisation | None = None, search: str = "", with_members: bool = False
) -> QuerySet[Family]:
    """Families the user may manage, with their contact person and number of current
    members (and with `with_members` the current memberships in `current_members`)."""
    queryset = access.scope(user, Capability.MEMBERS_MANAGE, Family.objects.all())
    if club is not None:
        queryset = queryset.filter(club=club)
    if search.strip():
        queryset = queryset.filter(
            Q(name__icontains=search.strip()) | name_condition(search, "contact_person__")
        )
    queryset = (
        queryset.select_related("club", "contact_person")
        .annotate(member_count=Count("memberships", filter=_current(prefix="memberships__")))
        .order_by("name", "pk")
    )
    if with_members:
        members = (
            Membership.objects.filter(_current())
            .select_related("person", "membership_type")
            .order_by("created_at", "pk")
        )
        queryset = queryset.prefetch_related(
            Prefetch("memberships", queryset=members, to_attr="current_members")
        )
    return queryset


def family_memberships(*, family: Family, include_ended: bool = False) -> QuerySet[Membership]:
    """The family's personal memberships, first registered first (M-11)."""
    queryset = family.memberships.all()
    if not include_ended:
        queryset = queryset.filter(_current())
    return queryset.select_related("person", "membership_type").order_by("created_at", "pk")


def family_member_count(family: Family) -> int:
    return Membership.objects.filter(_current(), family=family).count()


def own_memberships(*, user: User) -> QuerySet[Membership]:
    """The memberships of the user's own person (read-only portal page)."""
    if not user.is_authenticated or user.person_id is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(person_id=user.person_id)
        .select_related("club", "membership_type", "family")
        .order_by("-start_date", "pk")
    )


def own_families(*, user: User) -> QuerySet[Family]:
    """The families the user's person currently belongs to, with their members: the portal
    shows them read-only (M-11: members cannot remove family members themselves)."""
    if not user.is_authenticated or user.person_id is None:
        return Family.objects.none()
    mine = Membership.objects.filter(_current(), person_id=user.person_id, family=OuterRef("pk"))
    members = (
        Membership.objects.filter(_current())
        .select_related("person", "membership_type")
        .order_by("created_at", "pk")
    )
    return (
        Family.objects.filter(Exists(mine))
        .select_related("club", "contact_person")
        .prefetch_related(Prefetch("memberships", queryset=members, to_attr="current_members"))
        .order_by("name", "pk")
    )


def must_be_member_list(*, club: Organisation, on: datetime.date | None = None) -> QuerySet:
    """D-05, M-16: persons with an active player, coach, team leader, referee or board
    function in the club or below it who have no current membership in the club. Each person
    carries `required_functions` (those functions, with type and organisation)."""
    day = on or timezone.localdate()
    required = Function.objects.active(day).filter(
        organisation__path__startswith=club.path,
        function_type__code__in=MUST_BE_MEMBER_FUNCTION_CODES,
    )
    member = Membership.objects.filter(_current(day), club=club, person_id=OuterRef("pk"))
    return (
        Person.objects.filter(Exists(required.filter(person_id=OuterRef("pk"))))
        .exclude(Exists(member))
        .prefetch_related(
            Prefetch(
                "functions",
                queryset=required.select_related("function_type", "organisation").order_by(
                    "organisation__path", "function_type__number"
                ),
                to_attr="required_functions",
            )
        )
        .order_by("last_name", "first_name", "pk")
    )


def invoiceable_memberships(
    club: Organisation, period: membership_rules.ValidityPeriod
) -> QuerySet[Membership]:
    """The memberships of `club` to invoice for `period` (a ValidityPeriod, e.g. the fee year
    of D-02): pending or active, started by the end of the period and not ended before it.
    Ended memberships (resigned, removed from a family, struck off) are never invoiced again,
    whatever their end date. Honorary members are included: the price engine gives them 0."""
    return (
        Membership.objects.filter(club=club, start_date__lte=period.end)
        .exclude(status=MembershipStatus.ENDED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
        .select_related("person", "membership_type", "family")
        .order_by("family_id", "person__last_name", "person__first_name", "pk")
    )


def outstanding_dues_elsewhere(
    person: Person, club: Organisation, on: datetime.date | None = None
) -> list[dues_status.OwedDues]:
    """Overdue, unpaid dues the person owes to other clubs of the register on `on`, to warn
    the registrar when they join `club` (issue 5 scope 1; billing answers through
    members.dues_status)."""
    day = on or timezone.localdate()
    return dues_status.outstanding_dues([person.pk], exclude_club=club, on=day).get(person.pk, [])


@dataclass(frozen=True)
class StrikeOffRow:
    membership: Membership
    owed: dues_status.OwedDues


def memberships_to_strike_off(
    *, club: Organisation, on: datetime.date | None = None
) -> list[StrikeOffRow]:
    """Members owing dues for more than a year, listed for striking off (issue 5, scope 1):
    the current memberships of `club` whose person owes the club on an invoice more than a
    year (members.dues_status.STRIKE_OFF_AFTER_DAYS) past its due date on `on`; oldest debt
    first. Five queries (four of them billing's)."""
    day = on or timezone.localdate()
    owing = dues_status.owing_for_more_than_a_year(club, on=day)
    memberships = (
        Membership.objects.filter(_current(day), club=club, person_id__in=list(owing))
        .select_related("person", "membership_type", "family")
        .order_by("person__last_name", "person__first_name", "start_date", "pk")
    )
    rows = [StrikeOffRow(membership, owing[membership.person_id]) for membership in memberships]
    return sorted(rows, key=lambda row: row.owed.oldest_due_date)


def person_is_verified(person: Person) -> bool:
    """A person whose identity is known: traced to one real individual through the national
    id service (S-03: the national person id) or by a confirmed verification link (M-14)."""
    if person.national_person_id:
        return True
    return MembershipVerification.objects.filter(
        membership__person=person, status=VerificationStatus.VERIFIED
    ).exists()


def _email_variants(email: str) -> list[str]:
    # The e-mail column has a plain index: compare the stored spelling and its lower case
    # (an iexact lookup would scan every contact set).
    return sorted({email, email.lower()})


def other_members_with_email(*, email: str, club: Organisation, person: Person) -> QuerySet[Person]:
    """M-13: current members of the club, other than `person`, whose standard e-mail is
    `email` (in any letter case). Starts from the club's memberships, so the case-insensitive
    comparison only looks at the contact sets of the club's members."""
    if not email:
        return Person.objects.none()
    members = (
        Membership.objects.filter(_current(), club=club).exclude(person=person).values("person_id")
    )
    holders = ContactSet.objects.filter(
        is_standard=True, person_id__in=members, email__iexact=email
    )
    return Person.objects.filter(pk__in=holders.values("person_id"))


def _adults_sharing(field: str, value: str, person: Person, day: datetime.date) -> list[Person]:
    values = _email_variants(value) if field == "email" else [value]
    sharing = ContactSet.objects.filter(**{f"{field}__in": values}).exclude(person=person)
    candidates = Person.objects.filter(
        pk__in=sharing.values("person_id"), is_deceased=False
    ).order_by("pk")[:20]
    return [c for c in candidates if not membership_rules.is_child(c.birth_date, day)]


def join_warnings(
    *, person: Person, club: Organisation, user: User | None, on: datetime.date | None = None
) -> list[JoinWarning]:
    """What the registrar confirms before `person` joins `club`: a child sharing an adult's
    e-mail or mobile (M-14), unpaid dues in another club."""
    day = on or timezone.localdate()
    warnings: list[JoinWarning] = []
    standard = ContactSet.objects.filter(person=person, is_standard=True).first()
    if standard is not None and membership_rules.is_child(person.birth_date, day):
        for field, message, code in (
            ("email", CHILD_SHARES_EMAIL, "child_shares_email"),
            ("mobile", CHILD_SHARES_MOBILE, "child_shares_mobile"),
        ):
            value = getattr(standard, field)
            for adult in _adults_sharing(field, value, person, day) if value else []:
                visible = user is None or access.can(user, Capability.PERSONS_VIEW, adult)
                text = message % {
                    "child": person.full_name,
                    "adult": adult.full_name if visible else ADULT_NOT_VISIBLE,
                }
                warnings.append(JoinWarning(code, str(text), adult.pk if visible else None))
    warnings.extend(_dues_warnings(person, club, user, day))
    return warnings


def _dues_warnings(
    person: Person, club: Organisation, user: User | None, day: datetime.date
) -> list[JoinWarning]:
    """Issue 5 scope 1: the registrar is warned, not stopped. That a person owes another
    club is shown to every registrar (the rule asks for it); the amount is the other club's
    financial data, shown only to whoever may manage that club's billing."""
    debts = outstanding_dues_elsewhere(person, club, day)
    clubs = Organisation.objects.in_bulk([debt.club_id for debt in debts]) if debts else {}
    warnings = []
    for debt in debts:
        other = clubs.get(debt.club_id)
        values = {
            "name": person.full_name,
            "club": debt.club_name,
            "date": formats.date_format(debt.oldest_due_date, "SHORT_DATE_FORMAT"),
            "amount": "NOK " + formats.number_format(debt.amount, 2, force_grouping=True),
        }
        may_see_amount = user is None or (
            other is not None and access.has_capability(user, Capability.BILLING_MANAGE, other)
        )
        text = (DUES_ELSEWHERE_AMOUNT if may_see_amount else DUES_ELSEWHERE) % values
        warnings.append(JoinWarning("dues_elsewhere", str(text)))
    return warnings


def guardians_of(person: Person) -> QuerySet[GuardianRelation]:
    return (
        GuardianRelation.objects.filter(child=person)
        .select_related("guardian")
        .order_by("guardian__last_name", "guardian__first_name", "pk")
    )


def hash_token(token: str) -> str:
    """S-08: only a SHA-256 hash of a verification token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def verification_by_token(token: str) -> MembershipVerification | None:
    """The verification of a link, with what the portal page shows; None when unknown."""
    return (
        MembershipVerification.objects.filter(token_hash=hash_token(token))
        .select_related("membership__person", "membership__club", "membership__membership_type")
        .first()
    )


def verifications_of(membership: Membership) -> QuerySet[MembershipVerification]:
    return membership.verifications.select_related("created_by").order_by("-created_at", "-pk")


def standard_contact(person: Person) -> ContactSet | None:
    return ContactSet.objects.filter(person=person, is_standard=True).first()
