"""Refunds and the payout list (issue 6 scope 7): M-15 volunteer work, D-09 moving away."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from djmoney.money import Money

from billing.invoicing import services as invoicing_services
from billing.ledger import rules, services
from billing.models import VolunteerHours
from billing.models_invoicing import Invoice, InvoiceEvent, InvoiceLine
from billing.models_ledger import Refund, RefundEvent, RefundState
from tests.billing.ledger.helpers import SEASON, account, invoice, pay, schedule
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _volunteer(world, hours: str, fee: str = "500", paid: bool = True, payer=None):
    person = PersonFactory()
    VolunteerHours.objects.create(
        person=person, club=world.club_a, season=SEASON, hours=Decimal(hours)
    )
    bill = invoice(world.club_a, payer or person, [(person, "volunteer_work", "", "charge", fee)])
    if paid:
        pay(bill)
    return person, bill


def _state():
    return (
        sorted(Refund.objects.values_list("pk", "state", "amount", "credit_note_id")),
        RefundEvent.objects.count(),
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
    )


# ------------------------------------------------------------------ M-15


def test_m15_refund_is_100_per_hour_worked(world):
    schedule(world.club_a)
    person, bill = _volunteer(world, "3")
    account(person, "86011117947")

    proposal = services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)

    [refund] = proposal.created
    assert refund.amount == Money("300.00", "NOK")
    assert (refund.person, refund.payee, refund.invoice) == (person, person, bill)
    assert (refund.state, refund.rule_id, refund.hours) == ("proposed", "M-15", Decimal("3.00"))
    assert refund.account_number == "86011117947"
    assert list(refund.events.values_list("from_state", "to_state")) == [("", "proposed")]


def test_m15_refund_capped_at_what_was_paid_for_the_fee(world):
    schedule(world.club_a)
    _volunteer(world, "8")  # 800 > 500

    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created

    assert refund.amount == Money("500.00", "NOK")


def test_m15_cap_rule_uses_net_paid_amount():
    assert rules.volunteer_refund_amount(
        hours=Decimal(8), refund_per_hour=Decimal(100), paid_for_fee=Decimal(250)
    ) == Decimal(250)
    assert rules.volunteer_refund_amount(
        hours=Decimal(8), refund_per_hour=Decimal(100), paid_for_fee=Decimal(250), capped=False
    ) == Decimal(800)
    assert rules.volunteer_refund_amount(
        hours=Decimal("1.5"), refund_per_hour=Decimal(100), paid_for_fee=Decimal(500)
    ) == Decimal(150)
    assert rules.volunteer_refund_amount(
        hours=Decimal(3), refund_per_hour=Decimal(100), paid_for_fee=Decimal(0)
    ) == Decimal(0)


def test_m15_unpaid_fee_gets_no_refund(world):
    schedule(world.club_a)
    _volunteer(world, "3", paid=False)
    before = _state()

    proposal = services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)

    assert proposal.created == []
    assert _state() == before


def test_m15_proposing_twice_creates_nothing_new(world):
    schedule(world.club_a)
    _volunteer(world, "2")
    _volunteer(world, "4")
    services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)
    before = _state()

    again = services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)

    assert (again.created, again.already_proposed) == ([], 2)
    assert _state() == before


def test_m15_unique_constraint_forbids_a_second_refund(world):
    schedule(world.club_a)
    _volunteer(world, "2")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            club=refund.club,
            person=refund.person,
            payee=refund.payee,
            season=SEASON,
            reason=refund.reason,
            rule_id="M-15",
            amount=Money(1, "NOK"),
            description="again",
        )


def test_m15_refund_goes_to_the_payer_refunds_account_before_default(world):
    schedule(world.club_a)
    parent = PersonFactory()
    account(parent, "86011117947", "private", default=True)
    account(parent, "12345678903", "refunds", default=False)
    _volunteer(world, "1", payer=parent)

    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created

    assert (refund.payee, refund.account_number) == (parent, "12345678903")


def test_m15_without_account_is_flagged_and_cannot_be_approved(world):
    schedule(world.club_a)
    _volunteer(world, "1")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    assert not refund.has_account
    before = _state()

    with pytest.raises(ValidationError) as error:
        services.refund_approve(actor=None, refund=refund)

    assert error.value.messages == [str(services.NO_ACCOUNT)]
    assert _state() == before


def test_m15_no_volunteer_fee_in_the_season(world):
    with pytest.raises(ValidationError) as error:
        services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)
    assert error.value.messages == [str(services.NO_VOLUNTEER_FEE)]


def test_refund_needs_billing_manage(world):
    schedule(world.club_a)
    _volunteer(world, "1")
    before = _state()
    with pytest.raises(PermissionDenied):
        services.refunds_propose_volunteer_work(
            actor=world.user("official_other_club"), club=world.club_a, season=SEASON
        )
    assert _state() == before


# ------------------------------------------------------------------ approval, credit note, payout


def test_approve_issues_a_partial_credit_note_and_keeps_the_charge_billed(world):
    schedule(world.club_a)
    person, bill = _volunteer(world, "3")
    account(person, "86011117947")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    actor = world.user("official_this_club")

    approved = services.refund_approve(actor=actor, refund=refund)

    note = approved.credit_note
    assert approved.state == RefundState.APPROVED
    assert (note.kind, note.credited_invoice, note.total) == (
        "credit_note",
        bill,
        Money("-300.00", "NOK"),
    )
    assert note.number == bill.number + 1  # S-05: the club's one series
    [line] = note.lines.all()
    assert (line.line_kind, line.amount, line.credited_line.invoice) == (
        "refund",
        Money("-300.00", "NOK"),
        bill,
    )
    # The fee was rightly invoiced: its charge stays billed, so no run invoices it again.
    assert bill.lines.get().is_billed is True
    # The credit note's events; the status follows the smaller claim (the test's payment was
    # written without the payment services, so the invoice was still "issued").
    assert list(bill.events.values_list("kind", "from_status", "to_status")) == [
        (InvoiceEvent.Kind.PARTLY_CREDITED, "issued", "issued"),
        ("payment", "issued", "paid"),
    ]
    assert list(approved.events.values_list("from_state", "to_state", "actor")) == [
        ("", "proposed", None),
        ("proposed", "approved", actor.pk),
    ]


def test_m15_the_credit_note_is_written_in_its_invoices_language(world):
    """The credit note's line and reason read like the invoice's own lines (bokmål by
    default): the hours times the club's rate, the rule id once."""
    schedule(world.club_a)
    person, _bill = _volunteer(world, "2.5")
    account(person, "86011117947")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created

    note = services.refund_approve(
        actor=world.user("official_this_club"), refund=refund
    ).credit_note

    [line] = note.lines.all()
    assert line.description.startswith("2,5 ")  # the decimal comma of bokmål
    assert "100" in line.description and "M-15" not in line.description
    assert note.reason == f"M-15: {line.description}"


def test_approve_refuses_when_the_charge_was_credited_meanwhile(world):
    schedule(world.club_a)
    person, bill = _volunteer(world, "3")
    account(person, "86011117947")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    invoicing_services.invoice_credit(actor=None, invoice=bill, reason="Wrong fee")
    before = _state()

    with pytest.raises(ValidationError) as error:
        services.refund_approve(actor=None, refund=refund)

    assert error.value.messages == [str(services.CHARGE_NOT_BILLED)]
    assert _state() == before


def test_approve_twice_issues_one_credit_note(world):
    schedule(world.club_a)
    person, bill = _volunteer(world, "3")
    account(person, "86011117947")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    services.refund_approve(actor=None, refund=refund)
    before = _state()

    with pytest.raises(ValidationError):
        services.refund_approve(actor=None, refund=refund)

    assert _state() == before
    assert Invoice.objects.filter(kind="credit_note", credited_invoice=bill).count() == 1


def test_mark_paid_only_approved_refunds_all_or_nothing(world):
    schedule(world.club_a)
    first, _bill = _volunteer(world, "1")
    second, _bill2 = _volunteer(world, "2")
    account(first, "86011117947")
    account(second, "12345678903")
    refunds = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    services.refund_approve(actor=None, refund=refunds[0])
    before = _state()

    with pytest.raises(ValidationError):
        services.refunds_mark_paid(
            actor=None, club=world.club_a, refund_ids=[r.pk for r in refunds]
        )
    assert _state() == before

    count = services.refunds_mark_paid(
        actor=None,
        club=world.club_a,
        refund_ids=[refunds[0].pk],
        paid_on=datetime.date(SEASON, 11, 1),
    )

    assert count == 1
    refunds[0].refresh_from_db()
    assert (refunds[0].state, refunds[0].paid_on) == ("paid", datetime.date(SEASON, 11, 1))


def test_cancelled_proposal_is_not_proposed_again(world):
    schedule(world.club_a)
    _volunteer(world, "1")
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    services.refund_cancel(actor=None, refund=refund)

    again = services.refunds_propose_volunteer_work(actor=None, club=world.club_a, season=SEASON)

    assert again.created == []
    assert Refund.objects.get().state == RefundState.CANCELLED


# ------------------------------------------------------------------ D-09


def _player(world, group: str = "football", amount: str = "2400"):
    person = PersonFactory()
    bill = invoice(world.club_a, person, [(person, "activity", group, "charge", amount)])
    pay(bill)
    return person, bill


def test_d09_moving_before_cutoff_refunds_30_percent(world):
    schedule(world.club_a)
    person, bill = _player(world)

    refund = services.refund_propose_moving_away(
        actor=None,
        club=world.club_a,
        person=person,
        season=SEASON,
        group="football",
        left_on=datetime.date(SEASON, 6, 15),
        leave_reason="moving",
        documented=True,
    )

    assert refund.amount == Money("720.00", "NOK")
    assert (refund.leave_reason, refund.left_on, refund.leave_documented) == (
        "moving",
        datetime.date(SEASON, 6, 15),
        True,
    )
    assert (refund.invoice, refund.group, refund.rule_id) == (bill, "football", "D-09")


def test_d09_refund_is_taken_of_the_net_paid_fee(world):
    schedule(world.club_a)
    person = PersonFactory()
    bill = invoice(
        world.club_a,
        person,
        [
            (person, "activity", "football", "charge", "2400"),
            (person, "activity", "football", "reduction", "-720"),  # D-09 two sports
        ],
    )
    pay(bill)

    refund = services.refund_propose_moving_away(
        actor=None,
        club=world.club_a,
        person=person,
        season=SEASON,
        group="football",
        left_on=datetime.date(SEASON, 5, 1),
        leave_reason="moving",
        documented=True,
    )

    assert refund.amount == Money("504.00", "NOK")  # 30% of 1680


@pytest.mark.parametrize(
    ("left_on", "reason", "documented", "message"),
    [
        (
            datetime.date(SEASON, 7, 31),
            "moving",
            True,
            "D-09: leaving on or after 2027-07-31 is not refunded.",
        ),
        (datetime.date(SEASON, 5, 1), "club_change", True, rules.NOT_MOVING),
        (datetime.date(SEASON, 5, 1), "moving", False, rules.NOT_DOCUMENTED),
    ],
)
def test_d09_refused_cases_change_nothing(world, left_on, reason, documented, message):
    schedule(world.club_a)
    person, _bill = _player(world)
    before = _state()

    with pytest.raises(ValidationError) as error:
        services.refund_propose_moving_away(
            actor=None,
            club=world.club_a,
            person=person,
            season=SEASON,
            group="football",
            left_on=left_on,
            leave_reason=reason,
            documented=documented,
        )

    assert error.value.messages == [message]
    assert _state() == before


def test_d09_handball_cutoff_is_1_january(world):
    schedule(world.club_a)
    person, _bill = _player(world, "handball", "2000")

    refund = services.refund_propose_moving_away(
        actor=None,
        club=world.club_a,
        person=person,
        season=SEASON,
        group="handball",
        left_on=datetime.date(SEASON, 12, 31),
        leave_reason="moving",
        documented=True,
    )

    assert refund.amount == Money("600.00", "NOK")


def test_d09_unpaid_fee_is_not_refunded(world):
    schedule(world.club_a)
    person = PersonFactory()
    invoice(world.club_a, person, [(person, "activity", "football", "charge", "2400")])

    with pytest.raises(ValidationError) as error:
        services.refund_propose_moving_away(
            actor=None,
            club=world.club_a,
            person=person,
            season=SEASON,
            group="football",
            left_on=datetime.date(SEASON, 5, 1),
            leave_reason="moving",
            documented=True,
        )
    assert error.value.messages == [str(services.NOTHING_PAID)]


def test_d09_proposing_twice_returns_the_same_refund(world):
    schedule(world.club_a)
    person, _bill = _player(world)
    arguments = {
        "actor": None,
        "club": world.club_a,
        "person": person,
        "season": SEASON,
        "group": "football",
        "left_on": datetime.date(SEASON, 5, 1),
        "leave_reason": "moving",
        "documented": True,
    }
    first = services.refund_propose_moving_away(**arguments)
    before = _state()

    second = services.refund_propose_moving_away(**arguments)

    assert second == first
    assert _state() == before
