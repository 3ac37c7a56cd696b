"""Transfers (P-15) and their lock for a deceased person (P-06): services, views, API."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import ALL_CAPABILITIES, Capability
from members.models import (
    Function,
    FunctionType,
    Organisation,
    OrganisationType,
    Transfer,
    TransferEvent,
)
from members.services import functions as function_services
from members.services import transfers as services
from members.services.competences import PERSON_DECEASED
from tests.members.factories import FunctionFactory, PersonFactory, make_organisation
from tests.members.factories_licences import licensed_player_type, mark_deceased, official

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"


TODAY = timezone.localdate()
START = datetime.date(2024, 8, 1)
TRANSFER_DATE = datetime.date(2026, 1, 1)


def _state():
    transfers = sorted(
        Transfer.objects.values_list(
            "pk",
            "status",
            "to_organisation_id",
            "transfer_type",
            "transfer_date",
            "loan_until",
            "comment",
            "function_type_id",
            "from_organisation_id",
            "new_function_id",
        )
    )
    functions = sorted(
        Function.objects.values_list("pk", "organisation_id", "from_date", "to_date")
    )
    return transfers, functions, TransferEvent.objects.count()


@pytest.fixture
def source(world):
    """Åse's licensed player function in club A (P-15: one licensed function at a time)."""
    return FunctionFactory(
        person=world.player_a,
        organisation=world.club_a,
        function_type=licensed_player_type(),
        is_licensed=True,
        from_date=START,
    )


@pytest.fixture
def admin(world):
    return official(world.club_a, Capability.TRANSFERS_ADMIN, Capability.PERSONS_VIEW)


def _create(world, admin, source, **kwargs):
    return services.transfer_create(
        actor=admin,
        function=source,
        to_organisation=kwargs.pop("to_organisation", world.club_b),
        transfer_type=kwargs.pop("transfer_type", "standard"),
        transfer_date=kwargs.pop("transfer_date", TRANSFER_DATE),
        **kwargs,
    )


def _events(transfer):
    return list(
        TransferEvent.objects.filter(transfer=transfer).values_list(
            "from_status", "to_status", "actor_id"
        )
    )


# --- create ----------------------------------------------------------------------------------


def test_p15_create_locks_function_type_and_source_and_records_the_status(world, admin, source):
    transfer = _create(world, admin, source, comment=" Ønsker å bytte klubb ")
    transfer.refresh_from_db()
    assert (
        transfer.person,
        transfer.function_type,
        transfer.from_organisation,
        transfer.to_organisation,
        transfer.status,
        transfer.comment,
        transfer.created_by,
    ) == (
        world.player_a,
        licensed_player_type(),
        world.club_a,
        world.club_b,
        "registered",
        "Ønsker å bytte klubb",
        admin,
    )
    assert _events(transfer) == [("", "registered", admin.pk)]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        # Messages are built inside the test, under the test's language.
        ("inactive club", lambda: services.TO_ORGANISATION_INACTIVE),
        (
            "group",
            lambda: services.TO_ORGANISATION_OTHER_TYPE % {"type": OrganisationType.CLUB.label},
        ),
        ("same club", lambda: services.TO_ORGANISATION_SAME),
    ],
)
def test_p15_target_is_another_active_organisation_of_the_same_type(
    world, admin, source, target, message
):
    organisation = {
        "inactive club": lambda: make_organisation(
            "Nedlagt IL", OrganisationType.CLUB, world.region, is_active=False
        ),
        "group": lambda: world.group_a,
        "same club": lambda: world.club_a,
    }[target]()
    before = _state()
    with pytest.raises(ValidationError) as error:
        _create(world, admin, source, to_organisation=organisation)
    assert error.value.message_dict == {"to_organisation": [str(message())]}
    assert _state() == before


@pytest.mark.parametrize(
    ("transfer_type", "loan_until", "field", "message"),
    [
        ("loan", None, "loan_until", services.LOAN_NEEDS_END),
        ("loan", datetime.date(2025, 12, 31), "loan_until", services.LOAN_NEEDS_END),
        ("standard", datetime.date(2026, 6, 30), "loan_until", services.LOAN_UNTIL_ONLY_FOR_LOANS),
    ],
)
def test_p15_only_a_loan_has_an_end_date(
    world, admin, source, transfer_type, loan_until, field, message
):
    before = _state()
    with pytest.raises(ValidationError) as error:
        _create(world, admin, source, transfer_type=transfer_type, loan_until=loan_until)
    assert error.value.message_dict == {field: [str(message)]}
    assert _state() == before


def test_p15_transfer_date_after_the_function_began(world, admin, source):
    with pytest.raises(ValidationError) as error:
        _create(world, admin, source, transfer_date=START)
    assert error.value.message_dict == {
        "transfer_date": [str(services.TRANSFER_DATE_TOO_EARLY % {"date": START})]
    }
    assert Transfer.objects.count() == 0


def test_p15_only_current_functions_without_a_waiting_transfer(world, admin, source):
    _create(world, admin, source)
    before = _state()
    with pytest.raises(ValidationError) as error:
        _create(world, admin, source, to_organisation=world.region)
    assert error.value.message_dict == {"function": [str(services.TRANSFER_IN_PROGRESS)]}
    with pytest.raises(ValidationError) as error:
        _create(world, admin, world.ended_function_a)
    assert error.value.message_dict == {"function": [str(services.FUNCTION_ENDED)]}
    assert _state() == before


def test_p15_only_transfer_administrators_of_the_source_or_target(world, source):
    without = official(world.club_a, *sorted(ALL_CAPABILITIES - {Capability.TRANSFERS_ADMIN}))
    elsewhere = official(world.club_c, Capability.TRANSFERS_ADMIN)
    before = _state()
    for user in (without, elsewhere):
        with pytest.raises(PermissionDenied):
            _create(world, user, source)
    assert _state() == before
    receiving = official(world.club_b, Capability.TRANSFERS_ADMIN)
    assert _create(world, receiving, source).to_organisation == world.club_b


# --- update and status ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["function_type", "from_organisation", "person", "function"])
def test_p15_function_type_and_source_are_locked(world, admin, source, field):
    transfer = _create(world, admin, source)
    value = {
        "function_type": FunctionType.objects.get(code="player"),
        "from_organisation": world.club_b,
        "person": PersonFactory(),
        "function": world.function_a,
    }[field]
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.transfer_update(actor=admin, transfer=transfer, **{field: value})
    assert error.value.message_dict == {field: [str(services.TRANSFER_FIELD_LOCKED)]}
    assert _state() == before


def test_p15_open_fields_change_and_the_change_is_recorded(world, admin, source):
    transfer = _create(world, admin, source)
    other = make_organisation("Lyn", OrganisationType.CLUB, world.region)
    changed = services.transfer_update(
        actor=admin,
        transfer=transfer,
        to_organisation=other,
        transfer_type="loan",
        loan_until=datetime.date(2026, 6, 30),
    )
    changed.refresh_from_db()
    assert (changed.to_organisation, changed.transfer_type, changed.loan_until) == (
        other,
        "loan",
        datetime.date(2026, 6, 30),
    )
    event = changed.events.last()
    assert (event.from_status, event.to_status, event.actor, event.comment) == (
        "registered",
        "registered",
        admin,
        "Changed: loan_until, to_organisation, transfer_type",
    )
    back = services.transfer_update(actor=admin, transfer=transfer, transfer_type="standard")
    assert (back.transfer_type, back.loan_until) == ("standard", None)


def test_p15_each_status_change_is_recorded(world, admin, source):
    transfer = _create(world, admin, source)
    services.transfer_set_status(
        actor=admin, transfer=transfer, status="missing_information", comment="Mangler samtykke"
    )
    services.transfer_set_status(actor=admin, transfer=transfer, status="correction")
    services.transfer_set_status(actor=admin, transfer=transfer, status="registered")
    assert _events(transfer) == [
        ("", "registered", admin.pk),
        ("registered", "missing_information", admin.pk),
        ("missing_information", "correction", admin.pk),
        ("correction", "registered", admin.pk),
    ]
    assert transfer.events.all()[1].comment == "Mangler samtykke"
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.transfer_set_status(actor=admin, transfer=transfer, status="registered")
    assert error.value.message_dict == {"status": [str(services.STATUS_UNCHANGED)]}
    assert _state() == before


# --- approval ---------------------------------------------------------------------------------


@pytest.mark.parametrize("transfer_type", ["standard", "correction"])
def test_p15_approval_moves_the_function_without_overlap(world, admin, source, transfer_type):
    transfer = _create(world, admin, source, transfer_type=transfer_type)
    approved = services.transfer_approve(actor=admin, transfer=transfer, comment="OK")
    approved.refresh_from_db()
    source.refresh_from_db()
    new = approved.new_function
    assert approved.status == "approved"
    assert source.to_date == TRANSFER_DATE - datetime.timedelta(days=1)
    assert (new.person, new.organisation, new.function_type, new.is_licensed) == (
        world.player_a,
        world.club_b,
        licensed_player_type(),
        True,
    )
    assert (new.from_date, new.to_date) == (TRANSFER_DATE, None)
    assert _events(transfer)[-1] == ("registered", "approved", admin.pk)
    # P-15: never two licensed functions of the type on one day.
    licensed = Function.objects.filter(
        person=world.player_a, function_type=licensed_player_type()
    ).order_by("from_date")
    assert [(f.from_date, f.to_date) for f in licensed] == [
        (START, datetime.date(2025, 12, 31)),
        (TRANSFER_DATE, None),
    ]


def test_p15_a_loan_returns_to_the_source_the_day_after_it_ends(world, admin, source):
    loan_until = datetime.date(2026, 6, 30)
    transfer = _create(world, admin, source, transfer_type="loan", loan_until=loan_until)
    approved = services.transfer_approve(actor=admin, transfer=transfer)
    functions = Function.objects.filter(
        person=world.player_a, function_type=licensed_player_type()
    ).order_by("from_date")
    assert [(f.organisation, f.from_date, f.to_date) for f in functions] == [
        (world.club_a, START, datetime.date(2025, 12, 31)),
        (world.club_b, TRANSFER_DATE, loan_until),
        (world.club_a, datetime.date(2026, 7, 1), None),
    ]
    assert approved.new_function.organisation == world.club_b


def test_p15_approving_twice_creates_one_function(world, admin, source):
    transfer = _create(world, admin, source)
    services.transfer_approve(actor=admin, transfer=transfer)
    after_first = _state()
    again = services.transfer_approve(actor=admin, transfer=transfer)
    assert again.status == "approved"
    assert _state() == after_first
    assert Function.objects.filter(person=world.player_a, organisation=world.club_b).count() == 1


def test_p15_an_approved_transfer_is_final(world, admin, source):
    transfer = services.transfer_approve(actor=admin, transfer=_create(world, admin, source))
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.transfer_update(actor=admin, transfer=transfer, comment="x")
    assert error.value.messages == [str(services.TRANSFER_APPROVED_READ_ONLY)]
    with pytest.raises(ValidationError):
        services.transfer_set_status(actor=admin, transfer=transfer, status="correction")
    assert _state() == before


def test_p15_approval_rechecks_the_target(world, admin, source):
    transfer = _create(world, admin, source)
    Organisation.objects.filter(pk=world.club_b.pk).update(is_active=False)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.transfer_approve(actor=admin, transfer=transfer)
    assert error.value.message_dict == {"to_organisation": [str(services.TO_ORGANISATION_INACTIVE)]}
    assert _state() == before


def test_p15_approval_is_refused_when_the_target_function_would_overlap(world, admin, source):
    """The person already holds a licensed function of the type in the target from the
    transfer date: the exclusion constraint's rule (P-15) stops the approval."""
    transfer = _create(world, admin, source)
    Function.objects.filter(pk=source.pk).update(to_date=datetime.date(2025, 12, 30))
    FunctionFactory(
        person=world.player_a,
        organisation=world.club_b,
        function_type=licensed_player_type(),
        is_licensed=True,
        from_date=datetime.date(2025, 12, 31),
        to_date=datetime.date(2026, 2, 1),
    )
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.transfer_approve(actor=admin, transfer=transfer)
    assert error.value.message_dict == {
        "function_type": [str(function_services.LICENSED_FUNCTION_TAKEN)]
    }
    assert _state() == before


# --- P-06 -------------------------------------------------------------------------------------


def test_p06_a_deceased_persons_transfers_cannot_be_added_or_changed(world, admin, source):
    transfer = _create(world, admin, source)
    mark_deceased(world.player_a)
    before = _state()
    attempts = [
        lambda: _create(world, admin, world.function_a, to_organisation=world.region),
        lambda: services.transfer_update(actor=admin, transfer=transfer, comment="x"),
        lambda: services.transfer_set_status(actor=admin, transfer=transfer, status="correction"),
        lambda: services.transfer_approve(actor=admin, transfer=transfer),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as error:
            attempt()
        assert error.value.messages == [str(PERSON_DECEASED)]
    assert _state() == before


# --- views ------------------------------------------------------------------------------------


def _url(world, name, *args):
    return reverse(f"members:person-{name}", args=[world.player_a.pk, *args])


def test_p15_transfers_tab_only_for_transfer_administrators(world, admin, source):
    transfer = _create(world, admin, source)
    allowed = world.client("official_this_club").get(_url(world, "transfers"))
    assert allowed.status_code == 200
    assert list(allowed.context["transfers"]) == [transfer]
    assert _url(world, "transfers") in allowed.content.decode()  # the tab is shown
    no_admin = world.client("official_without_capability", Capability.TRANSFERS_ADMIN)
    assert no_admin.get(_url(world, "transfers")).status_code == 404
    assert _url(world, "transfers") not in no_admin.get(_url(world, "functions")).content.decode()


def test_transfers_tab_query_count_does_not_grow(world, admin, source):
    client = world.client("official_this_club")
    _create(world, admin, source)
    client.get(_url(world, "transfers"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(world, "transfers")).status_code == 200
        return len(queries)

    few = count()
    for number in range(5):
        function = FunctionFactory(
            person=world.player_a,
            organisation=world.team_a,
            function_type=FunctionType.objects.get(code="coach"),
        )
        team = make_organisation(f"Lag {number}", OrganisationType.TEAM, world.group_a)
        transfer = _create(world, admin, function, to_organisation=team)
        services.transfer_set_status(actor=admin, transfer=transfer, status="correction")
    assert count() == few


def test_p15_register_a_transfer_through_the_form(world, source):
    client = world.client("official_this_club")
    add = _url(world, "transfer-add")
    offered = client.get(add).context["form"].fields["function"].queryset
    assert set(offered) == {source, world.function_a}  # current functions only
    targets = client.get(
        _url(world, "transfer-targets") + f"?function={source.pk}&q=il"
    ).content.decode()
    assert f'value="{world.club_b.pk}"' in targets  # Frogner IL: an active club
    assert f'value="{world.club_a.pk}"' not in targets  # not the source itself
    assert f'value="{world.club_c.pk}"' in targets  # clubs elsewhere too (Fana IL)

    response = client.post(
        add,
        {
            "function": source.pk,
            "transfer_type": "standard",
            "to_organisation": world.club_b.pk,
            "transfer_date": "2026-01-01",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert response.url == _url(world, "transfer-detail", transfer.pk)
    assert (transfer.function, transfer.to_organisation) == (source, world.club_b)


def test_p15_form_errors_name_the_rule_and_nothing_is_saved(world, source):
    client = world.client("official_this_club")
    before = _state()
    response = client.post(
        _url(world, "transfer-add"),
        {
            "function": source.pk,
            "transfer_type": "loan",
            "to_organisation": world.club_b.pk,
            "transfer_date": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"loan_until": [str(services.LOAN_NEEDS_END)]}
    assert response.context["chosen_target"] == world.club_b
    assert _state() == before


def test_p15_detail_edits_changes_status_and_approves(world, admin, source):
    transfer = _create(world, admin, source)
    client = world.client("official_this_club")
    detail = _url(world, "transfer-detail", transfer.pk)
    edited = client.post(
        detail,
        {
            "transfer_type": "correction",
            "to_organisation": world.club_b.pk,
            "transfer_date": "2026-02-01",
            "comment": "Feil klubb",
        },
    )
    assert edited.status_code == 302
    status = client.post(
        _url(world, "transfer-status", transfer.pk), {"status": "missing_information"}
    )
    assert status.status_code == 302
    approved = client.post(_url(world, "transfer-approve", transfer.pk), {"comment": "Godkjent"})
    assert approved.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.transfer_type, transfer.transfer_date, transfer.status) == (
        "correction",
        datetime.date(2026, 2, 1),
        "approved",
    )
    page = client.get(detail)
    html = page.content.decode()
    assert page.context["editable"] is False
    assert "Missing information" in html and "Godkjent" in html


def test_p06_views_refuse_a_deceased_persons_transfers(world, admin, source):
    transfer = _create(world, admin, source)
    mark_deceased(world.player_a)
    client = world.client("official_this_club")
    assert str(PERSON_DECEASED) in client.get(_url(world, "transfers")).content.decode()
    before = _state()
    added = client.post(
        _url(world, "transfer-add"),
        {
            "function": world.function_a.pk,
            "transfer_type": "standard",
            "to_organisation": world.club_b.pk,
            "transfer_date": "2026-01-01",
        },
    )
    assert added.context["form"].non_field_errors() == [str(PERSON_DECEASED)]
    edited = client.post(
        _url(world, "transfer-detail", transfer.pk),
        {
            "transfer_type": "standard",
            "to_organisation": world.club_b.pk,
            "transfer_date": "2026-03-01",
        },
    )
    assert edited.context["edit_form"].non_field_errors() == [str(PERSON_DECEASED)]
    status = client.post(_url(world, "transfer-status", transfer.pk), {"status": "correction"})
    assert str(PERSON_DECEASED) in status.content.decode()
    approved = client.post(_url(world, "transfer-approve", transfer.pk), follow=True)
    assert str(PERSON_DECEASED) in approved.content.decode()
    assert _state() == before


# --- API --------------------------------------------------------------------------------------


def _api(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_p15_api_create_update_status_and_approve(world, source):
    client = world.client("official_this_club")
    created = _api(
        client,
        "post",
        "/api/v1/transfers/",
        {
            "function": source.pk,
            "to_organisation": world.club_b.pk,
            "transfer_type": "loan",
            "transfer_date": "2026-01-01",
            "loan_until": "2026-06-30",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["function_type"], body["from_organisation"], body["status"]) == (
        licensed_player_type().pk,
        world.club_a.pk,
        "registered",
    )
    url = f"/api/v1/transfers/{body['id']}/"
    patched = _api(client, "patch", url, {"comment": "Lån ut sesongen"}).json()
    assert patched["comment"] == "Lån ut sesongen"
    assert _api(client, "post", url + "status/", {"status": "correction"}).json()["status"] == (
        "correction"
    )
    approved = _api(client, "post", url + "approve/").json()
    assert approved["status"] == "approved"
    assert [(e["from_status"], e["to_status"]) for e in approved["events"]] == [
        ("", "registered"),
        ("registered", "registered"),
        ("registered", "correction"),
        ("correction", "approved"),
    ]
    assert _api(client, "post", url + "approve/").json() == approved  # idempotent
    assert Function.objects.filter(person=world.player_a, organisation=world.club_b).count() == 1


@pytest.mark.parametrize("field", ["function_type", "from_organisation", "person", "function"])
def test_p15_api_rejects_changing_locked_fields(world, admin, source, field):
    transfer = _create(world, admin, source)
    value = {
        "function_type": FunctionType.objects.get(code="player").pk,
        "from_organisation": world.club_b.pk,
        "person": PersonFactory().pk,
        "function": world.function_a.pk,
    }[field]
    client = world.client("official_this_club")
    before = _state()
    response = _api(
        client,
        "patch",
        f"/api/v1/transfers/{transfer.pk}/",
        {field: value},
    )
    assert response.status_code == 400
    assert response.json() == {field: [str(services.TRANSFER_FIELD_LOCKED)]}
    assert _state() == before


def test_p15_api_validation_names_the_field_and_rule(world, admin, source):
    transfer = _create(world, admin, source)
    client = world.client("official_this_club")
    before = _state()
    response = _api(
        client,
        "patch",
        f"/api/v1/transfers/{transfer.pk}/",
        {"to_organisation": world.group_a.pk},
    )
    assert response.status_code == 400
    assert response.json() == {
        "to_organisation": [
            str(services.TO_ORGANISATION_OTHER_TYPE % {"type": OrganisationType.CLUB.label})
        ]
    }
    assert _state() == before


def test_p06_api_refuses_a_deceased_persons_transfers(world, admin, source):
    transfer = _create(world, admin, source)
    mark_deceased(world.player_a)
    client = world.client("official_this_club")
    url = f"/api/v1/transfers/{transfer.pk}/"
    before = _state()
    responses = [
        _api(
            client,
            "post",
            "/api/v1/transfers/",
            {
                "function": world.function_a.pk,
                "to_organisation": world.region.pk,
                "transfer_type": "standard",
                "transfer_date": "2026-01-01",
            },
        ),
        _api(client, "patch", url, {"comment": "x"}),
        _api(client, "post", url + "status/", {"status": "correction"}),
        _api(client, "post", url + "approve/"),
    ]
    for response in responses:
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [str(PERSON_DECEASED)]}
    assert _state() == before


def test_transfer_api_list_query_count_does_not_grow(world, admin, source):
    client = world.client("official_this_club")
    _create(world, admin, source)
    client.get("/api/v1/transfers/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/transfers/").status_code == 200
        return len(queries)

    few = count()
    for number in range(5):
        function = FunctionFactory(
            person=PersonFactory(),
            organisation=world.team_a,
            function_type=FunctionType.objects.get(code="player"),
        )
        team = make_organisation(f"Lag {number}", OrganisationType.TEAM, world.group_a)
        transfer = _create(world, admin, function, to_organisation=team)
        services.transfer_set_status(actor=admin, transfer=transfer, status="correction")
    assert count() == few
    assert client.get("/api/v1/transfers/").json()["count"] == 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_p15_two_simultaneous_approvals_create_one_function(world, admin, source):
    """Two administrators approve at the same moment: the row lock makes the second wait and
    then find the transfer approved, so the function moves once."""
    transfer = _create(world, admin, source)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve() -> None:
        try:
            barrier.wait(timeout=5)
            outcomes.append(services.transfer_approve(actor=admin, transfer=transfer).status)
        except Exception as error:  # reported through the assert below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["approved", "approved"]
    assert Function.objects.filter(person=world.player_a, organisation=world.club_b).count() == 1
    assert TransferEvent.objects.filter(transfer=transfer, to_status="approved").count() == 1
