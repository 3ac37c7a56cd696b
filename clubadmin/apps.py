from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class ClubadminConfig(AppConfig):
    name = "clubadmin"
    verbose_name = _("Club administration")


class ClubAdminConfig(AdminConfig):
    """The Django admin with our site class (scoped to the user's organisations)."""

    default_site = "clubadmin.admin.ClubAdminSite"
