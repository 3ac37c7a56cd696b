"""The person card's general info (P-05), deceased status (P-06), the reservation against the
data wash (P-07, with the portal page) and the history tab: service, view and API."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from clubadmin.capabilities import Capability
from members import rules
from members.models import ContactSet, Person, SportsIdHistory
from members.services import contacts as contact_services
from members.services import persons as person_services
from members.services.persons import (
    DEATH_DATE_BEFORE_BIRTH,
    DEATH_DATE_IN_FUTURE,
    DEATH_DATE_MISSING,
    DECEASED_CHANGE_NEEDS_CONFIRMATION,
    IDENTITY_CHANGE_NEEDS_CONFIRMATION,
    PERSON_NOT_DECEASED,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"


TODAY = timezone.localdate


def _state(person: Person) -> tuple:
    person.refresh_from_db()
    return (
        person.first_name,
        person.last_name,
        person.gender,
        person.birth_date,
        person.sports_id,
        person.is_deceased,
        person.date_of_death,
        person.reserved_against_data_wash,
        SportsIdHistory.objects.filter(person=person).count(),
        person.history.count(),
    )


def _patch(client: Client, url: str, data: dict):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


def _post_json(client: Client, url: str, data: dict):
    return client.post(url, data=json.dumps(data), content_type="application/json")


# ----------------------------------------------------------------------- P-05: rules


def test_p05_identity_fields_are_name_gender_and_birth_date():
    assert rules.changes_identity({"last_name"}) is True
    assert rules.changes_identity({"gender", "reserved_against_data_wash"}) is True
    assert rules.changes_identity({"reserved_against_data_wash"}) is False


# ----------------------------------------------------------------------- P-05: service


def test_p05_identity_change_without_confirmation_is_refused_and_changes_nothing(world):
    editor = world.user("official_this_club")
    person = world.player_a
    before = _state(person)

    with pytest.raises(ValidationError) as raised:
        person_services.person_update(actor=editor, person=person, last_name="Ødegaard")

    [error] = raised.value.error_dict["confirm_identity_change"]
    assert error.code == "confirmation_required"
    assert error.message == IDENTITY_CHANGE_NEEDS_CONFIRMATION
    assert _state(person) == before


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": "Åsa"},
        {"middle_name": "Marie"},
        {"last_name": "Ødegaard"},
        {"gender": "female"},
        {"birth_date": datetime.date(1990, 2, 3)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_p05_confirmed_identity_change_issues_a_new_sports_id_and_keeps_the_old(world, change):
    editor = world.user("official_this_club")
    person = world.player_a
    old_id = person.sports_id

    updated = person_services.person_update(
        actor=editor, person=person, confirm_identity_change=True, **change
    )

    person.refresh_from_db()
    name, value = next(iter(change.items()))
    assert getattr(person, name) == value
    assert person.sports_id == updated.sports_id != old_id
    assert list(person.previous_sports_ids.values_list("sports_id", flat=True)) == [old_id]
    # The old id still finds the person (P-05).
    assert Person.objects.get(previous_sports_ids__sports_id=old_id) == person
    born = person.birth_date.strftime("%d%m%y")
    assert person.sports_id.startswith(born + {"female": "2", "male": "1"}.get(person.gender, "0"))
    record = person.history.latest()
    assert (record.history_user, record.sports_id) == (editor, person.sports_id)


def test_p05_an_unchanged_identity_needs_no_confirmation_and_keeps_the_sports_id(world):
    person = world.player_a
    old_id = person.sports_id
    history_before = person.history.count()

    person_services.person_update(
        actor=world.user("official_this_club"),
        person=person,
        first_name=person.first_name,
        last_name=f"  {person.last_name} ",
    )

    person.refresh_from_db()
    assert person.sports_id == old_id
    assert person.history.count() == history_before
    assert not SportsIdHistory.objects.filter(person=person).exists()


def test_p05_wrong_values_are_reported_before_the_confirmation(world):
    person = world.player_a
    before = _state(person)
    with pytest.raises(ValidationError) as raised:
        person_services.person_update(
            actor=world.user("official_this_club"), person=person, first_name=""
        )
    assert set(raised.value.error_dict) == {"first_name"}
    assert _state(person) == before


def test_p05_fields_outside_the_general_info_cannot_be_changed_here(world):
    person = world.player_a
    before = _state(person)
    with pytest.raises(ValidationError) as raised:
        person_services.person_update(
            actor=world.user("official_this_club"), person=person, sports_id="1", is_deceased=True
        )
    assert set(raised.value.error_dict) == {"is_deceased", "sports_id"}
    assert _state(person) == before


def test_p05_person_update_needs_persons_edit(world):
    viewer = world.user("official_without_capability", Capability.PERSONS_EDIT)
    person = world.player_a
    before = _state(person)
    for actor in (viewer, world.user("official_other_club"), world.user("member")):
        with pytest.raises(PermissionDenied):
            person_services.person_update(
                actor=actor, person=person, last_name="X", confirm_identity_change=True
            )
    assert _state(person) == before


# -------------------------------------------------------------------------- P-05: view


def test_p05_view_asks_for_confirmation_then_saves_with_a_new_sports_id(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = reverse("members:person-edit", args=[person.pk])
    data = {"first_name": "Åse", "last_name": "Ødegaard", "gender": "unknown", "birth_date": ""}
    data["birth_date"] = person.birth_date.isoformat()
    before = _state(person)

    first = client.post(url, data)

    assert first.status_code == 200
    html = first.content.decode()
    assert 'name="confirm_identity_change"' in html
    assert str(IDENTITY_CHANGE_NEEDS_CONFIRMATION) in html
    assert person.sports_id in html  # "the current id ... is kept as a previous id"
    assert _state(person) == before

    second = client.post(url, {**data, "confirm_identity_change": "on"})

    assert second.status_code == 302
    assert second.url == reverse("members:person-detail", args=[person.pk])
    old_id = before[4]
    person.refresh_from_db()
    assert person.last_name == "Ødegaard" and person.sports_id != old_id
    page = client.get(second.url).content.decode()
    assert old_id in page and person.sports_id in page


def test_p05_htmx_edit_swaps_the_form_and_redirects_the_page_when_saved(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = reverse("members:person-edit", args=[person.pk])
    data = {
        "first_name": "Åse",
        "last_name": "Ødegaard",
        "gender": "unknown",
        "birth_date": person.birth_date.isoformat(),
    }

    asked = client.post(url, data, HTTP_HX_REQUEST="true")
    saved = client.post(url, {**data, "confirm_identity_change": "on"}, HTTP_HX_REQUEST="true")

    assert asked.status_code == 200
    assert 'id="person-edit"' in asked.content.decode()
    assert saved.status_code == 200
    assert saved.headers["HX-Redirect"] == reverse("members:person-detail", args=[person.pk])


def test_p05_general_tab_shows_the_data_and_the_forms_only_to_editors(world):
    person = world.player_a
    url = reverse("members:person-detail", args=[person.pk])
    editor_page = world.client("official_this_club").get(url)
    viewer_page = world.client("official_without_capability", Capability.PERSONS_EDIT).get(url)

    assert editor_page.status_code == viewer_page.status_code == 200
    for page in (editor_page, viewer_page):
        html = page.content.decode()
        assert "Ødegård" in html and person.sports_id in html
        assert "Content-Security-Policy" in page.headers
        assert "<script>" not in html and "style=" not in html
    assert reverse("members:person-edit", args=[person.pk]) in editor_page.content.decode()
    assert reverse("members:person-edit", args=[person.pk]) not in viewer_page.content.decode()


# --------------------------------------------------------------------------- P-05: API


def test_p05_api_identity_change_needs_confirm_identity_change(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = f"/api/v1/persons/{person.pk}/"
    before = _state(person)

    refused = _patch(client, url, {"last_name": "Ødegaard"})

    assert refused.status_code == 400
    assert refused.json() == {"confirm_identity_change": [str(IDENTITY_CHANGE_NEEDS_CONFIRMATION)]}
    assert _state(person) == before

    accepted = _patch(client, url, {"last_name": "Ødegaard", "confirm_identity_change": True})

    assert accepted.status_code == 200
    body = accepted.json()
    assert body["last_name"] == "Ødegaard"
    assert body["sports_id"] != before[4]
    assert body["previous_sports_ids"] == [before[4]]


def test_p05_api_rejects_fields_set_elsewhere(world):
    client = world.client("official_this_club")
    person = world.player_a
    before = _state(person)
    response = _patch(
        client, f"/api/v1/persons/{person.pk}/", {"sports_id": "1", "is_deceased": True}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"sports_id", "is_deceased"}
    assert _state(person) == before


def test_api_person_retrieve(world):
    person = world.player_a
    body = world.client("official_this_club").get(f"/api/v1/persons/{person.pk}/").json()
    assert body == {
        "id": person.pk,
        "first_name": "Åse",
        "middle_name": "",
        "last_name": "Ødegård",
        "full_name": "Åse Ødegård",
        "gender": "unknown",
        "birth_date": person.birth_date.isoformat(),
        "sports_id": person.sports_id,
        "previous_sports_ids": [],
        "is_deceased": False,
        "date_of_death": None,
        "reserved_against_data_wash": False,
    }


# ----------------------------------------------------------------------- P-06: service


def test_p06_rules_for_the_date_of_death():
    born = datetime.date(1950, 5, 1)
    today = datetime.date(2026, 11, 22)
    assert rules.death_date_error(datetime.date(2026, 11, 22), born, today) is None
    assert rules.death_date_error(datetime.date(2026, 11, 23), born, today) == "future"
    assert rules.death_date_error(datetime.date(1950, 4, 30), born, today) == "before_birth"
    assert rules.death_date_error(None, born, today) == "missing"


@pytest.mark.parametrize(
    ("date_of_death", "message"),
    [
        (lambda person: TODAY() + datetime.timedelta(days=1), DEATH_DATE_IN_FUTURE),
        (lambda person: person.birth_date - datetime.timedelta(days=1), DEATH_DATE_BEFORE_BIRTH),
        (lambda person: None, DEATH_DATE_MISSING),
    ],
    ids=["future", "before-birth", "missing"],
)
def test_p06_wrong_date_of_death_is_refused(world, date_of_death, message):
    person = world.player_a
    before = _state(person)
    with pytest.raises(ValidationError) as raised:
        person_services.person_set_deceased(
            actor=world.user("official_this_club"),
            person=person,
            date_of_death=date_of_death(person),
            confirm=True,
        )
    assert raised.value.message_dict == {"date_of_death": [str(message)]}
    assert _state(person) == before


def test_p06_marking_deceased_needs_confirmation(world):
    editor = world.user("official_this_club")
    person = world.player_a
    before = _state(person)

    with pytest.raises(ValidationError) as raised:
        person_services.person_set_deceased(
            actor=editor, person=person, date_of_death=TODAY(), confirm=False
        )
    assert raised.value.error_dict["confirm"][0].code == "confirmation_required"
    assert _state(person) == before

    person_services.person_set_deceased(
        actor=editor, person=person, date_of_death=TODAY(), confirm=True
    )
    person.refresh_from_db()
    assert (person.is_deceased, person.date_of_death) == (True, TODAY())
    assert person.history.latest().history_user == editor


def test_p06_clearing_deceased_needs_confirmation(world):
    editor = world.user("official_this_club")
    person = world.player_a
    person_services.person_set_deceased(
        actor=editor, person=person, date_of_death=TODAY(), confirm=True
    )
    before = _state(person)

    with pytest.raises(ValidationError) as raised:
        person_services.person_clear_deceased(actor=editor, person=person, confirm=False)
    assert raised.value.message_dict == {"confirm": [str(DECEASED_CHANGE_NEEDS_CONFIRMATION)]}
    assert _state(person) == before

    person_services.person_clear_deceased(actor=editor, person=person, confirm=True)
    person.refresh_from_db()
    assert (person.is_deceased, person.date_of_death) == (False, None)


def test_p06_clearing_a_living_person_is_refused(world):
    with pytest.raises(ValidationError) as raised:
        person_services.person_clear_deceased(
            actor=world.user("official_this_club"), person=world.player_a, confirm=True
        )
    assert raised.value.messages == [str(PERSON_NOT_DECEASED)]


def test_p06_deceased_status_needs_persons_edit(world):
    person = world.player_a
    before = _state(person)
    with pytest.raises(PermissionDenied):
        person_services.person_set_deceased(
            actor=world.user("official_without_capability", Capability.PERSONS_EDIT),
            person=person,
            date_of_death=TODAY(),
            confirm=True,
        )
    assert _state(person) == before


def test_p06_ensure_not_deceased_is_the_shared_guard(world):
    person = world.player_a
    person_services.ensure_not_deceased(person)  # alive: passes
    Person.objects.filter(pk=person.pk).update(is_deceased=True, date_of_death=TODAY())
    person.refresh_from_db()
    with pytest.raises(ValidationError) as raised:
        person_services.ensure_not_deceased(person)
    assert raised.value.code == "person_deceased"
    assert raised.value.message == person_services.PERSON_IS_DECEASED


# -------------------------------------------------------------------------- P-06: view


def test_p06_view_marks_deceased_only_when_confirmed(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = reverse("members:person-deceased", args=[person.pk])
    before = _state(person)

    unconfirmed = client.post(url, {"date_of_death": TODAY().isoformat()})

    assert unconfirmed.status_code == 200
    assert str(DECEASED_CHANGE_NEEDS_CONFIRMATION) in unconfirmed.content.decode()
    assert _state(person) == before

    future = client.post(
        url,
        {"date_of_death": (TODAY() + datetime.timedelta(days=3)).isoformat(), "confirm": "on"},
    )
    assert str(DEATH_DATE_IN_FUTURE) in future.content.decode()
    assert _state(person) == before

    confirmed = client.post(url, {"date_of_death": TODAY().isoformat(), "confirm": "on"})

    assert confirmed.status_code == 302
    person.refresh_from_db()
    assert (person.is_deceased, person.date_of_death) == (True, TODAY())

    cleared = client.post(url, {"action": "clear", "confirm": "on"})
    assert cleared.status_code == 302
    person.refresh_from_db()
    assert person.is_deceased is False


# --------------------------------------------------------------------------- P-06: API


def test_p06_api_deceased_action(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = f"/api/v1/persons/{person.pk}/deceased/"
    before = _state(person)

    refused = _post_json(client, url, {"date_of_death": TODAY().isoformat()})
    assert refused.status_code == 400
    assert refused.json() == {"confirm": [str(DECEASED_CHANGE_NEEDS_CONFIRMATION)]}
    future = _post_json(
        client,
        url,
        {"date_of_death": (TODAY() + datetime.timedelta(days=1)).isoformat(), "confirm": True},
    )
    assert future.json() == {"date_of_death": [str(DEATH_DATE_IN_FUTURE)]}
    assert _state(person) == before

    marked = _post_json(client, url, {"date_of_death": TODAY().isoformat(), "confirm": True})
    assert marked.status_code == 200
    assert (marked.json()["is_deceased"], marked.json()["date_of_death"]) == (
        True,
        TODAY().isoformat(),
    )

    not_confirmed = client.delete(url)
    assert not_confirmed.status_code == 400
    cleared = client.delete(url + "?confirm=true")
    assert cleared.status_code == 200
    assert cleared.json()["is_deceased"] is False


def test_p06_api_clear_by_post(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = f"/api/v1/persons/{person.pk}/deceased/"
    _post_json(client, url, {"date_of_death": TODAY().isoformat(), "confirm": True})
    response = _post_json(client, url, {"is_deceased": False, "confirm": True})
    assert response.status_code == 200
    assert (response.json()["is_deceased"], response.json()["date_of_death"]) == (False, None)


# ------------------------------------------------------------------- P-07: reservation


def test_p07_reservation_by_an_editor_and_by_the_person_themself(world):
    person = world.player_a
    person_services.person_set_reservation(
        actor=world.user("official_this_club"), person=person, reserved=True
    )
    person.refresh_from_db()
    assert person.reserved_against_data_wash is True

    member = world.user("member")
    person_services.person_set_reservation(actor=member, person=member.person, reserved=True)
    member.person.refresh_from_db()
    assert member.person.reserved_against_data_wash is True


def test_p07_nobody_else_may_reserve_a_person(world):
    person = world.player_a
    for actor in (
        world.user("member"),
        world.user("official_without_capability", Capability.PERSONS_EDIT),
        world.user("official_other_club"),
    ):
        with pytest.raises(PermissionDenied):
            person_services.person_set_reservation(actor=actor, person=person, reserved=True)
    person.refresh_from_db()
    assert person.reserved_against_data_wash is False


def test_p07_reservation_flag_on_the_person_card(world):
    client = world.client("official_this_club")
    person = world.player_a
    url = reverse("members:person-reservation", args=[person.pk])

    assert client.post(url, {"reserved": "on"}).status_code == 302
    person.refresh_from_db()
    assert person.reserved_against_data_wash is True
    assert client.post(url, {}).status_code == 302
    person.refresh_from_db()
    assert person.reserved_against_data_wash is False


def test_p07_portal_page_shows_the_own_person_and_saves_the_reservation(world):
    member = world.user("member")
    client = world.client("member")
    url = reverse("members:portal-me")

    page = client.get(url)
    assert page.status_code == 200
    assert member.person.full_name in page.content.decode()
    assert 'name="reserved"' in page.content.decode()

    assert client.post(url, {"reserved": "on"}).status_code == 302
    member.person.refresh_from_db()
    assert member.person.reserved_against_data_wash is True
    world.player_a.refresh_from_db()
    assert world.player_a.reserved_against_data_wash is False


def test_p07_portal_page_needs_a_login(world):
    response = Client().post(reverse("members:portal-me"), {"reserved": "on"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Person.objects.filter(reserved_against_data_wash=True).exists()


def test_p07_api_reservation_action(world):
    person = world.player_a
    response = _post_json(
        world.client("official_this_club"),
        f"/api/v1/persons/{person.pk}/reservation/",
        {"reserved": True},
    )
    assert response.status_code == 200
    assert response.json()["reserved_against_data_wash"] is True
    missing = _post_json(
        world.client("official_this_club"), f"/api/v1/persons/{person.pk}/reservation/", {}
    )
    assert missing.status_code == 400
    assert set(missing.json()) == {"reserved"}


# ------------------------------------------------------------------------ history tab


def _label(model, name: str) -> str:
    """A field's label as the history shows it (in the language of the last request)."""
    return str(capfirst(model._meta.get_field(name).verbose_name))


def _make_changes(world, count: int) -> None:
    editor = world.user("official_this_club")
    person = world.player_a
    standard = person.contact_sets.get(is_standard=True)
    for number in range(count):
        person_services.person_set_reservation(
            actor=editor, person=person, reserved=number % 2 == 0
        )
        contact_services.contact_set_update(
            actor=editor, contact_set=standard, street=f"Gate {number}"
        )


def test_history_shows_who_when_and_from_what_to_what_newest_first(world):
    editor = world.user("official_this_club")
    person = world.player_a
    standard = person.contact_sets.get(is_standard=True)
    old_street = standard.street
    contact_services.contact_set_update(actor=editor, contact_set=standard, street="Nygata 1")
    person_services.person_update(
        actor=editor, person=person, last_name="Ødegaard", confirm_identity_change=True
    )

    page = world.client("official_this_club").get(
        reverse("members:person-history", args=[person.pk])
    )

    assert page.status_code == 200
    entries = page.context["page"].object_list
    assert [(entry.subject, entry.action) for entry in entries[:2]] == [
        ("Person", "changed"),
        ("Contact set “Privat”", "changed"),
    ]
    newest = entries[0]
    assert newest.who == editor.person.full_name
    assert {(change.label, change.old, change.new) for change in newest.changes} >= {
        (_label(Person, "last_name"), "Ødegård", "Ødegaard")
    }
    assert [(c.label, c.old, c.new) for c in entries[1].changes] == [
        (_label(ContactSet, "street"), old_street, "Nygata 1")
    ]
    html = page.content.decode()
    assert "Nygata 1" in html and "Ødegaard" in html


def test_history_shows_bank_accounts_only_to_those_who_may_see_them(world):
    from members.services import accounts as account_services

    account_services.account_create(
        actor=world.user("official_this_club"), person=world.player_a, account_number="86011117947"
    )
    url = reverse("members:person-history", args=[world.player_a.pk])

    editor = world.client("official_this_club").get(url).context["page"].object_list
    viewer = (
        world.client("official_without_capability", Capability.PERSONS_EDIT)
        .get(url)
        .context["page"]
        .object_list
    )

    assert any(entry.subject.startswith("Bank account") for entry in editor)
    assert not any(entry.subject.startswith("Bank account") for entry in viewer)


def test_history_is_paginated_and_htmx_gets_the_list_alone(world):
    _make_changes(world, 15)  # 30 changes after the 2 creations (person, standard set)
    client = world.client("official_this_club")
    url = reverse("members:person-history", args=[world.player_a.pk])

    first = client.get(url)
    second = client.get(url + "?page=2", HTTP_HX_REQUEST="true")

    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.count == 32
    assert second.status_code == 200
    assert len(second.context["page"].object_list) == 7
    assert [entry.action for entry in second.context["page"].object_list][-2:] == [
        "created",
        "created",
    ]
    assert '<nav class="tabs"' not in second.content.decode()


def test_history_query_count_does_not_grow_with_the_records(world):
    client = world.client("official_this_club")
    url = reverse("members:person-history", args=[world.player_a.pk])
    _make_changes(world, 2)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    _make_changes(world, 20)
    assert count() == few


def test_history_of_rows_imported_without_history_says_the_earlier_values_are_unknown(world):
    """Rows bulk-loaded without history records (seed_demo's COPY, an import): the first
    recorded change cannot show what it changed from, and says so."""
    person = world.player_a
    person.history.all().delete()
    person_services.person_set_reservation(
        actor=world.user("official_this_club"), person=person, reserved=True
    )

    entries = (
        world.client("official_this_club")
        .get(reverse("members:person-history", args=[person.pk]))
        .context["page"]
        .object_list
    )

    first_person_entry = next(entry for entry in entries if entry.subject == "Person")
    assert (first_person_entry.action, first_person_entry.earlier_unknown) == ("changed", True)
    assert first_person_entry.changes == []
