"""clubadmin.access: capabilities from active functions, on the organisation and below (P-10)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Function, FunctionType, Organisation, Person
from tests.members.factories import FunctionFactory, FunctionTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _user_with(world, organisation, capabilities, **function_fields):
    user = UserFactory()
    function_type = FunctionTypeFactory(capabilities=capabilities)
    FunctionFactory(
        person=user.person,
        organisation=organisation,
        function_type=function_type,
        **function_fields,
    )
    return user


def test_capability_applies_to_organisation_and_everything_below(world):
    """P-10: a function grants its capabilities on its organisation and all below it."""
    user = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])

    assert access.has_capability(user, Capability.PERSONS_VIEW, world.club_a)
    assert access.has_capability(user, Capability.PERSONS_VIEW, world.team_a)
    assert not access.has_capability(user, Capability.PERSONS_VIEW, world.club_b)
    assert not access.has_capability(user, Capability.PERSONS_VIEW, world.region)
    assert not access.has_capability(user, Capability.PERSONS_EDIT, world.club_a)


def test_sibling_path_prefix_is_not_a_descendant(world):
    """A club whose path merely starts like another club's is not inside it."""
    user = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    assert not world.club_b.path.startswith(world.club_a.path)
    assert set(access.scope(user, Capability.PERSONS_VIEW, Organisation.objects.all())) == {
        world.club_a,
        world.group_a,
        world.team_a,
    }


@pytest.mark.parametrize(
    ("from_date", "to_date", "granted"),
    [
        (datetime.date(2020, 1, 1), None, True),
        (datetime.date(2020, 1, 1), datetime.date(2021, 1, 1), False),  # ended
        (datetime.date(2099, 1, 1), None, False),  # not yet started
    ],
)
def test_only_active_functions_grant_anything(world, from_date, to_date, granted):
    """P-10: no to-date means active; only active functions grant capabilities."""
    user = _user_with(
        world, world.club_a, [Capability.MEMBERS_MANAGE], from_date=from_date, to_date=to_date
    )
    assert access.has_capability(user, Capability.MEMBERS_MANAGE, world.club_a) is granted


def test_function_with_to_date_today_still_grants_today(world):
    """P-10: the to-date is the last day of the function."""
    today = datetime.date.today()
    user = _user_with(
        world,
        world.club_a,
        [Capability.MEMBERS_MANAGE],
        from_date=datetime.date(2020, 1, 1),
        to_date=today,
    )
    assert access.has_capability(user, Capability.MEMBERS_MANAGE, world.club_a)


def test_default_deny(world):
    anonymous = AnonymousUser()
    no_person = UserFactory(person=None)
    no_function = UserFactory()
    inactive = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    inactive.is_active = False
    inactive.save()

    for user in (anonymous, no_person, no_function, inactive, None):
        assert access.grants_for(user).is_empty
        assert not access.has_capability(user, Capability.PERSONS_VIEW, world.club_a)
        assert not access.scope(
            user,
            Capability.PERSONS_VIEW,
            Person.objects.exclude(pk=getattr(getattr(user, "person", None), "pk", None)),
        ).exists()
        assert not access.visible_organisations(user).exists()


def test_functions_in_inactive_organisations_or_of_inactive_types_grant_nothing(world):
    user = _user_with(world, world.club_b, [Capability.PERSONS_VIEW])
    Organisation.objects.filter(pk=world.club_b.pk).update(is_active=False)
    assert not access.has_capability(user, Capability.PERSONS_VIEW, world.club_b)

    other = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    FunctionType.objects.filter(functions__person=other.person).update(is_active=False)
    assert not access.has_capability(other, Capability.PERSONS_VIEW, world.club_a)


def test_unknown_capabilities_in_a_function_type_are_ignored(world):
    user = _user_with(world, world.club_a, ["everything.please"])
    assert access.grants_for(user).is_empty


def test_superuser_may_do_everything(world):
    root = UserFactory(is_superuser=True, person=None)
    assert access.has_capability(root, Capability.BILLING_MANAGE, world.club_c)
    assert access.scope(root, Capability.PERSONS_VIEW, Person.objects.all()).count() == (
        Person.objects.count()
    )


def test_persons_are_scoped_by_their_functions(world):
    user = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    visible = set(access.scope(user, Capability.PERSONS_VIEW, Person.objects.all()))
    assert world.player_a in visible  # player in a team below club A
    assert user.person in visible  # own person
    assert not visible & set(Person.objects.filter(functions__organisation=world.club_b))
    assert access.can(user, Capability.PERSONS_VIEW, world.player_a)
    outsider = Person.objects.get(functions__organisation=world.club_c)
    assert not access.can(user, Capability.PERSONS_VIEW, outsider)


def test_a_member_sees_only_themself(world):
    member = world.user("member")
    assert list(access.scope(member, Capability.PERSONS_VIEW, Person.objects.all())) == [
        member.person
    ]
    assert access.can(member, Capability.PERSONS_VIEW, member.person)
    assert not access.can(member, Capability.PERSONS_EDIT, member.person)
    assert set(access.scope(member, Capability.PERSONS_VIEW, Function.objects.all())) == set(
        member.person.functions.all()
    )


def test_grants_are_computed_with_one_query_and_cached(world, django_assert_num_queries):
    user = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    with django_assert_num_queries(1):
        for _ in range(5):
            access.has_capability(user, Capability.PERSONS_VIEW, world.team_a)


def test_get_object_or_404_is_the_same_for_missing_and_forbidden(world):
    user = _user_with(world, world.club_a, [Capability.FUNCTIONS_MANAGE])
    forbidden = Function.objects.filter(organisation=world.club_c).first()
    with pytest.raises(Http404):
        access.get_object_or_404(
            user, Capability.FUNCTIONS_MANAGE, Function.objects.all(), pk=forbidden.pk
        )
    with pytest.raises(Http404):
        access.get_object_or_404(
            user, Capability.FUNCTIONS_MANAGE, Function.objects.all(), pk=10**9
        )
    assert (
        access.get_object_or_404(
            user, Capability.FUNCTIONS_MANAGE, Function.objects.all(), pk=world.function_a.pk
        )
        == world.function_a
    )


def test_administered_organisations_are_the_tops_of_the_grants(world):
    user = _user_with(world, world.club_a, [Capability.PERSONS_VIEW])
    FunctionFactory(
        person=user.person,
        organisation=world.team_a,
        function_type=FunctionTypeFactory(capabilities=[Capability.MEMBERS_MANAGE]),
    )
    FunctionFactory(
        person=user.person,
        organisation=world.club_c,
        function_type=FunctionTypeFactory(capabilities=[Capability.MEMBERS_MANAGE]),
    )
    assert set(access.administered_organisations(user)) == {world.club_a, world.club_c}


def test_subtree_query_uses_the_path_index(world):
    """Issue 2: "this organisation and everything below" is an index range scan."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM members_organisation WHERE path LIKE %s",
            [world.club_a.path + "%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index" in plan and "members_organisation_path" in plan, plan
