"""Function types and functions (P-10, P-11, P-15).

A function links a person to an organisation; its type grants capabilities there and below
(clubadmin.access). A licensed function type (e.g. a licensed player) can be held only once at
a time per person (P-15): an exclusion constraint on overlapping date ranges guards it.
"""

from __future__ import annotations

import datetime

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clubadmin.capabilities import Capability
from members.models.organisations import Organisation, OrganisationType
from members.models.persons import ContactSet, Person


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
    # P-15: a person holds at most one licensed function of a given type at a time.
    is_licensed = models.BooleanField(_("licensed"), default=False)
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


class FunctionContact(models.TextChoices):
    """P-10: a function's contact info is the person's standard set, the organisation's
    address, or another of the person's sets."""

    PERSON_STANDARD = "person_standard", _("The person's standard contact set")
    ORGANISATION = "organisation", _("The organisation's address")
    CONTACT_SET = "contact_set", _("Another of the person's contact sets")


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


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
    contact = models.CharField(
        _("contact information"),
        max_length=20,
        choices=FunctionContact.choices,
        default=FunctionContact.PERSON_STANDARD,
    )
    contact_set = models.ForeignKey(
        ContactSet,
        verbose_name=_("contact set"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="functions",
    )
    # Copied from the function type when the function is created, so that the database can
    # guard P-15 (the exclusion constraint below cannot look into another table).
    is_licensed = models.BooleanField(_("licensed"), default=False, editable=False)
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
            ),
            models.CheckConstraint(
                condition=Q(contact="contact_set", contact_set__isnull=False)
                | (~Q(contact="contact_set") & Q(contact_set__isnull=True)),
                name="function_contact_set_when_chosen",
            ),
            ExclusionConstraint(
                name="function_one_licensed_per_type",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    ("function_type", RangeOperators.EQUAL),
                    (DateRange(F("from_date"), F("to_date"), Value("[]")), RangeOperators.OVERLAPS),
                ],
                condition=Q(is_licensed=True),
                violation_error_message=_(
                    "The person already holds a licensed function of this type in that period "
                    "(P-15)."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["person", "to_date"], name="function_person_idx"),
            models.Index(fields=["organisation", "function_type"], name="function_org_type_idx"),
            models.Index(fields=["function_type", "person"], name="function_type_person_idx"),
            # "the persons of this club": access scoping and club-scoped search (P-03).
            models.Index(fields=["organisation", "person"], name="function_org_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.function_type} – {self.organisation}"

    def is_active_on(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.from_date <= day and (self.to_date is None or self.to_date >= day)

    @property
    def is_active(self) -> bool:
        return self.is_active_on()

    def validate_constraints(self, exclude: set[str] | None = None) -> None:
        # `is_licensed` is never a form field; without it Django cannot evaluate the
        # condition of the P-15 exclusion constraint, so always validate with its value.
        super().validate_constraints(exclude=set(exclude or ()) - {"is_licensed"})

    def clean(self) -> None:
        if self.to_date and self.from_date and self.to_date < self.from_date:
            raise ValidationError({"to_date": _("The to date cannot be before the from date.")})
