"""Reads of the fee schedule and agreement pages (issue 5): a club's schedules, agreements,
contracts, volunteer hours, trial periods and payment preferences, each list in a fixed
number of queries (select_related / prefetch_related), and the persons, groups and teams a
form may offer. D-11: confidential agreements only when asked for (the views ask only for
the general manager)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from billing.models import (
    CONFIDENTIAL_KINDS,
    ActivityGroup,
    CohortFee,
    ExemptionAgreement,
    FeeSchedule,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from members.models import (
    Function,
    GuardianRelation,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationType,
    Person,
)

PERSON_FIELDS = ("pk", "first_name", "middle_name", "last_name", "birth_date")


def club_schedules(club: Organisation) -> QuerySet[FeeSchedule]:
    return (
        FeeSchedule.objects.filter(club=club)
        .annotate(group_count=Count("activity_groups"))
        .order_by("-season")
    )


def schedule_with_parts(pk: int) -> FeeSchedule | None:
    """A schedule with its club, groups (with their club groups) and cohort fees."""
    return (
        FeeSchedule.objects.select_related("club")
        .prefetch_related(
            Prefetch(
                "activity_groups",
                queryset=ActivityGroup.objects.select_related("organisation")
                .prefetch_related(
                    Prefetch("cohort_fees", queryset=CohortFee.objects.order_by("-birth_year_to"))
                )
                .order_by("position", "pk"),
            )
        )
        .filter(pk=pk)
        .first()
    )


def club_groups(club: Organisation) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        path__startswith=club.path, organisation_type=OrganisationType.GROUP
    ).order_by("path")


def club_teams(club: Organisation) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        path__startswith=club.path, organisation_type=OrganisationType.TEAM
    ).order_by("path")


def club_persons(club: Organisation) -> QuerySet[Person]:
    """Persons of the club: a membership that has not ended, or a function in the club or
    below it (merged persons never)."""
    memberships = Membership.objects.filter(club=club, person_id=OuterRef("pk")).exclude(
        status=MembershipStatus.ENDED
    )
    functions = Function.objects.filter(
        organisation__path__startswith=club.path, person_id=OuterRef("pk")
    )
    return Person.objects.filter(merged_into__isnull=True).filter(
        Q(Exists(memberships)) | Q(Exists(functions))
    )


def person_choices(persons: QuerySet[Person], query: str, limit: int = 20) -> list[Person]:
    """Persons among `persons` whose first or last names start with the words of `query`."""
    words = query.split()[:3]
    if not words or len(query) < 2:
        return []
    condition = Q()
    for word in words:
        condition &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
    return list(
        persons.filter(condition)
        .only(*PERSON_FIELDS)
        .order_by("last_name", "first_name", "pk")[:limit]
    )


def children_of(person: Person) -> QuerySet[Person]:
    """The person's own children (guardian relations, D-10)."""
    return Person.objects.filter(
        Exists(GuardianRelation.objects.filter(guardian=person, child_id=OuterRef("pk")))
    ).order_by("birth_date", "pk")


def club_agreements(
    club: Organisation, season: int, *, confidential: bool
) -> QuerySet[ExemptionAgreement]:
    """The season's agreements: the confidential ones (D-11) or the others."""
    kinds = Q(kind__in=CONFIDENTIAL_KINDS)
    rows = ExemptionAgreement.objects.filter(club=club, season=season)
    rows = rows.filter(kinds) if confidential else rows.exclude(kinds)
    return (
        rows.select_related("person", "group", "team", "approved_by__person")
        .prefetch_related(
            Prefetch("children", queryset=Person.objects.only(*PERSON_FIELDS).order_by("pk"))
        )
        .order_by("person__last_name", "person__first_name", "pk")
    )


def club_contracts(club: Organisation) -> QuerySet[VolunteerContract]:
    return (
        VolunteerContract.objects.filter(club=club)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "-signed_on", "pk")
    )


def club_volunteer_hours(club: Organisation, season: int) -> QuerySet[VolunteerHours]:
    return (
        VolunteerHours.objects.filter(club=club, season=season)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "pk")
    )


def club_trial_periods(club: Organisation) -> QuerySet[TrialPeriod]:
    return (
        TrialPeriod.objects.filter(team__path__startswith=club.path)
        .select_related("person", "team")
        .order_by("-start_date", "pk")
    )


def club_payment_preferences(club: Organisation) -> QuerySet[PaymentPreference]:
    return (
        PaymentPreference.objects.filter(club=club)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "pk")
    )
