"""The access matrix machinery (issue 2, STYLE 17), shared by every app's matrix tests.

A `Case` is one request that needs `capability` in club A of the `world` fixture. `check_case`
sends it as one of the ROLES and asserts: allowed roles get `allowed_status` (and, where a
`state` function is given, a changed database); every other role gets a denied status and the
database is unchanged.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.forms.models import model_to_dict
from django.test import Client

from members.models import Function, FunctionType, Organisation
from tests.conftest import World

ALLOWED = frozenset({"official_this_club", "federation_staff"})
HTML_DENIED = frozenset({404})
API_DENIED = frozenset({403, 404})
ADMIN_DENIED = frozenset({302})


@dataclass(frozen=True)
class Case:
    name: str
    capability: str
    send: Callable[[World, Client], object]
    allowed_status: int
    denied_statuses: frozenset[int]
    anonymous_status: int
    state: Callable[[World], object] = lambda world: None
    allowed: frozenset[str] = ALLOWED

    def __str__(self) -> str:
        return self.name


def functions_state(world: World) -> object:
    return sorted(
        Function.objects.values_list(
            "pk", "person_id", "organisation_id", "function_type_id", "from_date", "to_date"
        )
    )


def organisations_state(world: World) -> object:
    return sorted(Organisation.objects.values_list("pk", "name", "path", "organisation_type"))


def get(url: Callable[[World], str]) -> Callable[[World, Client], object]:
    return lambda world, client: client.get(url(world))


def post(url: Callable[[World], str], data: Callable[[World], dict] = lambda w: {}):
    return lambda world, client: client.post(url(world), data(world))


def api(method: str, url: Callable[[World], str], data: Callable[[World], dict] = lambda w: {}):
    def send(world: World, client: Client) -> object:
        return getattr(client, method)(
            url(world), data=json.dumps(data(world)), content_type="application/json"
        )

    return send


def new_function_data(world: World) -> dict:
    return {
        "person": world.player_a.pk,
        "organisation": world.club_a.pk,
        "function_type": FunctionType.objects.get(code="coach").pk,
    }


def organisation_change_data(world: World) -> dict:
    data = model_to_dict(
        world.club_a,
        fields=[
            "name",
            "is_active",
            "organisation_number",
            "sport",
            "street",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "bank_account",
            "kid_algorithm",
            "kid_length",
        ],
    )
    data["name"] = "Sagene IF (renamed)"
    data["is_active"] = "on"
    return {key: value for key, value in data.items() if value is not None}


def check_case(world: World, case: Case, role: str) -> None:
    client = world.client(role, case.capability)
    before = case.state(world)

    response = case.send(world, client)

    if role in case.allowed:
        assert response.status_code == case.allowed_status, response.content[:500]
        if case.allowed_status in (200, 201, 302) and case.state(world) is not None:
            assert case.state(world) != before, "an allowed write changed nothing"
    else:
        expected = {case.anonymous_status} if role == "anonymous" else case.denied_statuses
        assert response.status_code in expected, (response.status_code, response.content[:300])
        assert case.state(world) == before, "a denied request changed the database"
