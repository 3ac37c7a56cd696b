from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from clubadmin.demo_hooks import DemoContext


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def seed_demo_data(self, context: DemoContext) -> None:
        """`manage.py seed_demo`: membership types, memberships, families (members.demo)."""
        from members import demo

        demo.seed(context)
