"""Learning the match weights from staff decisions (P-14, issue 4 scope 1: "the scoring learns
from them, measured before/after").

- Labels: decided candidates with their stored comparison levels: merged = a duplicate,
  "not a duplicate" = not. Obsolete and open pairs are no labels; a pair without levels (marked
  by hand before it was ever scored) is skipped.
- `match_model_learn` splits the labels into a training and a holdout part (stratified, seeded:
  the same labels and seed give the same split), fits new m/u probabilities on the training part
  with `scoring.fit`, starting from the parameters in use, and measures precision, recall and F1
  at `scoring.DEFAULT_THRESHOLD` on the holdout part with the parameters in use ("before") and
  the fitted ones ("after"). Scores come from the stored levels (with the term frequencies of
  the names that agreed), so the persons' data as they were when staff decided count, not
  what a merge made of them. The fitted model takes the register's name frequencies as its
  term frequency references (`scoring.fit`): its m and u describe this register.
- The new model is stored with both measurements (`MatchModel.metrics`) and becomes the active
  one only when F1 on the holdout does not drop: labels are few and biased (staff only see pairs
  above the store threshold), so a fit that looks worse on unseen decisions is kept for
  inspection but not used. When it is activated, the open candidates get their scores and
  explanation weights from their stored levels under the new model at once (the next full run
  recomputes them from the data anyway).
- The match model is register-wide: only superusers (or the system itself) may learn one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from members.duplicates import detection, scoring
from members.models import CandidateStatus, DuplicateCandidate, MatchModel, User

NOT_ALLOWED = _("Only superusers may change the match model.")
NOT_ENOUGH_LABELS = _(
    "Learning needs at least %(min_duplicates)s merged and %(min_non_duplicates)s "
    "not-duplicate decisions; there are %(duplicates)s merged and %(non_duplicates)s "
    "not-duplicate pairs."
)
HOLDOUT_FRACTION_INVALID = _("The holdout fraction must be between 0 and 1.")

# The review queue holds few non-duplicates when the scoring is good: the unlabelled
# candidate pairs (see `unlabelled_sample`) carry most of what u is learnt from.
MIN_DUPLICATES = 10
MIN_NON_DUPLICATES = 3
DEFAULT_SEED = 20261122
RESCORE_BATCH_SIZE = 5000
# Unlabelled candidate pairs for `scoring.fit`: birth-year chunks sampled, pairs at most.
UNLABELLED_SAMPLE_YEARS = 6
UNLABELLED_SAMPLE_LIMIT = 200_000

CANDIDATE_TABLE = DuplicateCandidate._meta.db_table


@dataclass(frozen=True)
class Label:
    candidate_id: int
    levels: Mapping[str, str | float]
    is_duplicate: bool


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def score_of_levels(
    levels: Mapping[str, str | float], parameters: dict
) -> tuple[float, dict[str, float]]:
    """The match probability of stored comparison levels (with the names' term frequencies)
    under `parameters`, and the weight of each field (the explanation's weights)."""
    field_weights, total = scoring.stored_level_weights(levels, parameters)
    return scoring.probability(total), dict(zip(scoring.FIELDS, field_weights, strict=True))


def measure(
    labels: Iterable[Label], parameters: dict, threshold: float = scoring.DEFAULT_THRESHOLD
) -> Metrics:
    """Precision, recall and F1 of "score >= threshold means duplicate" on the labels."""
    true_positives = false_positives = false_negatives = 0
    for label in labels:
        predicted = score_of_levels(label.levels, parameters)[0] >= threshold
        if predicted and label.is_duplicate:
            true_positives += 1
        elif predicted:
            false_positives += 1
        elif label.is_duplicate:
            false_negatives += 1
    precision = true_positives / (true_positives + false_positives) if true_positives else 0.0
    recall = true_positives / (true_positives + false_negatives) if true_positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(
        round(precision, 4),
        round(recall, 4),
        round(f1, 4),
        true_positives,
        false_positives,
        false_negatives,
    )


def decided_labels() -> list[Label]:
    """Every decided candidate with stored levels, by id."""
    rows = (
        DuplicateCandidate.objects.filter(
            status__in=[CandidateStatus.MERGED, CandidateStatus.NOT_DUPLICATE]
        )
        .exclude(levels={})
        .order_by("pk")
        .values_list("pk", "levels", "status")
    )
    return [Label(pk, levels, status == CandidateStatus.MERGED) for pk, levels, status in rows]


def split_labels(
    labels: Sequence[Label], holdout_fraction: float, seed: int
) -> tuple[list[Label], list[Label]]:
    """(training, holdout), stratified by kind, the same for the same labels and seed."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible split, not security)
    training: list[Label] = []
    holdout: list[Label] = []
    for kind in (True, False):
        group = [label for label in labels if label.is_duplicate is kind]
        rng.shuffle(group)
        cut = round(len(group) * holdout_fraction)
        holdout.extend(group[:cut])
        training.extend(group[cut:])
    return training, holdout


def _check_labels(labels: Sequence[Label]) -> None:
    duplicates = sum(label.is_duplicate for label in labels)
    non_duplicates = len(labels) - duplicates
    if duplicates < MIN_DUPLICATES or non_duplicates < MIN_NON_DUPLICATES:
        raise ValidationError(
            NOT_ENOUGH_LABELS,
            code="not_enough_labels",
            params={
                "min_duplicates": MIN_DUPLICATES,
                "min_non_duplicates": MIN_NON_DUPLICATES,
                "duplicates": duplicates,
                "non_duplicates": non_duplicates,
            },
        )


def match_model_learn(
    *,
    actor: User | None,
    holdout_fraction: float = 0.3,
    seed: int = DEFAULT_SEED,
) -> MatchModel:
    """Fit a match model on staff decisions and activate it when F1 on the holdout labels
    does not get worse (see the module docstring)."""
    if actor is not None and not access.grants_for(actor).is_superuser:
        raise PermissionDenied(NOT_ALLOWED)
    if not 0 < holdout_fraction < 1:
        raise ValidationError(HOLDOUT_FRACTION_INVALID, code="holdout_fraction")
    _check_labels(decided_labels())
    # The sample takes a while on a large register: outside the transaction and its lock.
    frequencies = detection.register_name_frequencies()
    unlabelled = unlabelled_sample(seed=seed, frequencies=frequencies)
    return _learn(actor, holdout_fraction, seed, unlabelled, frequencies)


@transaction.atomic
def _learn(
    actor: User | None,
    holdout_fraction: float,
    seed: int,
    unlabelled: list[dict[str, str]],
    frequencies: scoring.NameFrequencies,
) -> MatchModel:
    # One learner at a time: the active model is read, compared and replaced below.
    current = MatchModel.objects.select_for_update().filter(is_active=True).first()
    labels = decided_labels()
    _check_labels(labels)
    training, holdout = split_labels(labels, holdout_fraction, seed)
    base = current.parameters if current is not None else scoring.default_parameters()
    # m and u are learnt on this register: its name frequencies become the model's term
    # frequency references (`scoring.fit`).
    fitted = scoring.fit(
        [(label.levels, label.is_duplicate) for label in training],
        base=base,
        candidates=unlabelled,
        frequencies=frequencies,
    )
    before, after = measure(holdout, base), measure(holdout, fitted)
    activate = after.f1 >= before.f1
    if activate and current is not None:
        current.is_active = False
        current.save(update_fields=["is_active"])
    model = MatchModel.objects.create(
        parameters=fitted,
        is_active=activate,
        trained_on_duplicates=sum(label.is_duplicate for label in training),
        trained_on_non_duplicates=sum(not label.is_duplicate for label in training),
        metrics={
            "threshold": scoring.DEFAULT_THRESHOLD,
            "holdout_fraction": holdout_fraction,
            "seed": seed,
            "holdout_duplicates": sum(label.is_duplicate for label in holdout),
            "holdout_non_duplicates": sum(not label.is_duplicate for label in holdout),
            "base_model": current.pk if current is not None else None,
            "unlabelled_candidates": len(unlabelled),
            "before": asdict(before),
            "after": asdict(after),
            "activated": activate,
        },
        note=f"Learned from {len(training)} staff decisions",
        created_by=actor,
    )
    if activate:
        open_candidates_rescore(parameters=fitted)
    return model


def unlabelled_sample(
    *,
    seed: int,
    limit: int = UNLABELLED_SAMPLE_LIMIT,
    frequencies: scoring.NameFrequencies | None = None,
) -> list[dict[str, str]]:
    """The comparison levels of up to `limit` candidate pairs of the register that staff have
    not decided: the pairs of a few random birth-year chunks and of the shared e-mail and
    mobile chunks (households across years), as a full run would compare them. `scoring.fit`
    learns u from them (weighted by how unlikely each is a duplicate): the decided pairs alone
    are the hard cases of the review queue, and u learnt from them alone under-rates real
    duplicates. `frequencies` (the register's name frequencies) tell similar last names that
    are both names of their own from misspellings, as a full run does."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample, not security)
    keys = detection.plan_chunks(None)
    years = [key for key in keys if key.startswith(detection.YEAR_PREFIX)]
    rng.shuffle(years)
    contact = [f"{detection.EMAIL_PREFIX}0", f"{detection.MOBILE_PREFIX}0"]
    decided = set(
        DuplicateCandidate.objects.exclude(status=CandidateStatus.OPEN).values_list(
            "person_a_id", "person_b_id"
        )
    )
    sample: list[dict[str, str]] = []
    chosen = [*contact, *years[:UNLABELLED_SAMPLE_YEARS]] if keys else []
    for key in chosen:
        pairs, by_id = detection.chunk_pairs(key, None)
        pairs = [pair for pair in pairs if pair not in decided]
        room = limit // 2 if key in contact else limit - len(sample)
        if len(pairs) > room:
            pairs = rng.sample(pairs, max(room, 0))
        prepared = {person_id: scoring.prepare(record) for person_id, record in by_id.items()}
        sample.extend(
            dict(
                zip(
                    scoring.FIELDS,
                    scoring.score_levels(prepared[a], prepared[b], frequencies),
                    strict=True,
                )
            )
            for a, b in pairs
        )
        if len(sample) >= limit:
            break
    return sample[:limit]


RESCORE_SQL = f"""
UPDATE {CANDIDATE_TABLE} AS c
SET score = t.score, explanation = t.explanation::jsonb, updated_at = now()
FROM unnest(%(ids)s::bigint[], %(score)s::float8[], %(explanation)s::text[])
     AS t(id, score, explanation)
WHERE c.id = t.id AND c.status = %(open)s
"""  # noqa: S608 (the table name is ours; values are parameters)


def open_candidates_rescore(*, parameters: dict | None = None) -> int:
    """Scores and explanation weights of the open candidates from their stored levels under
    `parameters` (default: the active model). Returns how many were rescored."""
    parameters = parameters if parameters is not None else detection.active_parameters()
    queryset = (
        DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN)
        .exclude(levels={})
        .order_by("pk")
        .values_list("pk", "levels", "explanation")
    )
    rescored = 0
    batch: list[tuple[int, float, str]] = []
    for pk, levels, explanation in queryset.iterator(chunk_size=RESCORE_BATCH_SIZE):
        score, field_weights = score_of_levels(levels, parameters)
        items = [
            {**item, "weight": round(field_weights.get(item.get("field"), 0.0), 2)}
            if item.get("field") in field_weights
            else item
            for item in explanation or []
        ]
        batch.append((pk, score, json.dumps(items)))
        if len(batch) >= RESCORE_BATCH_SIZE:
            rescored += _write_scores(batch)
            batch = []
    return rescored + _write_scores(batch)


def _write_scores(batch: list[tuple[int, float, str]]) -> int:
    if not batch:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            RESCORE_SQL,
            {
                "ids": [pk for pk, _score, _explanation in batch],
                "score": [score for _pk, score, _explanation in batch],
                "explanation": [explanation for _pk, _score, explanation in batch],
                "open": CandidateStatus.OPEN.value,
            },
        )
        return cursor.rowcount
