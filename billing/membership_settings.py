"""The membership settings a club's fee schedule decides, for the members app
(members.club_settings, registered in billing.apps): the family size limit (D-01, M-11) and
the membership fee's due date (D-02). The schedule of the season, else the club's latest
schedule before it (a club keeps its limit and due date until it changes them)."""

from __future__ import annotations

from billing.models import FeeSchedule
from members.club_settings import MembershipSettings
from members.models import Organisation


def membership_settings(club: Organisation, season: int) -> MembershipSettings | None:
    """One query; None when the club has no fee schedule for the season or before it."""
    row = (
        FeeSchedule.objects.filter(club=club, season__lte=season)
        .order_by("-season")
        .values_list("family_max_members", "membership_due_date")
        .first()
    )
    if row is None:
        return None
    family_max_members, due_date = row
    return MembershipSettings(
        family_member_limit=family_max_members,
        fee_due_month=due_date.month,
        fee_due_day=due_date.day,
    )
