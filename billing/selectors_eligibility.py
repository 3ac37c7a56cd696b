"""The eligibility list of a team (D-04, D-06) for its team leader: the team's players with
"may train / may play" from their dues, their invoices and payments
(`billing.payments_status_eligibility.InvoicePaymentStatus`: what is actually paid, M-11
self payments, exemptions) and trial periods."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from billing import pricing, selectors
from billing.eligibility import Eligibility, PlayerPayments, Trial, eligibility
from billing.models import TrialPeriod
from billing.payments_status_eligibility import InvoicePaymentStatus
from members.models import Function, Organisation, Person


@dataclass(frozen=True)
class PlayerEligibility:
    person: Person
    eligibility: Eligibility


def team_eligibility(
    *, team: Organisation, club: Organisation, on: datetime.date, season: int | None = None
) -> list[PlayerEligibility]:
    """Every active player of `team` on `on`, with their eligibility (bounded queries)."""
    season = season or on.year
    players = list(
        Person.objects.filter(
            functions__in=Function.objects.active(on).filter(
                organisation=team, function_type__code__in=selectors.PLAYER_CODES
            )
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    ids = [p.pk for p in players]
    config = selectors.season_config(club, season)
    facts = selectors.person_facts(club, season, selectors.related_person_ids(club, season, ids))
    dues = pricing.price_season(config, facts)
    status = InvoicePaymentStatus(club=club, season=season, person_ids=ids, dues=dues)
    trials = {t.person_id: t for t in TrialPeriod.objects.filter(team=team, person_id__in=ids)}
    facts_by_id = {f.person_id: f for f in facts}
    code = selectors.activity_group_code(club, season, team.pk)
    trial_days = selectors.club_trial_days(club, season)
    return [
        PlayerEligibility(
            player,
            eligibility(
                _payments(player, config, dues, status, facts_by_id, trials, code, trial_days),
                on,
            ),
        )
        for player in players
    ]


def _payments(
    player, config, dues, status, facts_by_id, trials, code, trial_days
) -> PlayerPayments:  # type: ignore[no-untyped-def]
    activity_due = None
    try:
        lines = dues.person(player.pk).lines_for(pricing.FeeKind.ACTIVITY)
        activity_due = next((line.due_date for line in lines if line.group == code), None)
    except KeyError:
        pass
    facts = facts_by_id.get(player.pk)
    season_start = datetime.date(config.season, 1, 1)
    new_player = facts is None or not any(m.start < season_start for m in facts.memberships)
    trial = trials.get(player.pk)
    return PlayerPayments(
        membership_paid=status.membership_paid(player.pk),
        membership_due_date=config.membership_schedule.due_date,
        activity_paid=activity_due is None or status.activity_paid(player.pk, code),
        activity_due_date=activity_due,
        new_player=new_player,
        trial=Trial(trial.start_date, trial.from_other_club, trial.former_club_agreed, trial_days)
        if trial
        else None,
    )
