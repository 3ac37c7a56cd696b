"""Who may use the billing pages of a club (issue 5), on top of clubadmin.access.

- Fee schedules, agreements, contracts, volunteer hours, trial periods and payment
  preferences: `billing.manage` in the club changes them; `members.manage` in the club sees
  them read-only (the registrar answers members' questions about their dues).
- D-11: hardship exemptions and agreements to work off the fee are confidential: only the
  club's general manager sees or changes them (`billing.selectors.is_general_manager`), and
  only they change the confidential exemption rules of a fee schedule.
- Missing and forbidden look the same: Http404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from billing import selectors
from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Organisation, OrganisationType, User

UserLike = User | AnonymousUser | None


def may_manage(user: UserLike, club: Organisation) -> bool:
    return access.has_capability(user, Capability.BILLING_MANAGE, club)


def may_view(user: UserLike, club: Organisation) -> bool:
    return may_manage(user, club) or access.has_capability(user, Capability.MEMBERS_MANAGE, club)


def may_see_confidential(user: UserLike, club: Organisation) -> bool:
    """D-11: the club's general manager, who also holds billing.manage there."""
    return may_manage(user, club) and selectors.is_general_manager(user, club)


def club_or_404(user: UserLike, pk: int | str, *, manage: bool = False) -> Organisation:
    """A club whose billing pages the user may see (or change, with `manage`)."""
    club = Organisation.objects.filter(pk=pk, organisation_type=OrganisationType.CLUB).first()
    if club is None:
        raise Http404
    allowed = may_manage(user, club) if manage else may_view(user, club)
    if not allowed:
        raise Http404
    return club


def require(condition: bool) -> None:
    if not condition:
        raise Http404


DUES = _("Dues")
INVOICING = _("Invoicing")
PAYMENTS = _("Payments")
REPORTS = _("Reports")


@dataclass(frozen=True)
class Link:
    label: str | Promise
    url: str
    group: str | Promise = DUES


def club_billing_links(user: UserLike, organisation: object) -> list[Link]:
    """The club's billing pages the user may open (none for other organisations), grouped
    Dues / Invoicing / Payments / Reports. members.manage sees the dues pages (read-only)
    and the annual report (S-07); billing.manage everything else; the general manager the
    hardship exemptions (D-11). Online payment is the member portal's (`billing:online-pay`)."""
    if (
        not isinstance(organisation, Organisation)
        or organisation.organisation_type != OrganisationType.CLUB
        or not may_view(user, organisation)
    ):
        return []
    pk = organisation.pk

    def link(label: str | Promise, name: str, group: str | Promise = DUES) -> Link:
        return Link(label, reverse(f"billing:{name}", args=[pk]), group)

    links = [
        link(_("Fee schedules"), "schedule-list"),
        link(_("Dues"), "club-dues"),
        link(_("Exemption agreements"), "agreement-list"),
        link(_("Volunteer contracts"), "contract-list"),
        link(_("Volunteer hours"), "hours-list"),
        link(_("Trial periods"), "trial-list"),
        link(_("Payment preferences"), "payment-list"),
    ]
    if may_see_confidential(user, organisation):
        links.append(link(_("Hardship exemptions"), "hardship-list"))
    if may_manage(user, organisation):  # issue 6
        links += [
            link(_("Invoices"), "invoice-list", INVOICING),
            link(_("Invoicing runs"), "invoicing-run-list", INVOICING),
            link(_("New invoicing run"), "invoicing-run-new", INVOICING),
            link(_("Deliveries"), "delivery-list", INVOICING),
            link(_("Paper list"), "delivery-paper", INVOICING),
            link(_("Reminders"), "reminder-list", INVOICING),
            link(_("Reminder policy"), "reminder-policy", INVOICING),
            link(_("Payment files"), "payment-files", PAYMENTS),
            link(_("Reconciliation"), "payment-reconciliation", PAYMENTS),
            link(_("Refunds and payouts"), "refund-list", PAYMENTS),
            link(_("Ledger"), "ledger", REPORTS),
        ]
    links.append(link(_("Annual membership report"), "membership-report", REPORTS))
    return links
