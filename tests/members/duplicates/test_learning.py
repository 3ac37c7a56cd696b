"""P-14, issue 4 scope 1: the scoring learns from staff decisions, measured before and after
on decisions it was not trained on (members.duplicates.learning)."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from members.duplicates import detection, learning, scoring
from members.duplicates.records import PersonRecord
from members.models import CandidateStatus, DuplicateCandidate, MatchModel
from tests.members.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def duplicate_levels(index: int) -> dict[str, str]:
    """A duplicate with a typo in the last name and a day/month swap now and then."""
    a = PersonRecord(1, "Kari", "Nordmann", birth_date=D(2005, 3, 4), street="Storgata 1")
    b = PersonRecord(
        2,
        "Kari",
        "Nordman" if index % 2 else "Nordmann",
        birth_date=D(2005, 4, 3) if index % 3 == 0 else D(2005, 3, 4),
        street="Storgata 1" if index % 4 else "Nygata 2",
    )
    return scoring.compare(a, b).levels


def sibling_levels(index: int) -> dict[str, str]:
    """Siblings: same last name, address and e-mail, other first name and birth date."""
    a = PersonRecord(
        1, "Kari", "Nordmann", birth_date=D(2005, 3, 4), street="Storgata 1", email="f@x.no"
    )
    b = PersonRecord(
        2,
        ["Marte", "Kristian", "Karin", "Kaia"][index % 4],
        "Nordmann",
        birth_date=D(2005 + index % 3, 8, 9),
        street="Storgata 1",
        email="f@x.no",
    )
    return scoring.compare(a, b).levels


@pytest.fixture
def labels(db) -> list[DuplicateCandidate]:
    """30 merged and 30 not-duplicate decisions, plus open and obsolete pairs (no labels)."""
    persons = [PersonFactory() for _ in range(13)]
    pairs = itertools.combinations(sorted(person.pk for person in persons), 2)
    created = []
    for index, (a, b) in enumerate(itertools.islice(pairs, 70)):
        if index < 30:
            status, levels = CandidateStatus.MERGED, duplicate_levels(index)
        elif index < 60:
            status, levels = CandidateStatus.NOT_DUPLICATE, sibling_levels(index)
        elif index < 65:
            status, levels = CandidateStatus.OPEN, duplicate_levels(index)
        else:
            status, levels = CandidateStatus.OBSOLETE, duplicate_levels(index)
        created.append(
            DuplicateCandidate.objects.create(
                person_a_id=a,
                person_b_id=b,
                status=status,
                levels=levels,
                score=0.5,
                explanation=[{"field": "first_name", "level": levels["first_name"], "weight": 0}],
            )
        )
    return created


def test_p14_learning_fits_measures_before_and_after_and_activates(labels):
    admin = UserFactory(is_superuser=True)

    model = learning.match_model_learn(actor=admin, holdout_fraction=0.3, seed=7)

    assert model.is_active
    assert model.created_by == admin
    assert (model.trained_on_duplicates, model.trained_on_non_duplicates) == (21, 21)
    metrics = model.metrics
    assert (metrics["holdout_duplicates"], metrics["holdout_non_duplicates"]) == (9, 9)
    assert metrics["activated"] is True
    assert metrics["after"]["f1"] >= metrics["before"]["f1"]
    assert set(metrics["before"]) == {
        "precision",
        "recall",
        "f1",
        "true_positives",
        "false_positives",
        "false_negatives",
    }
    assert metrics["threshold"] == scoring.DEFAULT_THRESHOLD
    assert model.parameters != scoring.default_parameters()


def test_p14_learning_is_reproducible_for_the_same_labels_and_seed(labels):
    first = learning.match_model_learn(actor=None, seed=11)
    second = learning.match_model_learn(actor=None, seed=11)

    assert (
        first.metrics["before"]
        == learning.measure(
            learning.split_labels(learning.decided_labels(), 0.3, 11)[1],
            scoring.default_parameters(),
        ).__dict__
    )
    assert second.metrics["after"] == first.metrics["after"]
    assert MatchModel.objects.filter(is_active=True).get() == second
    first.refresh_from_db()
    assert first.is_active is False


def test_p14_learning_rescores_open_candidates_only(labels):
    open_before = {c.pk: c.score for c in labels if c.status == CandidateStatus.OPEN}

    model = learning.match_model_learn(actor=None)

    for candidate in DuplicateCandidate.objects.filter(pk__in=open_before):
        expected, _weights = learning.score_of_levels(candidate.levels, model.parameters)
        assert candidate.score == pytest.approx(expected)
    decided = DuplicateCandidate.objects.exclude(status=CandidateStatus.OPEN)
    assert set(decided.values_list("score", flat=True)) == {0.5}


def test_p14_a_fit_that_makes_f1_worse_is_kept_but_not_activated(labels, monkeypatch):
    current = MatchModel.objects.create(parameters=scoring.default_parameters(), is_active=True)
    # a fit that predicts nothing: F1 0 on the holdout
    monkeypatch.setattr(
        scoring,
        "fit",
        lambda labelled, base=None, **options: {**scoring.default_parameters(), "prior": -60},
    )

    model = learning.match_model_learn(actor=None)

    assert (model.is_active, model.metrics["activated"]) == (False, False)
    assert model.metrics["after"]["f1"] < model.metrics["before"]["f1"]
    current.refresh_from_db()
    assert current.is_active
    assert {c.score for c in DuplicateCandidate.objects.all()} == {0.5}


def test_p14_learning_needs_enough_labels_of_both_kinds(db):
    a, b = PersonFactory(), PersonFactory()
    DuplicateCandidate.objects.create(
        person_a_id=min(a.pk, b.pk),
        person_b_id=max(a.pk, b.pk),
        status=CandidateStatus.MERGED,
        levels=duplicate_levels(1),
    )

    with pytest.raises(ValidationError) as raised:
        learning.match_model_learn(actor=None)

    assert raised.value.messages == [
        learning.NOT_ENOUGH_LABELS
        % {
            "min_duplicates": learning.MIN_DUPLICATES,
            "min_non_duplicates": learning.MIN_NON_DUPLICATES,
            "duplicates": 1,
            "non_duplicates": 0,
        }
    ]
    assert not MatchModel.objects.exists()


def test_p14_only_superusers_change_the_match_model(labels, world):
    staff = world.user("federation_staff")

    with pytest.raises(PermissionDenied):
        learning.match_model_learn(actor=staff)
    with pytest.raises(ValidationError):
        learning.match_model_learn(actor=None, holdout_fraction=1.0)

    assert not MatchModel.objects.exists()


def test_p14_measure_counts_precision_recall_and_f1():
    labels = [
        learning.Label(1, duplicate_levels(1), True),
        learning.Label(2, duplicate_levels(2), True),
        learning.Label(3, sibling_levels(1), False),
    ]

    metrics = learning.measure(labels, scoring.default_parameters())

    assert (metrics.true_positives, metrics.false_positives, metrics.false_negatives) == (2, 0, 0)
    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 1.0, 1.0)


def test_p14_learning_adds_undecided_candidate_pairs_of_the_register(db):
    twin_a = PersonFactory(first_name="Emma", last_name="Berg", birth_date=D(2012, 5, 1))
    twin_b = PersonFactory(first_name="Ella", last_name="Berg", birth_date=D(2012, 5, 1))
    kari = PersonFactory(first_name="Kari", last_name="Lie", birth_date=D(1990, 1, 2))
    typo = PersonFactory(first_name="Kari", last_name="Lie", birth_date=D(1990, 2, 1))
    DuplicateCandidate.objects.create(
        person_a=kari, person_b=typo, status=CandidateStatus.MERGED, levels=duplicate_levels(1)
    )

    sample = learning.unlabelled_sample(seed=1)

    assert sample == [scoring.compare(*detection.load_records([twin_a.pk, twin_b.pk])).levels]


def test_p14_a_learnt_model_takes_the_registers_name_frequencies_as_references(labels, monkeypatch):
    # m and u are learnt on this register: its average term frequencies become the
    # references its names are compared with (scoring's term frequency adjustment).
    monkeypatch.setattr(scoring, "TF_MIN_PERSONS", 1)  # the 13 persons of the fixture count

    model = learning.match_model_learn(actor=None, seed=7)

    register = detection.register_name_frequencies()
    assert model.parameters["term_frequency"] == scoring.term_frequency_references(register)
    assert scoring.SAME_NAME_TABLE in model.parameters["fields"]


def test_p14_learning_scores_stored_levels_with_their_term_frequencies():
    levels = scoring.compare(
        PersonRecord(1, "Kari", "Nordmann", birth_date=D(2005, 3, 4)),
        PersonRecord(2, "Kari", "Nordmann", birth_date=D(2005, 3, 4)),
    ).levels
    common = {**levels, "first_name_tf": 50_000.0}
    rare = {**levels, "first_name_tf": 2.0}
    parameters = scoring.default_parameters()

    common_score, common_weights = learning.score_of_levels(common, parameters)
    rare_score, rare_weights = learning.score_of_levels(rare, parameters)

    assert common_score < rare_score
    assert common_weights["first_name"] < rare_weights["first_name"]
    assert learning.score_of_levels(levels, parameters)[0] == scoring.score_of_levels(levels)
