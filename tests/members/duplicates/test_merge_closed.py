"""P-14: a merged person's record is closed; changes go to the surviving person."""

import pytest
from django.core.exceptions import ValidationError

from members.models import ContactSet, Person
from members.services import contacts, persons
from members.services.persons import PERSON_IS_MERGED
from tests.members.factories import PersonFactory


@pytest.fixture
def merged(db) -> Person:
    survivor = PersonFactory(first_name="Kari", last_name="Nordmann")
    merged = PersonFactory(first_name="Kari", last_name="Nordman")
    Person.objects.filter(pk=merged.pk).update(merged_into=survivor)
    merged.refresh_from_db()
    return merged


def test_p14_a_merged_person_cannot_be_changed(merged):
    with pytest.raises(ValidationError) as raised:
        persons.person_update(actor=None, person=merged, first_name="Karin")

    assert raised.value.messages == [str(PERSON_IS_MERGED)]
    merged.refresh_from_db()
    assert merged.first_name == "Kari"


def test_p14_a_merged_person_gets_no_new_contact_data(merged):
    before = ContactSet.objects.filter(person=merged).count()

    with pytest.raises(ValidationError) as raised:
        contacts.contact_set_create(actor=None, person=merged, label="Jobb", email="k@example.org")

    assert raised.value.messages == [str(PERSON_IS_MERGED)]
    assert ContactSet.objects.filter(person=merged).count() == before
