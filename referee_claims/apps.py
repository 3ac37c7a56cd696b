from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefereeClaimsConfig(AppConfig):
    name = "referee_claims"
    verbose_name = _("Referee claims")
