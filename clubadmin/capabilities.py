"""The capabilities a function type can grant (P-10). A capability held through a function in
an organisation applies to that organisation and every organisation below it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.TextChoices):
    PERSONS_VIEW = "persons.view", _("View persons")
    PERSONS_EDIT = "persons.edit", _("Edit persons")
    ORGANISATIONS_MANAGE = "organisations.manage", _("Manage organisations")
    FUNCTIONS_MANAGE = "functions.manage", _("Manage functions")
    MEMBERS_MANAGE = "members.manage", _("Manage memberships")
    BILLING_MANAGE = "billing.manage", _("Manage billing")
    CLAIMS_APPROVE = "claims.approve", _("Approve referee claims")
    TRANSFERS_ADMIN = "transfers.admin", _("Administer transfers")
    RESCHEDULING_DECIDE = "rescheduling.decide", _("Decide rescheduling requests")
    DUPLICATES_MERGE = "duplicates.merge", _("Merge duplicate persons")
    ADMIN_ACCESS = "admin.access", _("Use the federation admin")


ALL_CAPABILITIES = frozenset(Capability.values)
