"""Contact sets (P-08), e-mail typo checks (M-03) and the P-06 lock of a deceased person's
contact information: rules, service, view and API."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubadmin.capabilities import Capability
from members import rules
from members.models import ContactSet, FunctionType, Person
from members.postcodes import postcode_place
from members.services import contacts as contact_services
from members.services.contacts import (
    CONTACT_SET_USED_BY_FUNCTIONS,
    EMAIL_LOOKS_MISTYPED,
    INVALID_PHONE,
    POSTCODE_FORMAT,
    POSTCODE_MISSING,
    POSTCODE_PLACE_MISMATCH,
    STANDARD_SET_CANNOT_BE_DELETED,
)
from members.services.persons import PERSON_IS_DECEASED
from tests.members.factories import ContactSetFactory, FunctionFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _contact_state(person: Person) -> list[tuple]:
    return sorted(
        ContactSet.objects.filter(person=person).values_list(
            "pk", "label", "is_standard", "street", "postcode", "city", "email", "mobile"
        )
    )


def _second_set(person: Person, **fields) -> ContactSet:
    return ContactSetFactory(person=person, **{"label": "Jobb", **fields})


def _deceased(person: Person) -> Person:
    Person.objects.filter(pk=person.pk).update(is_deceased=True, date_of_death=timezone.localdate())
    person.refresh_from_db()
    return person


def _api(client, method: str, url: str, data: dict | None = None):
    return getattr(client, method)(
        url, data=json.dumps(data or {}), content_type="application/json"
    )


# ----------------------------------------------------------------------------- M-03 rules


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("kari@online.bo", "kari@online.no"),
        ("kari@sagene-if.bo", "kari@sagene-if.no"),
        ("ola@gmail.con", "ola@gmail.com"),
        ("ola@gmail.cmo", "ola@gmail.com"),
        ("ola@lyse.nett", "ola@lyse.net"),
        ("ola@gmial.com", "ola@gmail.com"),
        ("ola@gmail.co", "ola@gmail.com"),
        ("ola@hotmial.com", "ola@hotmail.com"),
        ("ola@onlien.no", "ola@online.no"),
        ("ola@gmaill.com", "ola@gmail.com"),
        ("ola@gmial.con", "ola@gmail.com"),
        ("Ola.Nordmann@GMIAL.com", "Ola.Nordmann@gmail.com"),
    ],
)
def test_m03_likely_typos_get_a_suggestion(typed, meant):
    assert rules.email_typo_suggestion(typed) == meant


@pytest.mark.parametrize(
    "address",
    [
        "ola@gmail.com",
        "ola@online.no",
        "ola@uio.no",
        "ola@mail.com",
        "ola@me.com",
        "ola@example.org",
        "ola@sagene-if.no",
        "not-an-address",
    ],
)
def test_m03_plausible_addresses_get_no_suggestion(address):
    assert rules.email_typo_suggestion(address) is None


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("912 34 567", "+4791234567"),
        ("91234567", "+4791234567"),
        ("+47 22 12 34 56", "+4722123456"),
        ("0047 912 34 567", "+4791234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("12345", None),
        ("ring meg", None),
    ],
)
def test_p08_phone_numbers_are_normalised_to_e164(raw, e164):
    assert rules.normalise_phone(raw) == e164


def test_p08_norwegian_postcodes_have_four_digits():
    assert rules.postcode_error("0150", "NO", has_address=True) is None
    assert rules.postcode_error("", "NO", has_address=True) == "missing"
    assert rules.postcode_error("", "NO", has_address=False) is None
    assert rules.postcode_error("150", "NO", has_address=True) == "format"
    assert rules.postcode_error("01500", "NO", has_address=True) == "format"
    assert rules.postcode_error("111 22", "SE", has_address=True) is None


def test_p08_postcode_file_knows_the_demo_data_and_the_main_cities():
    assert postcode_place("0150") == "Oslo"
    assert postcode_place("5003") == "Bergen"
    assert postcode_place("7010") == "Trondheim"
    assert postcode_place("9008") == "Tromsø"
    assert postcode_place("0854") == "Oslo"  # the demo club's address
    assert postcode_place("9999") is None


# ----------------------------------------------------------------------- P-08: service


def test_p08_the_first_set_is_standard_the_next_ones_are_not(world):
    editor = world.user("official_this_club")
    person = PersonFactory(standard_contact=None)
    FunctionFactory(
        person=person,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="member"),
    )

    first = contact_services.contact_set_create(actor=editor, person=person, label="Privat")
    second = contact_services.contact_set_create(actor=editor, person=person, label="Jobb")

    assert (first.is_standard, second.is_standard) == (True, False)
    assert first.history.latest().history_user == editor


def test_p08_create_normalises_phones_and_fills_the_place_of_a_known_postcode(world):
    contact_set = contact_services.contact_set_create(
        actor=world.user("official_this_club"),
        person=world.player_a,
        label="Hytta",
        street="Storgata 1",
        postcode="0150",
        mobile="912 34 567",
        phone="22 12 34 56",
        email="Kari@Example.ORG",
        hide_phone=True,
    )
    contact_set.refresh_from_db()
    assert (
        contact_set.city,
        contact_set.country,
        contact_set.mobile,
        contact_set.phone,
        contact_set.email,
        contact_set.hide_phone,
        contact_set.is_standard,
    ) == ("Oslo", "NO", "+4791234567", "+4722123456", "Kari@example.org", True, False)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"mobile": "12345"}, {"mobile": [str(INVALID_PHONE % {"value": "12345"})]}),
        ({"fax": "fax me"}, {"fax": [str(INVALID_PHONE % {"value": "fax me"})]}),
        ({"street": "Storgata 1"}, {"postcode": [str(POSTCODE_MISSING)]}),
        ({"street": "Storgata 1", "postcode": "150"}, {"postcode": [str(POSTCODE_FORMAT)]}),
        (
            {"street": "Storgata 1", "postcode": "0150", "city": "Bergen"},
            {"city": [str(POSTCODE_PLACE_MISMATCH % {"postcode": "0150", "place": "Oslo"})]},
        ),
    ],
    ids=["mobile", "fax", "postcode-missing", "postcode-format", "postcode-place"],
)
def test_p08_invalid_contact_data_is_refused_with_the_field_named(world, fields, errors):
    person = world.player_a
    before = _contact_state(person)
    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_create(
            actor=world.user("official_this_club"), person=person, label="Ny", **fields
        )
    assert raised.value.message_dict == errors
    assert _contact_state(person) == before


def test_p08_known_postcode_accepts_the_place_in_any_case_and_unknown_ones_pass(world):
    editor = world.user("official_this_club")
    known = contact_services.contact_set_create(
        actor=editor, person=world.player_a, label="A", postcode="0150", city="OSLO"
    )
    unknown = contact_services.contact_set_create(
        actor=editor, person=world.player_a, label="B", postcode="9999", city="Testby"
    )
    foreign = contact_services.contact_set_create(
        actor=editor,
        person=world.player_a,
        label="C",
        postcode="111 22",
        city="Stockholm",
        country="se",
        street="Drottninggatan 1",
    )
    assert (known.city, unknown.city, foreign.country, foreign.postcode) == (
        "Oslo",
        "Testby",
        "SE",
        "111 22",
    )


def test_m03_a_likely_typo_must_be_confirmed(world):
    editor = world.user("official_this_club")
    person = world.player_a
    before = _contact_state(person)

    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_create(
            actor=editor, person=person, label="Ny", email="kari@online.bo"
        )

    [error] = raised.value.error_dict["email"]
    assert error.code == "email_typo"
    assert raised.value.message_dict["email"] == [
        str(EMAIL_LOOKS_MISTYPED % {"suggestion": "kari@online.no", "value": "kari@online.bo"})
    ]
    assert _contact_state(person) == before

    confirmed = contact_services.contact_set_create(
        actor=editor, person=person, label="Ny", email="kari@online.bo", confirm_email=True
    )
    assert confirmed.email == "kari@online.bo"
    # Saving the set again does not ask about the address it already has.
    contact_services.contact_set_update(actor=editor, contact_set=confirmed, label="Ny 2")
    confirmed.refresh_from_db()
    assert confirmed.label == "Ny 2"


def test_p08_invalid_email_is_refused(world):
    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_create(
            actor=world.user("official_this_club"), person=world.player_a, email="kari@"
        )
    assert raised.value.message_dict == {"email": [str(contact_services.INVALID_EMAIL)]}


def test_p08_update_changes_only_what_changed_and_records_who(world):
    editor = world.user("official_this_club")
    standard = world.player_a.contact_sets.get(is_standard=True)
    history_before = standard.history.count()

    contact_services.contact_set_update(
        actor=editor, contact_set=standard, mobile="+47 912 34 567", hide_email=True
    )
    contact_services.contact_set_update(
        actor=editor, contact_set=standard, mobile="91234567", hide_email=True
    )  # the same values: no new history row

    standard.refresh_from_db()
    assert (standard.mobile, standard.hide_email) == ("+4791234567", True)
    assert standard.history.count() == history_before + 1
    record = standard.history.latest()
    delta = record.diff_against(record.prev_record)
    assert sorted(delta.changed_fields) == ["hide_email", "mobile"]
    assert record.history_user == editor


def test_p08_a_set_never_moves_to_another_person(world):
    standard = world.player_a.contact_sets.get(is_standard=True)
    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_update(
            actor=world.user("official_this_club"),
            contact_set=standard,
            person=PersonFactory(),
            is_standard=False,
        )
    assert set(raised.value.message_dict) == {"person", "is_standard"}
    standard.refresh_from_db()
    assert (standard.person_id, standard.is_standard) == (world.player_a.pk, True)


def test_p08_the_standard_set_cannot_be_deleted(world):
    person = world.player_a
    before = _contact_state(person)
    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_delete(
            actor=world.user("official_this_club"),
            contact_set=person.contact_sets.get(is_standard=True),
        )
    assert raised.value.messages == [str(STANDARD_SET_CANNOT_BE_DELETED)]
    assert _contact_state(person) == before


def test_p08_a_set_used_by_a_function_cannot_be_deleted(world):
    person = world.player_a
    work = _second_set(person)
    FunctionFactory(
        person=person,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
        contact="contact_set",
        contact_set=work,
    )
    before = _contact_state(person)

    with pytest.raises(ValidationError) as raised:
        contact_services.contact_set_delete(
            actor=world.user("official_this_club"), contact_set=work
        )

    assert raised.value.code == "used_by_function"
    assert raised.value.messages == [
        str(CONTACT_SET_USED_BY_FUNCTIONS % {"functions": "Trener – Sagene IF G2015"})
    ]
    assert _contact_state(person) == before


def test_p08_delete_another_set_records_who_deleted_it(world):
    editor = world.user("official_this_club")
    work = _second_set(world.player_a)
    contact_services.contact_set_delete(actor=editor, contact_set=work)
    assert not ContactSet.objects.filter(pk=work.pk).exists()
    record = ContactSet.history.filter(id=work.pk).latest()
    assert (record.history_type, record.history_user) == ("-", editor)


def test_p08_set_standard_moves_the_flag(world):
    person = world.player_a
    old = person.contact_sets.get(is_standard=True)
    work = _second_set(person)

    contact_services.contact_set_set_standard(
        actor=world.user("official_this_club"), contact_set=work
    )

    assert list(person.contact_sets.filter(is_standard=True)) == [work]
    old.refresh_from_db()
    assert old.is_standard is False
    # ... and now the former standard set may be deleted.
    contact_services.contact_set_delete(actor=world.user("official_this_club"), contact_set=old)
    assert list(person.contact_sets.all()) == [work]


def test_p08_changing_contact_sets_needs_persons_edit(world):
    person = world.player_a
    work = _second_set(person)
    before = _contact_state(person)
    for actor in (
        world.user("member"),
        world.user("official_without_capability", Capability.PERSONS_EDIT),
        world.user("official_other_club"),
    ):
        with pytest.raises(PermissionDenied):
            contact_services.contact_set_create(actor=actor, person=person, label="X")
        with pytest.raises(PermissionDenied):
            contact_services.contact_set_update(actor=actor, contact_set=work, label="X")
        with pytest.raises(PermissionDenied):
            contact_services.contact_set_delete(actor=actor, contact_set=work)
        with pytest.raises(PermissionDenied):
            contact_services.contact_set_set_standard(actor=actor, contact_set=work)
    assert _contact_state(person) == before


# ------------------------------------------------------------ P-06: locks in the service


@pytest.mark.parametrize("operation", ["create", "update", "delete", "set_standard"])
def test_p06_a_deceased_persons_contact_sets_are_locked_in_the_service(world, operation):
    person = world.player_a
    work = _second_set(person)
    _deceased(person)
    before = _contact_state(person)
    editor = world.user("official_this_club")
    calls = {
        "create": lambda: contact_services.contact_set_create(
            actor=editor, person=person, label="X"
        ),
        "update": lambda: contact_services.contact_set_update(
            actor=editor, contact_set=work, street="Ny gate 2"
        ),
        "delete": lambda: contact_services.contact_set_delete(actor=editor, contact_set=work),
        "set_standard": lambda: contact_services.contact_set_set_standard(
            actor=editor, contact_set=work
        ),
    }

    with pytest.raises(ValidationError) as raised:
        calls[operation]()

    assert raised.value.code == "person_deceased"
    assert raised.value.messages == [str(PERSON_IS_DECEASED)]
    assert _contact_state(person) == before


# ---------------------------------------------------------------------------- P-08: view


def test_p08_contact_tab_lists_the_sets_with_the_standard_marked(world):
    person = world.player_a
    _second_set(person, email="jobb@example.org", hide_email=True)
    response = world.client("official_this_club").get(
        reverse("members:person-contacts", args=[person.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "jobb@example.org" in html
    assert html.index("Privat") < html.index("Jobb")  # the standard set first
    assert reverse("members:person-contact-add", args=[person.pk]) in html


def test_p08_contact_tab_query_count_does_not_grow_with_the_sets(world):
    person = world.player_a
    client = world.client("official_this_club")
    url = reverse("members:person-contacts", args=[person.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for number in range(10):
        work = _second_set(person, label=f"Sett {number}")
        FunctionFactory(
            person=person,
            organisation=world.team_a,
            function_type=FunctionType.objects.get(code="volunteer"),
            contact="contact_set",
            contact_set=work,
        )
    assert count() == few


def test_p08_add_a_contact_set_through_the_form(world):
    person = world.player_a
    client = world.client("official_this_club")
    url = reverse("members:person-contact-add", args=[person.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "label": "Jobb",
            "street": "Storgata 1",
            "postcode": "0150",
            "city": "",
            "country": "NO",
            "mobile": "912 34 567",
            "email": "kari@example.org",
        },
    )

    assert response.status_code == 302
    created = person.contact_sets.get(label="Jobb")
    assert (created.city, created.mobile, created.is_standard) == ("Oslo", "+4791234567", False)


def test_m03_form_shows_the_suggestion_and_saves_once_confirmed(world):
    person = world.player_a
    client = world.client("official_this_club")
    url = reverse("members:person-contact-add", args=[person.pk])
    data = {"label": "Jobb", "country": "NO", "email": "kari@gmial.com"}
    before = _contact_state(person)

    warned = client.post(url, data)

    assert warned.status_code == 200
    html = warned.content.decode()
    assert "kari@gmail.com" in html
    assert 'name="confirm_email"' in html
    assert _contact_state(person) == before

    saved = client.post(url, {**data, "confirm_email": "on"})
    assert saved.status_code == 302
    assert person.contact_sets.get(label="Jobb").email == "kari@gmial.com"


def test_p08_edit_form_shows_field_errors(world):
    person = world.player_a
    work = _second_set(person)
    client = world.client("official_this_club")
    url = reverse("members:person-contact-edit", args=[person.pk, work.pk])
    assert client.get(url).status_code == 200
    before = _contact_state(person)

    response = client.post(url, {"label": "Jobb", "country": "NO", "mobile": "123"})

    assert response.status_code == 200
    assert str(INVALID_PHONE % {"value": "123"}) in response.content.decode()
    assert _contact_state(person) == before


def test_p08_htmx_delete_and_set_standard_swap_the_list(world):
    person = world.player_a
    client = world.client("official_this_club")
    standard = person.contact_sets.get(is_standard=True)
    work = _second_set(person)

    refused = client.post(
        reverse("members:person-contact-delete", args=[person.pk, standard.pk]),
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 200
    assert str(STANDARD_SET_CANNOT_BE_DELETED) in refused.content.decode()
    assert 'id="contact-list"' in refused.content.decode()

    moved = client.post(
        reverse("members:person-contact-standard", args=[person.pk, work.pk]),
        HTTP_HX_REQUEST="true",
    )
    assert moved.status_code == 200
    work.refresh_from_db()
    assert work.is_standard is True

    deleted = client.post(
        reverse("members:person-contact-delete", args=[person.pk, standard.pk]),
        HTTP_HX_REQUEST="true",
    )
    assert deleted.status_code == 200
    assert list(person.contact_sets.all()) == [work]


def test_p08_a_set_of_another_person_is_not_found_under_this_person(world):
    other = PersonFactory()
    FunctionFactory(
        person=other,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="member"),
    )
    foreign_set = other.contact_sets.get()
    client = world.client("official_this_club")
    response = client.post(
        reverse("members:person-contact-edit", args=[world.player_a.pk, foreign_set.pk]),
        {"label": "Moved", "country": "NO"},
    )
    assert response.status_code == 404
    foreign_set.refresh_from_db()
    assert foreign_set.label == "Privat"


def test_p08_postcode_lookup_fills_the_place(world):
    client = world.client("official_this_club")
    url = reverse("members:postcode-place")
    known = client.get(url, {"postcode": "5003", "country": "NO", "city": ""})
    unknown = client.get(url, {"postcode": "9999", "country": "NO", "city": "Testby"})
    assert 'value="Bergen"' in known.content.decode()
    assert 'value="Testby"' in unknown.content.decode()


# ------------------------------------------------------------------ P-06: locks in the view


def test_p06_deceased_contact_tab_offers_no_changes(world):
    person = world.player_a
    _second_set(person)
    _deceased(person)
    html = (
        world.client("official_this_club")
        .get(reverse("members:person-contacts", args=[person.pk]))
        .content.decode()
    )
    assert reverse("members:person-contact-add", args=[person.pk]) not in html
    assert "/edit/" not in html and "/delete/" not in html and "/standard/" not in html


def test_p06_deceased_contact_forms_and_actions_are_refused_by_the_view(world):
    person = world.player_a
    work = _second_set(person)
    _deceased(person)
    client = world.client("official_this_club")
    before = _contact_state(person)

    add_form = client.get(reverse("members:person-contact-add", args=[person.pk]))
    add = client.post(
        reverse("members:person-contact-add", args=[person.pk]), {"label": "X", "country": "NO"}
    )
    edit = client.post(
        reverse("members:person-contact-edit", args=[person.pk, work.pk]),
        {"label": "X", "country": "NO"},
    )
    delete = client.post(
        reverse("members:person-contact-delete", args=[person.pk, work.pk]),
        HTTP_HX_REQUEST="true",
    )
    standard = client.post(
        reverse("members:person-contact-standard", args=[person.pk, work.pk]),
        HTTP_HX_REQUEST="true",
    )

    assert 'name="label"' not in add_form.content.decode()
    for response in (add_form, add, edit, delete, standard):
        assert response.status_code == 200
        assert str(PERSON_IS_DECEASED) in response.content.decode()
    assert _contact_state(person) == before


# ----------------------------------------------------------------------------- P-08: API


def test_p08_api_lists_creates_updates_and_deletes_contact_sets(world):
    person = world.player_a
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/contact-sets/"

    listed = client.get(base).json()
    assert [row["is_standard"] for row in listed["results"]] == [True]

    created = _api(client, "post", base, {"label": "Jobb", "mobile": "912 34 567"})
    assert created.status_code == 201
    body = created.json()
    assert (body["label"], body["mobile"], body["is_standard"]) == ("Jobb", "+4791234567", False)

    updated = _api(client, "patch", f"{base}{body['id']}/", {"postcode": "0150", "street": "X 1"})
    assert updated.status_code == 200
    assert updated.json()["city"] == "Oslo"

    standard = _api(client, "post", f"{base}{body['id']}/set-standard/")
    assert standard.status_code == 200 and standard.json()["is_standard"] is True

    old_standard = listed["results"][0]["id"]
    assert client.delete(f"{base}{old_standard}/").status_code == 204
    assert [row["id"] for row in client.get(base).json()["results"]] == [body["id"]]


def test_p08_api_errors_name_the_field_and_the_rule(world):
    person = world.player_a
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/contact-sets/"
    before = _contact_state(person)

    phone = _api(client, "post", base, {"label": "X", "mobile": "12"})
    typo = _api(client, "post", base, {"label": "X", "email": "ola@gmail.con"})
    standard_id = person.contact_sets.get(is_standard=True).pk
    delete_standard = client.delete(f"{base}{standard_id}/")

    assert phone.json() == {"mobile": [str(INVALID_PHONE % {"value": "12"})]}
    assert typo.json() == {
        "email": [
            str(EMAIL_LOOKS_MISTYPED % {"suggestion": "ola@gmail.com", "value": "ola@gmail.con"})
        ]
    }
    assert delete_standard.status_code == 400
    assert delete_standard.json() == {"non_field_errors": [str(STANDARD_SET_CANNOT_BE_DELETED)]}
    assert _contact_state(person) == before

    confirmed = _api(
        client, "post", base, {"label": "X", "email": "ola@gmail.con", "confirm_email": True}
    )
    assert confirmed.status_code == 201


def test_p08_api_never_moves_a_set_to_another_person(world):
    person = world.player_a
    other = PersonFactory()
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/contact-sets/"
    standard = person.contact_sets.get(is_standard=True)
    before = _contact_state(person), _contact_state(other)

    create = _api(client, "post", base, {"label": "X", "person": other.pk})
    patch = _api(client, "patch", f"{base}{standard.pk}/", {"person": other.pk})
    flag = _api(client, "patch", f"{base}{standard.pk}/", {"is_standard": False})

    for response in (create, patch):
        assert response.status_code == 400
        assert list(response.json()) == ["person"]
    assert list(flag.json()) == ["is_standard"]
    assert (_contact_state(person), _contact_state(other)) == before


def test_p08_api_contact_set_list_query_count_is_constant(world):
    person = world.player_a
    client = world.client("official_this_club")
    url = f"/api/v1/persons/{person.pk}/contact-sets/"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for number in range(10):
        _second_set(person, label=f"Sett {number}")
    assert count() == few


@pytest.mark.parametrize("operation", ["create", "update", "delete", "set_standard"])
def test_p06_a_deceased_persons_contact_sets_are_locked_in_the_api(world, operation):
    person = world.player_a
    work = _second_set(person)
    _deceased(person)
    client = world.client("official_this_club")
    base = f"/api/v1/persons/{person.pk}/contact-sets/"
    before = _contact_state(person)

    response = {
        "create": lambda: _api(client, "post", base, {"label": "X"}),
        "update": lambda: _api(client, "patch", f"{base}{work.pk}/", {"street": "Ny gate 2"}),
        "delete": lambda: client.delete(f"{base}{work.pk}/"),
        "set_standard": lambda: _api(client, "post", f"{base}{work.pk}/set-standard/"),
    }[operation]()

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [str(PERSON_IS_DECEASED)]}
    assert _contact_state(person) == before


def test_p08_api_a_set_of_another_person_is_not_found_under_this_person(world):
    other = PersonFactory()
    FunctionFactory(
        person=other,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="member"),
    )
    foreign_set = other.contact_sets.get()
    client = world.client("official_this_club")
    url = f"/api/v1/persons/{world.player_a.pk}/contact-sets/{foreign_set.pk}/"

    assert client.get(url).status_code == 404
    assert _api(client, "patch", url, {"label": "Moved"}).status_code == 404
    assert client.delete(url).status_code == 404
    foreign_set.refresh_from_db()
    assert foreign_set.label == "Privat"
