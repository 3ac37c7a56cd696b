"""billing.pricing activity fees and their reductions and exemptions: D-07, D-09, D-10,
D-11, with the example club's numbers."""

import dataclasses
import datetime
from decimal import Decimal

from billing.pricing import (
    Activity,
    Agreement,
    FeeKind,
    LeaveReason,
    LineKind,
    Role,
    RoleKind,
    price_family,
    price_person,
    price_season,
)
from billing.pricing.engine import NO_ACTIVITY_FEE, UNKNOWN_ACTIVITY_GROUP
from billing.pricing.lines import CONFIDENTIAL_REASON, CONFIDENTIAL_RULE_ID
from tests.billing import CONFIG, amounts, member, player, rule_lines

PARENT = datetime.date(1984, 2, 2)
BORN_2013 = datetime.date(2013, 3, 3)  # 14 this year: youth fees 3,000 / 2,600
BORN_2015 = datetime.date(2015, 5, 5)  # 12: children's fees 2,400 / 2,000
BORN_2017 = datetime.date(2017, 7, 7)  # 10
SIX_YEAR_OLD = datetime.date(2021, 9, 9)


def activity_total(dues) -> Decimal:
    return dues.total_for(FeeKind.ACTIVITY)


# --- D-07 -------------------------------------------------------------------------------------


def test_d07_activity_fee_per_group_and_cohort_with_its_own_dates():
    dues = price_person(CONFIG, [player(1, BORN_2015, "football", "handball", gender="male")], 1)

    football, handball = [
        line for line in dues.lines_for(FeeKind.ACTIVITY) if line.kind is LineKind.CHARGE
    ]
    assert football.reason == "Activity fee G2015 football 2,400 (D-07)"
    assert (football.cohort, football.group, football.amount) == ("G2015", "football", 2400)
    assert football.invoice_date == datetime.date(2027, 3, 1)
    assert football.due_date == datetime.date(2027, 3, 29)  # 4 weeks after invoicing
    assert handball.amount == Decimal(2000)
    assert handball.invoice_date == datetime.date(2027, 10, 1)
    assert handball.due_date == datetime.date(2027, 10, 29)
    assert str(handball.period) == "2027-08-01..2028-06-30"


def test_d07_a_new_player_is_invoiced_on_registration():
    newcomer = player(1, BORN_2015, "football", started=datetime.date(2027, 4, 10))

    [line] = price_person(CONFIG, [newcomer], 1).lines_for(FeeKind.ACTIVITY)

    assert line.invoice_date == datetime.date(2027, 4, 10)
    assert line.due_date == datetime.date(2027, 5, 8)


def test_d07_leaving_the_group_before_invoicing_means_no_fee_but_still_a_member():
    left = member(
        1,
        BORN_2015,
        activities=(
            Activity("football", datetime.date(2020, 1, 1), end=datetime.date(2027, 2, 1)),
        ),
    )

    dues = price_person(CONFIG, [left], 1)

    assert dues.lines_for(FeeKind.ACTIVITY) == ()
    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]


def test_d07_one_fee_per_group_even_on_two_teams():
    two_teams = member(
        1,
        BORN_2015,
        activities=(
            Activity("football", datetime.date(2020, 1, 1), team_id="G2015-1"),
            Activity("football", datetime.date(2021, 1, 1), team_id="G2014-1"),
        ),
    )

    assert amounts(price_person(CONFIG, [two_teams], 1), FeeKind.ACTIVITY) == [Decimal(2400)]


def test_d07_missing_cohort_fee_or_group_is_a_warning_not_a_charge():
    toddler = player(1, datetime.date(2023, 1, 1), "football", "tennis")

    dues = price_person(CONFIG, [toddler], 1)

    assert dues.lines_for(FeeKind.ACTIVITY) == ()
    assert [issue.message for issue in dues.issues] == [
        NO_ACTIVITY_FEE.format(group="football", cohort="2023", person_id=1),
        UNKNOWN_ACTIVITY_GROUP.format(person_id=1, group="tennis"),
    ]


# --- D-09 two sports --------------------------------------------------------------------------


def test_d09_two_sports_30_percent_off_each_activity_fee():
    dues = price_person(CONFIG, [player(1, BORN_2015, "football", "handball")], 1)

    reductions = rule_lines(dues, "D-09 two sports")
    assert [line.reason for line in reductions] == [
        "D-09 two sports -30%: -720",
        "D-09 two sports -30%: -600",
    ]
    assert [(line.percent, line.base_amount) for line in reductions] == [
        (Decimal(30), Decimal(2400)),
        (Decimal(30), Decimal(2000)),
    ]
    assert all(line.kind is LineKind.REDUCTION for line in reductions)
    assert activity_total(dues) == Decimal(1680 + 1400)


def test_d09_one_sport_no_two_sports_reduction():
    dues = price_person(CONFIG, [player(1, BORN_2015, "football")], 1)

    assert rule_lines(dues, "D-09 two sports") == []


# --- D-09 siblings ----------------------------------------------------------------------------


def test_d09_only_the_two_oldest_of_three_active_players_pay():
    kids = [
        player(3, BORN_2017, "football", family_id=7),
        player(1, BORN_2013, "football", family_id=7),
        player(2, BORN_2015, "football", family_id=7),
    ]

    dues = price_family(CONFIG, kids, 7)

    assert activity_total(dues.member(1)) == Decimal(3000)
    assert activity_total(dues.member(2)) == Decimal(2400)
    assert activity_total(dues.member(3)) == Decimal(0)
    [line] = rule_lines(dues.member(3), "D-09 siblings")
    assert line.kind is LineKind.REDUCTION
    assert line.reason == (
        "D-09 siblings (player 3 of 3 by age, only the 2 oldest pay) -100%: -2,400"
    )


def test_d09_siblings_counts_every_active_player_of_the_family_and_all_their_fees():
    father_plays = player(1, PARENT, "football", family_id=7)
    kids = [
        player(2, BORN_2013, "handball", family_id=7),
        player(3, BORN_2015, "football", "handball", family_id=7),
    ]

    dues = price_family(CONFIG, [father_plays, *kids], 7)

    assert activity_total(dues.member(3)) == Decimal(0)
    assert len(rule_lines(dues.member(3), "D-09 siblings")) == 2
    assert rule_lines(dues.member(3), "D-09 two sports") == []  # nothing left to reduce


def test_d09_two_active_players_both_pay():
    kids = [
        player(1, BORN_2013, "football", family_id=7),
        player(2, BORN_2015, "football", family_id=7),
    ]

    dues = price_family(CONFIG, kids, 7)

    assert [activity_total(m) for m in dues.members] == [Decimal(3000), Decimal(2400)]


def test_d09_siblings_needs_a_known_family():
    unrelated = [player(pid, BORN_2015, "football") for pid in (1, 2, 3)]

    season = price_season(CONFIG, unrelated)

    assert [activity_total(dues) for dues in season.persons] == [Decimal(2400)] * 3


# --- D-09 late start --------------------------------------------------------------------------


def test_d09_starting_football_after_1_august_half_price():
    late = player(1, BORN_2015, "football", started=datetime.date(2027, 8, 15))

    dues = price_person(CONFIG, [late], 1)

    [line] = rule_lines(dues, "D-09 late start football")
    assert line.reason == "D-09 late start football (started 2027-08-15) -50%: -1,200"
    assert line.invoice_date == datetime.date(2027, 8, 15)
    assert activity_total(dues) == Decimal(1200)


def test_d09_starting_on_1_august_is_not_after_it():
    dues = price_person(
        CONFIG, [player(1, BORN_2015, "football", started=datetime.date(2027, 8, 1))], 1
    )

    assert rule_lines(dues, "D-09 late start football") == []


def test_d09_new_cohort_of_six_year_olds_pays_half_its_first_autumn():
    spring_start = player(1, SIX_YEAR_OLD, "football", started=datetime.date(2027, 4, 20))
    autumn_start = player(2, SIX_YEAR_OLD, "football", started=datetime.date(2027, 8, 20))

    spring = price_person(CONFIG, [spring_start], 1)
    autumn = price_person(CONFIG, [autumn_start], 2)

    [line] = rule_lines(spring, "D-09 late start football")
    assert line.reason == "D-09 late start football (new cohort, age 6) -50%: -1,200"
    assert len(rule_lines(autumn, "D-09 late start football")) == 1  # not twice
    assert activity_total(spring) == activity_total(autumn) == Decimal(1200)


def test_d09_a_seven_year_old_who_started_last_year_pays_full():
    dues = price_person(
        CONFIG,
        [player(1, datetime.date(2020, 1, 1), "football", started=datetime.date(2026, 9, 1))],
        1,
    )

    assert activity_total(dues) == Decimal(2400)


def test_d09_starting_handball_after_1_january_half_price():
    late = player(1, BORN_2015, "handball", started=datetime.date(2028, 1, 10))

    dues = price_person(CONFIG, [late], 1)

    [line] = rule_lines(dues, "D-09 late start handball")
    assert line.amount == Decimal(-1000)
    assert dues.lines_for(FeeKind.ACTIVITY)[0].invoice_date == datetime.date(2028, 1, 10)


# --- D-09 moving away -------------------------------------------------------------------------


def mover(person_id, group, *, left, reported=None, reason=LeaveReason.MOVING, documented=True):
    activity = Activity(
        group,
        datetime.date(2020, 1, 1),
        end=left,
        leave_reason=reason,
        leave_documented=documented,
        leave_reported_on=reported,
    )
    return member(person_id, BORN_2015, activities=(activity,))


def test_d09_moving_from_football_before_31_july_refunds_30_percent():
    dues = price_person(
        CONFIG,
        [mover(1, "football", left=datetime.date(2027, 6, 15), reported=datetime.date(2027, 6, 1))],
        1,
    )

    [line] = rule_lines(dues, "D-09 moving football")
    assert line.kind is LineKind.REFUND
    assert line.amount == Decimal(-720)
    assert line.invoice_date == datetime.date(2027, 6, 1)
    assert line.reason == ("D-09 moving football (left 2027-06-15, moving, refund) -30%: -720")


def test_d09_moving_known_before_the_due_date_is_a_reduction():
    dues = price_person(
        CONFIG,
        [
            mover(
                1, "football", left=datetime.date(2027, 4, 15), reported=datetime.date(2027, 3, 10)
            )
        ],
        1,
    )

    [line] = rule_lines(dues, "D-09 moving football")
    assert line.kind is LineKind.REDUCTION
    assert line.due_date == datetime.date(2027, 3, 29)
    assert activity_total(dues) == Decimal(1680)


def test_d09_moving_from_handball_before_1_january():
    dues = price_person(CONFIG, [mover(1, "handball", left=datetime.date(2027, 12, 1))], 1)

    [line] = rule_lines(dues, "D-09 moving handball")
    assert (line.kind, line.amount) == (LineKind.REFUND, Decimal(-600))


def test_d09_no_moving_refund_for_club_changes_undocumented_moves_or_after_the_cut_off():
    cases = [
        mover(1, "football", left=datetime.date(2027, 6, 15), reason=LeaveReason.CLUB_CHANGE),
        mover(2, "football", left=datetime.date(2027, 6, 15), documented=False),
        mover(3, "football", left=datetime.date(2027, 7, 31)),
    ]

    season = price_season(CONFIG, cases)

    assert [activity_total(dues) for dues in season.persons] == [Decimal(2400)] * 3


# --- D-10 role exemptions ---------------------------------------------------------------------


def parent(person_id, *roles, contract=True, agreements=(), children=(2,), **facts):
    return member(
        person_id,
        PARENT,
        roles=roles,
        volunteer_contract_signed=contract,
        agreements=agreements,
        children_ids=children,
        **facts,
    )


def test_d10_main_board_exempts_all_activity_fees_of_own_children():
    board = parent(1, Role(RoleKind.MAIN_BOARD))
    child = player(2, BORN_2015, "football", "handball")

    dues = price_person(CONFIG, [board, child], 2)

    exemptions = rule_lines(dues, "D-10 main board")
    assert [line.amount for line in exemptions] == [Decimal(-2400), Decimal(-2000)]
    assert exemptions[0].reason == "D-10 main board (main_board, guardian 1) -100%: -2,400"
    assert exemptions[0].source_person_id == 1
    assert exemptions[0].kind is LineKind.EXEMPTION
    assert activity_total(dues) == Decimal(0)
    assert rule_lines(dues, "D-09 two sports") == []  # nothing left to reduce
    assert amounts(dues, FeeKind.MEMBERSHIP) == [Decimal(500)]  # membership is still paid


def test_d10_exemptions_need_a_signed_volunteer_contract():
    board = parent(1, Role(RoleKind.MAIN_BOARD), contract=False)

    dues = price_person(CONFIG, [board, player(2, BORN_2015, "football")], 2)

    assert activity_total(dues) == Decimal(2400)


def test_d10_main_board_member_playing_pays_own_fee():
    board = parent(
        1, Role(RoleKind.MAIN_BOARD), activities=(Activity("football", datetime.date(2010, 1, 1)),)
    )

    assert activity_total(price_person(CONFIG, [board], 1)) == Decimal(3600)


def test_d10_group_board_exempts_fees_in_own_group_for_self_and_children():
    board = parent(
        1,
        Role(RoleKind.GROUP_BOARD, group="football"),
        activities=(Activity("football", datetime.date(2010, 1, 1)),),
    )
    child = player(2, BORN_2015, "football", "handball")

    season = price_season(CONFIG, [board, child])

    assert activity_total(season.person(1)) == Decimal(0)
    child_dues = season.person(2)
    assert [line.group for line in rule_lines(child_dues, "D-10 group board")] == ["football"]
    assert activity_total(child_dues) == Decimal(2000 - 600)  # handball, less two sports


def test_d10_team_leader_and_head_coach_exempt_own_children_on_own_team():
    leader = parent(1, Role(RoleKind.TEAM_LEADER, group="football", team_id="G2015"))
    coach = parent(3, Role(RoleKind.HEAD_COACH, group="football", team_id="G2015"), children=(4,))
    on_team = player(2, BORN_2015, "football", team_id="G2015")
    other_team = player(4, BORN_2017, "football", team_id="G2015")
    leader_other_child = player(5, BORN_2013, "football", team_id="G2013")
    leader = dataclasses.replace(leader, children_ids=(2, 5))

    season = price_season(CONFIG, [leader, on_team, coach, other_team, leader_other_child])

    assert activity_total(season.person(2)) == Decimal(0)
    assert activity_total(season.person(4)) == Decimal(0)
    assert rule_lines(season.person(4), "D-10 team leader and head coach")[0].reason == (
        "D-10 team leader and head coach (head_coach, guardian 3) -100%: -2,400"
    )
    assert activity_total(season.person(5)) == Decimal(3000)  # not on the leader's team


def test_d10_up_to_two_assistant_coaches_on_approved_application():
    application = Agreement("D-10 assistant coaches", for_self=False, for_children=True)
    role = Role(RoleKind.ASSISTANT_COACH, group="football", team_id="G2015")
    coaches = [
        parent(10 + n, role, agreements=(application,), children=(20 + n,)) for n in range(3)
    ]
    children = [player(20 + n, BORN_2015, "football", team_id="G2015") for n in range(3)]
    without_application = parent(13, role, children=(23,))
    fourth_child = player(23, BORN_2015, "football", team_id="G2015")

    season = price_season(CONFIG, [*coaches, *children, without_application, fourth_child])

    totals = [activity_total(season.person(pid)) for pid in (20, 21, 22, 23)]
    assert totals == [Decimal(0), Decimal(0), Decimal(2400), Decimal(2400)]


def test_d10_other_coaches_and_volunteers_by_written_agreement_for_children_and_or_self():
    for_child = Agreement("D-10 other coaches and volunteers", for_self=False, for_children=True)
    for_self = Agreement("D-10 other coaches and volunteers", for_self=True, group="handball")
    volunteer = parent(
        1,
        Role(RoleKind.VOLUNTEER),
        agreements=(for_child, for_self),
        activities=(
            Activity("football", datetime.date(2010, 1, 1)),
            Activity("handball", datetime.date(2010, 1, 1)),
        ),
    )
    child = player(2, BORN_2015, "football")

    season = price_season(CONFIG, [volunteer, child])

    assert activity_total(season.person(2)) == Decimal(0)
    own = season.person(1)
    assert [line.group for line in rule_lines(own, "D-10 other coaches and volunteers")] == [
        "handball"
    ]
    # football 3,600 less two sports 30%; handball exempt first
    assert activity_total(own) == Decimal(2520)


def test_d10_a_role_without_the_written_agreement_gives_nothing():
    coach = parent(1, Role(RoleKind.COACH))

    dues = price_person(CONFIG, [coach, player(2, BORN_2015, "football")], 2)

    assert activity_total(dues) == Decimal(2400)


def test_d10_authorised_referees_by_written_agreement():
    agreement = Agreement("D-10 referees", for_self=True, for_children=True)
    referee = parent(
        1,
        Role(RoleKind.REFEREE),
        agreements=(agreement,),
        activities=(Activity("handball", datetime.date(2010, 1, 1)),),
    )
    child = player(2, BORN_2015, "football")

    season = price_season(CONFIG, [referee, child])

    assert activity_total(season.person(1)) == Decimal(0)
    assert activity_total(season.person(2)) == Decimal(0)
    no_agreement = dataclasses.replace(referee, agreements=())
    assert activity_total(price_person(CONFIG, [no_agreement], 1)) == Decimal(3200)


def test_d10_agreement_limited_to_one_child():
    agreement = Agreement(
        "D-10 other coaches and volunteers", for_self=False, for_children=True, child_ids=(2,)
    )
    coach = parent(1, Role(RoleKind.COACH), agreements=(agreement,), children=(2, 3))

    season = price_season(
        CONFIG, [coach, player(2, BORN_2015, "football"), player(3, BORN_2017, "football")]
    )

    assert activity_total(season.person(2)) == Decimal(0)
    assert activity_total(season.person(3)) == Decimal(2400)


# --- D-11 hardship ----------------------------------------------------------------------------


def test_d11_hardship_exemption_is_confidential():
    hardship = Agreement("D-11 hardship")
    athlete = player(1, BORN_2015, "football", agreements=(hardship,))

    dues = price_person(CONFIG, [athlete], 1)

    [line] = rule_lines(dues, "D-11 hardship")
    assert line.confidential
    assert line.kind is LineKind.EXEMPTION
    assert line.amount == Decimal(-2400)
    assert line.reason == "D-11 hardship -100%: -2,400"
    public = line.redacted()
    assert public.rule_id == CONFIDENTIAL_RULE_ID
    assert public.reason == CONFIDENTIAL_REASON.format(amount="-2,400")
    assert public.amount == line.amount
    assert "D-11" not in " ".join(line.reason for line in dues.redacted().lines)
    assert activity_total(dues) == Decimal(0)


def test_d11_partial_hardship_and_membership_by_agreement():
    hardship = Agreement(
        "D-11 hardship",
        fee_kinds=(FeeKind.ACTIVITY, FeeKind.MEMBERSHIP),
        percent=Decimal(50),
    )
    athlete = player(1, BORN_2015, "football", agreements=(hardship,))

    dues = price_person(CONFIG, [athlete], 1)

    assert dues.total_for(FeeKind.MEMBERSHIP) == Decimal(250)
    assert activity_total(dues) == Decimal(1200)
    assert all(line.confidential for line in rule_lines(dues, "D-11 hardship"))


def test_d11_agreement_held_by_a_guardian_for_a_child():
    hardship = Agreement("D-11 hardship", for_self=False, for_children=True)
    guardian = parent(1, agreements=(hardship,), contract=False)

    dues = price_person(CONFIG, [guardian, player(2, BORN_2015, "football")], 2)

    assert activity_total(dues) == Decimal(0)


def test_d11_working_off_the_fee_by_written_agreement():
    athlete = player(
        1, BORN_2015, "football", agreements=(Agreement("D-11 work instead of paying"),)
    )

    dues = price_person(CONFIG, [athlete], 1)

    [line] = rule_lines(dues, "D-11 work instead of paying")
    assert line.confidential
    assert activity_total(dues) == Decimal(0)


def test_d11_an_expired_agreement_gives_nothing():
    expired = Agreement("D-11 hardship", valid_until=datetime.date(2026, 12, 31))

    dues = price_person(CONFIG, [player(1, BORN_2015, "football", agreements=(expired,))], 1)

    assert activity_total(dues) == Decimal(2400)
