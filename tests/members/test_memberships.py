"""Memberships (issue 5): validity periods (D-02, M-12), membership types, joining (M-13,
M-14), resigning and ending, the invoiceable memberships, the "must be a member" work list
(D-05, M-16), their pages and their API."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members import membership_rules, selectors_memberships
from members.api.common import FIELD_CANNOT_BE_CHANGED
from members.forms_memberships import PERSON_OR_NEW_PERSON
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    Person,
    VerificationStatus,
)
from members.services import function_end
from members.services import memberships as services
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_memberships import (
    MembershipFactory,
    MembershipTypeFactory,
    default_types,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def memberships_state() -> list:
    return sorted(
        Membership.objects.values_list(
            "pk",
            "person_id",
            "club_id",
            "membership_type_id",
            "family_id",
            "status",
            "start_date",
            "end_date",
            "resignation_received_on",
        )
    )


def registrar(world):  # type: ignore[no-untyped-def]
    return world.user("official_this_club", Capability.MEMBERS_MANAGE)


# ------------------------------------------------------------------ pure rules: periods


def test_d02_calendar_year_fee_is_for_the_whole_year_and_valid_until_next_due_date():
    joined_in_june = membership_rules.calendar_year_period(
        2027, joined_on=datetime.date(2027, 6, 15)
    )
    assert joined_in_june == membership_rules.ValidityPeriod(
        datetime.date(2027, 6, 15), datetime.date(2028, 3, 1)
    )
    renewed = membership_rules.calendar_year_period(2028, joined_on=datetime.date(2027, 6, 15))
    assert renewed == membership_rules.ValidityPeriod(
        datetime.date(2028, 1, 1), datetime.date(2029, 3, 1)
    )
    december = membership_rules.validity_period("calendar_year", datetime.date(2027, 12, 20))
    assert december.end == datetime.date(2028, 3, 1)  # the full year's fee, valid into March
    assert december.contains(datetime.date(2028, 3, 1))
    assert not december.contains(datetime.date(2028, 3, 2))


def test_d02_due_date_is_configurable():
    period = membership_rules.calendar_year_period(2027, due_month=4, due_day=15)
    assert period == membership_rules.ValidityPeriod(
        datetime.date(2027, 1, 1), datetime.date(2028, 4, 15)
    )


def test_m12_date_to_date_runs_twelve_months_from_purchase():
    assert membership_rules.validity_period(
        "date_to_date", datetime.date(2023, 3, 15)
    ) == membership_rules.ValidityPeriod(datetime.date(2023, 3, 15), datetime.date(2024, 3, 14))
    leap = membership_rules.date_to_date_period(datetime.date(2024, 2, 29))
    assert leap.end == datetime.date(2025, 2, 28)


@pytest.mark.parametrize(
    ("kind", "start", "day", "expected"),
    [
        # M-12: the third 12 months of a membership bought 15.03.2023
        ("date_to_date", (2023, 3, 15), (2025, 6, 1), ((2025, 3, 15), (2026, 3, 14))),
        ("date_to_date", (2023, 3, 15), (2024, 3, 15), ((2024, 3, 15), (2025, 3, 14))),
        ("date_to_date", (2023, 3, 15), (2023, 1, 1), ((2023, 3, 15), (2024, 3, 14))),
        # D-02: the fee year of the day
        ("calendar_year", (2025, 6, 1), (2027, 2, 10), ((2027, 1, 1), (2028, 3, 1))),
        ("calendar_year", (2025, 6, 1), (2025, 9, 1), ((2025, 6, 1), (2026, 3, 1))),
    ],
)
def test_m12_d02_period_a_day_falls_in(kind, start, day, expected):
    period = membership_rules.period_on(kind, datetime.date(*start), datetime.date(*day))
    assert (period.start, period.end) == (datetime.date(*expected[0]), datetime.date(*expected[1]))


def test_unknown_period_kind_is_an_error():
    with pytest.raises(ValueError, match="monthly"):
        membership_rules.validity_period("monthly", datetime.date(2027, 1, 1))


def test_m14_child_is_under_18_on_the_day():
    born = datetime.date(2009, 5, 10)
    assert membership_rules.is_child(born, datetime.date(2027, 5, 9)) is True
    assert membership_rules.is_child(born, datetime.date(2027, 5, 10)) is False
    assert membership_rules.is_child(None, datetime.date(2027, 5, 10)) is False
    assert membership_rules.age_on(born, datetime.date(2027, 5, 9)) == 17


def test_d01_family_has_room_for_seven():
    assert membership_rules.FAMILY_MEMBER_LIMIT == 7
    assert membership_rules.family_has_room(6) is True
    assert membership_rules.family_has_room(7) is False


def test_mobile_numbers_are_stored_in_e164():
    assert membership_rules.normalise_mobile("912 34 567") == "+4791234567"
    assert membership_rules.normalise_mobile("+46 70 123 45 67") == "+46701234567"
    assert membership_rules.normalise_mobile("12") is None


# ------------------------------------------------------------------ membership types


def test_default_types_cover_the_categories_once(world):
    first = default_types(world.club_a)
    again = default_types(world.club_a)

    assert first == again
    assert {t.code: t.category for t in first.values()} == {
        "ordinary": MembershipCategory.ORDINARY,
        "junior": MembershipCategory.JUNIOR,
        "senior": MembershipCategory.SENIOR,
        "family": MembershipCategory.FAMILY,
        "pensioner": MembershipCategory.PENSIONER,
        "honorary": MembershipCategory.HONORARY,
    }
    assert MembershipType.objects.filter(club=world.club_a).count() == 6


def test_membership_type_create(world):
    created = services.membership_type_create(
        actor=registrar(world),
        club=world.club_a,
        code="student",
        name="Student",
        category=MembershipCategory.OTHER,
        period_kind="date_to_date",
    )
    assert (created.club, created.category, created.period_kind) == (
        world.club_a,
        "other",
        "date_to_date",
    )


def test_membership_type_code_is_unique_in_the_club(world):
    default_types(world.club_a)
    with pytest.raises(ValidationError):
        services.membership_type_create(
            actor=None, club=world.club_a, code="junior", name="Junior 2", category="junior"
        )
    assert MembershipType.objects.filter(club=world.club_a).count() == 6


def test_membership_types_only_in_clubs(world):
    with pytest.raises(ValidationError) as error:
        services.membership_type_create(
            actor=None, club=world.team_a, code="x", name="X", category="ordinary"
        )
    assert error.value.message_dict == {"club": [str(services.NOT_A_CLUB)]}
    assert not MembershipType.objects.exists()


def test_membership_type_needs_members_manage_in_the_club(world):
    for role in ("official_without_capability", "official_other_club", "member"):
        with pytest.raises(PermissionDenied):
            services.membership_type_create(
                actor=world.user(role, Capability.MEMBERS_MANAGE),
                club=world.club_a,
                code="x",
                name="X",
                category="ordinary",
            )
    assert not MembershipType.objects.exists()


# ------------------------------------------------------------------------------ joining


def test_join_makes_a_pending_membership_and_a_member_function(world):
    types = default_types(world.club_a)
    actor = registrar(world)

    membership = services.membership_join(
        actor=actor,
        club=world.club_a,
        person=world.player_a,
        membership_type=types["ordinary"],
        start_date=datetime.date(2026, 1, 10),
    )

    membership.refresh_from_db()
    assert (membership.status, membership.start_date, membership.end_date) == (
        MembershipStatus.PENDING_VERIFICATION,
        datetime.date(2026, 1, 10),
        None,
    )
    assert membership.history.get().history_user == actor
    member_function = Function.objects.get(
        person=world.player_a, organisation=world.club_a, function_type__code="member"
    )
    assert (member_function.from_date, member_function.to_date) == (
        datetime.date(2026, 1, 10),
        None,
    )
    assert not membership.verifications.exists()  # no channel chosen: nothing sent


def test_join_of_a_verified_person_by_an_administrator_is_active(world):
    person = PersonFactory(national_person_id="NIF-123")
    membership = services.membership_join(
        actor=registrar(world),
        club=world.club_a,
        person=person,
        membership_type=default_types(world.club_a)["senior"],
    )
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.start_date == TODAY()


def test_join_with_a_new_person_creates_them_with_a_standard_contact_set(world):
    membership = services.membership_join(
        actor=registrar(world),
        club=world.club_a,
        membership_type=default_types(world.club_a)["ordinary"],
        new_person={
            "first_name": " Ingrid ",
            "last_name": "Lunde",
            "birth_date": datetime.date(1990, 4, 2),
            "email": "ingrid@example.org",
            "mobile": "+4791111111",
        },
    )
    person = membership.person
    assert (person.first_name, person.last_name, person.birth_date) == (
        "Ingrid",
        "Lunde",
        datetime.date(1990, 4, 2),
    )
    contact = ContactSet.objects.get(person=person)
    assert (contact.is_standard, contact.email, contact.mobile) == (
        True,
        "ingrid@example.org",
        "+4791111111",
    )


def test_join_twice_is_rejected_and_nothing_changes(world):
    types = default_types(world.club_a)
    services.membership_join(
        actor=None, club=world.club_a, person=world.player_a, membership_type=types["ordinary"]
    )
    before = memberships_state()

    with pytest.raises(ValidationError) as error:
        services.membership_join(
            actor=None, club=world.club_a, person=world.player_a, membership_type=types["senior"]
        )

    assert error.value.message_dict == {"person": [str(services.ALREADY_MEMBER)]}
    assert memberships_state() == before


def test_join_again_after_resigning_starts_the_next_day(world):
    types = default_types(world.club_a)
    first = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=types["ordinary"],
        start_date=TODAY() - 30 * DAY,
    )
    services.membership_resign(actor=None, membership=first, received_on=TODAY() - 10 * DAY)

    with pytest.raises(ValidationError):  # the exclusion constraint: the periods overlap
        services.membership_join(
            actor=None,
            club=world.club_a,
            person=world.player_a,
            membership_type=types["ordinary"],
            start_date=TODAY() - 10 * DAY,
        )
    again = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=types["ordinary"],
        start_date=TODAY() - 9 * DAY,
    )
    assert again.status == MembershipStatus.PENDING_VERIFICATION


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("type of another club", "membership_type", services.TYPE_OF_ANOTHER_CLUB),
        ("inactive type", "membership_type", services.TYPE_INACTIVE),
        ("family type without family", "membership_type", services.FAMILY_TYPE_NEEDS_FAMILY),
        ("deceased person", "person", services.PERSON_DECEASED),
    ],
)
def test_join_is_rejected_with_a_clear_message(world, case, field, message):
    types = default_types(world.club_a)
    membership_type, person = types["ordinary"], PersonFactory()
    if case == "type of another club":
        membership_type = MembershipTypeFactory(club=world.club_b)
    elif case == "inactive type":
        membership_type = MembershipTypeFactory(club=world.club_a, is_active=False)
    elif case == "family type without family":
        membership_type = types["family"]
    else:
        person = PersonFactory(is_deceased=True)
    people = Person.objects.count()

    with pytest.raises(ValidationError) as error:
        services.membership_join(
            actor=None, club=world.club_a, person=person, membership_type=membership_type
        )

    assert error.value.message_dict == {field: [str(message)]}
    assert not Membership.objects.exists()
    assert Person.objects.count() == people


def test_join_needs_members_manage_in_the_club(world):
    types = default_types(world.club_a)
    for role in ("member", "official_without_capability", "official_other_club"):
        with pytest.raises(PermissionDenied):
            services.membership_join(
                actor=world.user(role, Capability.MEMBERS_MANAGE),
                club=world.club_a,
                person=world.player_a,
                membership_type=types["ordinary"],
            )
    assert not Membership.objects.exists()


def test_m13_individual_members_need_their_own_email(world):
    types = default_types(world.club_a)
    first = PersonFactory(standard_contact__email="Felles@Example.org")
    services.membership_join(
        actor=None, club=world.club_a, person=first, membership_type=types["ordinary"]
    )
    second = PersonFactory(standard_contact__email="Felles@example.org")
    before = memberships_state()

    with pytest.raises(ValidationError) as error:
        services.membership_join(
            actor=None, club=world.club_a, person=second, membership_type=types["ordinary"]
        )

    assert error.value.message_dict == {
        "email": [str(services.EMAIL_NOT_UNIQUE) % {"email": "Felles@example.org"}]
    }
    assert memberships_state() == before


def test_m13_a_new_person_is_not_kept_when_the_email_is_taken(world):
    types = default_types(world.club_a)
    taken = PersonFactory(standard_contact__email="tatt@example.org")
    services.membership_join(
        actor=None, club=world.club_a, person=taken, membership_type=types["ordinary"]
    )
    people = Person.objects.count()

    with pytest.raises(ValidationError):
        services.membership_join(
            actor=None,
            club=world.club_a,
            membership_type=types["ordinary"],
            new_person={"first_name": "Ny", "last_name": "Person", "email": "tatt@example.org"},
        )

    assert Person.objects.count() == people
    assert Membership.objects.count() == 1


def test_m13_the_email_of_a_former_member_or_another_club_is_free(world):
    types = default_types(world.club_a)
    former = PersonFactory(standard_contact__email="fri@example.org")
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=former,
        membership_type=types["ordinary"],
        start_date=TODAY() - 5 * DAY,
    )
    services.membership_resign(actor=None, membership=membership, received_on=TODAY())
    other_club = PersonFactory(standard_contact__email="fri@example.org")
    services.membership_join(
        actor=None,
        club=world.club_b,
        person=other_club,
        membership_type=MembershipTypeFactory(club=world.club_b),
    )

    joined = services.membership_join(
        actor=None,
        club=world.club_a,
        person=PersonFactory(standard_contact__email="fri@example.org"),
        membership_type=types["ordinary"],
    )
    assert joined.pk is not None


def test_update_changes_the_type_but_never_an_ended_membership(world):
    types = default_types(world.club_a)
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=types["ordinary"],
        start_date=TODAY() - 5 * DAY,
    )
    services.membership_update(actor=None, membership=membership, membership_type=types["senior"])
    membership.refresh_from_db()
    assert membership.membership_type == types["senior"]

    services.membership_end(actor=None, membership=membership)
    before = memberships_state()
    with pytest.raises(ValidationError) as error:
        services.membership_update(
            actor=None, membership=membership, membership_type=types["junior"]
        )
    assert error.value.messages == [str(services.START_OF_ENDED)]
    assert memberships_state() == before


# --------------------------------------------------------------------- resigning, ending


def test_resignation_ends_the_membership_on_the_day_it_is_received(world):
    types = default_types(world.club_a)
    actor = registrar(world)
    membership = services.membership_join(
        actor=actor,
        club=world.club_a,
        person=world.player_a,
        membership_type=types["ordinary"],
        start_date=TODAY() - 100 * DAY,
    )

    services.membership_resign(actor=actor, membership=membership, received_on=TODAY() - 3 * DAY)

    membership.refresh_from_db()
    assert (membership.status, membership.end_date, membership.resignation_received_on) == (
        MembershipStatus.ENDED,
        TODAY() - 3 * DAY,
        TODAY() - 3 * DAY,
    )
    assert membership.history.first().history_user == actor
    member_function = Function.objects.get(person=world.player_a, function_type__code="member")
    assert member_function.to_date == TODAY() - 3 * DAY


def test_resignation_before_the_start_ends_it_on_the_start_date(world):
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=default_types(world.club_a)["ordinary"],
        start_date=TODAY() + 20 * DAY,
    )
    services.membership_resign(actor=None, membership=membership, received_on=TODAY())
    membership.refresh_from_db()
    assert (membership.end_date, membership.resignation_received_on) == (
        TODAY() + 20 * DAY,
        TODAY(),
    )


@pytest.mark.parametrize(
    ("service", "arguments", "message"),
    [
        ("membership_resign", {"received_on": 1}, services.RESIGNATION_IN_FUTURE),
        ("membership_end", {"end_date": 1}, services.END_IN_FUTURE),
        ("membership_end", {"end_date": -200}, services.END_BEFORE_START),
    ],
)
def test_resign_and_end_reject_impossible_dates(world, service, arguments, message):
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=default_types(world.club_a)["ordinary"],
        start_date=TODAY() - 100 * DAY,
    )
    before = memberships_state()
    functions = list(Function.objects.values_list("pk", "to_date"))
    ((name, days),) = arguments.items()

    with pytest.raises(ValidationError) as error:
        getattr(services, service)(
            actor=None, membership=membership, **{name: TODAY() + days * DAY}
        )

    assert error.value.messages == [str(message)]
    assert memberships_state() == before
    assert list(Function.objects.values_list("pk", "to_date")) == functions


def test_an_ended_membership_cannot_end_again(world):
    membership = MembershipFactory(
        club=world.club_a,
        status=MembershipStatus.ENDED,
        end_date=datetime.date(2025, 1, 1),
    )
    before = memberships_state()
    for service in (services.membership_resign, services.membership_end):
        with pytest.raises(ValidationError) as error:
            service(actor=None, membership=membership)
        assert error.value.messages == [str(services.ALREADY_ENDED)]
    assert memberships_state() == before


def test_ending_needs_members_manage_in_the_club(world):
    membership = MembershipFactory(club=world.club_a)
    before = memberships_state()
    for role in ("member", "official_without_capability", "official_other_club"):
        with pytest.raises(PermissionDenied):
            services.membership_resign(
                actor=world.user(role, Capability.MEMBERS_MANAGE), membership=membership
            )
    assert memberships_state() == before


def test_leaving_a_team_ends_the_function_not_the_membership(world):
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=default_types(world.club_a)["ordinary"],
        start_date=TODAY() - 50 * DAY,
    )

    function_end(actor=None, function=world.function_a)

    membership.refresh_from_db()
    assert (membership.status, membership.end_date) == (MembershipStatus.PENDING_VERIFICATION, None)


# ----------------------------------------------------------------------- invoiceable


def test_ended_memberships_are_never_invoiced_again(world):
    """Resigned (and otherwise ended) members are never invoiced again."""
    club = world.club_a
    year = membership_rules.calendar_year_period(2026)
    active = MembershipFactory(club=club, start_date=datetime.date(2025, 5, 1))
    pending = MembershipFactory(
        club=club,
        status=MembershipStatus.PENDING_VERIFICATION,
        start_date=datetime.date(2026, 6, 1),
    )
    resigned = MembershipFactory(
        club=club,
        status=MembershipStatus.ENDED,
        start_date=datetime.date(2024, 1, 1),
        end_date=datetime.date(2026, 2, 1),
        resignation_received_on=datetime.date(2026, 2, 1),
    )
    MembershipFactory(club=club, start_date=datetime.date(2027, 4, 1))  # after the period
    MembershipFactory(club=world.club_b)

    invoiceable = set(selectors_memberships.invoiceable_memberships(club, year))

    assert invoiceable == {active, pending}
    assert resigned not in invoiceable


# -------------------------------------------------------------- must be members (D-05)


def make_must_be_member_cases(world):  # type: ignore[no-untyped-def]
    types = default_types(world.club_a)
    function_type = FunctionType.objects.get
    board = PersonFactory(first_name="Bente", last_name="Styre")
    FunctionFactory(
        person=board, organisation=world.club_a, function_type=function_type(code="board-member")
    )
    coach = PersonFactory(first_name="Carl", last_name="Trener")
    FunctionFactory(
        person=coach, organisation=world.team_a, function_type=function_type(code="coach")
    )
    pending_member = PersonFactory(first_name="Per", last_name="Venter")
    FunctionFactory(
        person=pending_member,
        organisation=world.team_a,
        function_type=function_type(code="referee"),
    )
    services.membership_join(
        actor=None, club=world.club_a, person=pending_member, membership_type=types["ordinary"]
    )
    former_coach = PersonFactory(first_name="Fred", last_name="Tidligere")
    FunctionFactory(
        person=former_coach,
        organisation=world.team_a,
        function_type=function_type(code="coach"),
        to_date=datetime.date(2021, 1, 1),
    )
    volunteer = PersonFactory(first_name="Vera", last_name="Frivillig")
    FunctionFactory(
        person=volunteer, organisation=world.club_a, function_type=function_type(code="volunteer")
    )
    resigned = PersonFactory(first_name="Rolf", last_name="Sluttet")
    FunctionFactory(
        person=resigned, organisation=world.group_a, function_type=function_type(code="team-leader")
    )
    MembershipFactory(
        person=resigned,
        club=world.club_a,
        status=MembershipStatus.ENDED,
        end_date=datetime.date(2025, 1, 1),
    )
    return {"board": board, "coach": coach, "resigned": resigned}


def test_d05_m16_players_coaches_referees_and_officials_without_membership(world):
    people = make_must_be_member_cases(world)

    listed = list(selectors_memberships.must_be_member_list(club=world.club_a))

    assert [p.full_name for p in listed] == [
        "Rolf Sluttet",
        "Bente Styre",
        "Carl Trener",
        "Åse Ødegård",
    ]
    by_name = {p.full_name: p for p in listed}
    assert [
        (f.function_type.code, f.organisation.name)
        for f in by_name["Åse Ødegård"].required_functions
    ] == [("player", "Sagene IF G2015")]
    assert people["coach"] in listed
    assert selectors_memberships.must_be_member_list(club=world.club_b).get().last_name == (
        "Bergseng"
    )


def test_d05_joining_takes_a_person_off_the_work_list(world):
    services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=default_types(world.club_a)["ordinary"],
    )
    assert world.player_a not in selectors_memberships.must_be_member_list(club=world.club_a)


def test_d05_work_list_page_makes_a_constant_number_of_queries(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    url = reverse("members:must-be-members", args=[world.club_a.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            assert response.status_code == 200
        return len(queries)

    few = count()
    player = FunctionType.objects.get(code="player")
    for _ in range(15):
        person = PersonFactory()
        FunctionFactory(person=person, organisation=world.team_a, function_type=player)
        FunctionFactory(
            person=person,
            organisation=world.group_a,
            function_type=FunctionType.objects.get(code="coach"),
        )
    assert count() == few
    assert client.get(url).content.decode().count("Sagene IF G2015") == 16


# -------------------------------------------------------------------------------- pages


def test_membership_list_filters_and_searches(world):
    types = default_types(world.club_a)
    MembershipFactory(
        club=world.club_a,
        person=PersonFactory(first_name="Ærlig", last_name="Aktiv"),
        membership_type=types["senior"],
    )
    MembershipFactory(
        club=world.club_a,
        person=PersonFactory(first_name="Vilde", last_name="Venter"),
        status=MembershipStatus.PENDING_VERIFICATION,
        membership_type=types["junior"],
    )
    MembershipFactory(
        club=world.club_a,
        person=PersonFactory(first_name="Sigurd", last_name="Sluttet"),
        status=MembershipStatus.ENDED,
        end_date=datetime.date(2025, 1, 1),
    )
    MembershipFactory(
        club=world.club_b, person=PersonFactory(first_name="Annen", last_name="Klubb")
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    url = reverse("members:membership-list", args=[world.club_a.pk])

    def names(query: str) -> list[str]:
        page = client.get(url + query).context["page"]
        return [m.person.full_name for m in page.object_list]

    assert names("") == ["Ærlig Aktiv", "Vilde Venter"]
    assert names("?status=all") == ["Ærlig Aktiv", "Sigurd Sluttet", "Vilde Venter"]
    assert names("?status=ended") == ["Sigurd Sluttet"]
    assert names(f"?type={types['junior'].pk}") == ["Vilde Venter"]
    assert names("?q=aerl") == ["Ærlig Aktiv"]
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div id="membership-list">')
    assert "Annen Klubb" not in html


def test_membership_list_makes_a_constant_number_of_queries(world):
    membership_type = MembershipTypeFactory(club=world.club_a)
    MembershipFactory(club=world.club_a, membership_type=membership_type)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    url = reverse("members:membership-list", args=[world.club_a.pk]) + "?status=all"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for number in range(30):
        membership = MembershipFactory(club=world.club_a, membership_type=membership_type)
        if number % 3 == 0:
            membership.verifications.create(token_hash=f"{number:064d}")
    assert count() == few


def test_join_page_registers_an_existing_person(world):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    lookup = client.get(
        reverse("members:membership-person-lookup", args=[world.club_a.pk]) + "?q=åse"
    ).content.decode()
    assert f'value="{world.player_a.pk}"' in lookup

    response = client.post(
        reverse("members:membership-join", args=[world.club_a.pk]),
        {
            "person": world.player_a.pk,
            "membership_type": types["ordinary"].pk,
            "start_date": "2026-02-01",
            "verification_channel": "",
        },
    )

    membership = Membership.objects.get(person=world.player_a)
    assert response.status_code == 302
    assert response.url == reverse("members:membership-detail", args=[membership.pk])
    assert (membership.club, membership.start_date, membership.status) == (
        world.club_a,
        datetime.date(2026, 2, 1),
        MembershipStatus.PENDING_VERIFICATION,
    )


def test_join_page_registers_a_new_person_and_queues_the_link(
    world, django_capture_on_commit_callbacks
):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("members:membership-join", args=[world.club_a.pk]),
            {
                "first_name": "Nora",
                "last_name": "Ny",
                "email": "nora@example.org",
                "mobile": "912 34 567",
                "gender": "female",
                "membership_type": types["senior"].pk,
                "verification_channel": "email",
            },
        )

    assert response.status_code == 302
    membership = Membership.objects.get(person__first_name="Nora")
    contact = ContactSet.objects.get(person=membership.person)
    assert (contact.email, contact.mobile) == ("nora@example.org", "+4791234567")
    assert membership.verifications.get().status == VerificationStatus.NOT_SENT
    # Queued when the transaction commits: the verification link, and the P-14 duplicate check
    # of the new person.
    assert len(callbacks) == 2


def test_join_page_shows_errors_and_saves_nothing(world):
    types = default_types(world.club_a)
    taken = PersonFactory(standard_contact__email="tatt@example.org")
    services.membership_join(
        actor=None, club=world.club_a, person=taken, membership_type=types["ordinary"]
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    people, before = Person.objects.count(), memberships_state()

    response = client.post(
        reverse("members:membership-join", args=[world.club_a.pk]),
        {
            "first_name": "Dobbel",
            "last_name": "Adresse",
            "email": "tatt@example.org",
            "membership_type": types["ordinary"].pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        str(services.EMAIL_NOT_UNIQUE) % {"email": "tatt@example.org"}
    ]
    assert (Person.objects.count(), memberships_state()) == (people, before)


def test_join_page_needs_a_person(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    response = client.post(
        reverse("members:membership-join", args=[world.club_a.pk]),
        {"membership_type": default_types(world.club_a)["ordinary"].pk},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [str(PERSON_OR_NEW_PERSON)]
    assert not Membership.objects.exists()


def test_membership_page_explains_leaving_a_team_and_resigns(world):
    membership = services.membership_join(
        actor=None,
        club=world.club_a,
        person=world.player_a,
        membership_type=default_types(world.club_a)["ordinary"],
        start_date=TODAY() - 40 * DAY,
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("members:membership-detail", args=[membership.pk])

    html = client.get(url).content.decode()
    assert "Leaving a group or a team is not leaving the club" in html
    assert reverse("members:person-functions", args=[world.player_a.pk]) in html

    response = client.post(
        reverse("members:membership-resign", args=[membership.pk]),
        {"received_on": (TODAY() - DAY).isoformat()},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.status, membership.end_date) == (MembershipStatus.ENDED, TODAY() - DAY)


def test_membership_page_shows_a_refused_resignation(world):
    membership = MembershipFactory(club=world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    before = memberships_state()

    response = client.post(
        reverse("members:membership-resign", args=[membership.pk]),
        {"received_on": (TODAY() + DAY).isoformat()},
        follow=True,
    )

    assert str(services.RESIGNATION_IN_FUTURE) in response.content.decode()
    assert memberships_state() == before


def test_membership_types_page_adds_types_and_defaults(world):
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    url = reverse("members:membership-types", args=[world.club_a.pk])

    assert (
        client.post(
            url,
            {
                "name": "Støttemedlem",
                "code": "support",
                "category": "other",
                "period_kind": "date_to_date",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("members:membership-types-defaults", args=[world.club_a.pk])
        ).status_code
        == 302
    )

    assert sorted(
        MembershipType.objects.filter(club=world.club_a).values_list("code", flat=True)
    ) == [
        "family",
        "honorary",
        "junior",
        "ordinary",
        "pensioner",
        "senior",
        "support",
    ]
    assert "Støttemedlem" in client.get(url).content.decode()


def test_my_memberships_page_shows_only_my_own(world):
    member = world.user("member")
    MembershipFactory(club=world.club_a, person=member.person)
    MembershipFactory(
        club=world.club_b, person=PersonFactory(first_name="Someone", last_name="Else")
    )
    client = world.client("member")

    response = client.get(reverse("members:my-memberships"))

    assert response.status_code == 200
    assert [m.club for m in response.context["memberships"]] == [world.club_a]
    assert "Someone Else" not in response.content.decode()


# ---------------------------------------------------------------------------------- API


def test_api_lists_memberships_scoped_and_filtered(world):
    types = default_types(world.club_a)
    ours = MembershipFactory(club=world.club_a, membership_type=types["senior"])
    ended = MembershipFactory(
        club=world.club_a, status=MembershipStatus.ENDED, end_date=datetime.date(2025, 1, 1)
    )
    MembershipFactory(club=world.club_b)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    everything = client.get("/api/v1/memberships/").json()
    current = client.get(f"/api/v1/memberships/?club={world.club_a.pk}&status=current").json()
    seniors = client.get(f"/api/v1/memberships/?membership_type={types['senior'].pk}").json()

    assert {row["id"] for row in everything["results"]} == {ours.pk, ended.pk}
    assert [row["id"] for row in current["results"]] == [ours.pk]
    assert [row["category"] for row in seniors["results"]] == ["senior"]
    assert client.get(f"/api/v1/memberships/?club={world.club_c.pk}").json()["count"] == 0


def test_api_member_sees_their_own_membership_only(world):
    member = world.user("member")
    own = MembershipFactory(club=world.club_a, person=member.person)
    MembershipFactory(club=world.club_a)
    rows = world.client("member").get("/api/v1/memberships/").json()["results"]
    assert [row["id"] for row in rows] == [own.pk]


def test_api_membership_list_makes_a_constant_number_of_queries(world):
    membership_type = MembershipTypeFactory(club=world.club_a)
    MembershipFactory(club=world.club_a, membership_type=membership_type)
    client = world.client("federation_staff")
    client.get("/api/v1/memberships/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/memberships/").status_code == 200
        return len(queries)

    few = count()
    for number in range(20):
        membership = MembershipFactory(club=world.club_a, membership_type=membership_type)
        membership.verifications.create(token_hash=f"{number:064d}")
    assert count() == few


def test_api_join_an_existing_and_a_new_person(world):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    existing = client.post(
        "/api/v1/memberships/",
        {
            "club": world.club_a.pk,
            "person": world.player_a.pk,
            "membership_type": types["senior"].pk,
        },
        content_type="application/json",
    )
    new = client.post(
        "/api/v1/memberships/",
        {
            "club": world.club_a.pk,
            "membership_type": types["ordinary"].pk,
            "start_date": "2026-03-01",
            "new_person": {"first_name": "Ola", "last_name": "Ny", "mobile": "91234560"},
        },
        content_type="application/json",
    )

    assert existing.status_code == 201, existing.content
    assert existing.json()["person"]["id"] == world.player_a.pk
    assert existing.json()["status"] == "pending_verification"
    assert new.status_code == 201, new.content
    person = Person.objects.get(pk=new.json()["person"]["id"])
    assert ContactSet.objects.get(person=person).mobile == "+4791234560"
    assert new.json()["start_date"] == "2026-03-01"


def test_api_join_errors_are_clear_and_save_nothing(world):
    types = default_types(world.club_a)
    services.membership_join(
        actor=None, club=world.club_a, person=world.player_a, membership_type=types["ordinary"]
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    before = memberships_state()

    response = client.post(
        "/api/v1/memberships/",
        {
            "club": world.club_a.pk,
            "person": world.player_a.pk,
            "membership_type": types["senior"].pk,
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"person": [str(services.ALREADY_MEMBER)]}
    assert memberships_state() == before


def test_api_update_rejects_moving_a_membership_to_another_person_or_club(world):
    membership = MembershipFactory(club=world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)
    before = memberships_state()

    response = client.patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"person": world.player_a.pk, "club": world.club_b.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "person": [str(FIELD_CANNOT_BE_CHANGED)],
        "club": [str(FIELD_CANNOT_BE_CHANGED)],
    }
    assert memberships_state() == before


def test_api_update_and_resign(world):
    types = default_types(world.club_a)
    membership = MembershipFactory(
        club=world.club_a, membership_type=types["ordinary"], start_date=TODAY() - 30 * DAY
    )
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    patched = client.patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"membership_type": types["pensioner"].pk},
        content_type="application/json",
    )
    resigned = client.post(
        f"/api/v1/memberships/{membership.pk}/resign/",
        {"received_on": (TODAY() - 2 * DAY).isoformat()},
        content_type="application/json",
    )

    assert patched.json()["category"] == "pensioner"
    assert resigned.status_code == 200
    assert (resigned.json()["status"], resigned.json()["end_date"]) == (
        "ended",
        (TODAY() - 2 * DAY).isoformat(),
    )


def test_api_membership_types_list_and_create(world):
    default_types(world.club_a)
    MembershipTypeFactory(club=world.club_b)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    listed = client.get("/api/v1/membership-types/").json()
    created = client.post(
        "/api/v1/membership-types/",
        {"club": world.club_a.pk, "code": "trial", "name": "Prøvemedlem", "category": "other"},
        content_type="application/json",
    )

    assert listed["count"] == 6
    assert created.status_code == 201
    assert created.json()["period_kind"] == "calendar_year"
    assert MembershipType.objects.filter(club=world.club_a).count() == 7
