"""The organisation tree: federation > region > club > group (sport section) > team.

A materialized path (django-treebeard `MP_Node`): "this organisation and everything below it"
is one indexed `path LIKE 'prefix%'` query, which is what access control asks on every request.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from members import validators


class OrganisationType(models.TextChoices):
    FEDERATION = "federation", _("Federation")
    REGION = "region", _("Region")
    CLUB = "club", _("Club")
    GROUP = "group", _("Group (sport section)")
    TEAM = "team", _("Team")


# The order of levels in the tree: a child is always of a lower level than its parent
# (a club may sit directly under a federation, a team directly under a club).
ORGANISATION_LEVELS = {
    OrganisationType.FEDERATION: 0,
    OrganisationType.REGION: 1,
    OrganisationType.CLUB: 2,
    OrganisationType.GROUP: 3,
    OrganisationType.TEAM: 4,
}


# An organisation's own data: set when it is registered and changeable later. Its place in the
# tree and its type are not (no moving records across clubs through an update).
ORGANISATION_DATA_FIELDS = (
    "name",
    "is_active",
    "organisation_number",
    "sport",
    "street",
    "postcode",
    "city",
    "country",
    "email",
    "phone",
    "bank_account",
    "kid_algorithm",
    "kid_length",
)


class KidAlgorithm(models.TextChoices):
    MOD10 = "MOD10", _("MOD10 (Luhn)")
    MOD11 = "MOD11", _("MOD11")


class Organisation(MP_Node):
    # C collation so that the btree index on path answers `LIKE 'prefix%'` (subtree queries).
    path = models.CharField(max_length=255, unique=True, db_collation="C")
    name = models.CharField(_("name"), max_length=200)
    organisation_type = models.CharField(
        _("type"), max_length=20, choices=OrganisationType.choices, db_index=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    organisation_number = models.CharField(
        _("organisation number"),
        max_length=9,
        blank=True,
        validators=[validators.validate_organisation_number],
        help_text=_("9 digits (Brønnøysund register)."),
    )
    sport = models.CharField(_("sport"), max_length=100, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("place"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    bank_account = models.CharField(
        _("bank account"),
        max_length=11,
        blank=True,
        validators=[validators.validate_bank_account],
        help_text=_("11 digits, Norwegian account number."),
    )
    kid_algorithm = models.CharField(
        _("KID algorithm"), max_length=5, choices=KidAlgorithm.choices, default=KidAlgorithm.MOD10
    )
    kid_length = models.PositiveSmallIntegerField(
        _("KID length"),
        default=10,
        validators=[MinValueValidator(2), MaxValueValidator(25)],
        help_text=_("Total number of digits including the check digit (S-01: 2 to 25)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["path", "depth", "numchild"])

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_number"],
                condition=~Q(organisation_number=""),
                name="organisation_number_unique",
                violation_error_message=_(
                    "An organisation with this organisation number already exists."
                ),
            ),
            # S-01: a KID is 2 to 25 digits long.
            models.CheckConstraint(
                condition=Q(kid_length__gte=2, kid_length__lte=25), name="organisation_kid_length"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="organisation_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> int:
        return ORGANISATION_LEVELS[OrganisationType(self.organisation_type)]

    def subtree(self) -> models.QuerySet[Organisation]:
        """This organisation and every organisation below it."""
        return Organisation.objects.filter(path__startswith=self.path)
