"""Factories for licences (P-12), competences (P-13) and transfers (P-15)."""

import datetime

import factory
from djmoney.money import Money

from members.models import (
    Competence,
    CompetenceType,
    FunctionType,
    LicencePeriod,
    LicenceType,
)
from tests.members.factories import FunctionFactory, FunctionTypeFactory, UserFactory


def licensed_player_type() -> FunctionType:
    """The licensed player function type of data migration 0006 (P-15); created here when a
    transactional test elsewhere flushed the tables."""
    function_type, _ = FunctionType.objects.get_or_create(
        code="licensed-player",
        defaults={
            "number": 17,
            "name": "Lisensspiller",
            "organisation_types": ["club", "group"],
            "is_licensed": True,
        },
    )
    return function_type


class LicencePeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicencePeriod

    name = factory.Sequence(lambda n: f"Fotball {2026 + n}")
    sport = "Fotball"
    valid_from = datetime.date(2026, 1, 1)
    valid_to = datetime.date(2026, 12, 31)
    is_active = True


class LicenceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenceType

    period = factory.SubFactory(LicencePeriodFactory)
    code = factory.Sequence(lambda n: f"licence-{n}")
    name = factory.Sequence(lambda n: f"Spillerlisens {n}")
    function_type = factory.LazyFunction(licensed_player_type)
    price = Money("450.00", "NOK")
    is_active = True


class CompetenceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompetenceType

    code = factory.Sequence(lambda n: f"competence-{n}")
    name = factory.Sequence(lambda n: f"Kompetanse {n}")


class CompetenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competence

    competence_type = factory.SubFactory(CompetenceTypeFactory)
    valid_from = datetime.date(2024, 1, 1)
    comment = ""


def official(organisation, *capabilities):  # type: ignore[no-untyped-def]
    """A user whose function in `organisation` grants exactly `capabilities`."""
    user = UserFactory()
    FunctionFactory(
        person=user.person,
        organisation=organisation,
        function_type=FunctionTypeFactory(capabilities=sorted(capabilities)),
    )
    return user


def mark_deceased(person, date_of_death=datetime.date(2025, 3, 1)):  # type: ignore[no-untyped-def]
    """P-06: straight in the database, so that the tests do not depend on the person card's
    service for it."""
    type(person).objects.filter(pk=person.pk).update(is_deceased=True, date_of_death=date_of_death)
    person.refresh_from_db()
    return person
