"""factory_boy factories for memberships, families and guardians (issue 5, STYLE 16).

Rows are built directly, the way a test needs them; tests of the rules go through the
services (members.services.memberships)."""

import datetime

import factory

from members.models import (
    Family,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    PeriodKind,
)
from members.services.memberships import membership_types_create_defaults
from tests.members.factories import PersonFactory


class MembershipTypeFactory(factory.django.DjangoModelFactory):
    """A type of the given `club` (required)."""

    class Meta:
        model = MembershipType

    code = factory.Sequence(lambda n: f"type-{n}")
    name = factory.Sequence(lambda n: f"Medlemskap {n}")
    category = MembershipCategory.ORDINARY
    period_kind = PeriodKind.CALENDAR_YEAR
    is_active = True


class FamilyFactory(factory.django.DjangoModelFactory):
    """A family of the given `club` (required); add its memberships separately."""

    class Meta:
        model = Family
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Familie {n}")
    contact_person = factory.SubFactory(PersonFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    """An active membership in the given `club` (required), of a new ordinary type of that
    club unless `membership_type` is given."""

    class Meta:
        model = Membership
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    membership_type = factory.SubFactory(
        MembershipTypeFactory, club=factory.SelfAttribute("..club")
    )
    status = MembershipStatus.ACTIVE
    start_date = datetime.date(2024, 1, 1)
    end_date = None


class GuardianRelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuardianRelation

    guardian = factory.SubFactory(PersonFactory)
    child = factory.SubFactory(PersonFactory)


__all__ = [
    "FamilyFactory",
    "GuardianRelationFactory",
    "MembershipFactory",
    "MembershipTypeFactory",
    "default_types",
]


def default_types(club) -> dict[str, MembershipType]:  # type: ignore[no-untyped-def]
    """The club's default membership types by code (ordinary, junior, senior, family,
    pensioner, honorary), made by the service as production does."""
    return {t.code: t for t in membership_types_create_defaults(actor=None, club=club)}
