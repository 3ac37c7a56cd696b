"""factory_boy factories for the members app (STYLE 16)."""

import datetime
import itertools

import factory

from members import services
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Organisation,
    OrganisationType,
    Person,
    User,
)

_org_numbers = itertools.count(1)


def valid_organisation_number(seed: int) -> str:
    """S-04: 8 digits + MOD11 check digit (weights 3,2,7,6,5,4,3,2), skipping r=1."""
    base = 91000000 + seed
    while True:
        digits = [int(d) for d in f"{base:08d}"]
        total = sum(w * d for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), digits, strict=True))
        remainder = total % 11
        if remainder != 1:
            return f"{base:08d}{(11 - remainder) % 11}"
        base += 1


def make_organisation(
    name: str, organisation_type: str, parent: Organisation | None = None, **fields: object
) -> Organisation:
    """Organisations are tree nodes: created through the service like production does."""
    return services.organisation_create(
        actor=None, parent=parent, name=name, organisation_type=organisation_type, **fields
    )


class PersonFactory(factory.django.DjangoModelFactory):
    """A person with a standard contact set (P-08), as person_create makes them."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    first_name = factory.Iterator(["Kari", "Ola", "Åse", "Bjørn", "Sølvi", "Håkon"])
    last_name = factory.Iterator(["Nordmann", "Ødegård", "Sæther", "Bjørnstad"])
    gender = "unknown"
    # Adults born 1980-2004, whatever the number of persons a session makes (an ever-growing
    # date reached the future once the suite made 17,000 persons).
    birth_date = factory.Sequence(
        lambda n: datetime.date(1980, 1, 1) + datetime.timedelta(days=n % 9000)
    )
    sports_id = factory.Sequence(lambda n: f"9{n:013d}")
    standard_contact = factory.RelatedFactory(
        "tests.members.factories.ContactSetFactory",
        factory_related_name="person",
        is_standard=True,
    )


class ContactSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactSet

    person = factory.SubFactory(PersonFactory, standard_contact=None)
    label = "Privat"
    is_standard = False
    street = factory.Sequence(lambda n: f"Testveien {n}")
    postcode = "0150"
    city = "Oslo"
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    mobile = factory.Sequence(lambda n: f"+4790{n:06d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    person = factory.SubFactory(PersonFactory)
    password = factory.django.Password("pw-for-tests-only")


class FunctionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunctionType

    number = factory.Sequence(lambda n: 1000 + n)
    code = factory.Sequence(lambda n: f"test-type-{n}")
    name = factory.Sequence(lambda n: f"Test type {n}")
    capabilities = factory.LazyFunction(list)
    organisation_types = factory.LazyFunction(list)


class FunctionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Function

    person = factory.SubFactory(PersonFactory)
    function_type = factory.SubFactory(FunctionTypeFactory)
    from_date = datetime.date(2020, 1, 1)
    to_date = None


__all__ = [
    "ContactSetFactory",
    "FunctionFactory",
    "FunctionTypeFactory",
    "OrganisationType",
    "PersonFactory",
    "UserFactory",
    "make_organisation",
    "valid_organisation_number",
]
