from django.http import HttpRequest

from clubadmin import access
from clubadmin.capabilities import Capability


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_admin": user.is_staff
        and (user.is_superuser or access.has_capability_anywhere(user, Capability.ADMIN_ACCESS)),
    }
