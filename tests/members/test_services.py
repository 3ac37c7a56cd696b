"""members.services: organisations (S-04, tree), functions (P-10, P-11), audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from clubadmin.capabilities import Capability
from members import services
from members.models import Function, FunctionType, Organisation, OrganisationType
from tests.members.factories import (
    FunctionFactory,
    FunctionTypeFactory,
    PersonFactory,
    UserFactory,
    make_organisation,
)

pytestmark = pytest.mark.django_db


def _official(organisation, *capabilities):
    user = UserFactory()
    FunctionFactory(
        person=user.person,
        organisation=organisation,
        function_type=FunctionTypeFactory(capabilities=list(capabilities)),
    )
    return user


# --- Organisations -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["974760673", "974 760 673"])
def test_s04_valid_organisation_numbers_are_accepted_and_stored_compact(world, number):
    organisation = make_organisation(
        "Ny klubb", OrganisationType.CLUB, world.region, organisation_number=number
    )
    organisation.refresh_from_db()
    assert organisation.organisation_number == "974760673"


@pytest.mark.parametrize("number", ["988077918", "12345678", "98807791X"])
def test_s04_invalid_organisation_number_is_rejected_and_nothing_is_created(world, number):
    before = Organisation.objects.count()
    with pytest.raises(ValidationError) as error:
        make_organisation(
            "Ny klubb", OrganisationType.CLUB, world.region, organisation_number=number
        )
    assert "organisation_number" in error.value.message_dict
    assert Organisation.objects.count() == before


@pytest.mark.parametrize(
    ("account", "valid"),
    [
        ("86011117947", True),
        ("12345678903", True),
        ("8601.11.17947", True),
        ("86011117949", False),
        ("1234567", False),
    ],
)
def test_s04_bank_account_validation(world, account, valid):
    if valid:
        club = make_organisation(
            "Ny klubb", OrganisationType.CLUB, world.region, bank_account=account
        )
        club.refresh_from_db()
        assert club.bank_account == account.replace(".", "")
    else:
        with pytest.raises(ValidationError) as error:
            make_organisation("Ny klubb", OrganisationType.CLUB, world.region, bank_account=account)
        assert "bank_account" in error.value.message_dict


@pytest.mark.parametrize("kid_length", [1, 26])
def test_s01_kid_length_must_be_2_to_25(world, kid_length):
    with pytest.raises(ValidationError) as error:
        make_organisation("Ny klubb", OrganisationType.CLUB, world.region, kid_length=kid_length)
    assert "kid_length" in error.value.message_dict


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "An organisation with this organisation number already exists."),
        ("nb", "Det finnes allerede en organisasjon med dette organisasjonsnummeret."),
    ],
)
def test_organisation_number_is_unique(world, language, message):
    with translation.override(language), pytest.raises(ValidationError) as error:
        make_organisation(
            "Kopi",
            OrganisationType.CLUB,
            world.region,
            organisation_number=world.club_a.organisation_number,
        )
    assert error.value.messages == [message]


@pytest.mark.parametrize(
    ("parent_attr", "child_type"),
    [
        ("team_a", OrganisationType.TEAM),
        ("team_a", OrganisationType.CLUB),
        ("club_a", OrganisationType.REGION),
        ("club_a", OrganisationType.CLUB),
    ],
)
def test_the_tree_only_goes_downwards(world, parent_attr, child_type):
    with pytest.raises(ValidationError) as error:
        make_organisation("Feil", child_type, getattr(world, parent_attr))
    assert "organisation_type" in error.value.message_dict


def test_only_federations_are_roots(db):
    with pytest.raises(ValidationError) as error:
        make_organisation("Løs klubb", OrganisationType.CLUB)
    assert error.value.message_dict == {"parent": [str(services.ROOT_MUST_BE_FEDERATION)]}


def test_levels_may_be_skipped(world):
    team = make_organisation("Fana IL Senior", OrganisationType.TEAM, world.club_c)
    assert team.depth == world.club_c.depth + 1
    assert Organisation.objects.get(pk=team.pk).path.startswith(world.club_c.path)


def test_creating_an_organisation_needs_organisations_manage_on_the_parent(world):
    outsider = _official(world.club_b, Capability.ORGANISATIONS_MANAGE)
    before = Organisation.objects.count()
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            actor=outsider,
            parent=world.club_a,
            name="Sjakk",
            organisation_type=OrganisationType.GROUP,
        )
    assert Organisation.objects.count() == before

    manager = _official(world.club_a, Capability.ORGANISATIONS_MANAGE)
    group = services.organisation_create(
        actor=manager, parent=world.club_a, name="Sjakk", organisation_type=OrganisationType.GROUP
    )
    assert group.path.startswith(world.club_a.path)
    assert Organisation.objects.get(pk=world.club_a.pk).numchild == 2


def test_federations_are_created_only_by_superusers(db):
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            actor=staff, parent=None, name="F", organisation_type=OrganisationType.FEDERATION
        )


def test_update_cannot_move_or_retype_an_organisation(world):
    manager = _official(world.club_a, Capability.ORGANISATIONS_MANAGE)
    for field, value in (
        ("path", world.club_b.path + "0001"),
        ("organisation_type", "group"),
        ("depth", 1),
    ):
        with pytest.raises(ValidationError) as error:
            services.organisation_update(actor=manager, organisation=world.club_a, **{field: value})
        assert field in error.value.message_dict
    club = Organisation.objects.get(pk=world.club_a.pk)
    assert (club.path, club.organisation_type) == (
        world.club_a.path,
        world.club_a.organisation_type,
    )


def test_organisation_changes_are_recorded_with_the_actor(world):
    manager = _official(world.club_a, Capability.ORGANISATIONS_MANAGE)
    services.organisation_update(actor=manager, organisation=world.club_a, email="post@sagene.no")
    record = Organisation.history.filter(id=world.club_a.pk).order_by("-history_date").first()
    assert record.history_user == manager
    assert record.email == "post@sagene.no"
    assert record.history_type == "~"


# --- Functions (P-10, P-11) ----------------------------------------------------------------


def test_p10_new_function_defaults_from_today_and_open(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    function = services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
    )
    assert function.from_date == timezone.localdate()
    assert function.to_date is None
    assert function.is_active


def test_p10_the_same_function_in_several_organisations(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    coach = FunctionType.objects.get(code="coach")
    for organisation in (world.club_a, world.team_a):
        services.function_create(
            actor=manager, person=world.player_a, organisation=organisation, function_type=coach
        )
    assert world.player_a.functions.filter(function_type=coach).count() == 2


def test_p10_end_sets_to_date_today_and_activate_clears_it(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    ended = services.function_end(actor=manager, function=world.function_a)
    assert ended.to_date == timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.function_end(actor=manager, function=ended)
    assert error.value.messages == [str(services.FUNCTION_ALREADY_ENDED)]

    activated = services.function_activate(actor=manager, function=ended)
    assert activated.to_date is None
    with pytest.raises(ValidationError):
        services.function_activate(actor=manager, function=activated)


def test_p10_to_date_cannot_precede_from_date(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    with pytest.raises(ValidationError) as error:
        services.function_update(
            actor=manager, function=world.function_a, to_date=datetime.date(2019, 12, 31)
        )
    assert "to_date" in error.value.message_dict
    assert Function.objects.get(pk=world.function_a.pk).to_date is None


def test_p11_function_only_in_an_active_organisation(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    inactive = make_organisation(
        "Nedlagt lag", OrganisationType.TEAM, world.group_a, is_active=False
    )
    with pytest.raises(ValidationError) as error:
        services.function_create(
            actor=manager,
            person=world.player_a,
            organisation=inactive,
            function_type=FunctionType.objects.get(code="player"),
        )
    assert error.value.message_dict == {"organisation": [str(services.ORGANISATION_INACTIVE)]}


def test_function_type_must_fit_the_organisation_type(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    with pytest.raises(ValidationError) as error:
        services.function_create(
            actor=manager,
            person=world.player_a,
            organisation=world.team_a,
            function_type=FunctionType.objects.get(code="general-manager"),
        )
    assert "function_type" in error.value.message_dict


def test_functions_are_managed_only_with_functions_manage_there(world):
    other = _official(world.club_b, Capability.FUNCTIONS_MANAGE)
    before = list(Function.objects.values_list("pk", "to_date"))
    with pytest.raises(PermissionDenied):
        services.function_end(actor=other, function=world.function_a)
    with pytest.raises(PermissionDenied):
        services.function_create(
            actor=other,
            person=world.player_a,
            organisation=world.club_a,
            function_type=FunctionType.objects.get(code="coach"),
        )
    assert list(Function.objects.values_list("pk", "to_date")) == before


def test_function_changes_are_recorded_with_who_when_what(world):
    manager = _official(world.club_a, Capability.FUNCTIONS_MANAGE)
    services.function_end(actor=manager, function=world.function_a)
    record = world.function_a.history.order_by("-history_date").first()
    assert record.history_user == manager
    assert record.to_date == timezone.localdate()
    assert record.history_date <= timezone.now()
    delta = record.diff_against(record.prev_record)
    assert [change.field for change in delta.changes] == ["to_date"]


def test_person_changes_are_recorded(world):
    editor = _official(world.club_a, Capability.PERSONS_EDIT)
    services.person_update(
        actor=editor, person=world.player_a, last_name="Ødegaard", confirm_identity_change=True
    )
    record = world.player_a.history.order_by("-history_date").first()
    assert (record.history_user, record.last_name) == (editor, "Ødegaard")


def test_person_update_needs_persons_edit_where_the_person_belongs(world):
    viewer = _official(world.club_a, Capability.PERSONS_VIEW)
    with pytest.raises(PermissionDenied):
        services.person_update(actor=viewer, person=world.player_a, last_name="X")
    other = _official(world.club_c, Capability.PERSONS_EDIT)
    with pytest.raises(PermissionDenied):
        services.person_update(actor=other, person=world.player_a, last_name="X")
    assert world.player_a.history.count() == 0 or (
        world.player_a.history.latest().last_name == "Ødegård"
    )


def test_a_user_links_to_at_most_one_person(world):
    from django.db import IntegrityError, transaction

    person = PersonFactory()
    UserFactory(person=person)
    with pytest.raises((ValidationError, IntegrityError)), transaction.atomic():
        services.user_link_person(actor=None, user=UserFactory(), person=person)
