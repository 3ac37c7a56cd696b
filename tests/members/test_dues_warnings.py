"""Issue 5 scope 1: "When a person joins a club while owing dues to another club in the
register, the registrar is warned" and "Members owing dues for more than a year are listed
for striking off" (members.dues_status, answered by billing.dues_status)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone, translation
from djmoney.money import Money

from billing.models_invoicing import Invoice, InvoiceLine
from billing.models_payments import Payment
from clubadmin.capabilities import Capability
from members import dues_status, selectors_memberships
from members.models import FunctionType, Membership, MembershipStatus
from members.services import memberships as membership_services
from tests.access_matrix import HTML_DENIED, Case, check_case, get
from tests.conftest import ROLES
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_memberships import MembershipFactory, MembershipTypeFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
MANAGE = Capability.MEMBERS_MANAGE

_numbers = iter(range(1, 100_000))


def invoice(club, payer, lines=(), *, due=TODAY - 30 * DAY, total=None, status="issued"):
    """An invoice of `club` to `payer`, due on `due`, with (person, amount) lines (default:
    one line of 500 for the payer)."""
    lines = list(lines) or [(payer, "500.00")]
    number = next(_numbers)
    amount = total or sum((Decimal(a) for _p, a in lines), Decimal(0))
    created = Invoice.objects.create(
        club=club,
        number=number,
        season=due.year,
        payer=payer,
        status=status,
        buyer_name=payer.full_name,
        seller_name=club.name,
        issue_date=due - 30 * DAY,
        due_date=due,
        kid=f"{number:07d}",
        total=Money(amount, "NOK"),
    )
    for position, (person, line_amount) in enumerate(lines, start=1):
        InvoiceLine.objects.create(
            invoice=created,
            club=club,
            person=person,
            position=position,
            fee="membership",
            key_fee="membership",
            line_kind="charge",
            # a period of its own per invoice: the lines never collide (invoice_line_once)
            period_start=datetime.date(2000, 1, 1) + number * DAY,
            period_end=datetime.date(2000, 1, 1) + number * DAY,
            is_billed=status not in ("void", "credited"),
            description="Membership fee",
            amount=Money(line_amount, "NOK"),
        )
    return created


def pay(invoice_, amount):
    return Payment.objects.create(
        club=invoice_.club,
        invoice=invoice_,
        source="manual",
        transaction_key=f"{invoice_.pk}-{amount}",
        amount=Money(amount, "NOK"),
        paid_date=TODAY,
        match_state="matched",
    )


def short(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


# ------------------------------------------------------------------ owing elsewhere


def test_dues_owed_to_another_club_as_payer_and_on_a_family_invoice(world):
    mother, child = PersonFactory(first_name="Mor"), PersonFactory(first_name="Barn")
    family_invoice = invoice(
        world.club_b, mother, [(mother, "400.00"), (child, "300.00")], due=TODAY - 40 * DAY
    )
    pay(family_invoice, "100.00")
    invoice(world.club_b, mother, due=TODAY - 10 * DAY)  # a second, newer one

    owed = dues_status.outstanding_dues([mother.pk, child.pk], exclude_club=world.club_a, on=TODAY)

    assert owed == {
        # the payer owes what the invoices still owe: 600 + 500
        mother.pk: [
            dues_status.OwedDues(
                world.club_b.pk, world.club_b.name, Decimal("1100.00"), TODAY - 40 * DAY
            )
        ],
        # the child owes their own line
        child.pk: [
            dues_status.OwedDues(
                world.club_b.pk, world.club_b.name, Decimal("300.00"), TODAY - 40 * DAY
            )
        ],
    }


def test_nothing_owed_when_paid_not_yet_due_void_or_in_the_joining_club(world):
    person = PersonFactory()
    pay(invoice(world.club_b, person), "500.00")  # paid (the status not yet following)
    invoice(world.club_b, person, due=TODAY)  # due today: not overdue
    invoice(world.club_b, person, status="void")
    invoice(world.club_a, person)  # the club they join

    assert dues_status.outstanding_dues([person.pk], exclude_club=world.club_a, on=TODAY) == {}


def test_dues_lookup_takes_a_bounded_number_of_queries(world, django_assert_num_queries):
    persons = [PersonFactory() for _ in range(4)]
    for person in persons:
        invoice(world.club_b, person)

    with django_assert_num_queries(3):
        owed = dues_status.outstanding_dues(
            [p.pk for p in persons], exclude_club=world.club_a, on=TODAY
        )

    assert sorted(owed) == sorted(p.pk for p in persons)


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def debtor(world):
    person = PersonFactory(first_name="Ola", last_name="Skyldner")
    invoice(world.club_b, person, due=TODAY - 40 * DAY, total=Decimal("1250.00"))
    return person


def registrar_with_billing_in(world, club):
    """Club A's registrar (every capability there) who also manages billing in `club`."""
    user = world.user("official_this_club", MANAGE)
    everything = FunctionType.objects.get(code="test-everything")
    FunctionFactory(person=user.person, organisation=club, function_type=everything)
    return user


def test_registrar_is_warned_without_the_other_clubs_amount(world, debtor):
    registrar = world.user("official_this_club", MANAGE)

    warnings = selectors_memberships.join_warnings(
        person=debtor, club=world.club_a, user=registrar, on=TODAY
    )

    assert [(w.code, w.message) for w in warnings] == [
        (
            "dues_elsewhere",
            str(
                selectors_memberships.DUES_ELSEWHERE
                % {
                    "name": "Ola Skyldner",
                    "club": "Frogner IL",
                    "date": short(TODAY - 40 * DAY),
                }
            ),
        )
    ]
    assert "1,250" not in warnings[0].message and "1250" not in warnings[0].message


def test_registrar_who_manages_the_other_clubs_billing_sees_the_amount(world, debtor):
    registrar = registrar_with_billing_in(world, world.club_b)

    warnings = selectors_memberships.join_warnings(
        person=debtor, club=world.club_a, user=registrar, on=TODAY
    )

    expected = selectors_memberships.DUES_ELSEWHERE_AMOUNT % {
        "name": "Ola Skyldner",
        "club": "Frogner IL",
        "date": short(TODAY - 40 * DAY),
        "amount": "NOK " + formats.number_format(Decimal("1250.00"), 2, force_grouping=True),
    }
    assert [w.message for w in warnings] == [str(expected)]


def test_joining_while_owing_elsewhere_needs_confirmation(world, debtor):
    registrar = world.user("official_this_club", MANAGE)
    ordinary = MembershipTypeFactory(club=world.club_a, code="ordinary")

    with pytest.raises(ValidationError) as error:
        membership_services.membership_join(
            actor=registrar, club=world.club_a, person=debtor, membership_type=ordinary
        )

    [message] = error.value.message_dict["confirm_warnings"]
    assert message.startswith("Ola Skyldner owes dues to Frogner IL (due since ")
    assert not Membership.objects.filter(person=debtor).exists()

    joined = membership_services.membership_join(
        actor=registrar,
        club=world.club_a,
        person=debtor,
        membership_type=ordinary,
        warnings_confirmed=True,
    )

    assert joined.club == world.club_a


# ------------------------------------------------------------------ strike-off list


@pytest.fixture
def owing_members(world):
    """Club A's members: one owing for 366 days, one for 365 days, one who paid, one owing
    to club B only."""
    ordinary = MembershipTypeFactory(club=world.club_a, code="ordinary")
    persons = {}
    for name in ("old_debt", "one_year", "paid", "elsewhere"):
        persons[name] = PersonFactory(first_name=name.replace("_", " ").title(), last_name="A")
        MembershipFactory(
            person=persons[name],
            club=world.club_a,
            membership_type=ordinary,
            start_date=TODAY - 800 * DAY,
        )
    invoice(world.club_a, persons["old_debt"], due=TODAY - 366 * DAY)
    invoice(world.club_a, persons["old_debt"], due=TODAY - 20 * DAY)  # not counted
    invoice(world.club_a, persons["one_year"], due=TODAY - 365 * DAY)
    pay(invoice(world.club_a, persons["paid"], due=TODAY - 400 * DAY), "500.00")
    invoice(world.club_b, persons["elsewhere"], due=TODAY - 400 * DAY)
    return persons


def test_members_owing_dues_for_more_than_a_year_are_listed_for_striking_off(world, owing_members):
    rows = selectors_memberships.memberships_to_strike_off(club=world.club_a, on=TODAY)

    assert [(row.membership.person, row.owed) for row in rows] == [
        (
            owing_members["old_debt"],
            dues_status.OwedDues(
                world.club_a.pk, world.club_a.name, Decimal("500.00"), TODAY - 366 * DAY
            ),
        )
    ]


def test_ended_membership_leaves_the_strike_off_list(world, owing_members):
    membership = Membership.objects.get(person=owing_members["old_debt"])
    membership_services.membership_end(actor=None, membership=membership, end_date=TODAY)

    assert selectors_memberships.memberships_to_strike_off(club=world.club_a, on=TODAY) == []
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ENDED


def test_strike_off_page_lists_with_bounded_queries(
    world, owing_members, django_assert_max_num_queries
):
    ordinary = owing_members["old_debt"].memberships.get().membership_type
    for number in range(5):
        person = PersonFactory(last_name=f"Debtor {number}")
        MembershipFactory(
            person=person,
            club=world.club_a,
            membership_type=ordinary,
            start_date=TODAY - 800 * DAY,
        )
        invoice(world.club_a, person, due=TODAY - 500 * DAY)
    client = world.client("official_this_club", MANAGE)
    client.get(reverse("members:strike-off-list", args=[world.club_a.pk]))  # warm caches

    with django_assert_max_num_queries(20) as captured:
        response = client.get(reverse("members:strike-off-list", args=[world.club_a.pk]))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 6
    assert (
        reverse("members:membership-end", args=[owing_members["old_debt"].memberships.get().pk])
        in response.content.decode()
    )
    queries_for_six = len(captured)
    for number in range(5, 10):
        person = PersonFactory(last_name=f"Debtor {number}")
        MembershipFactory(
            person=person, club=world.club_a, membership_type=ordinary, start_date=TODAY - 800 * DAY
        )
        invoice(world.club_a, person, due=TODAY - 500 * DAY)
    with django_assert_max_num_queries(queries_for_six):
        response = client.get(reverse("members:strike-off-list", args=[world.club_a.pk]))
    assert len(response.context["page"].object_list) == 11


@pytest.mark.parametrize("role", ROLES)
def test_strike_off_page_access(world, role):
    case = Case(
        "html strike-off list",
        MANAGE,
        get(lambda w: reverse("members:strike-off-list", args=[w.club_a.pk])),
        200,
        HTML_DENIED,
        302,
    )

    check_case(world, case, role)
