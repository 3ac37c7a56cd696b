"""Template tags of the person search (P-01): whether to offer it to the user."""

from django import template

from clubadmin import access
from clubadmin.capabilities import Capability

register = template.Library()


@register.simple_tag(takes_context=True)
def may_search_persons(context: template.Context) -> bool:
    """The search is for users who may view persons somewhere (the page 404s otherwise)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated) and access.has_capability_anywhere(
        user, Capability.PERSONS_VIEW
    )
