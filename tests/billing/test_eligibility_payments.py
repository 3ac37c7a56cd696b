"""Eligibility from real invoices and payments (D-04, D-06, M-11): the team list follows what
is actually paid (billing.payments_status_eligibility)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing import selectors, selectors_eligibility
from billing.eligibility import (
    IN_TRIAL,
    MEMBERSHIP_UNPAID,
    NEW_PLAYER_UNPAID,
    NOT_DUE_YET,
    PAID,
    Eligibility,
)
from billing.models_invoicing import Invoice, InvoiceLine
from billing.models_online import CheckoutLine, CheckoutSession
from billing.models_payments import Payment
from billing.payments_status_eligibility import InvoicePaymentStatus
from tests.billing.factories import (
    SEASON,
    ExemptionAgreementFactory,
    TrialPeriodFactory,
    build_example_club,
    function,
)
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db

MARCH_1 = datetime.date(SEASON, 3, 1)
AFTER_DUE = datetime.date(SEASON, 3, 15)
BEFORE_DUE = datetime.date(SEASON, 2, 20)
UNPAID_AFTER_DUE = Eligibility(False, False, (MEMBERSHIP_UNPAID.format(date=f"{SEASON}-03-01"),))
FEE = "500.00"

_numbers = iter(range(1, 10_000))


@pytest.fixture
def club(world):
    return build_example_club(world)


def invoice_for(
    club, payer, persons, *, amount=FEE, status="issued", season=SEASON, fee="membership", group=""
) -> Invoice:
    """An invoice of club A to `payer` with a line of `fee` (membership unless told) of
    `amount` for each person."""
    number = next(_numbers)
    total = Decimal(amount) * len(persons)
    invoice = Invoice.objects.create(
        club=club.world.club_a,
        number=number,
        season=season,
        payer=payer,
        status=status,
        buyer_name=payer.full_name,
        seller_name="Sagene IF",
        issue_date=datetime.date(season, 1, 15),
        due_date=datetime.date(season, 3, 1),
        kid=f"{number:07d}",
        total=Money(total, "NOK"),
    )
    for position, person in enumerate(persons, start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=club.world.club_a,
            person=person,
            position=position,
            fee=fee,
            key_fee=fee,
            group=group,
            line_kind="charge",
            period_start=datetime.date(season, 1, 1),
            period_end=datetime.date(season, 12, 31),
            description="Membership fee",
            amount=Money(amount, "NOK"),
        )
    return invoice


def pay(invoice, amount, key="tx-1") -> Payment:
    return Payment.objects.create(
        club=invoice.club,
        invoice=invoice,
        source="manual",
        transaction_key=f"{invoice.pk}-{key}",
        amount=Money(amount, "NOK"),
        paid_date=datetime.date(SEASON, 2, 1),
        match_state="matched",
    )


def pay_for_myself(invoice, person, amount) -> CheckoutSession:
    """M-11: a paid online checkout of `person` for their own lines only."""
    session = CheckoutSession.objects.create(
        provider="sandbox",
        provider_session_id=f"cs-{invoice.pk}-{person.pk}",
        club=invoice.club,
        payer=person,
        scope="self",
        person_ids=[person.pk],
        total=Money(amount, "NOK"),
        state="paid",
    )
    CheckoutLine.objects.create(session=session, invoice=invoice, amount=Money(amount, "NOK"))
    pay(invoice, amount, key=f"online-{session.pk}")
    return session


def rows(club, on=AFTER_DUE) -> dict[int, Eligibility]:
    result = selectors_eligibility.team_eligibility(
        team=club.team_football, club=club.world.club_a, on=on, season=SEASON
    )
    return {row.person.pk: row.eligibility for row in result}


def test_d04_paid_membership_invoice_may_train_and_play(club):
    # board_child_1: activity fee exempt (D-10 main board), membership invoiced to the parent
    invoice = invoice_for(club, club["board"], [club["board_child_1"]])
    pay(invoice, FEE)

    assert rows(club)[club["board_child_1"].pk] == Eligibility(True, True, (PAID,))


def test_d04_unpaid_invoice_may_not_train_or_play_after_1_march(club):
    invoice_for(club, club["board"], [club["board_child_1"]])

    assert rows(club)[club["board_child_1"].pk] == UNPAID_AFTER_DUE
    assert rows(club, on=MARCH_1)[club["board_child_1"].pk] == Eligibility(
        True, True, (NOT_DUE_YET,)
    )
    assert rows(club, on=BEFORE_DUE)[club["board_child_1"].pk] == Eligibility(
        True, True, (NOT_DUE_YET,)
    )


def test_d04_partly_paid_family_invoice_is_unpaid_for_everyone_on_it(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"], club["board_child_2"]])
    pay(invoice, "700.00")  # of 1,000: a bank payment does not say whose fee it pays

    result = rows(club)

    assert result[club["board_child_1"].pk] == UNPAID_AFTER_DUE
    assert result[club["board_child_2"].pk] == UNPAID_AFTER_DUE


def test_d04_family_invoice_paid_in_full_makes_everyone_on_it_eligible(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"], club["board_child_2"]])
    pay(invoice, "600.00")
    pay(invoice, "400.00", key="tx-2")

    result = rows(club)

    assert result[club["board_child_1"].pk] == Eligibility(True, True, (PAID,))
    assert result[club["board_child_2"].pk] == Eligibility(True, True, (PAID,))


def test_m11_member_who_paid_only_for_themself_is_eligible_the_others_are_not(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"], club["board_child_2"]])
    pay_for_myself(invoice, club["board_child_2"], FEE)

    result = rows(club)

    assert result[club["board_child_2"].pk] == Eligibility(True, True, (PAID,))
    assert result[club["board_child_1"].pk] == UNPAID_AFTER_DUE


def test_m11_self_payment_short_of_the_own_lines_does_not_count(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"], club["board_child_2"]])
    pay_for_myself(invoice, club["board_child_2"], "200.00")

    assert rows(club)[club["board_child_2"].pk] == UNPAID_AFTER_DUE


def test_d04_a_reversal_takes_eligibility_away_again(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"]])
    pay(invoice, FEE)
    pay(invoice, "-500.00", key="reversal")

    assert rows(club)[club["board_child_1"].pk] == UNPAID_AFTER_DUE


def test_d04_status_paid_counts_and_a_void_invoice_does_not(club):
    invoice_for(club, club["board"], [club["board_child_1"]], status="paid")
    invoice_for(club, club["board"], [club["board_child_2"]], status="void")

    result = rows(club)

    assert result[club["board_child_1"].pk] == Eligibility(True, True, (PAID,))
    # a void invoice bills nothing: the fee is owed and not paid
    assert result[club["board_child_2"].pk] == UNPAID_AFTER_DUE


def test_d04_another_seasons_paid_invoice_does_not_count(club):
    invoice = invoice_for(club, club["board"], [club["board_child_1"]], season=SEASON - 1)
    pay(invoice, FEE)

    assert rows(club)[club["board_child_1"].pk] == UNPAID_AFTER_DUE


def test_d04_exempted_player_is_eligible_without_any_invoice(club):
    # D-11 hardship exemption of both fees: nothing owed, nothing invoiced
    ExemptionAgreementFactory(
        person=club["boy"], club=club.world.club_a, fee_kinds=["membership", "activity"]
    )

    assert rows(club)[club["boy"].pk] == Eligibility(True, True, (PAID,))


def test_d06_trial_player_may_train_not_play_then_plays_once_paid(club):
    player = club.world.player_a  # not a member yet: a new player (D-04)
    TrialPeriodFactory(
        person=player, team=club.team_football, start_date=datetime.date(SEASON, 3, 10)
    )

    assert rows(club)[player.pk] == Eligibility(
        True, False, (NEW_PLAYER_UNPAID, IN_TRIAL.format(date=datetime.date(SEASON, 3, 30)))
    )

    pay(invoice_for(club, player, [player]), FEE)

    # D-04: the activity fee of the team's group is owed too: still training only
    assert rows(club)[player.pk].may_play is False

    group = selectors._tree(club.world.club_a, SEASON).code(club.team_football.pk)
    pay(invoice_for(club, player, [player], fee="activity", group=group), FEE)

    assert rows(club)[player.pk] == Eligibility(True, True, (PAID,))


def test_payment_status_takes_four_queries_for_any_number_of_persons(
    club, django_assert_num_queries
):
    persons = [club["board_child_1"], club["board_child_2"], club["boy"], club["girl"]]
    for person in persons:
        pay(invoice_for(club, club["board"], [person]), FEE)

    with django_assert_num_queries(3):
        status = InvoicePaymentStatus(
            club=club.world.club_a, season=SEASON, person_ids=[p.pk for p in persons]
        )

    assert all(status.membership_paid(p.pk) for p in persons)


@pytest.mark.urls("tests.billing.urls")
def test_team_page_shows_payments(club, client, django_assert_max_num_queries):
    leader = UserFactory(username="leader")
    function(leader.person, club.team_football, "team-leader")
    pay(invoice_for(club, club["board"], [club["board_child_1"]]), FEE)
    invoice_for(club, club["board"], [club["board_child_2"]])
    client.force_login(leader)

    with django_assert_max_num_queries(60):
        response = client.get(
            reverse("billing:team-eligibility", args=[club.team_football.pk])
            + f"?on={SEASON}-03-15&season={SEASON}"
        )

    assert response.status_code == 200
    players = {row.person.pk: row.eligibility for row in response.context["players"]}
    assert players[club["board_child_1"].pk] == Eligibility(True, True, (PAID,))
    assert players[club["board_child_2"].pk] == UNPAID_AFTER_DUE
