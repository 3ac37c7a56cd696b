"""Duplicate persons (P-14, issue 4): candidate pairs, detection runs, learned match weights
and merges.

- A candidate is a pair of persons (lower id first) with the score and the explanation of the
  detection engine (`members.duplicates`). Staff decide: "not a duplicate" is remembered, so
  the pair never returns; "merged" closes it. Both decisions are labels the scoring learns from.
- A detection run is a row with its chunks: any worker takes a pending chunk, a reconciler
  re-queues chunks that stalled, and the run's counters say how far it has come.
- A merge keeps the merged person's row (`Person.merged_into`) and records every reference it
  moved, so that it can be undone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.models.organisations import Organisation
from members.models.persons import Person


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("Open")
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")
    MERGED = "merged", _("Merged")
    # One of the two was merged with a third person: the pair is no longer a question.
    OBSOLETE = "obsolete", _("Obsolete")


class CandidateSource(models.TextChoices):
    DETECTED = "detected", _("Full detection run")
    INCREMENTAL = "incremental", _("Check on create or change")
    MANUAL = "manual", _("Marked by hand")


class DuplicateCandidate(models.Model):
    person_a = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person A")
    )
    person_b = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person B")
    )
    # The match probability (0..1) under the match model that scored the pair.
    score = models.FloatField(_("score"), default=0.0)
    # What agreed and how strongly: [{"field", "level", "weight", "a", "b"}, ...].
    explanation = models.JSONField(_("explanation"), default=list, blank=True)
    # The comparison level per field ({"first_name": "exact", ...}): the features the
    # scoring learns from once staff decide the pair.
    levels = models.JSONField(_("comparison levels"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=CandidateSource.choices,
        default=CandidateSource.DETECTED,
    )
    run = models.ForeignKey(
        "DetectionRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="candidates",
        verbose_name=_("detection run"),
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=Q(person_a__lt=F("person_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score"], name="duplicate_status_score_idx"),
            models.Index(fields=["person_b"], name="duplicate_person_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} ~ {self.person_b_id} ({self.score:.2f})"


class RunState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DetectionRun(models.Model):
    """A full detection run over the register, or over one organisation's persons."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=RunState.choices, default=RunState.PENDING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    match_model = models.ForeignKey(
        "MatchModel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("match model"),
    )
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    pairs_compared = models.PositiveBigIntegerField(_("pairs compared"), default=0)
    candidates_found = models.PositiveIntegerField(_("candidates found"), default=0)
    error = models.TextField(_("error"), blank=True)
    # The register's name frequencies when the run started (`scoring.NameFrequencies.as_json`:
    # persons, first- and last-name token → persons): every chunk weighs agreeing names by
    # them, so a run scores with one table whatever changes while it runs.
    name_frequencies = models.JSONField(_("name frequencies"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate detection run")
        verbose_name_plural = _("duplicate detection runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pk} ({self.state})"

    @property
    def progress_percent(self) -> int:
        if not self.chunks_total:
            return 100 if self.state == RunState.DONE else 0
        return min(100, round(100 * self.chunks_done / self.chunks_total))


class DetectionChunk(models.Model):
    """One block of a run (e.g. "year:1987", "email", "phone", "no-birth-date") that any
    worker can take; `claimed_at` lets the reconciler find chunks that stalled."""

    run = models.ForeignKey(
        DetectionRun, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("run")
    )
    key = models.CharField(_("key"), max_length=100)
    state = models.CharField(
        _("state"), max_length=20, choices=RunState.choices, default=RunState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pairs_compared = models.PositiveBigIntegerField(_("pairs compared"), default=0)
    candidates_found = models.PositiveIntegerField(_("candidates found"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("detection chunk")
        verbose_name_plural = _("detection chunks")
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="detection_chunk_unique_key"),
        ]
        indexes = [models.Index(fields=["run", "state"], name="detection_chunk_state_idx")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.key}"


class MatchModel(models.Model):
    """The match weights the scoring uses: the shipped defaults, or weights learned from staff
    decisions. Exactly one is active; without any, the shipped defaults apply."""

    parameters = models.JSONField(_("parameters"))
    is_active = models.BooleanField(_("active"), default=False)
    trained_on_duplicates = models.PositiveIntegerField(_("labelled duplicates"), default=0)
    trained_on_non_duplicates = models.PositiveIntegerField(_("labelled non-duplicates"), default=0)
    # Precision/recall/F1 before and after learning, on the labels it was not trained on.
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("match model")
        verbose_name_plural = _("match models")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="match_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} ({self.created_at:%Y-%m-%d})"


class MergeState(models.TextChoices):
    MERGED = "merged", _("Merged")
    UNDONE = "undone", _("Undone")


class PersonMerge(models.Model):
    """P-14: `merged` was merged into `survivor`. `record` holds everything the undo needs:
    both persons' data before, the survivor's changed fields, and every reference moved."""

    survivor = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="merges_survived", verbose_name=_("survivor")
    )
    merged = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="merges_absorbed",
        verbose_name=_("merged person"),
    )
    candidate = models.ForeignKey(
        DuplicateCandidate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merges",
        verbose_name=_("candidate"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=MergeState.choices, default=MergeState.MERGED
    )
    record = models.JSONField(_("record"), default=dict)
    undo_report = models.JSONField(_("undo report"), default=dict, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    performed_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-performed_at"]
        indexes = [
            models.Index(fields=["survivor"], name="merge_survivor_idx"),
            models.Index(fields=["merged"], name="merge_merged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"
