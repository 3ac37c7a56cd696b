"""Eligibility (D-04, D-06): the pure rule, and the team list for the team leader."""

import datetime

import pytest
from django.urls import reverse

from billing.eligibility import (
    ACTIVITY_UNPAID,
    IN_TRIAL,
    MEMBERSHIP_UNPAID,
    NEW_PLAYER_UNPAID,
    NOT_DUE_YET,
    PAID,
    TRIAL_NEEDS_FORMER_CLUB,
    TRIAL_OVER,
    Eligibility,
    PlayerPayments,
    Trial,
    eligibility,
)
from billing.models import FeeSchedule
from members.models import FunctionType
from tests.billing.factories import (
    SEASON,
    ExemptionAgreementFactory,
    TrialPeriodFactory,
    build_example_club,
    function,
)
from tests.members.factories import UserFactory

MARCH_1 = datetime.date(SEASON, 3, 1)
ACTIVITY_DUE = datetime.date(SEASON, 3, 29)


def payments(**values) -> PlayerPayments:
    return PlayerPayments(
        **{
            "membership_paid": False,
            "membership_due_date": MARCH_1,
            "activity_paid": False,
            "activity_due_date": ACTIVITY_DUE,
            **values,
        }
    )


def test_d04_paid_player_may_train_and_play():
    result = eligibility(payments(membership_paid=True, activity_paid=True), MARCH_1)

    assert result == Eligibility(True, True, (PAID,))


def test_d04_unpaid_membership_eligible_until_1_march():
    assert eligibility(payments(), MARCH_1) == Eligibility(True, True, (NOT_DUE_YET,))


def test_d04_unpaid_membership_not_eligible_after_1_march():
    result = eligibility(payments(activity_paid=True), MARCH_1 + datetime.timedelta(days=1))

    assert result == Eligibility(False, False, (MEMBERSHIP_UNPAID.format(date=f"{SEASON}-03-01"),))


def test_d07_unpaid_activity_fee_not_eligible_after_its_due_date():
    result = eligibility(payments(membership_paid=True), ACTIVITY_DUE + datetime.timedelta(days=1))

    assert result == Eligibility(False, False, (ACTIVITY_UNPAID.format(date=f"{SEASON}-03-29"),))


def test_d04_new_player_eligible_only_when_paid():
    assert eligibility(payments(new_player=True), datetime.date(SEASON, 2, 1)) == Eligibility(
        False, False, (NEW_PLAYER_UNPAID,)
    )


def test_d06_trial_period_allows_training_for_3_weeks():
    trial = Trial(datetime.date(SEASON, 4, 1))

    day_21 = eligibility(payments(new_player=True, trial=trial), datetime.date(SEASON, 4, 21))
    day_22 = eligibility(payments(new_player=True, trial=trial), datetime.date(SEASON, 4, 22))

    assert day_21 == Eligibility(
        True, False, (NEW_PLAYER_UNPAID, IN_TRIAL.format(date=datetime.date(SEASON, 4, 21)))
    )
    assert day_22 == Eligibility(
        False, False, (NEW_PLAYER_UNPAID, TRIAL_OVER.format(date=datetime.date(SEASON, 4, 21)))
    )


def test_d06_player_from_another_club_needs_the_former_clubs_agreement():
    waiting = Trial(datetime.date(SEASON, 4, 1), from_other_club=True)
    agreed = Trial(datetime.date(SEASON, 4, 1), from_other_club=True, former_club_agreed=True)
    day = datetime.date(SEASON, 4, 5)

    assert eligibility(payments(new_player=True, trial=waiting), day) == Eligibility(
        False, False, (NEW_PLAYER_UNPAID, TRIAL_NEEDS_FORMER_CLUB)
    )
    assert eligibility(payments(new_player=True, trial=agreed), day).may_train is True


@pytest.mark.django_db
@pytest.mark.urls("tests.billing.urls")
def test_team_leader_sees_the_team_list(world, client):
    club = build_example_club(world)
    leader = UserFactory(username="leader")
    function(leader.person, club.team_football, "team-leader")
    # hardship exemption for the boy's membership and activity fees (D-11): owes nothing
    ExemptionAgreementFactory(
        person=club["boy"], club=world.club_a, fee_kinds=["membership", "activity"]
    )
    TrialPeriodFactory(
        person=world.player_a, team=club.team_football, start_date=datetime.date(SEASON, 3, 10)
    )
    client.force_login(leader)

    response = client.get(
        reverse("billing:team-eligibility", args=[club.team_football.pk])
        + f"?on={SEASON}-03-15&season={SEASON}"
    )

    assert response.status_code == 200
    rows = {row.person.pk: row.eligibility for row in response.context["players"]}
    assert set(rows) == {
        club["boy"].pk,
        club["board_child_1"].pk,
        club["board_child_2"].pk,
        world.player_a.pk,
    }
    # membership unpaid after 1 March (the activity fee is exempt, D-10 main board)
    assert rows[club["board_child_1"].pk] == Eligibility(
        False, False, (MEMBERSHIP_UNPAID.format(date=f"{SEASON}-03-01"),)
    )
    # the boy owes nothing after the D-11 exemption: counts as paid (InvoicePaymentStatus)
    assert rows[club["boy"].pk] == Eligibility(True, True, (PAID,))
    # player A: no membership, in a trial period since 10 March (D-06)
    assert rows[world.player_a.pk] == Eligibility(
        True, False, (NEW_PLAYER_UNPAID, IN_TRIAL.format(date=datetime.date(SEASON, 3, 30)))
    )


@pytest.mark.django_db
@pytest.mark.urls("tests.billing.urls")
def test_d06_the_trial_length_is_the_clubs_setting_for_the_season(world, client):
    club = build_example_club(world)
    FeeSchedule.objects.filter(club=world.club_a, season=SEASON).update(trial_days=14)
    leader = UserFactory(username="leader")
    function(leader.person, club.team_football, "team-leader")
    TrialPeriodFactory(
        person=world.player_a, team=club.team_football, start_date=datetime.date(SEASON, 3, 10)
    )
    client.force_login(leader)
    url = reverse("billing:team-eligibility", args=[club.team_football.pk])

    day_14 = client.get(url + f"?on={SEASON}-03-23&season={SEASON}").context["players"]
    day_15 = client.get(url + f"?on={SEASON}-03-24&season={SEASON}").context["players"]

    last_day = datetime.date(SEASON, 3, 23)
    assert {r.person.pk: r.eligibility for r in day_14}[world.player_a.pk] == Eligibility(
        True, False, (NEW_PLAYER_UNPAID, IN_TRIAL.format(date=last_day))
    )
    assert {r.person.pk: r.eligibility for r in day_15}[world.player_a.pk] == Eligibility(
        False, False, (NEW_PLAYER_UNPAID, TRIAL_OVER.format(date=last_day))
    )


@pytest.mark.django_db
@pytest.mark.urls("tests.billing.urls")
def test_team_list_is_404_for_a_player(world, client):
    club = build_example_club(world)
    player = UserFactory(username="boy", person=club["boy"])
    client.force_login(player)

    response = client.get(reverse("billing:team-eligibility", args=[club.team_football.pk]))

    assert response.status_code == 404
    assert FunctionType.objects.filter(code="team-leader").exists()
