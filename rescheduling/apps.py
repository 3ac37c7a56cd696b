from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReschedulingConfig(AppConfig):
    name = "rescheduling"
    verbose_name = _("Rescheduling")
