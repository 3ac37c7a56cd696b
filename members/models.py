"""Organisations, persons, users, function types and functions.

The organisation tree is a materialized path (django-treebeard `MP_Node`): "this organisation
and everything below it" is one indexed `path LIKE 'prefix%'` query, which is what access
control asks on every request.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from clubadmin.capabilities import Capability
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


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class Person(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # S-03: the national person id of the sports register, never a fødselsnummer.
    national_person_id = models.CharField(
        _("national person id"), max_length=20, null=True, blank=True, unique=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("place"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="person_name_idx"),
            models.Index(fields=["birth_date"], name="person_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(
            part for part in (self.first_name, self.middle_name, self.last_name) if part
        )


class User(AbstractUser):
    """A login. It links to at most one person (OneToOne), whose functions grant its rights."""

    person = models.OneToOneField(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
    )
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=[("nb", _("Norwegian Bokmål")), ("en", _("English"))],
        default="nb",
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


def _capability_choices() -> list[tuple[str, str]]:
    return list(Capability.choices)


class FunctionType(models.Model):
    """A kind of function (role). It grants its capabilities on the organisation of a function
    and on every organisation below it (P-10)."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    capabilities = ArrayField(
        models.CharField(max_length=40, choices=_capability_choices()),
        verbose_name=_("capabilities"),
        default=list,
        blank=True,
    )
    organisation_types = ArrayField(
        models.CharField(max_length=20, choices=OrganisationType.choices),
        verbose_name=_("organisation types"),
        default=list,
        blank=True,
        help_text=_("Where this function can be held. Empty means any organisation."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("function type")
        verbose_name_plural = _("function types")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.name


class FunctionQuerySet(models.QuerySet["Function"]):
    def active(self, on: datetime.date | None = None) -> FunctionQuerySet:
        """P-10: active from from_date, up to and including to_date; no to_date means open."""
        day = on or timezone.localdate()
        return self.filter(Q(to_date__isnull=True) | Q(to_date__gte=day), from_date__lte=day)


class Function(models.Model):
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="functions"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="functions",
    )
    function_type = models.ForeignKey(
        FunctionType,
        verbose_name=_("function type"),
        on_delete=models.PROTECT,
        related_name="functions",
    )
    from_date = models.DateField(_("from date"), default=timezone.localdate)
    to_date = models.DateField(_("to date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FunctionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("function")
        verbose_name_plural = _("functions")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_date__isnull=True) | Q(to_date__gte=models.F("from_date")),
                name="function_to_after_from",
            )
        ]
        indexes = [
            models.Index(fields=["person", "to_date"], name="function_person_idx"),
            models.Index(fields=["organisation", "function_type"], name="function_org_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.function_type} – {self.organisation}"

    def is_active_on(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.from_date <= day and (self.to_date is None or self.to_date >= day)

    @property
    def is_active(self) -> bool:
        return self.is_active_on()

    def clean(self) -> None:
        if self.to_date and self.from_date and self.to_date < self.from_date:
            raise ValidationError({"to_date": _("The to date cannot be before the from date.")})
