"""The billing pages' words and numbers (issue 6): one money format for columns of amounts
(`money`), fee kinds by name (`fee_label`, one map), and the payout list's state counts and
refund details built when shown, in the reader's language, from the refund's fields (not the
English text stored when it was proposed; M-15, D-09, over-payments)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from billing import texts
from billing.models import ActivityGroup
from billing.models_ledger import Refund, RefundReason, RefundState
from billing.models_payments import MatchState, Payment, PaymentSource
from billing.templatetags import billing_tags
from tests.billing.ledger.helpers import SEASON, schedule
from tests.conftest import World
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

MANAGE = "billing.manage"
NBSP = "\xa0"


# ------------------------------------------------------------------ amounts and fee names


@pytest.mark.parametrize(
    ("language", "amount", "shown"),
    [
        ("nb", Decimal("0"), "0,00"),
        ("nb", Decimal("35"), "35,00"),
        ("nb", Money("1250.5", "NOK"), f"1{NBSP}250,50"),
        ("nb", 70, "70,00"),
        ("nb", "950.00", "950,00"),  # a run summary's amount (JSON)
        ("en", Money("-1250", "NOK"), "-1,250.00"),
        ("en", None, ""),
    ],
)
def test_issue6_money_writes_every_amount_with_ore(language, amount, shown):
    with translation.override(language):
        assert billing_tags.money(amount) == shown


def test_s05_fee_label_names_each_fee_kind_from_one_map():
    with translation.override("en"):
        assert [billing_tags.fee_label(kind) for kind in texts.FEE_LABELS] == [
            "Membership fee",
            "Activity fee",
            "Volunteer work fee",
            "Invoice fee",
        ]
        assert billing_tags.fee_label("unknown_kind") == "unknown_kind"
    with translation.override("nb"):
        assert billing_tags.fee_label("activity") == "Aktivitetskontingent"
        assert billing_tags.fee_label("invoice_fee") == "Fakturagebyr"


# ------------------------------------------------------------------ the payout list


@pytest.fixture
def payouts(world: World) -> World:
    """M-15: 2.5 hours at the season's NOK 100 an hour (proposed); D-09: moving away from
    football (approved); the over-payment of a payment (proposed)."""
    schedule(world.club_a)
    ActivityGroup.objects.filter(code="football").update(name="Fotball")
    payer = PersonFactory()
    world.volunteer = Refund.objects.create(
        club=world.club_a,
        person=PersonFactory(),
        payee=payer,
        season=SEASON,
        reason=RefundReason.VOLUNTEER_WORK,
        rule_id="M-15",
        amount=Money("250", "NOK"),
        description=f"M-15 2.50 h x 100.00 ({SEASON})",
        hours=Decimal("2.50"),
    )
    world.moving = Refund.objects.create(
        club=world.club_a,
        person=PersonFactory(),
        payee=payer,
        season=SEASON,
        reason=RefundReason.MOVING_AWAY,
        group="football",
        rule_id="D-09",
        amount=Money("720", "NOK"),
        description=f"D-09 30% football ({SEASON}), left {SEASON}-05-02",
        left_on=datetime.date(SEASON, 5, 2),
        leave_reason="moving",
        leave_documented=True,
        state=RefundState.APPROVED,
        account_number="86011117947",
    )
    payment = Payment.objects.create(
        club=world.club_a,
        source=PaymentSource.MANUAL,
        transaction_key="over-1",
        amount=Money("300", "NOK"),
        paid_date=datetime.date(SEASON, 3, 11),
        kid="0004416",
        match_state=MatchState.UNMATCHED,
    )
    world.over = Refund.objects.create(
        club=world.club_a,
        season=SEASON,
        reason=RefundReason.UNMATCHED_PAYMENT,
        amount=Money("300", "NOK"),
        description=f"Payment without an invoice (KID 0004416), paid {SEASON}-03-11",
        payment=payment,
        account_number="86011117947",
        account_owner="Ola Bankkunde",
    )
    return world


def _page(world: World, language: str):  # type: ignore[no-untyped-def]
    client = world.client("official_this_club", MANAGE)
    client.cookies["django_language"] = language
    return client.get(reverse("billing:refund-list", args=[world.club_a.pk]))


def _details(response) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Each refund's details as the page shows them (its row: the member, else the owner of
    the account the money goes to)."""
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = body.split("<tr")[1:]
    found = {}
    for refund in response.context["page"].object_list:
        who = refund.person.full_name if refund.person else refund.account_owner
        [row] = [row for row in rows if who in row]
        found[refund.pk] = row.split('<span class="muted refund-description">', 1)[1].split(
            "</span>", 1
        )[0]
    return found


def test_m15_d09_refund_details_are_built_from_the_fields_in_english(payouts, settings):
    settings.LANGUAGE_CODE = "en"

    response = _page(payouts, "en")

    details = _details(response)
    assert details[payouts.volunteer.pk] == "2.5 h × NOK 100"
    assert details[payouts.moving.pk] == f"Fotball, left 05/02/{SEASON}: moving"
    assert details[payouts.over.pk].startswith("KID 0004416, paid ")
    html = response.content.decode()
    assert "2.50 h x 100.00" not in html  # the stored English text is not shown
    assert "D-09 30% football" not in html


def test_m15_refund_details_are_localised_in_bokmal(payouts):
    details = _details(_page(payouts, "nb"))

    assert details[payouts.volunteer.pk].startswith("2,5 ")  # decimal comma, no trailing 0
    assert "100" in details[payouts.volunteer.pk]
    assert "2.50" not in details[payouts.volunteer.pk]
    assert "flytting" in details[payouts.moving.pk]  # the reason for leaving, translated
    assert f"02.05.{SEASON}" in details[payouts.moving.pk]


def test_issue6_payout_list_counts_every_state(payouts, settings):
    settings.LANGUAGE_CODE = "en"

    html = _page(payouts, "en").content.decode()

    counts = html.split('<p class="ledger-counts">', 1)[1].split("</p>", 1)[0]
    assert ">Proposed: 2</a>" in counts
    assert ">Approved: 1</a>" in counts
    assert ">Paid: 0</a>" in counts
    assert ">Cancelled: 0</a>" in counts
    assert " :" not in counts


def test_issue6_payout_list_details_cost_no_query_per_refund(
    payouts, django_assert_max_num_queries
):
    client = payouts.client("official_this_club", MANAGE)
    url = reverse("billing:refund-list", args=[payouts.club_a.pk])
    client.get(url)
    for _index in range(10):
        Refund.objects.create(
            club=payouts.club_a,
            person=PersonFactory(),
            payee=payouts.volunteer.payee,
            season=SEASON,
            reason=RefundReason.VOLUNTEER_WORK,
            rule_id="M-15",
            amount=Money("100", "NOK"),
            description="M-15",
            hours=Decimal(1),
        )

    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert len(response.context["page"].object_list) == 13
