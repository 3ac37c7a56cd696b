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


@dataclass(frozen=True)
class Link:
    label: str | Promise
    url: str


def club_billing_links(user: UserLike, organisation: object) -> list[Link]:
    """The club's billing pages the user may open (none for other organisations)."""
    if (
        not isinstance(organisation, Organisation)
        or organisation.organisation_type != OrganisationType.CLUB
        or not may_view(user, organisation)
    ):
        return []
    pk = organisation.pk
    links = [
        Link(_("Fee schedules"), reverse("billing:schedule-list", args=[pk])),
        Link(_("Dues"), reverse("billing:club-dues", args=[pk])),
        Link(_("Exemption agreements"), reverse("billing:agreement-list", args=[pk])),
        Link(_("Volunteer contracts"), reverse("billing:contract-list", args=[pk])),
        Link(_("Volunteer hours"), reverse("billing:hours-list", args=[pk])),
        Link(_("Trial periods"), reverse("billing:trial-list", args=[pk])),
        Link(_("Payment preferences"), reverse("billing:payment-list", args=[pk])),
    ]
    if may_manage(user, organisation):  # issue 6: invoicing
        links.append(Link(_("Invoices"), reverse("billing:invoice-list", args=[pk])))
        links.append(Link(_("Invoicing runs"), reverse("billing:invoicing-run-list", args=[pk])))
    if may_see_confidential(user, organisation):
        links.append(Link(_("Hardship exemptions"), reverse("billing:hardship-list", args=[pk])))
    return links
