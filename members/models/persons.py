"""Persons, their logins, sports ids, contact sets (P-08) and bank accounts (P-09).

Contact data lives only in contact sets: every person has exactly one standard set (P-08),
which search, lists and e-mails use. Names are also kept folded (lower case, æøå and accents
to ASCII by the database function `clubadmin_fold`) in generated columns with trigram
indexes, for accent- and typo-tolerant search (P-01) and duplicate detection (P-14).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members import validators


class Fold(Func):
    """clubadmin_fold(text): lower case, accents and æøå folded to ASCII (immutable)."""

    function = "clubadmin_fold"
    output_field = models.CharField()


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
    # P-05: issued anew when name, gender or birth date change; old ids stay in
    # SportsIdHistory and still find the person.
    sports_id = models.CharField(_("sports id"), max_length=20, unique=True)
    is_deceased = models.BooleanField(_("deceased"), default=False)
    date_of_death = models.DateField(_("date of death"), null=True, blank=True)
    # P-07: reserved persons are left out of the data wash against the population register.
    reserved_against_data_wash = models.BooleanField(_("reserved against data wash"), default=False)
    first_name_folded = models.GeneratedField(
        expression=Fold(F("first_name")),
        output_field=models.CharField(max_length=100),
        db_persist=True,
    )
    last_name_folded = models.GeneratedField(
        expression=Fold(F("last_name")),
        output_field=models.CharField(max_length=100),
        db_persist=True,
    )
    # P-14: a person merged into another keeps their row (so the merge can be undone) but
    # is left out of search, lists and duplicate detection.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_persons",
        verbose_name=_("merged into"),
    )
    # The person's id in the system they were imported from (issue 4, import_persons).
    source_id = models.CharField(_("source id"), max_length=100, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["first_name_folded", "last_name_folded"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints = [
            # P-06: a date of death only for a deceased person, and not before birth.
            models.CheckConstraint(
                condition=Q(is_deceased=True) | Q(date_of_death__isnull=True),
                name="person_death_date_only_if_deceased",
            ),
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True)
                | Q(birth_date__isnull=True)
                | Q(date_of_death__gte=F("birth_date")),
                name="person_death_after_birth",
            ),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="person_name_idx"),
            models.Index(fields=["birth_date"], name="person_birth_date_idx"),
            models.Index(
                fields=["last_name_folded", "first_name_folded"], name="person_folded_name_idx"
            ),
            GinIndex(
                OpClass(F("last_name_folded"), name="gin_trgm_ops"), name="person_last_name_trgm"
            ),
            GinIndex(
                OpClass(F("first_name_folded"), name="gin_trgm_ops"), name="person_first_name_trgm"
            ),
            models.Index(
                fields=["source_id"], name="person_source_id_idx", condition=~Q(source_id="")
            ),
            models.Index(
                fields=["merged_into"],
                name="person_merged_into_idx",
                condition=Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def full_name(self) -> str:
        return " ".join(
            part for part in (self.first_name, self.middle_name, self.last_name) if part
        )


class SportsIdHistory(models.Model):
    """P-05: a sports id a person had before; searching for it still finds the person."""

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="previous_sports_ids",
        verbose_name=_("person"),
    )
    sports_id = models.CharField(_("sports id"), max_length=20, unique=True)
    replaced_at = models.DateTimeField(_("replaced at"), auto_now_add=True)

    class Meta:
        verbose_name = _("previous sports id")
        verbose_name_plural = _("previous sports ids")

    def __str__(self) -> str:
        return self.sports_id


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
    # Empty: no choice made, the interface follows the site's default (bokmål).
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=[("nb", _("Norwegian Bokmål")), ("en", _("English"))],
        blank=True,
        default="",
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class ContactSet(models.Model):
    """P-08: a set of contact data. Exactly one per person is the standard set; each of
    phone, e-mail, fax and postal address can be hidden from the public."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="contact_sets", verbose_name=_("person")
    )
    label = models.CharField(_("description"), max_length=60, default="Privat")
    is_standard = models.BooleanField(_("standard"), default=False)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("place"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(
        _("mobile phone"),
        max_length=20,
        blank=True,
        help_text=_("Stored in E.164 form, e.g. +4791234567."),
    )
    phone = models.CharField(_("other phone"), max_length=20, blank=True)
    fax = models.CharField(_("fax"), max_length=20, blank=True)
    hide_address = models.BooleanField(_("hide address from the public"), default=False)
    hide_email = models.BooleanField(_("hide e-mail from the public"), default=False)
    hide_phone = models.BooleanField(_("hide phone numbers from the public"), default=False)
    hide_fax = models.BooleanField(_("hide fax from the public"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact set")
        verbose_name_plural = _("contact sets")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_standard=True),
                name="contact_set_one_standard_per_person",
                violation_error_message=_("A person has exactly one standard contact set."),
            ),
        ]
        indexes = [
            models.Index(fields=["postcode"], name="contact_set_postcode_idx"),
            models.Index(fields=["email"], name="contact_set_email_idx"),
            models.Index(fields=["mobile"], name="contact_set_mobile_idx"),
            GinIndex(OpClass(Fold(F("city")), name="gin_trgm_ops"), name="contact_set_city_trgm"),
        ]

    def __str__(self) -> str:
        return self.label


class BankAccountType(models.TextChoices):
    PRIVATE = "private", _("Private")
    REFUNDS = "refunds", _("Refunds and expenses")
    FEES = "fees", _("Fees (e.g. referee fees)")
    OTHER = "other", _("Other")


class BankAccount(models.Model):
    """P-09: at most one account per type and one default account per person; a Norwegian
    account number (S-04) or, for a foreign account, an IBAN."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="bank_accounts", verbose_name=_("person")
    )
    account_type = models.CharField(
        _("account type"),
        max_length=20,
        choices=BankAccountType.choices,
        default=BankAccountType.PRIVATE,
    )
    account_number = models.CharField(
        _("account number"),
        max_length=11,
        blank=True,
        validators=[validators.validate_bank_account],
    )
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    owner_name = models.CharField(_("account owner"), max_length=200)
    is_default = models.BooleanField(_("default account"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "account_type"],
                name="bank_account_one_per_type",
                violation_error_message=_("The person already has an account of this type."),
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_default=True),
                name="bank_account_one_default",
                violation_error_message=_("A person has at most one default account."),
            ),
            models.CheckConstraint(
                condition=(Q(account_number="") & ~Q(iban=""))
                | (~Q(account_number="") & Q(iban="")),
                name="bank_account_number_or_iban",
                violation_error_message=_("Give either a Norwegian account number or an IBAN."),
            ),
        ]

    def __str__(self) -> str:
        return self.account_number or self.iban
