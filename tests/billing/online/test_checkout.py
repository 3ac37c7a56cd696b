"""M-11: a member pays for the whole family or only for themself; the others stay unpaid and
get reminders. M-10: the paid persons' memberships become active."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.delivery import selectors as delivery_selectors
from billing.models_online import CheckoutScope, CheckoutSession
from billing.models_payments import MatchState, Payment
from billing.online import selectors, services
from billing.online.file_adapter import SandboxProvider
from members.models import MembershipStatus
from tests.billing.online.helpers import SHARES, statuses
from tests.billing.payments.helpers import make_invoice
from tests.members.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIVE, PENDING = MembershipStatus.ACTIVE, MembershipStatus.PENDING_VERIFICATION


def _pay(session: CheckoutSession, event_id: str):  # type: ignore[no-untyped-def]
    signed = SandboxProvider().complete(session.provider_session_id, pay=True)
    assert signed is not None
    headers = {"Sandbox-Signature": signed.signature}
    return services.webhook_receive("sandbox", signed.body, headers)


def test_m11_pay_for_myself_only_leaves_the_others_unpaid_with_reminders(family):
    father = family.users["father"]

    session = services.checkout_start(
        actor=father, payer=father.person, invoices=[family.invoice], scope=CheckoutScope.SELF
    )
    _pay(session, "evt_self")

    assert session.total.amount == SHARES["father"]
    assert session.person_ids == [family.persons["father"].pk]
    payment = Payment.objects.get()
    assert payment.amount.amount == Decimal("450.00")
    assert payment.match_state == MatchState.PARTIAL
    # M-10 for the father only; the mother and the child stay unpaid.
    assert statuses(family) == {"mother": PENDING, "father": ACTIVE, "child": PENDING}
    owed = delivery_selectors.amounts_owed([family.invoice.pk])
    assert owed == {family.invoice.pk: Decimal("800.00")}  # still owing: reminders go out
    # He cannot pay his own share twice.
    (row,) = selectors.payable_invoices(father.person)
    assert (row.owed, row.own_share) == (Decimal("800.00"), Decimal("0.00"))
    with pytest.raises(ValidationError) as error:
        services.checkout_start(
            actor=father, payer=father.person, invoices=[family.invoice], scope=CheckoutScope.SELF
        )
    assert error.value.messages == [str(services.NOTHING_TO_PAY)]


def test_m11_the_whole_family_pays_what_is_left(family):
    father, mother = family.users["father"], family.users["mother"]
    _pay(
        services.checkout_start(
            actor=father, payer=father.person, invoices=[family.invoice], scope=CheckoutScope.SELF
        ),
        "evt_father",
    )

    session = services.checkout_start(
        actor=mother, payer=mother.person, invoices=[family.invoice], scope=CheckoutScope.FAMILY
    )
    _pay(session, "evt_family")

    assert session.total.amount == Decimal("800.00")
    assert sorted(Payment.objects.values_list("match_state", flat=True)) == [
        MatchState.MATCHED,
        MatchState.PARTIAL,
    ]
    assert delivery_selectors.amounts_owed([family.invoice.pk]) == {family.invoice.pk: Decimal(0)}
    assert set(statuses(family).values()) == {ACTIVE}


def test_a_member_may_not_pay_someone_elses_invoice(world, family):
    stranger = UserFactory(person=PersonFactory())
    other = make_invoice(world.club_a, stranger.person, 2, "100.00")

    with pytest.raises(PermissionDenied):
        services.checkout_start(actor=stranger, payer=stranger.person, invoices=[family.invoice])
    with pytest.raises(PermissionDenied):  # paying as another person
        services.checkout_start(
            actor=family.users["mother"], payer=stranger.person, invoices=[other]
        )
    assert CheckoutSession.objects.count() == 0


def test_invoices_of_two_clubs_are_paid_separately(world, family):
    mother = family.users["mother"]
    elsewhere = make_invoice(world.club_b, mother.person, 1, "100.00")

    with pytest.raises(ValidationError) as error:
        services.checkout_start(
            actor=mother, payer=mother.person, invoices=[family.invoice, elsewhere]
        )

    assert error.value.messages == [str(services.ONE_CLUB)]
    assert CheckoutSession.objects.count() == 0
