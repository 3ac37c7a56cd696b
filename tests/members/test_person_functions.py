"""Functions on the person card (P-10, P-11) and one licensed function of a type at a time
(P-15): services, views and the API."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members import selectors_functions as selectors
from members.models import Function, FunctionContact, FunctionType, OrganisationType
from members.services import functions as services
from tests.members.factories import (
    ContactSetFactory,
    FunctionFactory,
    PersonFactory,
    make_organisation,
)
from tests.members.factories_licences import licensed_player_type, official

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"


TODAY = timezone.localdate()


def _state():
    return sorted(
        Function.objects.values_list(
            "pk", "person_id", "organisation_id", "from_date", "to_date", "contact", "contact_set"
        )
    )


@pytest.fixture
def manager(world):
    return official(world.club_a, Capability.FUNCTIONS_MANAGE, Capability.PERSONS_VIEW)


# --- services: defaults and contact choice (P-10) ------------------------------------------


def test_p10_new_function_defaults_to_today_open_and_the_standard_contact_set(world, manager):
    function = services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
    )
    function.refresh_from_db()
    assert (function.from_date, function.to_date) == (TODAY, None)
    assert (function.contact, function.contact_set) == (FunctionContact.PERSON_STANDARD, None)
    assert function.history.first().history_user == manager


def test_p10_contact_can_be_the_organisation_or_another_of_the_persons_sets(world, manager):
    other_set = ContactSetFactory(person=world.player_a, label="Jobb")
    coach = FunctionType.objects.get(code="coach")
    via_organisation = services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.team_a,
        function_type=coach,
        contact=FunctionContact.ORGANISATION,
    )
    via_set = services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.club_a,
        function_type=coach,
        contact=FunctionContact.CONTACT_SET,
        contact_set=other_set,
    )
    assert (via_organisation.contact, via_organisation.contact_set_id) == ("organisation", None)
    assert (via_set.contact, via_set.contact_set_id) == ("contact_set", other_set.pk)


@pytest.mark.parametrize(
    ("contact", "whose", "message"),
    [
        ("contact_set", "other", services.CONTACT_SET_OF_ANOTHER_PERSON),
        ("contact_set", None, services.CONTACT_SET_REQUIRED),
        ("organisation", "own", services.CONTACT_SET_ONLY_WITH_CHOICE),
    ],
)
def test_p10_contact_set_must_be_the_persons_own_and_only_with_that_choice(
    world, manager, contact, whose, message
):
    contact_set = {
        "other": ContactSetFactory(person=PersonFactory()),
        "own": ContactSetFactory(person=world.player_a),
        None: None,
    }[whose]
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.function_create(
            actor=manager,
            person=world.player_a,
            organisation=world.team_a,
            function_type=FunctionType.objects.get(code="coach"),
            contact=contact,
            contact_set=contact_set,
        )
    assert error.value.message_dict == {"contact_set": [str(message)]}
    assert _state() == before


def test_p10_changing_the_contact_choice_away_from_a_set_drops_the_set(world, manager):
    own = ContactSetFactory(person=world.player_a)
    function = services.function_update(
        actor=manager, function=world.function_a, contact="contact_set", contact_set=own
    )
    assert (function.contact, function.contact_set_id) == ("contact_set", own.pk)
    function = services.function_update(
        actor=manager, function=world.function_a, contact="person_standard"
    )
    function.refresh_from_db()
    assert (function.contact, function.contact_set_id) == ("person_standard", None)


def test_p10_an_ended_function_is_read_only_until_activated(world, manager):
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.function_update(
            actor=manager, function=world.ended_function_a, from_date=datetime.date(2019, 1, 1)
        )
    assert error.value.messages == [str(services.FUNCTION_READ_ONLY)]
    assert _state() == before

    services.function_activate(actor=manager, function=world.ended_function_a)
    changed = services.function_update(
        actor=manager, function=world.ended_function_a, from_date=datetime.date(2019, 1, 1)
    )
    assert (changed.from_date, changed.to_date) == (datetime.date(2019, 1, 1), None)


def test_p10_ending_today_makes_the_function_read_only(world, manager):
    ended = services.function_end(actor=manager, function=world.function_a)
    assert ended.to_date == TODAY
    assert services.function_is_ended(ended) is True
    with pytest.raises(ValidationError):
        services.function_update(actor=manager, function=ended, to_date=None)
    assert Function.objects.get(pk=world.function_a.pk).to_date == TODAY


# --- P-15: one licensed function of a type at a time ---------------------------------------


def _licensed(world, **fields):
    return FunctionFactory(
        person=world.player_a,
        organisation=fields.pop("organisation", world.club_a),
        function_type=licensed_player_type(),
        is_licensed=True,
        **fields,
    )


def test_p15_a_second_overlapping_licensed_function_is_refused_naming_the_rule(world, manager):
    _licensed(world)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.function_create(
            actor=manager,
            person=world.player_a,
            organisation=world.group_a,
            function_type=licensed_player_type(),
        )
    assert error.value.message_dict == {"function_type": [str(services.LICENSED_FUNCTION_TAKEN)]}
    assert "(P-15)" in str(services.LICENSED_FUNCTION_TAKEN)
    assert _state() == before


def test_p15_licensed_functions_one_after_the_other_are_fine(world, manager):
    _licensed(world, from_date=datetime.date(2020, 1, 1), to_date=datetime.date(2022, 6, 30))
    function = services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.group_a,
        function_type=licensed_player_type(),
        from_date=datetime.date(2022, 7, 1),
    )
    assert function.is_licensed is True


def test_p15_unlicensed_functions_of_one_type_may_overlap(world, manager):
    services.function_create(
        actor=manager,
        person=world.player_a,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="player"),
    )
    assert world.player_a.functions.filter(function_type__code="player").count() == 2


def test_p15_activating_an_ended_licensed_function_while_holding_another_is_refused(world, manager):
    old = _licensed(world, from_date=datetime.date(2020, 1, 1), to_date=datetime.date(2021, 1, 1))
    _licensed(world, organisation=world.group_a, from_date=datetime.date(2022, 1, 1))
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.function_activate(actor=manager, function=old)
    assert error.value.message_dict == {"function_type": [str(services.LICENSED_FUNCTION_TAKEN)]}
    assert _state() == before


def test_p15_moving_dates_into_an_overlap_is_refused(world, manager):
    _licensed(world, from_date=datetime.date(2020, 1, 1), to_date=datetime.date(2020, 12, 31))
    later = _licensed(world, organisation=world.group_a, from_date=datetime.date(2021, 1, 1))
    with pytest.raises(ValidationError) as error:
        services.function_update(actor=manager, function=later, from_date=datetime.date(2020, 6, 1))
    assert "function_type" in error.value.message_dict
    assert Function.objects.get(pk=later.pk).from_date == datetime.date(2021, 1, 1)


def test_p15_the_database_constraint_catches_a_race_with_the_rule_named(
    world, manager, monkeypatch
):
    """Two requests validating at the same time both pass full_clean(); the exclusion
    constraint refuses the second insert, and the service reports it as P-15."""
    _licensed(world)
    monkeypatch.setattr(Function, "full_clean", lambda self, *args, **kwargs: None)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.function_create(
            actor=manager,
            person=world.player_a,
            organisation=world.group_a,
            function_type=licensed_player_type(),
        )
    assert error.value.message_dict == {"function_type": [str(services.LICENSED_FUNCTION_TAKEN)]}
    assert _state() == before


# --- selectors (P-11) -----------------------------------------------------------------------


def test_p11_organisations_offered_are_the_persons_managed_active_ones(world, manager):
    FunctionFactory(
        person=world.player_a,
        organisation=world.club_b,
        function_type=FunctionType.objects.get(code="player"),
    )
    offered = list(selectors.person_function_organisations(user=manager, person=world.player_a))
    assert offered == [world.club_a, world.team_a]  # club B is not managed by the user


def test_p11_organisation_search_finds_only_active_managed_organisations(world, manager):
    make_organisation("Sagene IF Nedlagt", OrganisationType.TEAM, world.group_a, is_active=False)
    found = selectors.organisation_search(
        queryset=selectors.managed_organisations(user=manager), query="sagene"
    )
    assert [o.name for o in found] == ["Sagene IF", "Sagene IF Fotball", "Sagene IF G2015"]
    assert (
        list(
            selectors.organisation_search(
                queryset=selectors.managed_organisations(user=manager), query="frogner"
            )
        )
        == []
    )


# --- views -----------------------------------------------------------------------------------


def _tab(world, status=None):
    url = reverse("members:person-functions", args=[world.player_a.pk])
    return url + (f"?status={status}" if status else "")


def test_p10_functions_tab_lists_active_inactive_or_both(world):
    client = world.client("official_this_club")
    active = client.get(_tab(world))
    assert active.status_code == 200
    assert [f.pk for f in active.context["functions"]] == [world.function_a.pk]
    inactive = client.get(_tab(world, "inactive"), HTTP_HX_REQUEST="true")
    assert inactive.templates[0].name == "members/person/_f_function_list.html"
    assert [f.pk for f in inactive.context["functions"]] == [world.ended_function_a.pk]
    both = client.get(_tab(world, "all"))
    assert {f.pk for f in both.context["functions"]} == {
        world.function_a.pk,
        world.ended_function_a.pk,
    }
    html = both.content.decode()
    assert "Content-Security-Policy" in both.headers
    assert "<script>" not in html and " style=" not in html


def test_functions_tab_query_count_does_not_grow_with_functions(world):
    client = world.client("official_this_club")
    client.get(_tab(world, "all"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_tab(world, "all")).status_code == 200
        return len(queries)

    few = count()
    own = ContactSetFactory(person=world.player_a)
    for organisation in (world.club_a, world.group_a, world.team_a) * 4:
        FunctionFactory(
            person=world.player_a,
            organisation=organisation,
            function_type=FunctionType.objects.get(code="coach"),
            contact="contact_set",
            contact_set=own,
        )
    assert count() == few


def test_p10_p11_add_function_from_the_person_card(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    add_url = reverse("members:person-function-add", args=[world.player_a.pk])

    chooser = client.get(add_url)
    assert [o.pk for o in chooser.context["organisations"]] == [world.club_a.pk, world.team_a.pk]
    search = client.get(
        reverse("members:person-function-organisations", args=[world.player_a.pk]) + "?q=fotb"
    ).content.decode()
    assert f"?organisation={world.group_a.pk}" in search

    form_page = client.get(f"{add_url}?organisation={world.team_a.pk}")
    offered = set(form_page.context["form"].fields["function_type"].queryset)
    assert FunctionType.objects.get(code="coach") in offered
    assert FunctionType.objects.get(code="general-manager") not in offered  # P-11: team

    coach = FunctionType.objects.get(code="coach")
    response = client.post(
        f"{add_url}?organisation={world.team_a.pk}",
        {"function_type": coach.pk, "contact": "person_standard"},
    )
    assert response.status_code == 302
    function = Function.objects.get(person=world.player_a, function_type=coach)
    assert (function.organisation, function.from_date, function.to_date, function.contact) == (
        world.team_a,
        TODAY,
        None,
        "person_standard",
    )


def test_p11_no_function_in_an_inactive_or_unmanaged_organisation(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    closed = make_organisation("Nedlagt lag", OrganisationType.TEAM, world.group_a, is_active=False)
    add_url = reverse("members:person-function-add", args=[world.player_a.pk])
    coach = FunctionType.objects.get(code="coach")
    before = _state()
    for organisation in (closed, world.club_b):
        response = client.post(
            f"{add_url}?organisation={organisation.pk}", {"function_type": coach.pk}
        )
        assert response.status_code == 404
    assert _state() == before


def test_p15_view_shows_the_rule_and_saves_nothing(world):
    _licensed(world)
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    before = _state()
    response = client.post(
        reverse("members:person-function-add", args=[world.player_a.pk])
        + f"?organisation={world.group_a.pk}",
        {"function_type": licensed_player_type().pk, "contact": "person_standard"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "function_type": [str(services.LICENSED_FUNCTION_TAKEN)]
    }
    assert _state() == before


def test_p10_end_and_activate_swap_the_row(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    end = reverse("members:person-function-end", args=[world.player_a.pk, world.function_a.pk])
    response = client.post(end, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "person-function-activate" not in response.content.decode()  # url names never leak
    assert (
        reverse("members:person-function-activate", args=[world.player_a.pk, world.function_a.pk])
        in response.content.decode()
    )
    assert Function.objects.get(pk=world.function_a.pk).to_date == TODAY

    activate = reverse(
        "members:person-function-activate", args=[world.player_a.pk, world.function_a.pk]
    )
    assert client.post(activate).status_code == 302
    assert Function.objects.get(pk=world.function_a.pk).to_date is None


def test_p10_edit_contact_choice_and_read_only_when_ended(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    own = ContactSetFactory(person=world.player_a, label="Hytta")
    edit = reverse("members:person-function-edit", args=[world.player_a.pk, world.function_a.pk])
    response = client.post(
        edit,
        {"from_date": "2020-01-01", "contact": "contact_set", "contact_set": own.pk},
    )
    assert response.status_code == 302
    function = Function.objects.get(pk=world.function_a.pk)
    assert (function.contact, function.contact_set_id) == ("contact_set", own.pk)

    ended = reverse(
        "members:person-function-edit", args=[world.player_a.pk, world.ended_function_a.pk]
    )
    page = client.get(ended)
    assert "read-only" in page.content.decode()
    before = _state()
    client.post(ended, {"from_date": "2019-01-01", "contact": "organisation"})
    assert _state() == before


# --- API -------------------------------------------------------------------------------------


def test_p10_api_function_contact_choice_is_validated_with_the_field_named(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    someone_elses = ContactSetFactory(person=world.player_a)  # visible, but not Bjørn's
    bjorn = FunctionFactory(
        person=PersonFactory(), organisation=world.team_a, function_type=licensed_player_type()
    ).person
    before = _state()
    response = client.post(
        "/api/v1/functions/",
        {
            "person": bjorn.pk,
            "organisation": world.team_a.pk,
            "function_type": FunctionType.objects.get(code="coach").pk,
            "contact": "contact_set",
            "contact_set": someone_elses.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"contact_set": [str(services.CONTACT_SET_OF_ANOTHER_PERSON)]}
    assert _state() == before


def test_p15_api_refuses_a_second_licensed_function_naming_the_rule(world):
    _licensed(world)
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    before = _state()
    response = client.post(
        "/api/v1/functions/",
        {
            "person": world.player_a.pk,
            "organisation": world.group_a.pk,
            "function_type": licensed_player_type().pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"function_type": [str(services.LICENSED_FUNCTION_TAKEN)]}
    assert _state() == before


def test_api_function_list_by_person_shows_contact_and_licence_flag(world):
    client = world.client("official_this_club")
    rows = client.get(f"/api/v1/functions/?status=all&person={world.player_a.pk}").json()
    assert {row["id"] for row in rows["results"]} == {
        world.function_a.pk,
        world.ended_function_a.pk,
    }
    assert {
        (row["contact"], row["contact_set"], row["is_licensed"]) for row in rows["results"]
    } == {("person_standard", None, False)}


def test_api_function_update_rejects_changing_the_licence_flag(world):
    client = world.client("official_this_club", Capability.FUNCTIONS_MANAGE)
    response = client.patch(
        f"/api/v1/functions/{world.function_a.pk}/",
        {"is_licensed": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert Function.objects.get(pk=world.function_a.pk).is_licensed is False
