"""Competences (P-13): e.g. coach or referee qualifications."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.models.persons import Person


class CompetenceType(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=150)
    sport = models.CharField(_("sport"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("competence type")
        verbose_name_plural = _("competence types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Competence(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="competences", verbose_name=_("person")
    )
    competence_type = models.ForeignKey(
        CompetenceType,
        on_delete=models.PROTECT,
        related_name="competences",
        verbose_name=_("competence type"),
    )
    comment = models.TextField(_("comment"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_temporarily_inactive = models.BooleanField(_("temporarily inactive"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("competence")
        verbose_name_plural = _("competences")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="competence_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return str(self.competence_type)
