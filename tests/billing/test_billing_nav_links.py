"""The club's billing navigation (billing.page_access.club_billing_links): every billing page
that exists, grouped, shown only to whoever may open it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import page_access
from clubadmin.capabilities import Capability

pytestmark = pytest.mark.django_db

DUES_PAGES = [
    "schedule-list",
    "club-dues",
    "agreement-list",
    "contract-list",
    "hours-list",
    "trial-list",
    "payment-list",
]
MANAGE_PAGES = [
    "invoice-list",
    "invoicing-run-list",
    "invoicing-run-new",
    "delivery-list",
    "delivery-paper",
    "reminder-list",
    "reminder-policy",
    "payment-files",
    "payment-reconciliation",
    "refund-list",
    "ledger",
]
REPORT = "membership-report"


def urls(club, names):
    return [reverse(f"billing:{name}", args=[club.pk]) for name in names]


def test_billing_manager_gets_every_page_grouped(world):
    user = world.user("official_this_club", Capability.BILLING_MANAGE)

    links = page_access.club_billing_links(user, world.club_a)

    assert [link.url for link in links] == urls(world.club_a, [*DUES_PAGES, *MANAGE_PAGES, REPORT])
    assert [link.group for link in links] == (
        [page_access.DUES] * 7
        + [page_access.INVOICING] * 7
        + [page_access.PAYMENTS] * 3
        + [page_access.REPORTS] * 2
    )


def test_registrar_without_billing_manage_sees_dues_pages_and_report_only(world):
    user = world.user("official_without_capability", Capability.BILLING_MANAGE)

    links = page_access.club_billing_links(user, world.club_a)

    assert [link.url for link in links] == urls(world.club_a, [*DUES_PAGES, REPORT])


@pytest.mark.parametrize("role", ["anonymous", "member", "official_other_club"])
def test_no_links_without_a_billing_or_members_capability_in_the_club(world, role):
    assert page_access.club_billing_links(world.user(role), world.club_a) == []


def test_no_links_for_an_organisation_that_is_not_a_club(world):
    user = world.user("official_this_club", Capability.BILLING_MANAGE)

    assert page_access.club_billing_links(user, world.team_a) == []


def test_every_link_opens_for_the_billing_manager(world):
    client = world.client("official_this_club", Capability.BILLING_MANAGE)
    user = world.user("official_this_club", Capability.BILLING_MANAGE)

    statuses = {
        link.url: client.get(link.url).status_code
        for link in page_access.club_billing_links(user, world.club_a)
    }

    assert set(statuses.values()) == {200}, statuses


def test_club_page_shows_the_links_by_capability(world):
    manager = world.client("official_this_club", Capability.BILLING_MANAGE)
    registrar = world.client("official_without_capability", Capability.BILLING_MANAGE)
    detail = reverse("members:organisation-detail", args=[world.club_a.pk])
    ledger = reverse("billing:ledger", args=[world.club_a.pk])

    assert ledger in manager.get(detail).content.decode()
    assert ledger not in registrar.get(detail).content.decode()
