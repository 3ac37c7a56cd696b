"""Template helpers of the billing pages: the engine's texts in the user's language
(billing.texts), amounts, fee names, refund details, and the links to a club's billing pages
for those who may use them.

Amounts: `money` in columns and figures (always with øre: 1 250,00), `nok` in running text
("NOK 500 to refund": øre only when there are)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from moneyed import Money

from billing import pricing, texts
from billing.invoicing import selectors as invoicing_selectors
from billing.models import FeeSchedule
from billing.models_ledger import RefundReason
from billing.page_access import club_billing_links

register = template.Library()


@register.filter
def reason(line: pricing.Line) -> str:
    """{{ line|reason }}: the line's reason in the user's language."""
    return texts.line_reason(line)


@register.filter
def issue_text(issue: pricing.PricingIssue) -> str:
    return texts.issue_message(issue)


@register.filter
def nok(amount: Decimal | None) -> str:
    """{{ amount|nok }}: 2,400 / 2 400 as the user's language writes it."""
    return "" if amount is None else texts.money(amount)


@register.filter
def money(amount: Money | Decimal | int | None) -> str:
    """{{ amount|money }}: 1 250,00 / 1,250.00 (a Money, a Decimal or a whole number; blank
    for None): one format for every column of amounts."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, Money):
        amount = amount.amount
    return texts.amount_with_ore(amount)


@register.filter
def fee_label(fee: str) -> str:
    """{{ line.fee|fee_label }}: "Membership fee" for "membership" (`billing.texts.FEE_LABELS`)."""
    return texts.fee_label(fee)


@register.filter
def count_of(counts: dict, key: str) -> int:
    """{{ counts|count_of:state }}: the count of `key`, 0 when it has none."""
    return counts.get(key, 0) if counts else 0


def _club_facts(context: template.Context, club_id: int) -> tuple[dict, dict]:
    """(season -> M-15 refund per hour, group code -> name) of the club, read once per page."""
    cache = context.render_context.setdefault("billing_club_facts", {})
    if club_id not in cache:
        rates = dict(
            FeeSchedule.objects.filter(club_id=club_id).values_list(
                "season", "volunteer_refund_per_hour"
            )
        )
        cache[club_id] = (rates, invoicing_selectors.activity_group_names(club_id))
    return cache[club_id]


@register.simple_tag(takes_context=True)
def refund_description(context: template.Context, refund: object) -> str:
    """{% refund_description refund %}: the refund's details in the user's language, built
    from its fields (`billing.texts.refund_description`); the club's refund rates and group
    names cost two queries per page, whatever the number of refunds."""
    reason = getattr(refund, "reason", "")
    rate = group_name = None
    if reason in (RefundReason.VOLUNTEER_WORK, RefundReason.MOVING_AWAY):
        rates, names = _club_facts(context, refund.club_id)  # type: ignore[attr-defined]
        rate = rates.get(refund.season)  # type: ignore[attr-defined]
        group_name = names.get(getattr(refund, "group", ""))
    return texts.refund_description(refund, rate=rate, group_name=group_name)


@register.inclusion_tag("billing/_club_links.html", takes_context=True)
def billing_links(context: template.Context, organisation: object) -> dict[str, object]:
    """{% billing_links organisation %}: the club's fee schedules, agreements and dues, as
    far as the user may see them (nothing for other organisations)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"links": club_billing_links(user, organisation)}
