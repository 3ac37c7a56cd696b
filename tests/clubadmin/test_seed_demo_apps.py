"""`manage.py seed_demo`: the demo data the apps add through their `seed_demo_data` hooks
(clubadmin.demo_hooks): memberships and families (members.demo), the demo club's fee
schedules and agreements (billing.demo)."""

import datetime
from collections import Counter, defaultdict

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from billing import selectors as billing_selectors
from billing.demo import GROUP_CODES, HARDSHIP_NOTES
from billing.models import (
    ActivityGroup,
    AgreementKind,
    ExemptionAgreement,
    FeeSchedule,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from billing.selectors_eligibility import team_eligibility
from clubadmin import demo_data, demo_hooks
from members import club_settings, demo, membership_rules, selectors_memberships
from members.models import (
    Family,
    Function,
    GuardianRelation,
    Membership,
    MembershipStatus,
    MembershipType,
    Organisation,
    User,
)
from members.services.memberships import DEFAULT_MEMBERSHIP_TYPES
from tests.clubadmin.test_seed_demo import (  # noqa: F401 (the autouse fixture)
    PERSONS,
    _function_types,
    demo_club,
    seed,
    table_counts,
)

DEFAULT_CODES = {code for code, _, _ in DEFAULT_MEMBERSHIP_TYPES}


def season() -> int:
    return timezone.localdate().year


def parent() -> User:
    return User.objects.select_related("person").get(username="forelder")


def parent_family() -> Family:
    return Family.objects.get(memberships__person=parent().person)


def test_members_and_billing_contribute_through_their_app_configs_in_dependency_order():
    labels = [label for label, _ in demo_hooks.app_hooks()]

    assert labels.index("members") < labels.index("billing")
    assert "clubadmin" not in labels


# ------------------------------------------------------------------------------ memberships


@pytest.mark.django_db
def test_every_club_has_the_default_membership_types():
    seed()

    per_club = {
        club.pk: {t.code for t in club.membership_types.all()}
        for club in Organisation.objects.filter(organisation_type="club").prefetch_related(
            "membership_types"
        )
    }
    assert len(per_club) == demo_data.MIN_CLUBS
    assert all(codes == DEFAULT_CODES for codes in per_club.values())
    assert set(
        MembershipType.objects.filter(club=demo_club()).values_list("code", "name", "category")
    ) == set(DEFAULT_MEMBERSHIP_TYPES)


@pytest.mark.django_db
def test_d02_every_member_function_has_a_calendar_year_membership_from_its_start():
    seed()

    memberships = defaultdict(list)
    for membership in Membership.objects.select_related("membership_type").order_by("start_date"):
        memberships[membership.person_id, membership.club_id].append(membership)
    functions = list(Function.objects.filter(function_type__code="member"))
    honorary = Membership.objects.filter(membership_type__code="honorary").count()
    # The honorary members (D-05) had an ordinary membership before the honorary one.
    assert sum(map(len, memberships.values())) == len(functions) + honorary
    for function in functions:
        rows = memberships[function.person_id, function.organisation_id]
        first, last = rows[0], rows[-1]
        assert first.start_date == function.from_date, function
        assert last.membership_type.period_kind == "calendar_year"
        if function.to_date is None:
            assert last.status != MembershipStatus.ENDED, function
            assert last.end_date is None
        else:
            assert (last.status, last.end_date) == (MembershipStatus.ENDED, function.to_date)
    plain = Membership.objects.filter(family=None, end_date=None).exclude(
        membership_type__code="honorary"
    )
    for membership in plain.select_related("person", "membership_type"):
        expected = demo.membership_type_code(membership.person.birth_date, demo_data.REFERENCE_DATE)
        assert membership.membership_type.code == expected, membership
    codes = Counter(plain.values_list("membership_type__code", flat=True))
    assert codes.keys() == {"junior", "ordinary", "pensioner"}


@pytest.mark.django_db
def test_m14_a_few_recent_members_are_pending_verification_and_some_ended():
    seed()
    club = demo_club()

    statuses = Counter(Membership.objects.filter(club=club).values_list("status", flat=True))
    assert 1 <= statuses[MembershipStatus.PENDING_VERIFICATION] <= statuses["active"] / 10
    assert statuses[MembershipStatus.ENDED] >= 3
    pending = Membership.objects.filter(status=MembershipStatus.PENDING_VERIFICATION)
    cutoff = demo.pending_after(demo_data.REFERENCE_DATE)
    assert all(m.start_date > cutoff for m in pending)


@pytest.mark.django_db
def test_m11_the_parent_family_is_registered_with_guardians_by_the_general_manager():
    seed()
    family = parent_family()

    members = list(family.memberships.select_related("person", "membership_type").order_by("pk"))
    assert family.contact_person == parent().person
    assert family.name == "Åsheim"
    assert [m.person.first_name for m in members] == ["Sølvi", "Øystein", "Tiril", "Filip", "Jakob"]
    assert {m.membership_type.code for m in members} == {"family"}
    assert {m.status for m in members} == {MembershipStatus.ACTIVE}
    assert {m.start_date for m in members} == {demo_data.LOGIN_FROM_DATE}
    children = [m.person for m in members[2:]]
    guardians = GuardianRelation.objects.filter(child__in=children)
    assert sorted(guardians.values_list("guardian__first_name", "child__first_name")) == sorted(
        (adult, child.first_name) for adult in ("Sølvi", "Øystein") for child in children
    )
    # Registered through the services: the history names the general manager.
    history = Membership.history.filter(family_id=family.pk, history_type="+")
    assert history.count() == 5
    assert {h.history_user.username for h in history} == {"dagligleder"}


@pytest.mark.django_db
def test_d01_families_are_households_within_the_limit_with_family_memberships():
    seed()
    club = demo_club()
    limit = club_settings.for_club(club, season()).family_member_limit

    families = Family.objects.filter(club=club).annotate(
        current=Count("memberships", filter=~Q(memberships__status=MembershipStatus.ENDED))
    )
    assert families.count() >= 5
    for family in families.prefetch_related("memberships__person__contact_sets"):
        assert 2 <= family.current <= limit
        memberships = list(family.memberships.all())
        assert {m.membership_type.code for m in memberships} == {"family"}
        addresses = {
            (c.street, c.postcode)
            for m in memberships
            for c in m.person.contact_sets.all()
            if c.is_standard
        }
        assert len(addresses) == 1, family
        assert (
            family.contact_person_id
            == min(memberships, key=lambda m: (m.start_date, m.person_id)).person_id
        )
        assert GuardianRelation.objects.filter(
            child__memberships__family=family, guardian__memberships__family=family
        ).exists()
    # Nobody holds an individual and a family membership at once (D-01).
    current = Membership.objects.exclude(status=MembershipStatus.ENDED)
    assert not current.values("person_id", "club_id").annotate(n=Count("id")).filter(n__gt=1)
    for relation in GuardianRelation.objects.select_related("guardian", "child"):
        assert membership_rules.is_child(relation.child.birth_date, demo_data.REFERENCE_DATE)
        assert not membership_rules.is_child(relation.guardian.birth_date, demo_data.REFERENCE_DATE)


@pytest.mark.django_db
def test_d05_two_honorary_members_and_three_resignations_in_the_demo_club():
    seed()
    club = demo_club()

    honorary = Membership.objects.filter(club=club, membership_type__code="honorary")
    assert honorary.count() == demo.HONORARY_MEMBERS
    for membership in honorary:
        assert membership.start_date == demo.HONORARY_SINCE
        before = Membership.objects.get(person=membership.person, club=club, end_date__isnull=False)
        assert before.end_date == demo.HONORARY_SINCE - datetime.timedelta(days=1)
        assert before.status == MembershipStatus.ENDED
    resigned = Membership.objects.filter(club=club, resignation_received_on__isnull=False)
    assert resigned.count() == 3
    for membership in resigned:
        assert membership.status == MembershipStatus.ENDED
        assert membership.end_date == membership.resignation_received_on
        assert not Function.objects.filter(
            person=membership.person, organisation=club, function_type__code="member", to_date=None
        ).exists()
    # Leaving the club is not leaving the team: the resigned teenager is on the work list.
    work_list = selectors_memberships.must_be_member_list(club=club)
    assert set(work_list.values_list("pk", flat=True)) & set(
        resigned.values_list("person_id", flat=True)
    )


@pytest.mark.django_db
def test_second_run_and_reset_keep_the_apps_demo_data_once():
    seed()
    first = table_counts()
    assert first["memberships"] > PERSONS * 0.9
    assert first["fee schedules"] == 2

    seed(reset=False)  # refused: nothing added
    assert table_counts() == first
    seed()  # --reset: the same again, histories included

    assert table_counts() == first
    assert Membership.history.filter(history_type="+").count() == 5 + demo.HONORARY_MEMBERS
    assert FeeSchedule.history.count() == 2


# ------------------------------------------------------------------------------- billing


@pytest.mark.django_db
def test_the_demo_club_has_the_example_fee_schedule_for_this_and_next_season():
    seed()
    club = demo_club()

    schedules = FeeSchedule.objects.filter(club=club).order_by("season")
    assert [s.season for s in schedules] == [season(), season() + 1]
    assert not FeeSchedule.objects.exclude(club=club).exists()
    groups = ActivityGroup.objects.filter(fee_schedule=schedules[0]).select_related("organisation")
    assert {g.code: g.organisation.sport for g in groups} == {
        code: sport for sport, code in GROUP_CODES.items()
    }
    assert all(g.organisation.path.startswith(club.path) for g in groups)
    assert all(g.cohort_fees.count() == 3 for g in groups)
    for schedule in schedules:
        config = billing_selectors.season_config(club, schedule.season)
        assert config.family_fee.max_members == 7
        assert config.rule("D-11 hardship")
    assert FeeSchedule.history.first().history_user.username == "dagligleder"


@pytest.mark.django_db
def test_d10_d11_d06_m15_contracts_hardship_trial_and_volunteer_hours():
    seed()
    club = demo_club()
    users = {u.username: u for u in User.objects.all()}

    contracts = VolunteerContract.objects.filter(club=club)
    assert users["lagleder"].person_id in set(contracts.values_list("person_id", flat=True))
    hardship = ExemptionAgreement.objects.get(club=club)
    assert hardship.kind == AgreementKind.HARDSHIP
    assert hardship.season == season()
    assert hardship.approved_by == users["dagligleder"]
    assert hardship.notes == HARDSHIP_NOTES
    assert hardship.for_children and hardship.children.count() == 1
    assert not hardship.children.filter(memberships__family=parent_family()).exists()
    hours = dict(VolunteerHours.objects.values_list("person__first_name", "hours"))
    assert hours == {"Sølvi": 3, "Øystein": 8}
    # D-06: the newcomer joined a week ago and trains on trial with the team leader's team.
    trial = TrialPeriod.objects.select_related("person", "team").get()
    today = timezone.localdate()
    assert trial.start_date == today - datetime.timedelta(days=demo.NEWCOMER_DAYS_AGO)
    team = Function.objects.get(
        person=users["lagleder"].person, function_type__code="team-leader"
    ).organisation
    assert trial.team == team
    newcomer = Membership.objects.get(person=trial.person, club=club)
    assert newcomer.status == MembershipStatus.PENDING_VERIFICATION
    assert newcomer.start_date == trial.start_date
    eligibility = {
        row.person.pk: row.eligibility for row in team_eligibility(team=team, club=club, on=today)
    }
    assert eligibility[trial.person_id].may_train
    assert not eligibility[trial.person_id].may_play


@pytest.mark.django_db
def test_the_dues_preview_of_the_parent_family_has_real_lines():
    seed()
    family = parent_family()

    preview = billing_selectors.dues_preview(parent(), family, season())

    rows = {name.split()[0]: dues for dues, name in preview.family_rows}
    assert list(rows) == ["Sølvi", "Øystein", "Tiril", "Filip", "Jakob"]
    assert all(dues.lines for dues in rows.values())
    rules = Counter(line.rule_id for dues in rows.values() for line in dues.lines)
    assert rules["M-11"] == 5  # the family fee shared by five (M-04: at least 50 each)
    assert rules["D-07"] == 3  # three footballers
    assert rules["D-09 siblings"] == 1  # only the two oldest pay
    assert rules["M-15 refund"] == 2
    assert preview.family.membership_total == 700
    assert preview.family.total > 0


@pytest.mark.django_db
def test_the_club_preview_shows_the_hardship_only_to_the_general_manager():
    seed()
    club = demo_club()
    manager = User.objects.get(username="dagligleder")
    registrar = User.objects.get(username="admin")

    for_manager = billing_selectors.dues_preview(manager, club, season())
    for_others = billing_selectors.dues_preview(registrar, club, season())

    rules = Counter(line.rule_id for line in for_manager.season_dues.lines())
    assert len(for_manager.season_dues.persons) > PERSONS / 3
    assert rules["D-01"] and rules["D-07"] and rules["M-11"] and rules["D-05 honorary"] == 2
    assert rules["D-11 hardship"] == 1
    assert not for_manager.redacted and for_others.redacted
    assert "D-11 hardship" not in {line.rule_id for line in for_others.season_dues.lines()}
