"""The access matrix of the person card (issue 3, STYLE 17): every view and endpoint of
general info (P-05..P-07), contact sets (P-08), bank accounts (P-09), history and the portal
page, for anonymous, a member, an official without the capability, an official with it in
another club, an official with it in this club, and federation staff. The person under test
is world.player_a (a player in club A's team). Denied means the status code AND no change in
the database."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members.models import BankAccount, ContactSet, Person
from members.services import accounts as account_services
from tests.access_matrix import API_DENIED, HTML_DENIED, Case, api, check_case, get, post
from tests.conftest import ROLES, World
from tests.members.factories import ContactSetFactory

pytestmark = pytest.mark.django_db

VIEW = Capability.PERSONS_VIEW
EDIT = Capability.PERSONS_EDIT
LOGGED_IN = frozenset(ROLES) - {"anonymous"}
NORWEGIAN = "86011117947"
OTHER_NORWEGIAN = "12345678903"


@pytest.fixture
def card_world(world: World) -> World:
    """player_a with a second contact set and two bank accounts (private = default, fees)."""
    world.work_set = ContactSetFactory(person=world.player_a, label="Jobb")
    world.private_account = account_services.account_create(
        actor=None, person=world.player_a, account_number=NORWEGIAN
    )
    world.fees_account = account_services.account_create(
        actor=None, person=world.player_a, account_type="fees", account_number=OTHER_NORWEGIAN
    )
    return world


def person_state(world: World) -> object:
    return list(
        Person.objects.order_by("pk").values_list(
            "pk",
            "first_name",
            "last_name",
            "sports_id",
            "is_deceased",
            "date_of_death",
            "reserved_against_data_wash",
        )
    )


def contacts_state(world: World) -> object:
    return sorted(
        ContactSet.objects.filter(person=world.player_a).values_list(
            "pk", "label", "is_standard", "street", "email", "mobile"
        )
    )


def accounts_state(world: World) -> object:
    return sorted(
        BankAccount.objects.values_list(
            "pk", "person_id", "account_type", "account_number", "owner_name", "is_default"
        )
    )


def url(name: str, *args) -> object:
    """A URL of the player's card; args are attribute names of the world (e.g. "work_set")."""

    def build(world: World) -> str:
        return reverse(
            f"members:{name}",
            args=[world.player_a.pk, *(getattr(world, arg).pk for arg in args)],
        )

    return build


def api_url(path: str, *args) -> object:
    def build(world: World) -> str:
        ids = [getattr(world, arg).pk for arg in args]
        return f"/api/v1/persons/{world.player_a.pk}/" + path.format(*ids)

    return build


def identity_change(world: World) -> dict:
    person = world.player_a
    return {
        "first_name": person.first_name,
        "last_name": "Ødegaard",
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat(),
        "confirm_identity_change": "on",
    }


def deceased_today(world: World) -> dict:
    return {"date_of_death": timezone.localdate().isoformat(), "confirm": "on"}


HTML = [
    Case("html general tab", VIEW, get(url("person-detail")), 200, HTML_DENIED, 302),
    Case(
        "html edit general info (P-05)",
        EDIT,
        post(url("person-edit"), identity_change),
        302,
        HTML_DENIED,
        302,
        person_state,
    ),
    Case(
        "html mark deceased (P-06)",
        EDIT,
        post(url("person-deceased"), deceased_today),
        302,
        HTML_DENIED,
        302,
        person_state,
    ),
    Case(
        "html reservation flag (P-07)",
        EDIT,
        post(url("person-reservation"), lambda w: {"reserved": "on"}),
        302,
        HTML_DENIED,
        302,
        person_state,
    ),
    Case("html contact tab", VIEW, get(url("person-contacts")), 200, HTML_DENIED, 302),
    Case("html add contact form", EDIT, get(url("person-contact-add")), 200, HTML_DENIED, 302),
    Case(
        "html add contact set",
        EDIT,
        post(url("person-contact-add"), lambda w: {"label": "Hytta", "country": "NO"}),
        302,
        HTML_DENIED,
        302,
        contacts_state,
    ),
    Case(
        "html edit contact form",
        EDIT,
        get(url("person-contact-edit", "work_set")),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html edit contact set",
        EDIT,
        post(
            url("person-contact-edit", "work_set"), lambda w: {"label": "Kontor", "country": "NO"}
        ),
        302,
        HTML_DENIED,
        302,
        contacts_state,
    ),
    Case(
        "html delete contact set",
        EDIT,
        post(url("person-contact-delete", "work_set")),
        302,
        HTML_DENIED,
        302,
        contacts_state,
    ),
    Case(
        "html make contact set standard",
        EDIT,
        post(url("person-contact-standard", "work_set")),
        302,
        HTML_DENIED,
        302,
        contacts_state,
    ),
    Case("html accounts tab", EDIT, get(url("person-accounts")), 200, HTML_DENIED, 302),
    Case("html add account form", EDIT, get(url("person-account-add")), 200, HTML_DENIED, 302),
    Case(
        "html add account",
        EDIT,
        post(
            url("person-account-add"),
            lambda w: {"account_type": "refunds", "iban": "DE89370400440532013000"},
        ),
        302,
        HTML_DENIED,
        302,
        accounts_state,
    ),
    Case(
        "html edit account form",
        EDIT,
        get(url("person-account-edit", "fees_account")),
        200,
        HTML_DENIED,
        302,
    ),
    Case(
        "html edit account",
        EDIT,
        post(
            url("person-account-edit", "fees_account"),
            lambda w: {
                "account_type": "fees",
                "account_number": OTHER_NORWEGIAN,
                "owner_name": "X",
            },
        ),
        302,
        HTML_DENIED,
        302,
        accounts_state,
    ),
    Case(
        "html delete account",
        EDIT,
        post(url("person-account-delete", "fees_account")),
        302,
        HTML_DENIED,
        302,
        accounts_state,
    ),
    Case(
        "html make account default",
        EDIT,
        post(url("person-account-default", "fees_account")),
        302,
        HTML_DENIED,
        302,
        accounts_state,
    ),
    Case("html history tab", VIEW, get(url("person-history")), 200, HTML_DENIED, 302),
    Case(
        "html postcode lookup",
        VIEW,
        get(lambda w: reverse("members:postcode-place") + "?postcode=0150"),
        200,
        HTML_DENIED,
        302,
        allowed=LOGGED_IN,
    ),
    Case(
        "html portal page (own person only)",
        VIEW,
        get(lambda w: reverse("members:portal-me")),
        200,
        HTML_DENIED,
        302,
        allowed=LOGGED_IN,
    ),
    Case(
        "html portal reservation (own person only)",
        VIEW,
        post(lambda w: reverse("members:portal-me"), lambda w: {"reserved": "on"}),
        302,
        HTML_DENIED,
        302,
        lambda w: sorted(
            Person.objects.filter(reserved_against_data_wash=True).values_list("pk", flat=True)
        ),
        allowed=LOGGED_IN,
    ),
]

API = [
    Case("api person detail", VIEW, get(api_url("")), 200, frozenset({404}), 401),
    Case(
        "api change general info (P-05)",
        EDIT,
        api("patch", api_url(""), lambda w: {"last_name": "X", "confirm_identity_change": True}),
        200,
        API_DENIED,
        401,
        person_state,
    ),
    Case(
        "api mark deceased (P-06)",
        EDIT,
        api(
            "post",
            api_url("deceased/"),
            lambda w: {"date_of_death": timezone.localdate().isoformat(), "confirm": True},
        ),
        200,
        API_DENIED,
        401,
        person_state,
    ),
    Case(
        "api reservation (P-07)",
        EDIT,
        api("post", api_url("reservation/"), lambda w: {"reserved": True}),
        200,
        API_DENIED,
        401,
        person_state,
    ),
    Case("api contact sets", VIEW, get(api_url("contact-sets/")), 200, frozenset({404}), 401),
    Case(
        "api contact set detail",
        VIEW,
        get(api_url("contact-sets/{}/", "work_set")),
        200,
        frozenset({404}),
        401,
    ),
    Case(
        "api create contact set",
        EDIT,
        api("post", api_url("contact-sets/"), lambda w: {"label": "Hytta"}),
        201,
        API_DENIED,
        401,
        contacts_state,
    ),
    Case(
        "api update contact set",
        EDIT,
        api("patch", api_url("contact-sets/{}/", "work_set"), lambda w: {"label": "Kontor"}),
        200,
        API_DENIED,
        401,
        contacts_state,
    ),
    Case(
        "api delete contact set",
        EDIT,
        api("delete", api_url("contact-sets/{}/", "work_set")),
        204,
        API_DENIED,
        401,
        contacts_state,
    ),
    Case(
        "api set standard contact set",
        EDIT,
        api("post", api_url("contact-sets/{}/set-standard/", "work_set")),
        200,
        API_DENIED,
        401,
        contacts_state,
    ),
    Case("api bank accounts", EDIT, get(api_url("bank-accounts/")), 200, API_DENIED, 401),
    Case(
        "api bank account detail",
        EDIT,
        get(api_url("bank-accounts/{}/", "fees_account")),
        200,
        API_DENIED,
        401,
    ),
    Case(
        "api create bank account",
        EDIT,
        api(
            "post",
            api_url("bank-accounts/"),
            lambda w: {"account_type": "refunds", "iban": "DE89370400440532013000"},
        ),
        201,
        API_DENIED,
        401,
        accounts_state,
    ),
    Case(
        "api update bank account",
        EDIT,
        api("patch", api_url("bank-accounts/{}/", "fees_account"), lambda w: {"owner_name": "X"}),
        200,
        API_DENIED,
        401,
        accounts_state,
    ),
    Case(
        "api delete bank account",
        EDIT,
        api("delete", api_url("bank-accounts/{}/", "fees_account")),
        204,
        API_DENIED,
        401,
        accounts_state,
    ),
    Case(
        "api set default bank account",
        EDIT,
        api("post", api_url("bank-accounts/{}/set-default/", "fees_account")),
        200,
        API_DENIED,
        401,
        accounts_state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", HTML + API, ids=str)
def test_person_card_access_matrix(card_world: World, case: Case, role: str) -> None:
    check_case(card_world, case, role)


@pytest.mark.parametrize("role", sorted(LOGGED_IN))
def test_p09_the_person_themself_sees_but_does_not_change_their_accounts(world, role):
    """P-09: bank accounts are visible to the person themself (read only)."""
    user = world.user(role)
    account_services.account_create(actor=None, person=user.person, account_number=NORWEGIAN)
    client = world.client(role)
    base = f"/api/v1/persons/{user.person.pk}/bank-accounts/"
    before = accounts_state(world)

    listed = client.get(base)
    created = client.post(
        base,
        data={"account_type": "fees", "iban": "DE89370400440532013000"},
        content_type="application/json",
    )

    assert listed.status_code == 200
    assert [row["account_number"] for row in listed.json()["results"]] == [NORWEGIAN]
    if role in {"official_other_club", "official_this_club", "federation_staff"}:
        # They hold persons.edit where their own function is, so over themselves too.
        assert created.status_code == 201
    else:
        assert created.status_code == 403
        assert accounts_state(world) == before
