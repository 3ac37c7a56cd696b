"""Shared helpers of the billing page tests (fee schedules and agreements, issue 5)."""

import datetime

from django.test import Client

from billing.models import (
    ActivityGroup,
    CohortFee,
    ExemptionAgreement,
    FeeSchedule,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from members.models import FunctionType, User
from tests.conftest import World
from tests.members.factories import FunctionFactory, UserFactory


def english(client: Client) -> Client:
    """Read the page in English (the pages follow the user's language)."""
    client.cookies["django_language"] = "en"
    return client


def manager(world: World) -> Client:
    """billing.manage (and everything else) in club A; not its general manager."""
    return english(world.client("official_this_club", "billing.manage"))


def general_manager(world: World) -> tuple[User, Client]:
    """The club's general manager (D-11), who holds billing.manage through the function."""
    user = UserFactory(username="general-manager")
    FunctionFactory(
        person=user.person,
        organisation=world.club_a,
        function_type=FunctionType.objects.get(code="general-manager"),
        from_date=datetime.date(2020, 1, 1),
    )
    client = Client()
    client.force_login(user)
    return user, english(client)


def billing_state(world: World | None = None) -> object:
    """Every billing row the pages write, to assert that nothing changed."""
    return (
        sorted(
            FeeSchedule.objects.values_list(
                "pk",
                "season",
                "updated_at",
                "membership_minimum",
                "family_fee",
                "family_max_members",
                "membership_prices",
                "rules",
            )
        ),
        sorted(ActivityGroup.objects.values_list("pk", "code", "name", "season_end")),
        sorted(CohortFee.objects.values_list("pk", "birth_year_from", "birth_year_to", "amount")),
        sorted(ExemptionAgreement.objects.values_list("pk", "kind", "rule_id", "percent")),
        sorted(VolunteerContract.objects.values_list("pk", "signed_on", "valid_until")),
        sorted(VolunteerHours.objects.values_list("pk", "hours")),
        sorted(TrialPeriod.objects.values_list("pk", "start_date", "former_club_agreed")),
        sorted(PaymentPreference.objects.values_list("pk", "method")),
    )
