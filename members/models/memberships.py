"""Memberships, families, guardians and membership verification (issue 5).

- A membership ties a person to a club for a period (calendar year, D-02, or date to date,
  M-12); its type is one the club defines, in one of the categories the price engine knows.
- Resigning ends a membership from the day the resignation is received; ended members are
  never invoiced again. Leaving a group or team is ending a function, not a membership.
- A family groups personal memberships (M-11, D-01); its contact is the first registered.
- A new member confirms their data through a single-use link valid 24 hours (M-14, S-08).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.models.functions import DateRange
from members.models.organisations import Organisation
from members.models.persons import Person


class MembershipCategory(models.TextChoices):
    """What the price engine needs to know about a membership type (D-01, D-05)."""

    ORDINARY = "ordinary", _("Ordinary")
    JUNIOR = "junior", _("Junior")
    SENIOR = "senior", _("Senior")
    FAMILY = "family", _("Family")
    PENSIONER = "pensioner", _("Pensioner")
    HONORARY = "honorary", _("Honorary")
    OTHER = "other", _("Other")


class PeriodKind(models.TextChoices):
    CALENDAR_YEAR = "calendar_year", _("Calendar year")  # D-02
    DATE_TO_DATE = "date_to_date", _("12 months from purchase")  # M-12


class MembershipType(models.Model):
    club = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="membership_types",
        verbose_name=_("club"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=MembershipCategory.choices)
    period_kind = models.CharField(
        _("period"), max_length=20, choices=PeriodKind.choices, default=PeriodKind.CALENDAR_YEAR
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership type")
        verbose_name_plural = _("membership types")
        ordering = ["club", "name"]
        constraints = [
            models.UniqueConstraint(fields=["club", "code"], name="membership_type_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Family(models.Model):
    """M-11/D-01: personal memberships grouped under one family price."""

    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="families", verbose_name=_("club")
    )
    name = models.CharField(_("name"), max_length=150)
    contact_person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="families_as_contact",
        verbose_name=_("contact person"),
        help_text=_("The first registered member of the family (M-11)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Membership(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("person")
    )
    club = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("club")
    )
    membership_type = models.ForeignKey(
        MembershipType,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("membership type"),
    )
    family = models.ForeignKey(
        Family,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("family"),
    )
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=MembershipStatus.choices,
        default=MembershipStatus.PENDING_VERIFICATION,
    )
    start_date = models.DateField(_("joined"))
    end_date = models.DateField(_("ended"), null=True, blank=True)
    resignation_received_on = models.DateField(_("resignation received"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="membership_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(end_date__isnull=False),
                name="membership_ended_has_end_date",
            ),
            # One membership of a person in a club at a time.
            ExclusionConstraint(
                name="membership_no_overlap",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    ("club", RangeOperators.EQUAL),
                    (
                        DateRange(F("start_date"), F("end_date"), Value("[]")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message=_(
                    "The person already has a membership in this club in that period."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["club", "status"], name="membership_club_status_idx"),
            models.Index(fields=["person", "club"], name="membership_person_club_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_type} – {self.person}"


class GuardianRelation(models.Model):
    """A guardian of a child (M-14: children matched to parents; S-09: a guardian consents
    for children under 15)."""

    guardian = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="children_relations",
        verbose_name=_("guardian"),
    )
    child = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="guardian_relations",
        verbose_name=_("child"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "child"], name="guardian_unique"),
            models.CheckConstraint(condition=~Q(guardian=F("child")), name="guardian_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.child}"


class VerificationStatus(models.TextChoices):
    NOT_SENT = "not_sent", _("Not sent")
    SENT = "sent", _("Sent")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")


class VerificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MembershipVerification(models.Model):
    """S-08/M-14: a link valid 24 hours and usable once. Only a hash of the token is kept."""

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="verifications",
        verbose_name=_("membership"),
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=VerificationChannel.choices,
        default=VerificationChannel.EMAIL,
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VerificationStatus.choices,
        default=VerificationStatus.NOT_SENT,
    )
    failure_reason = models.CharField(_("reason"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership verification")
        verbose_name_plural = _("membership verifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.membership} ({self.status})"
