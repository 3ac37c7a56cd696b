"""A fee schedule's rules in plain words (issue 5, scope 5: "each rule states its conditions
and effect"): built from the rule's parameters, in the user's language, next to the club's
own statement of the rule. `describe(rule, groups)` returns (conditions, effect)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import pricing
from billing.forms_schedules import (
    BENEFICIARY_CHOICES,
    FEE_KIND_CHOICES,
    LEAVE_REASON_CHOICES,
    ROLE_CHOICES,
    RULE_KIND_CHOICES,
    SCOPE_CHOICES,
)
from billing.pricing.values import format_percent
from members.models import MembershipCategory

SEPARATOR = gettext_lazy(", ")


def kind_label(kind: str) -> str:
    return str(dict(RULE_KIND_CHOICES).get(kind, kind))


def labels(values: Iterable[object], choices: Iterable[tuple[object, object]]) -> str:
    names = {str(value): label for value, label in choices}
    return str(SEPARATOR).join(str(names.get(str(value), value)) for value in values)


def _percent(value: Decimal) -> str:
    return format_percent(value)


def _groups(codes: Iterable[str], groups: Mapping[str, str]) -> str:
    return str(SEPARATOR).join(groups.get(code, code) for code in codes)


def describe(rule: pricing.Rule, groups: Mapping[str, str]) -> tuple[str, str]:
    """The rule's conditions and effect; `groups` names the schedule's groups by code."""
    params = rule.params
    if isinstance(params, pricing.MembershipTypeExemptionParams):
        return (
            _("Members of the categories: %(types)s.")
            % {"types": labels(params.membership_types, MembershipCategory.choices)},
            _("%(percent)s%% off: %(fees)s.")
            % {
                "percent": _percent(params.percent),
                "fees": labels(params.fee_kinds, FEE_KIND_CHOICES),
            },
        )
    if isinstance(params, pricing.RoleExemptionParams):
        return _describe_role(params)
    if isinstance(params, pricing.AgreementExemptionParams):
        conditions = _("A written agreement for this rule, decided case by case.")
        if params.confidential:
            conditions += " " + _("Confidential: only the general manager sees the reason (D-11).")
        return (
            conditions,
            _("Up to %(percent)s%% off: %(fees)s.")
            % {
                "percent": _percent(params.percent),
                "fees": labels(params.fee_kinds, FEE_KIND_CHOICES),
            },
        )
    if isinstance(params, pricing.SiblingsParams):
        where = _groups(params.groups, groups) if params.groups else _("every group")
        return (
            _("A family with more than %(count)s active players (activity fees in: %(groups)s).")
            % {"count": params.paying_players, "groups": where},
            _("Only the %(count)s oldest pay activity fees; the others pay none.")
            % {"count": params.paying_players},
        )
    if isinstance(params, pricing.TwoSportsParams):
        return (
            _("A player active in all of: %(groups)s.")
            % {"groups": _groups(params.groups, groups)},
            _("%(percent)s%% off each of those activity fees.")
            % {"percent": _percent(params.percent)},
        )
    if isinstance(params, pricing.LateStartParams):
        conditions = _("A player of %(group)s who starts after %(date)s.") % {
            "group": groups.get(params.group, params.group),
            "date": params.started_after.isoformat(),
        }
        if params.new_cohort_age is not None:
            conditions += " " + _(
                "Also new players aged %(age)s in the calendar year, in their first season."
            ) % {"age": params.new_cohort_age}
        return conditions, _("%(percent)s%% off the activity fee.") % {
            "percent": _percent(params.percent)
        }
    if isinstance(params, pricing.MovingAwayParams):
        conditions = _("A player who leaves %(group)s before %(date)s because of: %(reasons)s.") % {
            "group": groups.get(params.group, params.group),
            "date": params.left_before.isoformat(),
            "reasons": labels(params.reasons, LEAVE_REASON_CHOICES),
        }
        if params.documentation_required:
            conditions += " " + _("Documented.")
        return conditions, _(
            "%(percent)s%% of what is still due back: a reduction when reported before the "
            "due date, else a refund."
        ) % {"percent": _percent(params.percent)}
    return "", ""  # pragma: no cover - every kind is handled above


def _describe_role(params: pricing.RoleExemptionParams) -> tuple[str, str]:
    parts = [
        _("Holders of the roles: %(roles)s.") % {"roles": labels(params.role_kinds, ROLE_CHOICES)}
    ]
    if params.requires_volunteer_contract:
        parts.append(_("With a signed volunteer contract on file (D-10)."))
    if params.agreement_required:
        parts.append(_("With a written agreement or an approved application for this rule."))
    if params.max_holders_per_team is not None:
        parts.append(
            _("At most %(count)s holders per team.") % {"count": params.max_holders_per_team}
        )
    effect = _("%(percent)s%% off %(scope)s, for: %(whom)s.") % {
        "percent": _percent(params.percent),
        "scope": labels([params.scope], SCOPE_CHOICES).lower(),
        "whom": labels(params.beneficiaries, BENEFICIARY_CHOICES).lower(),
    }
    return " ".join(str(part) for part in parts), effect
