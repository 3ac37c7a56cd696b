"""Writes for the members app: one function per use case, keyword-only, atomic, validating,
recording the acting user (django-simple-history's `_history_user`) and checking access, so
that views, API and admin cannot forget it. Raise `ValidationError`/`PermissionDenied` with
messages meant for the user. Each area has its own module; this package re-exports them."""

from members.services.common import *  # noqa: F403
from members.services.functions import *  # noqa: F403
from members.services.organisations import *  # noqa: F403
from members.services.persons import *  # noqa: F403
