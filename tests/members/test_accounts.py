"""Bank accounts (P-09, S-04, IBAN) and the P-06 lock of a deceased person's accounts:
service, view and API. Bank accounts are sensitive: only persons.edit or the person themself
sees them."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members.models import BankAccount, BankAccountType, Person
from members.services import accounts as account_services
from members.services.accounts import (
    ACCOUNT_NUMBER_OR_IBAN,
    ACCOUNT_TYPE_TAKEN,
    BIC_ONLY_WITH_IBAN,
    INVALID_ACCOUNT_NUMBER,
    INVALID_BIC,
    INVALID_IBAN,
    NOT_BOTH_NUMBER_AND_IBAN,
)
from members.services.persons import PERSON_IS_DECEASED

pytestmark = pytest.mark.django_db

NORWEGIAN = "86011117947"  # S-04 valid
OTHER_NORWEGIAN = "12345678903"  # S-04 valid
GERMAN_IBAN = "DE89370400440532013000"


def _state(person: Person) -> list[tuple]:
    return sorted(
        BankAccount.objects.filter(person=person).values_list(
            "pk", "account_type", "account_number", "iban", "bic", "owner_name", "is_default"
        )
    )


def _account(world, **fields) -> BankAccount:
    return account_services.account_create(
        actor=world.user("official_this_club"), person=world.player_a, **fields
    )


def _deceased(person: Person) -> Person:
    Person.objects.filter(pk=person.pk).update(is_deceased=True, date_of_death=timezone.localdate())
    person.refresh_from_db()
    return person


def _api(client, method: str, url: str, data: dict | None = None):
    return getattr(client, method)(
        url, data=json.dumps(data or {}), content_type="application/json"
    )


# ----------------------------------------------------------------------- P-09: service


def test_p09_first_account_is_default_owner_defaults_to_the_person_number_compact(world):
    first = _account(world, account_number="8601.11.17947")
    second = _account(
        world, account_type="fees", iban="de89 3704 0044 0532 0130 00", bic="cobadeff"
    )

    assert (first.account_number, first.owner_name, first.is_default) == (
        NORWEGIAN,
        "Åse Ødegård",
        True,
    )
    assert (second.iban, second.bic, second.account_number, second.is_default) == (
        GERMAN_IBAN,
        "COBADEFF",
        "",
        False,
    )
    assert first.history.latest().history_user == world.user("official_this_club")


def test_p09_owner_name_can_differ_from_the_person(world):
    account = _account(world, account_number=NORWEGIAN, owner_name="Kari Ødegård")
    assert account.owner_name == "Kari Ødegård"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"account_number": [str(ACCOUNT_NUMBER_OR_IBAN)]}),
        (
            {"account_number": NORWEGIAN, "iban": GERMAN_IBAN},
            {"iban": [str(NOT_BOTH_NUMBER_AND_IBAN)]},
        ),
        (
            {"account_number": "86011117949"},
            {"account_number": [str(INVALID_ACCOUNT_NUMBER % {"value": "86011117949"})]},
        ),
        (
            {"account_number": "1234"},
            {"account_number": [str(INVALID_ACCOUNT_NUMBER % {"value": "1234"})]},
        ),
        (
            {"iban": "DE89370400440532013001"},
            {"iban": [str(INVALID_IBAN % {"value": "DE89370400440532013001"})]},
        ),
        (
            {"iban": GERMAN_IBAN, "bic": "COBA"},
            {"bic": [str(INVALID_BIC % {"value": "COBA"})]},
        ),
        ({"account_number": NORWEGIAN, "bic": "DNBANOKK"}, {"bic": [str(BIC_ONLY_WITH_IBAN)]}),
    ],
    ids=[
        "missing",
        "both",
        "s04-checksum",
        "s04-length",
        "iban-checksum",
        "bic-format",
        "bic-without-iban",
    ],
)
def test_p09_invalid_accounts_are_refused_with_the_field_named(world, fields, errors):
    person = world.player_a
    with pytest.raises(ValidationError) as raised:
        _account(world, **fields)
    assert raised.value.message_dict == errors
    assert _state(person) == []


def test_p09_one_account_per_type(world):
    _account(world, account_number=NORWEGIAN)
    before = _state(world.player_a)
    with pytest.raises(ValidationError) as raised:
        _account(world, account_type="private", account_number=OTHER_NORWEGIAN)
    assert raised.value.message_dict == {
        "account_type": [str(ACCOUNT_TYPE_TAKEN % {"type": BankAccountType.PRIVATE.label})]
    }
    assert _state(world.player_a) == before


def test_p09_changing_the_type_to_a_taken_one_is_refused(world):
    _account(world, account_number=NORWEGIAN)
    fees = _account(world, account_type="fees", account_number=OTHER_NORWEGIAN)
    before = _state(world.player_a)
    with pytest.raises(ValidationError) as raised:
        account_services.account_update(
            actor=world.user("official_this_club"), account=fees, account_type="private"
        )
    assert raised.value.error_dict["account_type"][0].code == "account_type_taken"
    assert _state(world.player_a) == before


def test_p09_update_switches_from_number_to_iban(world):
    account = _account(world, account_number=NORWEGIAN)
    account_services.account_update(
        actor=world.user("official_this_club"),
        account=account,
        account_number="",
        iban=GERMAN_IBAN,
        owner_name="",
    )
    account.refresh_from_db()
    assert (account.account_number, account.iban, account.owner_name) == (
        "",
        GERMAN_IBAN,
        "Åse Ødegård",
    )


def test_p09_set_default_moves_the_flag_and_delete_passes_it_on(world):
    editor = world.user("official_this_club")
    first = _account(world, account_number=NORWEGIAN)
    second = _account(world, account_type="fees", account_number=OTHER_NORWEGIAN)

    account_services.account_set_default(actor=editor, account=second)
    assert list(BankAccount.objects.filter(is_default=True)) == [second]

    account_services.account_delete(actor=editor, account=second)
    first.refresh_from_db()
    assert first.is_default is True
    record = BankAccount.history.filter(id=second.pk).latest()
    assert (record.history_type, record.history_user) == ("-", editor)


def test_p09_an_account_never_moves_to_another_person(world):
    account = _account(world, account_number=NORWEGIAN)
    with pytest.raises(ValidationError) as raised:
        account_services.account_update(
            actor=world.user("official_this_club"), account=account, person=None, is_default=False
        )
    assert set(raised.value.message_dict) == {"person", "is_default"}


def test_p09_changing_accounts_needs_persons_edit(world):
    account = _account(world, account_number=NORWEGIAN)
    before = _state(world.player_a)
    for actor in (
        world.user("member"),
        world.user("official_without_capability", Capability.PERSONS_EDIT),
        world.user("official_other_club"),
    ):
        with pytest.raises(PermissionDenied):
            account_services.account_create(
                actor=actor, person=world.player_a, account_type="fees", iban=GERMAN_IBAN
            )
        with pytest.raises(PermissionDenied):
            account_services.account_update(actor=actor, account=account, owner_name="X")
        with pytest.raises(PermissionDenied):
            account_services.account_delete(actor=actor, account=account)
    assert _state(world.player_a) == before


def test_p09_who_may_see_bank_accounts(world):
    person = world.player_a
    assert account_services.may_view_bank_accounts(world.user("official_this_club"), person)
    assert account_services.may_view_bank_accounts(world.user("federation_staff"), person)
    assert not account_services.may_view_bank_accounts(
        world.user("official_without_capability", Capability.PERSONS_EDIT), person
    )
    assert not account_services.may_view_bank_accounts(world.user("official_other_club"), person)
    member = world.user("member")
    assert account_services.may_view_bank_accounts(member, member.person)
    assert not account_services.may_view_bank_accounts(member, person)


# ------------------------------------------------------------ P-06: locks in the service


@pytest.mark.parametrize("operation", ["create", "update", "delete", "set_default"])
def test_p06_a_deceased_persons_accounts_are_locked_in_the_service(world, operation):
    editor = world.user("official_this_club")
    _account(world, account_number=NORWEGIAN)
    fees = _account(world, account_type="fees", account_number=OTHER_NORWEGIAN)
    person = _deceased(world.player_a)
    before = _state(person)
    calls = {
        "create": lambda: account_services.account_create(
            actor=editor, person=person, account_type="refunds", iban=GERMAN_IBAN
        ),
        "update": lambda: account_services.account_update(
            actor=editor, account=fees, owner_name="X"
        ),
        "delete": lambda: account_services.account_delete(actor=editor, account=fees),
        "set_default": lambda: account_services.account_set_default(actor=editor, account=fees),
    }

    with pytest.raises(ValidationError) as raised:
        calls[operation]()

    assert raised.value.code == "person_deceased"
    assert _state(person) == before


# ---------------------------------------------------------------------------- P-09: view


def test_p09_accounts_tab_shows_accounts_to_editors_in_norwegian_format(world):
    _account(world, account_number=NORWEGIAN)
    _account(world, account_type="fees", iban=GERMAN_IBAN)
    url = reverse("members:person-accounts", args=[world.player_a.pk])
    response = world.client("official_this_club").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "8601.11.17947" in html and GERMAN_IBAN in html
    assert reverse("members:person-account-add", args=[world.player_a.pk]) in html


def test_p09_accounts_tab_is_hidden_from_viewers_and_shown_to_the_person_themself(world):
    member = world.user("member")
    account_services.account_create(actor=None, person=member.person, account_number=NORWEGIAN)
    viewer = world.client("official_without_capability", Capability.PERSONS_EDIT)

    denied = viewer.get(reverse("members:person-accounts", args=[world.player_a.pk]))
    card = viewer.get(reverse("members:person-detail", args=[world.player_a.pk]))
    own = world.client("member").get(reverse("members:person-accounts", args=[member.person.pk]))

    assert denied.status_code == 404
    assert reverse("members:person-accounts", args=[world.player_a.pk]) not in (
        card.content.decode()
    )
    assert own.status_code == 200
    assert "8601.11.17947" in own.content.decode()
    # The person sees their accounts but cannot change them here.
    assert reverse("members:person-account-add", args=[member.person.pk]) not in (
        own.content.decode()
    )


def test_p09_accounts_tab_query_count_is_constant(world):
    client = world.client("official_this_club")
    url = reverse("members:person-accounts", args=[world.player_a.pk])
    _account(world, account_number=NORWEGIAN)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    _account(world, account_type="fees", iban=GERMAN_IBAN)
    _account(world, account_type="refunds", account_number=OTHER_NORWEGIAN)
    assert count() == few


def test_p09_add_and_edit_through_the_form(world):
    person = world.player_a
    client = world.client("official_this_club")
    add_url = reverse("members:person-account-add", args=[person.pk])
    assert client.get(add_url).status_code == 200

    wrong = client.post(add_url, {"account_type": "private", "account_number": "86011117949"})
    assert wrong.status_code == 200
    assert str(INVALID_ACCOUNT_NUMBER % {"value": "86011117949"}) in wrong.content.decode()
    assert _state(person) == []

    added = client.post(add_url, {"account_type": "private", "account_number": "8601 11 17947"})
    assert added.status_code == 302
    account = BankAccount.objects.get(person=person)
    assert (account.account_number, account.owner_name) == (NORWEGIAN, "Åse Ødegård")

    edit_url = reverse("members:person-account-edit", args=[person.pk, account.pk])
    assert client.get(edit_url).status_code == 200
    edited = client.post(
        edit_url, {"account_type": "private", "iban": GERMAN_IBAN, "bic": "COBADEFF"}
    )
    assert edited.status_code == 302
    account.refresh_from_db()
    assert (account.account_number, account.iban, account.bic) == ("", GERMAN_IBAN, "COBADEFF")


def test_p09_htmx_set_default_and_delete_swap_the_list(world):
    person = world.player_a
    client = world.client("official_this_club")
    first = _account(world, account_number=NORWEGIAN)
    second = _account(world, account_type="fees", iban=GERMAN_IBAN)

    moved = client.post(
        reverse("members:person-account-default", args=[person.pk, second.pk]),
        HTTP_HX_REQUEST="true",
    )
    deleted = client.post(
        reverse("members:person-account-delete", args=[person.pk, first.pk]),
        HTTP_HX_REQUEST="true",
    )

    assert moved.status_code == deleted.status_code == 200
    assert 'id="account-list"' in deleted.content.decode()
    assert [(a.pk, a.is_default) for a in BankAccount.objects.filter(person=person)] == [
        (second.pk, True)
    ]


# ------------------------------------------------------------------ P-06: locks in the view


def test_p06_deceased_accounts_tab_offers_no_changes_and_the_view_refuses(world):
    account = _account(world, account_number=NORWEGIAN)
    fees = _account(world, account_type="fees", iban=GERMAN_IBAN)
    person = _deceased(world.player_a)
    client = world.client("official_this_club")
    before = _state(person)

    tab = client.get(reverse("members:person-accounts", args=[person.pk])).content.decode()
    add_form = client.get(reverse("members:person-account-add", args=[person.pk]))
    add = client.post(
        reverse("members:person-account-add", args=[person.pk]),
        {"account_type": "refunds", "account_number": OTHER_NORWEGIAN},
    )
    edit = client.post(
        reverse("members:person-account-edit", args=[person.pk, account.pk]),
        {"account_type": "private", "account_number": OTHER_NORWEGIAN},
    )
    delete = client.post(
        reverse("members:person-account-delete", args=[person.pk, account.pk]),
        HTTP_HX_REQUEST="true",
    )
    default = client.post(
        reverse("members:person-account-default", args=[person.pk, fees.pk]),
        HTTP_HX_REQUEST="true",
    )

    assert reverse("members:person-account-add", args=[person.pk]) not in tab
    assert "/edit/" not in tab and "/delete/" not in tab
    assert 'name="account_number"' not in add_form.content.decode()
    for response in (add_form, add, edit, delete, default):
        assert response.status_code == 200
        assert str(PERSON_IS_DECEASED) in response.content.decode()
    assert _state(person) == before


# ----------------------------------------------------------------------------- P-09: API


def test_p09_api_accounts_crud(world):
    person = world.player_a
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/bank-accounts/"

    created = _api(client, "post", base, {"account_number": "8601.11.17947"})
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": body["id"],
        "account_type": "private",
        "account_number": NORWEGIAN,
        "iban": "",
        "bic": "",
        "owner_name": "Åse Ødegård",
        "is_default": True,
    }
    fees = _api(client, "post", base, {"account_type": "fees", "iban": GERMAN_IBAN}).json()

    patched = _api(client, "patch", f"{base}{fees['id']}/", {"owner_name": "Kari Ødegård"})
    assert patched.json()["owner_name"] == "Kari Ødegård"
    default = _api(client, "post", f"{base}{fees['id']}/set-default/")
    assert default.json()["is_default"] is True
    assert client.delete(f"{base}{body['id']}/").status_code == 204
    assert [row["id"] for row in client.get(base).json()["results"]] == [fees["id"]]


def test_p09_api_errors_name_the_field_and_the_rule(world):
    person = world.player_a
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/bank-accounts/"
    _api(client, "post", base, {"account_number": NORWEGIAN})
    before = _state(person)

    checksum = _api(client, "post", base, {"account_type": "fees", "account_number": "86011117949"})
    taken = _api(client, "post", base, {"account_type": "private", "iban": GERMAN_IBAN})
    moved = _api(client, "post", base, {"account_type": "fees", "iban": GERMAN_IBAN, "person": 1})

    assert checksum.json() == {
        "account_number": [str(INVALID_ACCOUNT_NUMBER % {"value": "86011117949"})]
    }
    assert list(taken.json()) == ["account_type"]
    assert list(moved.json()) == ["person"]
    assert _state(person) == before


def test_p09_api_accounts_are_hidden_from_viewers(world):
    _account(world, account_number=NORWEGIAN)
    viewer = world.client("official_without_capability", Capability.PERSONS_EDIT)
    base = f"/api/v1/persons/{world.player_a.pk}/bank-accounts/"
    assert viewer.get(base).status_code == 404
    assert world.client("official_this_club").get(base).status_code == 200


def test_p09_api_account_list_query_count_is_constant(world):
    client = world.client("official_this_club")
    url = f"/api/v1/persons/{world.player_a.pk}/bank-accounts/"
    _account(world, account_number=NORWEGIAN)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    _account(world, account_type="fees", iban=GERMAN_IBAN)
    _account(world, account_type="refunds", account_number=OTHER_NORWEGIAN)
    assert count() == few


@pytest.mark.parametrize("operation", ["create", "update", "delete", "set_default"])
def test_p06_a_deceased_persons_accounts_are_locked_in_the_api(world, operation):
    _account(world, account_number=NORWEGIAN)
    fees = _account(world, account_type="fees", iban=GERMAN_IBAN)
    person = _deceased(world.player_a)
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/bank-accounts/"
    before = _state(person)

    response = {
        "create": lambda: _api(
            client, "post", base, {"account_type": "refunds", "account_number": OTHER_NORWEGIAN}
        ),
        "update": lambda: _api(client, "patch", f"{base}{fees.pk}/", {"owner_name": "X"}),
        "delete": lambda: client.delete(f"{base}{fees.pk}/"),
        "set_default": lambda: _api(client, "post", f"{base}{fees.pk}/set-default/"),
    }[operation]()

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [str(PERSON_IS_DECEASED)]}
    assert _state(person) == before
