"""factory_boy factories for the members app (STYLE 16)."""

import datetime
import itertools

import factory

from members import services
from members.models import Function, FunctionType, Organisation, OrganisationType, Person, User

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
    class Meta:
        model = Person

    first_name = factory.Iterator(["Kari", "Ola", "Åse", "Bjørn", "Sølvi", "Håkon"])
    last_name = factory.Iterator(["Nordmann", "Ødegård", "Sæther", "Bjørnstad"])
    gender = "unknown"
    birth_date = factory.Sequence(lambda n: datetime.date(1980, 1, 1) + datetime.timedelta(days=n))
    email = factory.Sequence(lambda n: f"person{n}@example.org")


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
    "FunctionFactory",
    "FunctionTypeFactory",
    "OrganisationType",
    "PersonFactory",
    "UserFactory",
    "make_organisation",
    "valid_organisation_number",
]
