"""The access matrix (STYLE 17) for the billing pages and endpoints (issue 5): anonymous, a
member, an official without the capability, an official with it in another club, one with it
in this club, federation staff. Denied means the status code AND no change in the database
(every billing view is a read: the state is the billing tables)."""

import pytest
from django.urls import reverse

from billing.models import ExemptionAgreement, FeeSchedule, InstalmentPlan
from clubadmin.capabilities import ALL_CAPABILITIES
from tests.access_matrix import API_DENIED, HTML_DENIED, Case, check_case, get
from tests.billing.factories import SEASON, build_example_club
from tests.conftest import ROLES, World
from tests.members.factories import FunctionFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]


def billing_state(world: World) -> object:
    return (
        sorted(FeeSchedule.objects.values_list("pk", "season", "updated_at")),
        sorted(ExemptionAgreement.objects.values_list("pk")),
        InstalmentPlan.objects.count(),
    )


def read_case(name, capability, url, allowed_status=200, denied=HTML_DENIED, anonymous=302):
    return Case(
        name=name,
        capability=capability,
        send=get(url),
        allowed_status=allowed_status,
        denied_statuses=denied,
        anonymous_status=anonymous,
        state=lambda world: None,
    )


def person_url(world: World) -> str:
    return reverse("billing:person-dues", args=[world.example["boy"].pk]) + f"?season={SEASON}"


CASES = [
    read_case("person dues page (members.manage)", "members.manage", person_url),
    read_case("person dues page (billing.manage)", "billing.manage", person_url),
    read_case(
        "family dues page",
        "members.manage",
        lambda w: (
            reverse("billing:family-dues", args=[w.example.families["hansen"].pk])
            + f"?season={SEASON}"
        ),
    ),
    read_case(
        "club dues page",
        "billing.manage",
        lambda w: reverse("billing:club-dues", args=[w.club_a.pk]) + f"?season={SEASON}",
    ),
    read_case(
        "team eligibility list",
        "persons.view",
        lambda w: reverse("billing:team-eligibility", args=[w.team_a.pk]) + f"?season={SEASON}",
    ),
    read_case(
        "dues-preview API",
        "members.manage",
        lambda w: f"/api/v1/persons/{w.example['boy'].pk}/dues-preview?season={SEASON}",
        denied=API_DENIED,
        anonymous=401,
    ),
]


@pytest.fixture
def example_world(world: World) -> World:
    """The preview is open to members.manage OR billing.manage: the official "without the
    capability" of those cases lacks both."""
    world.example = build_example_club(world)
    without_both = world.function_type(
        set(ALL_CAPABILITIES) - {"members.manage", "billing.manage"}, "test-without-billing"
    )
    for capability in ("members.manage", "billing.manage"):
        user = UserFactory(username=f"official_without_capability-{capability}")
        FunctionFactory(person=user.person, organisation=world.club_a, function_type=without_both)
        world.users[("official_without_capability", capability)] = user
    return world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(example_world, case, role):
    before = billing_state(example_world)

    check_case(example_world, case, role)

    assert billing_state(example_world) == before
