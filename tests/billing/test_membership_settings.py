"""Configuration instead of constants (issue 5): the family size limit (D-01, M-11) and the
membership fee's due date (D-02) come from the club's fee schedule, through the interface
billing registers with members (members.club_settings); without a schedule the example
club's values apply (7 members, 1 March)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing import services
from billing.models import FeeSchedule
from members import club_settings, membership_rules
from members.services import memberships as membership_services
from tests.members.factories import PersonFactory
from tests.members.factories_memberships import FamilyFactory, MembershipFactory, default_types

pytestmark = pytest.mark.django_db


def this_year() -> int:
    return timezone.localdate().year  # the services use today's season


def test_d01_d02_without_a_schedule_the_example_values(world):
    settings = club_settings.for_club(world.club_a, this_year())

    assert settings == club_settings.MembershipSettings(
        family_member_limit=membership_rules.FAMILY_MEMBER_LIMIT, fee_due_month=3, fee_due_day=1
    )


def test_d01_d02_the_schedule_of_the_season_or_the_latest_before_it(world):
    schedule = services.fee_schedule_create_from_example(
        actor=None, club=world.club_a, season=this_year()
    )
    FeeSchedule.objects.filter(pk=schedule.pk).update(
        family_max_members=3, membership_due_date=datetime.date(this_year(), 4, 15)
    )

    for season in (this_year(), this_year() + 2):
        assert club_settings.for_club(world.club_a, season) == club_settings.MembershipSettings(
            family_member_limit=3, fee_due_month=4, fee_due_day=15
        )
    assert club_settings.for_club(world.club_a, this_year() - 1) == club_settings.DEFAULTS
    assert club_settings.for_club(world.club_b, this_year()) == club_settings.DEFAULTS


def test_d01_the_family_limit_of_the_schedule_is_enforced(world):
    schedule = services.fee_schedule_create_from_example(
        actor=None, club=world.club_a, season=this_year()
    )
    FeeSchedule.objects.filter(pk=schedule.pk).update(
        family_max_members=2, family_fee=Money(100, "NOK")
    )
    types = default_types(world.club_a)
    family = FamilyFactory(club=world.club_a)
    for _ in range(2):
        MembershipFactory(
            person=PersonFactory(),
            club=world.club_a,
            membership_type=types["family"],
            family=family,
        )
    newcomer = PersonFactory()

    with pytest.raises(ValidationError) as error:
        membership_services.family_add_member(
            actor=None, family=family, membership_type=types["family"], person=newcomer
        )

    assert error.value.message_dict["family"] == [membership_services.FAMILY_FULL % {"limit": 2}]
    assert not newcomer.memberships.exists()


@pytest.mark.urls("tests.billing.urls")
def test_d02_a_paid_year_is_valid_until_next_seasons_due_date(world):
    next_season = services.fee_schedule_create_from_example(
        actor=None, club=world.club_a, season=this_year() + 1
    )
    FeeSchedule.objects.filter(pk=next_season.pk).update(
        membership_due_date=datetime.date(this_year() + 1, 4, 15)
    )
    types = default_types(world.club_a)
    membership = MembershipFactory(
        person=PersonFactory(),
        club=world.club_a,
        membership_type=types["ordinary"],
        start_date=datetime.date(this_year(), 1, 1),
    )
    client = world.client("official_this_club", "members.manage")

    response = client.get(reverse("members:membership-detail", args=[membership.pk]))

    assert response.status_code == 200
    assert response.context["period"].end == datetime.date(this_year() + 1, 4, 15)
