"""A club's membership settings that its fee schedule decides (issue 5): the family size
limit (D-01, M-11) and the day the membership fee falls due, which ends a paid year's
validity (D-02).

The fee schedule belongs to billing, and members must not import billing (billing ->
members, ARCHITECTURE.md). So billing registers a provider here when it starts
(`billing.apps`), the way it registers its scoped models with clubadmin.access; members asks
`for_club()`. Without a provider, or when the club has no fee schedule, the example club's
values of members.membership_rules apply (7 members, 1 March).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from members import membership_rules
from members.models import Organisation


@dataclass(frozen=True)
class MembershipSettings:
    family_member_limit: int = membership_rules.FAMILY_MEMBER_LIMIT
    fee_due_month: int = membership_rules.FEE_DUE_MONTH
    fee_due_day: int = membership_rules.FEE_DUE_DAY


DEFAULTS = MembershipSettings()

# (club, season) -> the club's settings for the season, or None when it has none
Provider = Callable[[Organisation, int], MembershipSettings | None]
_providers: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Called once by the app that keeps the settings (billing); safe to call twice."""
    if provider not in _providers:
        _providers.append(provider)


def for_club(club: Organisation, season: int) -> MembershipSettings:
    """The club's settings for `season` (a calendar year), else the example values."""
    for provider in _providers:
        found = provider(club, season)
        if found is not None:
            return found
    return DEFAULTS
