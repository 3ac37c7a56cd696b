"""Template helpers of the billing pages: the engine's texts in the user's language
(billing.texts) and the links to a club's billing pages for those who may use them."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing import pricing, texts
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


@register.inclusion_tag("billing/_club_links.html", takes_context=True)
def billing_links(context: template.Context, organisation: object) -> dict[str, object]:
    """{% billing_links organisation %}: the club's fee schedules, agreements and dues, as
    far as the user may see them (nothing for other organisations)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"links": club_billing_links(user, organisation)}
