"""`manage.py seed_demo`: a deterministic, realistic demo register with working logins."""

import difflib
import io
import random
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q
from stdnum.no import kontonr, orgnr

from billing.models import FeeSchedule
from clubadmin import access, demo_data
from clubadmin.capabilities import Capability
from clubadmin.demo_data import (
    DEMO_CLUB_ORGANISATION_NUMBER,
    DEMO_PASSWORD,
    FEDERATION_ORGANISATION_NUMBER,
    OrganisationPlan,
    RegisterGenerator,
    plan_organisations,
)
from clubadmin.management.commands.seed_demo import (
    ALREADY_PRESENT,
    TOO_FEW_PERSONS,
    USERNAMES_TAKEN,
)
from members import rules
from members.models import (
    ContactSet,
    Family,
    Function,
    FunctionType,
    GuardianRelation,
    Membership,
    MembershipType,
    Organisation,
    OrganisationType,
    Person,
    SportsIdHistory,
    User,
)
from tests.members.factories import (
    ContactSetFactory,
    FunctionFactory,
    PersonFactory,
)

PERSONS = 300
SEED = 7
LOGIN_NAMES = ("forbund", "dagligleder", "lagleder", "dommer", "forelder")


@pytest.fixture(autouse=True)
def _function_types(request):
    """seed_demo needs the function types of the data migrations (see tests/conftest.py):
    0002's, and the licensed player of 0006 (P-15), which a flushed database lacks too."""
    if "django_db" in request.keywords:
        request.getfixturevalue("default_function_types")
        FunctionType.objects.get_or_create(
            code=demo_data.LICENSED_PLAYER,
            defaults={
                "number": 17,
                "name": "Lisensspiller",
                "capabilities": [],
                "organisation_types": ["club", "group"],
                "is_licensed": True,
            },
        )


def seed(persons: int = PERSONS, seed: int = SEED, *, reset: bool = True) -> str:
    output = io.StringIO()
    call_command("seed_demo", persons=persons, seed=seed, reset=reset, stdout=output)
    return output.getvalue()


def person_rows() -> list[tuple]:
    """Each person with their standard contact set (P-08)."""
    return list(
        Person.objects.filter(contact_sets__is_standard=True)
        .order_by("national_person_id")
        .values_list(
            "national_person_id",
            "sports_id",
            "first_name",
            "middle_name",
            "last_name",
            "gender",
            "birth_date",
            "is_deceased",
            "date_of_death",
            "reserved_against_data_wash",
            "contact_sets__email",
            "contact_sets__mobile",
            "contact_sets__street",
            "contact_sets__postcode",
            "contact_sets__city",
            "contact_sets__country",
        )
    )


def standard_contacts() -> list[ContactSet]:
    return list(ContactSet.objects.filter(is_standard=True).select_related("person"))


def function_rows() -> list[tuple]:
    return list(
        Function.objects.order_by(
            "person__national_person_id", "organisation__path", "function_type__code", "from_date"
        ).values_list(
            "person__national_person_id",
            "organisation__path",
            "function_type__code",
            "from_date",
            "to_date",
        )
    )


def membership_rows() -> list[tuple]:
    return list(
        Membership.objects.order_by(
            "person__national_person_id", "club__path", "start_date"
        ).values_list(
            "person__national_person_id",
            "club__path",
            "membership_type__code",
            "family__name",
            "status",
            "start_date",
            "end_date",
            "resignation_received_on",
        )
    )


def table_counts() -> dict[str, int]:
    return {
        "persons": Person.objects.count(),
        "contact sets": ContactSet.objects.count(),
        "previous sports ids": SportsIdHistory.objects.count(),
        "functions": Function.objects.count(),
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "person history": Person.history.count(),
        "membership types": MembershipType.objects.count(),
        "memberships": Membership.objects.count(),
        "membership history": Membership.history.count(),
        "families": Family.objects.count(),
        "guardians": GuardianRelation.objects.count(),
        "fee schedules": FeeSchedule.objects.count(),
    }


def demo_club() -> Organisation:
    return Organisation.objects.get(organisation_number=DEMO_CLUB_ORGANISATION_NUMBER)


def generated(persons: int = PERSONS, seed_value: int = SEED) -> tuple[OrganisationPlan, list]:
    """The register as planned, without a database."""
    rng = random.Random(seed_value)
    plan = plan_organisations(rng, persons)
    return plan, list(RegisterGenerator(rng, plan, persons).persons())


# ------------------------------------------------------------------------------- the command


@pytest.mark.django_db
def test_same_size_and_seed_give_the_same_register():
    seed()
    first = (person_rows(), function_rows(), membership_rows())

    seed()

    assert (person_rows(), function_rows(), membership_rows()) == first
    assert len(first[0]) == PERSONS


@pytest.mark.django_db
def test_another_seed_gives_another_register():
    seed()
    first = person_rows()

    seed(seed=SEED + 1)

    assert person_rows() != first


@pytest.mark.django_db
def test_second_run_without_reset_changes_nothing():
    seed(reset=False)
    before = table_counts()
    assert before["persons"] == PERSONS

    output = seed(reset=False)

    assert output.strip() == ALREADY_PRESENT
    assert table_counts() == before


@pytest.mark.django_db
def test_taken_username_stops_the_command_before_it_writes_anything():
    User.objects.create_user("dommer", password="x")

    with pytest.raises(CommandError, match=USERNAMES_TAKEN % {"usernames": "dommer"}):
        seed(reset=False)

    assert Organisation.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_too_few_persons_is_refused():
    with pytest.raises(CommandError, match=re.escape(TOO_FEW_PERSONS % {"minimum": 20})):
        seed(persons=19)

    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_reset_keeps_other_superusers_and_replaces_the_demo_logins():
    seed()
    User.objects.create_superuser("ops", password="ops-password")

    seed()

    assert User.objects.filter(username="ops", is_superuser=True).exists()
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(
        [*LOGIN_NAMES, "admin", "ops"]
    )
    assert (
        Organisation.objects.filter(organisation_number=FEDERATION_ORGANISATION_NUMBER).count() == 1
    )


@pytest.mark.django_db
def test_bulk_rows_have_no_history_and_ids_follow_on():
    seed()

    assert Person.history.count() == 0
    # Only the resignations of the members demo (a service) ended member functions.
    assert set(Function.history.values_list("history_type", flat=True)) == {"~"}
    assert (
        Function.history.count() == Membership.objects.exclude(resignation_received_on=None).count()
    )
    assert ContactSet.history.count() == 0
    # The sequences moved past the COPYed ids and sports id serials: the ORM can add persons.
    person = Person.objects.create(first_name="Ny", last_name="Person", sports_id="x")
    assert person.pk == PERSONS + 1
    assert ContactSet.objects.create(person=person, is_standard=True).pk == PERSONS + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('members_sports_id_serial')")
        serial = cursor.fetchone()[0]
    assert not Person.objects.filter(sports_id__endswith=f"{serial:07d}").exists()
    assert not SportsIdHistory.objects.filter(sports_id__endswith=f"{serial:07d}").exists()


@pytest.mark.django_db
def test_reset_empties_every_register_table_and_restarts_sports_ids(world):
    """--reset empties contact sets, previous sports ids and the rest of the register, also
    rows that seed_demo did not write, and restarts the sports id sequence (P-05)."""
    extra = PersonFactory(first_name="Ekstra")
    ContactSetFactory(person=extra, label="Hytta")
    SportsIdHistory.objects.create(person=extra, sports_id="01010100000001")
    FunctionFactory(person=extra, organisation=world.club_a)

    seed()

    first = person_rows()
    assert not Person.objects.filter(first_name="Ekstra").exists()
    assert not ContactSet.objects.filter(label="Hytta").exists()
    assert not SportsIdHistory.objects.filter(sports_id="01010100000001").exists()
    assert ContactSet.history.count() == 0
    assert not Organisation.objects.filter(pk=world.club_a.pk).exists()
    seed()
    assert person_rows() == first  # same sports ids too


# ------------------------------------------------------------------------ the organisations


@pytest.mark.django_db
def test_tree_is_consistent_with_every_level():
    seed()

    assert Organisation.objects.find_problems() == ([], [], [], [], [])
    counts = dict(
        Organisation.objects.order_by().values_list("organisation_type").annotate(n=Count("id"))
    )
    assert counts[OrganisationType.FEDERATION] == 1
    assert counts[OrganisationType.REGION] == len(demo_data.REGIONS)
    assert counts[OrganisationType.CLUB] == demo_data.MIN_CLUBS
    assert counts[OrganisationType.GROUP] >= demo_data.MIN_CLUBS
    assert counts[OrganisationType.TEAM] > counts[OrganisationType.GROUP]
    federation = Organisation.objects.get(depth=1)
    assert federation.name == demo_data.FEDERATION_NAME
    assert demo_club().name == demo_data.DEMO_CLUB_NAME
    region = Organisation.objects.get(path=demo_club().path[: -Organisation.steplen])
    assert region.name == "Oslo og Akershus krets"


@pytest.mark.django_db
def test_numbers_of_organisations_are_valid():
    seed()

    numbered = Organisation.objects.exclude(organisation_number="")
    assert numbered.count() == 1 + len(demo_data.REGIONS) + demo_data.MIN_CLUBS
    for organisation in numbered:
        assert orgnr.is_valid(organisation.organisation_number), organisation
        assert kontonr.is_valid(organisation.bank_account), organisation
        assert len(organisation.bank_account) == 11
        organisation.full_clean()
    club = demo_club()
    assert (club.kid_algorithm, club.kid_length) == ("MOD10", 10)


def test_organisation_count_grows_with_the_register():
    plan = plan_organisations(random.Random(SEED), 1_000_000)

    assert len(plan.clubs) == 2500
    assert len({club.organisation.name for club in plan.clubs}) == 2500
    assert 10_000 <= sum(1 for _ in plan.federation.walk()) <= 100_000


# ------------------------------------------------------------------------------- the logins


@pytest.mark.django_db
def test_logins_are_linked_to_persons_with_the_demo_password():
    seed()

    users = User.objects.filter(username__in=LOGIN_NAMES).select_related("person")
    assert sorted(user.username for user in users) == sorted(LOGIN_NAMES)
    for user in users:
        assert user.person is not None
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_staff == (user.username == "forbund")
        assert not user.is_superuser
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_logins_grant_what_their_functions_say():
    seed()
    users = {user.username: user for user in User.objects.filter(username__in=LOGIN_NAMES)}
    club = demo_club()
    other_club = Organisation.objects.filter(organisation_type="club").exclude(pk=club.pk).first()
    federation = Organisation.objects.get(organisation_number=FEDERATION_ORGANISATION_NUMBER)

    assert access.has_capability(users["dagligleder"], Capability.MEMBERS_MANAGE, club)
    assert not access.has_capability(users["dagligleder"], Capability.MEMBERS_MANAGE, other_club)
    assert access.has_capability(users["forbund"], Capability.ADMIN_ACCESS, federation)
    team = Function.objects.get(
        person=users["lagleder"].person, function_type__code="team-leader"
    ).organisation
    assert team.organisation_type == OrganisationType.TEAM
    assert team.path.startswith(club.path)
    assert access.grants_for(users["lagleder"]).paths(Capability.PERSONS_VIEW) == (team.path,)
    assert not access.has_capability(users["lagleder"], Capability.PERSONS_VIEW, club)
    assert access.grants_for(users["dommer"]).is_empty
    assert access.grants_for(users["forelder"]).is_empty


@pytest.mark.django_db
def test_the_parent_has_children_playing_in_the_demo_club():
    seed()
    parent = User.objects.get(username="forelder").person
    club = demo_club()

    assert list(parent.functions.values_list("function_type__code", flat=True)) == ["member"]
    address = parent.contact_sets.get(is_standard=True)
    children = Person.objects.filter(
        contact_sets__is_standard=True,
        contact_sets__street=address.street,
        contact_sets__postcode=address.postcode,
        last_name=parent.last_name,
        birth_date__year__gte=2008,
    )
    assert 2 <= children.count() <= 3
    for child in children:
        team = child.functions.get(function_type__code="player").organisation
        assert team.path.startswith(club.path)
    # The team leader login leads the team of one of them.
    lead = Function.objects.get(
        person__user__username="lagleder", function_type__code="team-leader"
    )
    assert Function.objects.filter(
        person__in=children, organisation=lead.organisation, function_type__code="player"
    ).exists()


# ------------------------------------------------------------------------------ the persons


@pytest.mark.django_db
def test_every_function_sits_where_its_type_may_be_held():
    seed()

    functions = Function.objects.select_related("function_type", "organisation")
    for function in functions:
        allowed = function.function_type.organisation_types
        assert not allowed or function.organisation.organisation_type in allowed, function
        assert function.to_date is None or function.to_date >= function.from_date
    members = Counter(
        Function.objects.filter(function_type__code="member").values_list("person_id", flat=True)
    )
    assert set(members) == set(Person.objects.values_list("pk", flat=True))
    assert Function.objects.filter(to_date__isnull=False).exists()
    assert Function.objects.filter(function_type__code="player").count() > PERSONS / 4


@pytest.mark.django_db
def test_register_looks_norwegian():
    seed()

    persons = list(Person.objects.all())
    assert any(re.search("[æøåÆØÅ]", p.first_name + p.last_name) for p in persons)
    assert any(p.middle_name for p in persons)
    assert {p.gender for p in persons} == {"male", "female"}
    ages = [demo_data.age_on_reference_date(p.birth_date) for p in persons]
    assert min(ages) >= 5 and max(ages) <= 85
    assert sum(age < 18 for age in ages) > len(ages) / 4  # many children
    contacts = standard_contacts()
    assert len(contacts) == len(persons)
    assert all(re.fullmatch(r"\+47[49]\d{7}", c.mobile) for c in contacts if c.mobile)
    assert all(re.fullmatch(r"\d{4}", c.postcode) for c in contacts)
    assert {c.country for c in contacts} == {"NO"}
    domains = Counter(c.email.split("@")[1] for c in contacts if c.email)
    assert domains.keys() <= {*demo_data.EMAIL_DOMAINS}
    assert len({p.national_person_id for p in persons}) == len(persons)


@pytest.mark.django_db
def test_families_share_an_address():
    seed()

    households = (
        ContactSet.objects.filter(is_standard=True)
        .values("street", "postcode", "person__last_name")
        .annotate(n=Count("id"))
        .filter(n__gte=3)
    )
    assert households.count() >= 5


@pytest.mark.django_db
def test_some_persons_are_registered_twice_in_different_clubs():
    seed()

    clubs = dict(
        Function.objects.filter(function_type__code="member").values_list(
            "person_id", "organisation_id"
        )
    )
    by_birth_date = defaultdict(list)
    for person in Person.objects.all():
        by_birth_date[person.birth_date].append(person)
    pairs = [
        (a, b)
        for same_day in by_birth_date.values()
        for i, a in enumerate(same_day)
        for b in same_day[i + 1 :]
        if clubs[a.pk] != clubs[b.pk]
        and a.national_person_id != b.national_person_id
        and difflib.SequenceMatcher(None, a.full_name, b.full_name).ratio() >= 0.8
    ]
    assert pairs


@pytest.mark.django_db
def test_every_person_has_exactly_one_standard_contact_set():
    """P-08: all contact data lives in contact sets, one standard set per person."""
    seed()

    per_person = Counter(
        ContactSet.objects.filter(is_standard=True).values_list("person_id", flat=True)
    )
    assert set(per_person) == set(Person.objects.values_list("pk", flat=True))
    assert set(per_person.values()) == {1}
    assert ContactSet.objects.count() == PERSONS
    assert set(ContactSet.objects.values_list("label", flat=True)) == {"Privat"}
    assert ContactSet.objects.filter(hide_address=True).exists()
    for contact in standard_contacts()[:50]:
        contact.full_clean()
    logins = User.objects.filter(username__in=LOGIN_NAMES).select_related("person")
    for user in logins:
        assert user.email == user.person.contact_sets.get(is_standard=True).email


@pytest.mark.django_db
def test_sports_ids_are_unique_and_follow_the_format():
    """P-05: birth date, gender digit and a serial of the register's sequence."""
    seed()

    persons = list(Person.objects.all())
    assert len({p.sports_id for p in persons}) == PERSONS
    for person in persons:
        serial = int(person.sports_id[7:])
        assert person.sports_id == rules.format_sports_id(person.birth_date, person.gender, serial)
    previous = list(SportsIdHistory.objects.select_related("person"))
    current = {p.sports_id for p in persons}
    assert all(old.sports_id not in current for old in previous)
    assert all(old.sports_id[6] == "0" for old in previous)  # first registered: gender unknown


@pytest.mark.django_db
def test_deceased_persons_follow_p06():
    """P-06: a few old persons are deceased, died after birth and not in the future; their
    functions ended by then."""
    seed(persons=3000)

    deceased = Person.objects.filter(is_deceased=True)
    assert 1 <= deceased.count() <= 30
    for person in deceased:
        assert person.birth_date < person.date_of_death <= demo_data.LAST_JOIN_DATE
        assert demo_data.age_on_reference_date(person.birth_date) >= demo_data.DECEASED_FROM_AGE
        assert not person.functions.filter(
            Q(to_date__isnull=True) | Q(to_date__gt=person.date_of_death)
        ).exists()
    assert not Person.objects.filter(is_deceased=False, date_of_death__isnull=False).exists()
    reserved = Person.objects.filter(reserved_against_data_wash=True).count()
    assert 0.01 * 3000 <= reserved <= 0.06 * 3000  # P-07: a few per cent


@pytest.mark.django_db
def test_licensed_players_hold_at_most_one_licensed_function():
    """P-15: only the licensed player type is licensed, at most one at a time per person,
    registered in a sport group; every function's contact is the standard set (P-10)."""
    seed(persons=1000)

    licensed = Function.objects.filter(is_licensed=True)
    assert licensed.exists()
    assert set(licensed.values_list("function_type__code", flat=True)) == {"licensed-player"}
    assert set(licensed.values_list("organisation__organisation_type", flat=True)) == {"group"}
    assert (
        Function.objects.filter(function_type__code="licensed-player")
        .filter(is_licensed=False)
        .count()
        == 0
    )
    per_person = Counter(licensed.values_list("person_id", flat=True))
    assert set(per_person.values()) == {1}
    assert set(Function.objects.values_list("contact", flat=True)) == {"person_standard"}
    assert not Function.objects.filter(contact_set__isnull=False).exists()
    assert not licensed.filter(person__birth_date__gt=F("from_date")).exists()


# --------------------------------------------------------------------- the pure generators


def test_check_digits_follow_s04():
    weights = demo_data.ORGANISATION_NUMBER_WEIGHTS
    assert demo_data.mod11_check_digit("98807791", weights) == 7  # 988077917
    assert demo_data.mod11_check_digit("97476067", weights) == 3  # 974760673
    assert demo_data.mod11_check_digit("86011117947"[:10], demo_data.BANK_ACCOUNT_WEIGHTS) == 7
    assert demo_data.mod11_check_digit("12345678903"[:10], demo_data.BANK_ACCOUNT_WEIGHTS) == 3
    # r = 1 has no check digit: such numbers are never handed out.
    assert demo_data.mod11_check_digit("6", (2,)) is None


def test_generated_numbers_are_valid_and_unique():
    rng = random.Random(1)
    used: set[str] = set()
    numbers = [demo_data.random_organisation_number(rng, used) for _ in range(2000)]
    accounts = [demo_data.random_bank_account(rng) for _ in range(2000)]
    ids = [demo_data.national_person_id(index) for index in range(100_000)]

    assert all(orgnr.is_valid(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert all(kontonr.is_valid(account) and len(account) == 11 for account in accounts)
    assert len(set(ids)) == len(ids)
    assert all(len(value) == 8 for value in ids)


def test_generator_yields_exactly_the_asked_number_of_persons():
    for persons in (20, 21, 99, 1000):
        _, people = generated(persons)
        assert [person.index for person in people] == list(range(persons))


def test_duplicates_differ_by_one_typo_in_another_club():
    _, people = generated(5000)
    duplicates = [person for person in people if person.duplicate_of is not None]

    assert 0.01 <= len(duplicates) / len(people) <= 0.02
    kinds = Counter()
    for duplicate in duplicates:
        original = people[duplicate.duplicate_of]
        assert duplicate.functions[0].organisation is not original.functions[0].organisation
        assert duplicate.national_person_id != original.national_person_id
        differences = [
            name
            for name in ("first_name", "middle_name", "last_name", "birth_date")
            if getattr(duplicate, name) != getattr(original, name)
        ]
        assert len(differences) == 1, (original, duplicate)
        kinds[differences[0]] += 1
    assert kinds["birth_date"] and kinds["middle_name"] and kinds["last_name"]
    assert any(
        "aa" in person.last_name.lower() or "ae" in person.last_name.lower()
        for person in duplicates
    )


def test_children_sometimes_carry_a_parents_contact():
    _, people = generated(5000)
    adult_emails = {person.email for person in people if person.age >= 25 and person.email}

    shared = [person for person in people if person.age < 13 and person.email in adult_emails]
    assert shared  # M-14's trap


def test_statuses_are_drawn_for_ordinary_persons_only():
    _, people = generated(20000)
    logins_and_family = people[: len(demo_data.LOGINS) + 1 + len(demo_data.PARENT_CHILDREN)]

    assert not any(
        p.is_deceased or p.reserved_against_data_wash or p.has_previous_sports_id
        for p in logins_and_family
    )
    deceased = [p for p in people if p.is_deceased]
    assert 0.001 <= len(deceased) / len(people) <= 0.006  # about 0.3 %
    assert all(p.age >= demo_data.DECEASED_FROM_AGE for p in deceased)
    assert all(p.date_of_death <= demo_data.LAST_JOIN_DATE for p in deceased)
