"""The example club of issue 5 (tests.billing.factories) as the invoicing tests' register."""

import pytest

from tests.billing.factories import ExampleClub, build_example_club


@pytest.fixture
def club(world) -> ExampleClub:
    return build_example_club(world)
