"""The access matrix (STYLE 17) for the person card's Functions, Licences, Competences and
Transfers tabs and their API (P-10..P-13, P-15): anonymous, a member, an official without
the capability, an official with it in another club, an official with it in this club, and
federation staff. "Denied" means the status code AND no change in the database."""

import datetime
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from clubadmin.capabilities import Capability
from members.models import (
    Competence,
    Function,
    FunctionType,
    Licence,
    LicenceEvent,
    OrganisationType,
    Transfer,
    TransferEvent,
)
from members.services import licences as licence_services
from members.services import transfers as transfer_services
from tests.access_matrix import API_DENIED, HTML_DENIED, Case, api, check_case, get, post
from tests.conftest import ANY, ROLES, World
from tests.members.factories import ContactSetFactory, FunctionFactory, PersonFactory
from tests.members.factories import make_organisation as organisation
from tests.members.factories_licences import (
    CompetenceFactory,
    CompetenceTypeFactory,
    LicencePeriodFactory,
    LicenceTypeFactory,
    licensed_player_type,
    official,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ALL_SIGNED_IN = frozenset(set(ROLES) - {"anonymous"})
FEDERATION_CATALOGUE = frozenset({"official_this_club", "official_other_club", "federation_staff"})
CREATE_DENIED = frozenset({400, 403})


@pytest.fixture(autouse=True)
def records(world: World) -> None:
    """Licences, a competence and a transfer of Åse (club A), as `world.rec`."""
    licensed = FunctionFactory(
        person=world.player_a,
        organisation=world.group_a,
        function_type=licensed_player_type(),
        is_licensed=True,
    )
    periods = [
        LicencePeriodFactory(organisation=world.federation, name=f"Fotball {year}")
        for year in (2026, 2027, 2028)
    ]
    types = [LicenceTypeFactory(period=period, code=f"basis-{period.pk}") for period in periods]
    extended = LicenceTypeFactory(period=periods[1], code="utvidet")
    registered = licence_services.licence_register(
        actor=None, person=world.player_a, licence_type=types[0], organisation=world.club_a
    )
    issued = licence_services.licence_register(
        actor=None, person=world.player_a, licence_type=types[1], organisation=world.club_a
    )
    licence_services.licence_issue(actor=None, licence=issued)
    licence_services.licence_add_payment(actor=None, licence=issued, amount=Money(100, "NOK"))
    other = PersonFactory(first_name="Per", last_name="Passiv")
    FunctionFactory(
        person=other,
        organisation=world.group_a,
        function_type=licensed_player_type(),
        is_licensed=True,
    )
    passive = licence_services.licence_register(
        actor=None, person=other, licence_type=types[0], organisation=world.club_a
    )
    Function.objects.filter(person=other).update(to_date=TODAY)
    lyn = organisation("Lyn", OrganisationType.CLUB, world.region)
    lyn_group = organisation("Lyn Fotball", OrganisationType.GROUP, lyn)
    lyn_team = organisation("Lyn G2015", OrganisationType.TEAM, lyn_group)
    transfer = transfer_services.transfer_create(
        actor=None,
        function=world.function_a,
        to_organisation=lyn_team,
        transfer_type="standard",
        transfer_date=datetime.date(2026, 1, 1),
    )
    world.rec = SimpleNamespace(
        licensed=licensed,
        open_type=types[2],
        extended=extended,
        registered=registered,
        issued=issued,
        passive=passive,
        own_set=ContactSetFactory(person=world.player_a, label="Jobb"),
        competence_type=CompetenceTypeFactory(),
        competence=CompetenceFactory(person=world.player_a),
        period=periods[0],
        lyn_group=lyn_group,
        transfer=transfer,
    )


def functions_state(world: World) -> object:
    return sorted(
        Function.objects.values_list(
            "pk", "organisation_id", "from_date", "to_date", "contact", "contact_set_id"
        )
    )


def licences_state(world: World) -> object:
    return (
        sorted(
            Licence.objects.values_list(
                "pk",
                "status",
                "licence_type_id",
                "amount_due",
                "amount_paid",
                "sending_method",
                "delivery_contact_set_id",
            )
        ),
        LicenceEvent.objects.count(),
        functions_state(world),
    )


def competences_state(world: World) -> object:
    return sorted(
        Competence.objects.values_list(
            "pk", "comment", "valid_from", "valid_to", "is_temporarily_inactive"
        )
    )


def transfers_state(world: World) -> object:
    return (
        sorted(
            Transfer.objects.values_list(
                "pk", "status", "to_organisation_id", "comment", "new_function_id"
            )
        ),
        TransferEvent.objects.count(),
        functions_state(world),
    )


def person_url(name: str, *args):  # type: ignore[no-untyped-def]
    return lambda w: reverse(f"members:person-{name}", args=[w.player_a.pk, *args])


def rec_url(name: str, record: str, *extra: str):  # type: ignore[no-untyped-def]
    return lambda w: reverse(
        f"members:person-{name}", args=[w.player_a.pk, getattr(w.rec, record).pk, *extra]
    )


def html(name, capability, send, status=200, state=lambda w: None, **kwargs):  # type: ignore[no-untyped-def]
    return Case(name, capability, send, status, HTML_DENIED, 302, state, **kwargs)


def rest(name, capability, send, status=200, state=lambda w: None, denied=API_DENIED, **kwargs):  # type: ignore[no-untyped-def]
    return Case(name, capability, send, status, denied, 401, state, **kwargs)


FUNCTIONS = Capability.FUNCTIONS_MANAGE
VIEW = Capability.PERSONS_VIEW
EDIT = Capability.PERSONS_EDIT
TRANSFERS = Capability.TRANSFERS_ADMIN


def licence_action(name: str, record: str, data=lambda w: {}):  # type: ignore[no-untyped-def]
    return html(
        f"html licence {name}",
        EDIT,
        post(rec_url("licence-action", record, name), data),
        302,
        licences_state,
    )


def api_licence(name: str, record: str, data=lambda w: {}):  # type: ignore[no-untyped-def]
    return rest(
        f"api licence {name}",
        EDIT,
        api("post", lambda w: f"/api/v1/licences/{getattr(w.rec, record).pk}/{name}/", data),
        200,
        licences_state,
    )


CASES = [
    # Functions tab (P-10, P-11)
    html("html functions tab", VIEW, get(person_url("functions"))),
    html("html add function: choose organisation", FUNCTIONS, get(person_url("function-add"))),
    html(
        "html add function: organisation search",
        FUNCTIONS,
        get(lambda w: person_url("function-organisations")(w) + "?q=sagene"),
    ),
    html(
        "html add function",
        FUNCTIONS,
        post(
            lambda w: person_url("function-add")(w) + f"?organisation={w.team_a.pk}",
            lambda w: {
                "function_type": FunctionType.objects.get(code="coach").pk,
                "contact": "person_standard",
            },
        ),
        302,
        functions_state,
    ),
    html(
        "html edit function page",
        FUNCTIONS,
        get(
            lambda w: reverse("members:person-function-edit", args=[w.player_a.pk, w.function_a.pk])
        ),
    ),
    html(
        "html edit function",
        FUNCTIONS,
        post(
            lambda w: reverse(
                "members:person-function-edit", args=[w.player_a.pk, w.function_a.pk]
            ),
            lambda w: {
                "from_date": "2020-01-01",
                "contact": "contact_set",
                "contact_set": w.rec.own_set.pk,
            },
        ),
        302,
        functions_state,
    ),
    html(
        "html end function",
        FUNCTIONS,
        post(
            lambda w: reverse("members:person-function-end", args=[w.player_a.pk, w.function_a.pk])
        ),
        302,
        functions_state,
    ),
    html(
        "html activate function",
        FUNCTIONS,
        post(
            lambda w: reverse(
                "members:person-function-activate", args=[w.player_a.pk, w.ended_function_a.pk]
            )
        ),
        302,
        functions_state,
    ),
    # Licences tab (P-12)
    html("html licences tab", VIEW, get(person_url("licences"))),
    html("html register licence page", EDIT, get(person_url("licence-add"))),
    html(
        "html register licence",
        EDIT,
        post(
            person_url("licence-add"),
            lambda w: {
                "licence_type": w.rec.open_type.pk,
                "organisation": w.club_a.pk,
                "sending_method": "post",
            },
        ),
        302,
        licences_state,
    ),
    html("html licence detail", VIEW, get(rec_url("licence-detail", "registered"))),
    licence_action("issue", "registered", lambda w: {"sending_method": "post"}),
    licence_action("add_payment", "registered", lambda w: {"amount": "10.00"}),
    licence_action(
        "change_delivery",
        "registered",
        lambda w: {"delivery_contact_set": w.rec.own_set.pk, "sending_method": "post"},
    ),
    licence_action("change_type", "issued", lambda w: {"licence_type": w.rec.extended.pk}),
    licence_action("resend", "issued", lambda w: {"sending_method": "email"}),
    licence_action("return_payment", "issued", lambda w: {"amount": "50.00"}),
    html(
        "html licence reactivate",
        EDIT,
        post(
            lambda w: reverse(
                "members:person-licence-action",
                args=[w.rec.passive.person_id, w.rec.passive.pk, "reactivate"],
            )
        ),
        302,
        licences_state,
    ),
    # Competences tab (P-13)
    html("html competences tab", VIEW, get(person_url("competences"))),
    html("html add competence page", EDIT, get(person_url("competence-add"))),
    html(
        "html add competence",
        EDIT,
        post(
            person_url("competence-add"),
            lambda w: {"competence_type": w.rec.competence_type.pk, "valid_from": "2026-01-01"},
        ),
        302,
        competences_state,
    ),
    html("html edit competence page", EDIT, get(rec_url("competence-edit", "competence"))),
    html(
        "html edit competence",
        EDIT,
        post(rec_url("competence-edit", "competence"), lambda w: {"comment": "Endret"}),
        302,
        competences_state,
    ),
    html(
        "html competence temporarily inactive",
        EDIT,
        post(rec_url("competence-activity", "competence"), lambda w: {"inactive": "1"}),
        302,
        competences_state,
    ),
    # Transfers tab (P-15): transfer administrators only
    html("html transfers tab", TRANSFERS, get(person_url("transfers"))),
    html("html new transfer page", TRANSFERS, get(person_url("transfer-add"))),
    html(
        "html transfer target search",
        TRANSFERS,
        get(lambda w: person_url("transfer-targets")(w) + f"?function={w.rec.licensed.pk}&q=lyn"),
    ),
    html(
        "html new transfer",
        TRANSFERS,
        post(
            person_url("transfer-add"),
            lambda w: {
                "function": w.rec.licensed.pk,
                "transfer_type": "standard",
                "to_organisation": w.rec.lyn_group.pk,
                "transfer_date": "2026-01-01",
            },
        ),
        302,
        transfers_state,
    ),
    html("html transfer detail", TRANSFERS, get(rec_url("transfer-detail", "transfer"))),
    html(
        "html edit transfer",
        TRANSFERS,
        post(
            rec_url("transfer-detail", "transfer"),
            lambda w: {
                "transfer_type": "standard",
                "to_organisation": w.rec.transfer.to_organisation_id,
                "transfer_date": "2026-01-01",
                "comment": "Endret",
            },
        ),
        302,
        transfers_state,
    ),
    html(
        "html transfer status",
        TRANSFERS,
        post(rec_url("transfer-status", "transfer"), lambda w: {"status": "correction"}),
        302,
        transfers_state,
    ),
    html(
        "html approve transfer",
        TRANSFERS,
        post(rec_url("transfer-approve", "transfer")),
        302,
        transfers_state,
    ),
    # API: licences (P-12)
    rest("api licence detail", VIEW, get(lambda w: f"/api/v1/licences/{w.rec.registered.pk}/")),
    rest(
        "api register licence",
        EDIT,
        api(
            "post",
            lambda w: "/api/v1/licences/",
            lambda w: {
                "person": w.player_a.pk,
                "licence_type": w.rec.open_type.pk,
                "organisation": w.club_a.pk,
            },
        ),
        201,
        licences_state,
        denied=CREATE_DENIED,
    ),
    api_licence("issue", "registered", lambda w: {"sending_method": "post"}),
    api_licence("pay", "registered", lambda w: {"amount": "10.00"}),
    api_licence("delivery", "registered", lambda w: {"delivery_contact_set": w.rec.own_set.pk}),
    api_licence("change-type", "issued", lambda w: {"licence_type": w.rec.extended.pk}),
    api_licence("resend", "issued", lambda w: {"sending_method": "email"}),
    api_licence("return-payment", "issued", lambda w: {"amount": "50.00"}),
    api_licence("reactivate", "passive"),
    rest(
        "api licence period detail",
        ANY,
        get(lambda w: f"/api/v1/licence-periods/{w.rec.period.pk}/"),
        denied=frozenset({404}),
        allowed=FEDERATION_CATALOGUE,
    ),
    rest(
        "api licence type detail",
        ANY,
        get(lambda w: f"/api/v1/licence-types/{w.rec.open_type.pk}/"),
        denied=frozenset({404}),
        allowed=FEDERATION_CATALOGUE,
    ),
    rest(
        "api competence type detail",
        ANY,
        get(lambda w: f"/api/v1/competence-types/{w.rec.competence_type.pk}/"),
        allowed=ALL_SIGNED_IN,
    ),
    # API: competences (P-13)
    rest(
        "api competence detail", VIEW, get(lambda w: f"/api/v1/competences/{w.rec.competence.pk}/")
    ),
    rest(
        "api add competence",
        EDIT,
        api(
            "post",
            lambda w: "/api/v1/competences/",
            lambda w: {
                "person": w.player_a.pk,
                "competence_type": w.rec.competence_type.pk,
                "valid_from": "2026-01-01",
            },
        ),
        201,
        competences_state,
        denied=CREATE_DENIED,
    ),
    rest(
        "api update competence",
        EDIT,
        api(
            "patch",
            lambda w: f"/api/v1/competences/{w.rec.competence.pk}/",
            lambda w: {"comment": "x"},
        ),
        200,
        competences_state,
    ),
    # API: transfers (P-15)
    rest(
        "api transfer detail", TRANSFERS, get(lambda w: f"/api/v1/transfers/{w.rec.transfer.pk}/")
    ),
    rest(
        "api new transfer",
        TRANSFERS,
        api(
            "post",
            lambda w: "/api/v1/transfers/",
            lambda w: {
                "function": w.rec.licensed.pk,
                "to_organisation": w.rec.lyn_group.pk,
                "transfer_type": "standard",
                "transfer_date": "2026-01-01",
            },
        ),
        201,
        transfers_state,
        denied=CREATE_DENIED,
    ),
    rest(
        "api update transfer",
        TRANSFERS,
        api(
            "patch", lambda w: f"/api/v1/transfers/{w.rec.transfer.pk}/", lambda w: {"comment": "x"}
        ),
        200,
        transfers_state,
    ),
    rest(
        "api transfer status",
        TRANSFERS,
        api(
            "post",
            lambda w: f"/api/v1/transfers/{w.rec.transfer.pk}/status/",
            lambda w: {"status": "missing_information"},
        ),
        200,
        transfers_state,
    ),
    rest(
        "api approve transfer",
        TRANSFERS,
        api("post", lambda w: f"/api/v1/transfers/{w.rec.transfer.pk}/approve/"),
        200,
        transfers_state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(world: World, case: Case, role: str) -> None:
    check_case(world, case, role)


LIST_CASES = [
    ("api licence list", VIEW, "/api/v1/licences/", lambda w: f'"id":{w.rec.registered.pk},'),
    ("api competence list", VIEW, "/api/v1/competences/", lambda w: f'"id":{w.rec.competence.pk},'),
    ("api transfer list", TRANSFERS, "/api/v1/transfers/", lambda w: f'"id":{w.rec.transfer.pk},'),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "capability", "url", "marker"), LIST_CASES, ids=[case[0] for case in LIST_CASES]
)
def test_lists_show_only_rows_in_scope(world, role, name, capability, url, marker):
    """Lists answer everyone signed in, but show club A's rows only to those with the
    capability in club A (or above it)."""
    response = world.client(role, capability).get(url)
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert (marker(world) in response.content.decode()) is (
        role in {"official_this_club", "federation_staff"}
    )


def test_transfers_are_seen_by_the_receiving_clubs_administrators(world):
    """P-15: a transfer belongs to both organisations: the target's transfer administrators
    see it in the API, those of an unrelated club do not."""
    lyn = world.rec.transfer.to_organisation
    receiving = official(lyn, TRANSFERS)
    unrelated = official(world.club_b, TRANSFERS)
    for user, expected in ((receiving, 200), (unrelated, 404)):
        client = Client()
        client.force_login(user)
        assert client.get(f"/api/v1/transfers/{world.rec.transfer.pk}/").status_code == expected
