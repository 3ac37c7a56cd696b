"""Merging two persons and undoing it (P-14 (2), issue 4 scope 4 and 5): the services.

The acceptance of issue 4: persons with functions, licences, competences, transfers,
memberships, contact sets, bank accounts, a login, history and billing rows are merged and
the merge undone; every table that refers to a person is counted before, after the merge and
after the undo: nothing is lost, nothing is duplicated."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation

from billing.selectors import club_person_ids
from clubadmin.capabilities import Capability
from members.duplicates import merging
from members.models import (
    BankAccount,
    CandidateStatus,
    ContactSet,
    DuplicateCandidate,
    Function,
    GuardianRelation,
    Licence,
    Membership,
    MergeState,
    Person,
    PersonMerge,
    SportsIdHistory,
    User,
)
from tests.members.duplicates.merge_fixtures import (
    Pair,
    build_pair,
    rows_of,
    state_of,
    table_totals,
    without_history,
)
from tests.members.factories import (
    ContactSetFactory,
    FunctionFactory,
    PersonFactory,
    UserFactory,
)
from tests.members.factories_licences import mark_deceased, official

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MERGE = Capability.DUPLICATES_MERGE


@pytest.fixture(autouse=True)
def _english_interface(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def pair(world) -> Pair:
    return build_pair(world)


@pytest.fixture
def staff(world):
    """Federation staff: duplicates.merge over the whole federation."""
    return world.user("federation_staff", MERGE)


def _merge(pair: Pair, actor, **changes) -> PersonMerge:  # type: ignore[no-untyped-def]
    return merging.persons_merge(**pair.merge_arguments(actor, **changes))


def _labels_on(person: Person) -> dict[str, set[int]]:
    return {
        label: {pk for pk, _owner in rows}
        for label, rows in without_history(rows_of([person.pk])).items()
        if rows
    }


# ------------------------------------------------------------------------ the relations


def test_p14_every_relation_to_person_is_moved_or_handled():
    """A new foreign key to Person is moved by default; the special ones are named, and no
    name in the table of special cases is stale."""
    plan = merging.relation_plan()
    labels = {relation.label for relation in merging.person_relations()}
    assert set(plan) == labels
    assert set(merging.HANDLING) <= labels
    special = {label: how for label, how in plan.items() if label in merging.HANDLING}
    assert special == merging.HANDLING
    for label, how in plan.items():
        if label in merging.HANDLING:
            continue
        relation = next(r for r in merging.person_relations() if r.label == label)
        assert how == (merging.HISTORY if relation.is_history else merging.MOVE), label


def test_p14_relations_cover_hidden_billing_and_many_to_many_tables():
    plan = merging.relation_plan()
    for label in (
        "billing.volunteerhours.person",
        "billing.exemptionagreement.person",
        "billing.exemptionagreement_children.person",
        "billing.historicalexemptionagreement_children.person",
        "members.historicalcontactset.person",
        "members.historicaluser.person",
        "members.transfer.person",
        "members.competence.person",
        "members.membership.person",
        "members.guardianrelation.guardian",
        "members.guardianrelation.child",
        "members.sportsidhistory.person",
    ):
        assert label in plan, label


# ---------------------------------------------------------------------------- the merge


def test_p14_merge_moves_everything_and_loses_nothing(pair, staff):
    survivor, merged = pair.survivor, pair.merged
    ids = [survivor.pk, merged.pk]
    before_rows = without_history(rows_of(ids))
    before_totals = table_totals()

    merge = _merge(pair, staff)

    # Nothing lost, nothing duplicated: the same rows, only their person changed.
    after_totals = table_totals()
    expected_totals = dict(before_totals)
    expected_totals["members.sportsidhistory.person"] += 1  # the merged person's id
    expected_totals["members.personmerge.survivor"] += 1
    expected_totals["members.personmerge.merged"] += 1
    assert after_totals == expected_totals
    after_rows = without_history(rows_of(ids))
    assert after_rows.pop("members.person.merged_into") == {(merged.pk, survivor.pk)}
    for label, rows in before_rows.items():
        if label.startswith("members.personmerge") or label in (
            "members.sportsidhistory.person",
            "members.person.merged_into",
        ):
            continue
        assert {pk for pk, _ in after_rows[label]} == {pk for pk, _ in rows}, label

    # What stays with the merged person, and why.
    stays = _labels_on(merged)
    # The candidates keep their persons (decided: MERGED and OBSOLETE).
    candidates = stays.pop("members.duplicatecandidate.person_a", set()) | stays.pop(
        "members.duplicatecandidate.person_b", set()
    )
    assert candidates == {pair["candidate"].pk, pair["other_candidate"].pk}
    assert stays == {
        "members.function.person": {
            pair["merged_player"].pk,
            pair["merged_old_volunteer"].pk,
        },
        "members.membership.person": {pair["merged_overlapping_membership"].pk},
        "members.bankaccount.person": {pair["merged_private"].pk},
        "members.guardianrelation.guardian": {pair["merged_guardian"].pk},
        "billing.paymentpreference.person": {pair["merged_preference"].pk},
        "billing.invoiceline.person": {pair["merged_double_line"].pk},
        "members.personmerge.merged": {merge.pk},
    }
    reasons = {
        (entry["model"], entry["pk"]): entry["reason"] for entry in merge.record["not_moved"]
    }
    assert reasons == {
        ("members.membership", pair["merged_overlapping_membership"].pk): "constraint",
        ("members.bankaccount", pair["merged_private"].pk): "account_type_taken",
        ("members.guardianrelation", pair["merged_guardian"].pk): "constraint",
        ("billing.paymentpreference", pair["merged_preference"].pk): "constraint",
        ("billing.invoiceline", pair["merged_double_line"].pk): "constraint",
    }
    constraints = {entry["model"]: entry.get("constraint") for entry in merge.record["not_moved"]}
    assert constraints["members.membership"] == "membership_no_overlap"
    assert constraints["billing.paymentpreference"] == "payment_preference_once"
    assert constraints["billing.invoiceline"] == "invoice_line_once"

    # Everything else is the survivor's now.
    theirs = _labels_on(survivor)
    assert pair["merged_coach"].pk in theirs["members.function.person"]
    assert pair["merged_licensed"].pk in theirs["members.function.person"]  # for the licence
    assert theirs["members.licence.person"] == {pair["merged_licence"].pk}
    assert pair["merged_competence"].pk in theirs["members.competence.person"]
    assert theirs["members.transfer.person"] == {pair["merged_transfer"].pk}
    assert pair["merged_old_membership"].pk in theirs["members.membership.person"]
    assert {pair["merged_standard"].pk, pair["merged_work"].pk} <= theirs[
        "members.contactset.person"
    ]
    assert pair["merged_fees"].pk in theirs["members.bankaccount.person"]
    assert theirs["members.user.person"] == {pair["merged_login"].pk}
    assert pair["merged_previous_id"].pk in theirs["members.sportsidhistory.person"]
    assert theirs["members.family.contact_person"] == {pair["family"].pk}
    for label in (
        "billing.volunteerhours.person",
        "billing.trialperiod.person",
        "billing.instalmentplan.person",
        "billing.volunteercontract.person",
        "billing.exemptionagreement.person",
        "billing.exemptionagreement_children.person",
    ):
        assert label in theirs, label
    assert pair["merged_invoice"].pk in theirs["billing.invoice.payer"]
    assert pair["merged_volunteer_line"].pk in theirs["billing.invoiceline.person"]
    assert list(pair["parent_agreement"].children.all()) == [survivor]


def test_p14_merge_sets_the_persons(pair, staff):
    merged_sports_id = pair.merged.sports_id
    old_sports_id = pair.survivor.sports_id

    merge = _merge(pair, staff)

    survivor = Person.objects.get(pk=pair.survivor.pk)
    merged = Person.objects.get(pk=pair.merged.pk)
    assert merged.merged_into == survivor
    assert merged.national_person_id is None  # it identifies the survivor now
    assert survivor.national_person_id == "NPI-1001"
    assert (survivor.first_name, survivor.last_name) == ("Kari", "Nordmann")
    # Same name, gender and birth date: the survivor keeps its sports id (P-05) and the
    # merged person's id still finds the survivor.
    assert survivor.sports_id == old_sports_id
    assert SportsIdHistory.objects.get(sports_id=merged_sports_id).person == survivor
    assert merge.state == MergeState.MERGED
    assert merge.performed_by == staff
    # History: who merged, with a reason.
    latest = survivor.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        staff,
        f"merge of person {merged.pk} into {survivor.pk}",
    )
    assert merged.history.latest().merged_into_id == survivor.pk


def test_p05_merge_changing_the_name_gives_a_new_sports_id(pair, staff):
    old_sports_id = pair.survivor.sports_id

    _merge(pair, staff, last_name="Nordman-Berg")

    survivor = Person.objects.get(pk=pair.survivor.pk)
    assert survivor.last_name == "Nordman-Berg"
    assert survivor.sports_id != old_sports_id
    assert SportsIdHistory.objects.get(sports_id=old_sports_id).person == survivor


def test_p14_functions_not_kept_are_ended_today_and_stay(pair, staff):
    merge = _merge(pair, staff)

    player = Function.objects.get(pk=pair["merged_player"].pk)
    assert (player.person_id, player.to_date) == (pair.merged.pk, TODAY)
    volunteer = Function.objects.get(pk=pair["merged_old_volunteer"].pk)
    assert volunteer.to_date == datetime.date(2021, 12, 31)  # ended already: untouched
    ended = {(entry["model"], entry["pk"]): entry for entry in merge.record["ended"]}
    assert set(ended) == {
        ("members.function", pair["merged_player"].pk),
        ("members.membership", pair["merged_overlapping_membership"].pk),
    }
    assert ended["members.function", pair["merged_player"].pk]["before"] == {"to_date": None}
    # A kept licence brought its function along (P-12).
    assert merge.record["kept"]["functions_for_licences"] == [pair["merged_licensed"].pk]


def test_p14_membership_that_cannot_move_is_ended_today(pair, staff):
    """It repeats the survivor's membership in the same club: ended members are never
    invoiced again, and a merged person is not priced at all."""
    assert pair.merged.pk in club_person_ids(pair["survivor_membership"].club, TODAY.year)

    _merge(pair, staff)

    membership = Membership.objects.get(pk=pair["merged_overlapping_membership"].pk)
    assert (membership.person_id, membership.status) == (pair.merged.pk, "ended")
    assert membership.end_date == TODAY
    ids = club_person_ids(pair["survivor_membership"].club, TODAY.year)
    assert pair.merged.pk not in ids and pair.survivor.pk in ids


def test_p14_survivor_function_not_kept_is_ended_and_stays(pair, staff):
    arguments = pair.merge_arguments(staff)
    arguments["keep_function_ids"] = [pair["merged_player"].pk, pair["merged_coach"].pk]

    merging.persons_merge(**arguments)

    own = Function.objects.get(pk=pair["survivor_player"].pk)
    assert (own.person_id, own.to_date) == (pair.survivor.pk, TODAY)
    assert Function.objects.get(pk=pair["merged_player"].pk).person_id == pair.survivor.pk


def test_p14_licence_not_kept_stays_with_merged_person(pair, staff):
    arguments = pair.merge_arguments(staff)
    arguments["keep_licence_ids"] = []

    merge = merging.persons_merge(**arguments)

    assert Licence.objects.get(pk=pair["merged_licence"].pk).person_id == pair.merged.pk
    licensed = Function.objects.get(pk=pair["merged_licensed"].pk)
    assert (licensed.person_id, licensed.to_date) == (pair.merged.pk, TODAY)
    assert merge.record["kept"]["functions_for_licences"] == []


def test_p08_p09_flags_of_moved_contact_sets_and_accounts(pair, staff):
    _merge(pair, staff)

    standard_sets = ContactSet.objects.filter(person=pair.survivor, is_standard=True)
    assert list(standard_sets) == [pair["survivor_standard"]]
    assert not ContactSet.objects.get(pk=pair["merged_standard"].pk).is_standard
    defaults = BankAccount.objects.filter(person=pair.survivor, is_default=True)
    assert list(defaults) == [pair["survivor_private"]]
    fees = BankAccount.objects.get(pk=pair["merged_fees"].pk)
    assert (fees.person_id, fees.is_default) == (pair.survivor.pk, False)


def test_p14_contact_set_history_follows_the_set(pair, staff):
    history = list(
        ContactSet.history.filter(id=pair["merged_standard"].pk).values_list(
            "history_id", flat=True
        )
    )
    assert history

    merge = _merge(pair, staff)

    owners = set(
        ContactSet.history.filter(history_id__in=history).values_list("person_id", flat=True)
    )
    assert owners == {pair.survivor.pk}
    moved = {move["model"]: move["pks"] for move in merge.record["history_moves"]}
    assert set(history) <= set(moved["members.historicalcontactset"])


def test_p14_history_of_deleted_rows_moves_and_of_rows_left_behind_stays(pair, staff):
    gone = ContactSetFactory(person=pair.merged, label="Gammel")
    gone_pk = gone.pk
    gone.delete()
    left = list(
        BankAccount.history.filter(id=pair["merged_private"].pk).values_list(
            "history_id", flat=True
        )
    )

    _merge(pair, staff)

    owners = set(ContactSet.history.filter(id=gone_pk).values_list("person_id", flat=True))
    assert owners == {pair.survivor.pk}
    kept = BankAccount.history.filter(history_id__in=left).values_list("person_id", flat=True)
    assert set(kept) == {pair.merged.pk}


def test_p14_merge_queues_the_incremental_check_after_commit(
    pair, staff, monkeypatch, django_capture_on_commit_callbacks
):
    checked: list[int] = []

    def delay_on_commit(person_id: int) -> None:
        transaction.on_commit(lambda: checked.append(person_id))

    monkeypatch.setattr(merging.check_person_duplicates, "delay_on_commit", delay_on_commit)
    with django_capture_on_commit_callbacks(execute=True):
        merging.merge_preview(**pair.merge_arguments(staff))
    assert checked == []  # the preview rolled back

    with django_capture_on_commit_callbacks(execute=True):
        merge = _merge(pair, staff)
    assert checked == [pair.survivor.pk]
    with django_capture_on_commit_callbacks(execute=True):
        merging.merge_undo(actor=staff, merge=merge)
    assert checked == [pair.survivor.pk, pair.survivor.pk, pair.merged.pk]


def test_p14_login_moves_when_the_survivor_has_none(pair, staff):
    merge = _merge(pair, staff)

    login = User.objects.get(pk=pair["merged_login"].pk)
    assert (login.person_id, login.is_active) == (pair.survivor.pk, True)
    assert merge.record["user"]["action"] == "moved"


def test_p14_login_is_detached_when_the_survivor_has_one(pair, staff):
    own = UserFactory(person=pair.survivor, username="kari")

    merge = _merge(pair, staff)

    login = User.objects.get(pk=pair["merged_login"].pk)
    assert (login.person_id, login.is_active) == (None, False)
    assert User.objects.get(pk=own.pk).person_id == pair.survivor.pk
    assert merge.record["user"] == {
        "pk": login.pk,
        "username": "kari-old",
        "action": "detached",
        "was_active": True,
    }


def test_p14_candidate_statuses(pair, staff):
    merge = _merge(pair, staff)

    candidate = DuplicateCandidate.objects.get(pk=pair["candidate"].pk)
    assert (candidate.status, candidate.decided_by) == (CandidateStatus.MERGED, staff)
    assert candidate.decided_at is not None
    assert merge.candidate == candidate
    other = DuplicateCandidate.objects.get(pk=pair["other_candidate"].pk)
    assert other.status == CandidateStatus.OBSOLETE


def test_p14_merge_without_candidate_finds_the_pair(pair, staff):
    arguments = pair.merge_arguments(staff)
    arguments["candidate"] = None

    merge = merging.persons_merge(**arguments)

    assert merge.candidate_id == pair["candidate"].pk
    assert DuplicateCandidate.objects.get(pk=pair["candidate"].pk).status == CandidateStatus.MERGED


def test_p14_guardian_of_each_other_is_not_made_self_guardian(world, staff):
    survivor, merged = PersonFactory(), PersonFactory()
    for person in (survivor, merged):
        FunctionFactory(person=person, organisation=world.club_a)
    relation = GuardianRelation.objects.create(guardian=merged, child=survivor)

    merge = merging.persons_merge(
        actor=staff,
        survivor=survivor,
        merged=merged,
        person_data={},
        keep_function_ids=[],
        keep_licence_ids=[],
    )

    assert GuardianRelation.objects.get(pk=relation.pk).guardian_id == merged.pk
    assert merge.record["not_moved"][0]["reason"] == "self_reference"


# ---------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("change", "message", "code"),
    [
        ("same", merging.SAME_PERSON, "same_person"),
        ("already_merged", merging.PERSON_ALREADY_MERGED, "already_merged"),
        ("deceased", merging.DECEASED_MISMATCH, "deceased_mismatch"),
        ("candidate", merging.CANDIDATE_NOT_THIS_PAIR, "candidate_not_pair"),
    ],
)
def test_p14_merge_refused_changes_nothing(pair, staff, change, message, code):
    arguments = pair.merge_arguments(staff)
    if change == "same":
        arguments["merged"] = pair.survivor
    elif change == "already_merged":
        other = PersonFactory()
        Person.objects.filter(pk=pair.merged.pk).update(merged_into=other)
    elif change == "deceased":
        mark_deceased(pair.merged)
    elif change == "candidate":
        arguments["candidate"] = pair["other_candidate"]
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        merging.persons_merge(**arguments)

    assert raised.value.messages == [str(message)]
    assert raised.value.error_list[0].code == code
    assert state_of(pair) == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "This field cannot be blank."),
        ({"gender": "x"}, "gender", "Value 'x' is not a valid choice."),
        ({"nickname": "K"}, "nickname", merging.UNKNOWN_PERSON_FIELD),
        (
            {"date_of_death": datetime.date(2025, 1, 1)},
            "date_of_death",
            merging.DATE_OF_DEATH_ONLY_IF_DECEASED,
        ),
    ],
)
def test_p14_invalid_person_data_changes_nothing(pair, staff, changes, field, message):
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        _merge(pair, staff, **changes)

    assert raised.value.message_dict[field] == [str(message)]  # in English: read now
    assert state_of(pair) == before


def test_p14_national_person_id_of_a_third_person_is_refused(pair, staff):
    PersonFactory(national_person_id="NPI-9")
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        _merge(pair, staff, national_person_id="NPI-9")

    assert raised.value.message_dict["national_person_id"] == [str(merging.NATIONAL_ID_TAKEN)]
    assert state_of(pair) == before


def test_p14_functions_and_licences_of_other_persons_are_refused(pair, world, staff):
    arguments = pair.merge_arguments(staff)
    arguments["keep_function_ids"] = [world.function_a.pk]
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        merging.persons_merge(**arguments)

    assert raised.value.message_dict["keep_function_ids"] == [str(merging.FUNCTION_NOT_OF_PAIR)]
    assert state_of(pair) == before


@pytest.mark.parametrize("where", ["survivor", "merged", "nowhere"])
def test_p14_merge_needs_the_capability_over_both_persons(pair, world, where):
    """An official with duplicates.merge in club B only reaches a person with a function
    there."""
    actor = official(world.club_b, MERGE)
    if where in ("survivor", "merged"):
        FunctionFactory(person=getattr(pair, where), organisation=world.club_b)
    before = state_of(pair)

    with pytest.raises(PermissionDenied):
        _merge(pair, actor)

    assert state_of(pair) == before


def test_p06_both_deceased_may_be_merged_with_a_date_of_death(pair, staff):
    mark_deceased(pair.survivor, datetime.date(2025, 3, 1))
    mark_deceased(pair.merged, datetime.date(2025, 3, 2))

    _merge(pair, staff, date_of_death=datetime.date(2025, 3, 2))

    survivor = Person.objects.get(pk=pair.survivor.pk)
    assert (survivor.is_deceased, survivor.date_of_death) == (True, datetime.date(2025, 3, 2))


def test_p06_date_of_death_in_the_future_is_refused(pair, staff):
    mark_deceased(pair.survivor)
    mark_deceased(pair.merged)
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        _merge(pair, staff, date_of_death=TODAY + datetime.timedelta(days=1))

    assert raised.value.message_dict["date_of_death"] == [
        "The date of death cannot be in the future (P-06)."
    ]
    assert state_of(pair) == before


# ---------------------------------------------------------------------------- preview


def test_p14_preview_saves_nothing_and_tells_what_would_happen(pair, staff):
    before = state_of(pair)
    totals = table_totals()

    preview = merging.merge_preview(**pair.merge_arguments(staff, last_name="Nordman"))

    assert state_of(pair) == before
    assert table_totals() == totals
    summary = preview.summary
    assert summary.new_sports_id and summary.old_sports_id == pair.survivor.sports_id
    moved = dict(summary.moved)
    assert moved["Competences"] == 1
    assert moved["Memberships"] == 1
    assert moved["Contact sets"] == 2
    assert moved["Transfers"] == 1
    assert moved["Functions"] == 2
    assert {note.kind for note in summary.not_moved} == {
        "Membership",
        "Bank account",
        "Guardian (guardian)",
        "Payment preference",
        "Invoice line",
    }
    membership_note = next(note for note in summary.not_moved if note.kind == "Membership")
    assert membership_note.reason == (
        "A rule of the register refuses it: "
        "The person already has a membership in this club in that period."
    )
    assert summary.login == "The login “kari-old” moves to the surviving person."
    assert summary.candidates_merged == 1 and summary.candidates_obsolete == 1
    last_name = next(row for row in summary.fields if row.label == "Last name")
    assert (last_name.survivor, last_name.merged, last_name.result) == (
        "Nordmann",
        "Nordman",
        "Nordman",
    )


def test_p14_preview_refuses_like_the_merge(pair, staff):
    mark_deceased(pair.merged)

    with pytest.raises(ValidationError):
        merging.merge_preview(**pair.merge_arguments(staff))


# ------------------------------------------------------------------------------- undo


def test_p14_undo_restores_everything(pair, staff):
    ids = [pair.survivor.pk, pair.merged.pk]
    before_rows = rows_of(ids)
    before_totals = table_totals()
    before_persons = list(Person.objects.filter(pk__in=ids).order_by("pk").values())
    flags = state_of(pair)["flags"]
    merge = _merge(pair, staff, last_name="Nordman-Berg")

    undone = merging.merge_undo(actor=staff, merge=merge)

    assert undone.state == MergeState.UNDONE
    assert (undone.undone_by, undone.undo_report["not_restored"]) == (staff, [])
    after_rows = rows_of(ids)
    for label, rows in before_rows.items():
        relation = next(r for r in merging.person_relations() if r.label == label)
        if relation.is_history:
            # The history rows that were there are back with their person; the merge and
            # the undo added rows of their own.
            assert rows <= after_rows[label], label
        elif label == "members.sportsidhistory.person":
            issued = (merge.record["sports_ids_added"][1]["pk"], pair.survivor.pk)
            assert after_rows[label] == rows | {issued}, label
        elif not label.startswith("members.personmerge"):
            assert after_rows[label] == rows, label
    totals = table_totals()
    totals["members.personmerge.survivor"] -= 1
    totals["members.personmerge.merged"] -= 1
    # The sports id the merge issued stays in the survivor's previous ids (P-05).
    totals["members.sportsidhistory.person"] -= 1
    assert totals == before_totals
    persons = list(Person.objects.filter(pk__in=ids).order_by("pk").values())
    for person, earlier in zip(persons, before_persons, strict=True):
        person.pop("updated_at"), earlier.pop("updated_at")
        assert person == earlier
    assert state_of(pair)["flags"] == flags
    assert Function.objects.get(pk=pair["merged_player"].pk).to_date is None
    overlapping = Membership.objects.get(pk=pair["merged_overlapping_membership"].pk)
    assert (overlapping.status, overlapping.end_date) == ("active", None)
    assert User.objects.get(pk=pair["merged_login"].pk).person_id == pair.merged.pk
    statuses = dict(DuplicateCandidate.objects.values_list("pk", "status"))
    assert statuses[pair["candidate"].pk] == CandidateStatus.OPEN
    assert statuses[pair["other_candidate"].pk] == CandidateStatus.OPEN


def test_p05_undo_gives_back_the_old_sports_id_and_keeps_the_issued_one(pair, staff):
    old = pair.survivor.sports_id
    merge = _merge(pair, staff, last_name="Nordman-Berg")
    issued = Person.objects.get(pk=pair.survivor.pk).sports_id

    merging.merge_undo(actor=staff, merge=merge)

    survivor = Person.objects.get(pk=pair.survivor.pk)
    assert survivor.sports_id == old
    assert SportsIdHistory.objects.get(sports_id=issued).person == survivor
    assert not SportsIdHistory.objects.filter(sports_id=old).exists()
    assert not SportsIdHistory.objects.filter(sports_id=pair.merged.sports_id).exists()


def test_p14_undo_detached_login_is_linked_and_active_again(pair, staff):
    UserFactory(person=pair.survivor, username="kari")
    merge = _merge(pair, staff)

    merging.merge_undo(actor=staff, merge=merge)

    login = User.objects.get(pk=pair["merged_login"].pk)
    assert (login.person_id, login.is_active) == (pair.merged.pk, True)


def test_p14_undo_reports_what_changed_since(pair, staff, world):
    merge = _merge(pair, staff)
    competence_pk = pair["merged_competence"].pk
    # Since the merge: a moved competence was deleted, a moved membership was given to
    # another person, the survivor's first name was edited (a field the merge did not
    # change), and an ended function was activated again.
    pair["merged_competence"].delete()
    other = PersonFactory()
    Membership.objects.filter(pk=pair["merged_old_membership"].pk).update(person=other)
    Person.objects.filter(pk=pair.survivor.pk).update(first_name="Karianne")
    Function.objects.filter(pk=pair["merged_player"].pk).update(to_date=None)

    undone = merging.merge_undo(actor=staff, merge=merge)

    report = {
        (entry["model"], entry["pk"], entry.get("field")): entry["reason"]
        for entry in undone.undo_report["not_restored"]
    }
    assert report == {
        ("members.competence", competence_pk, None): "deleted",
        ("members.membership", pair["merged_old_membership"].pk, None): "moved_elsewhere",
        ("members.function", pair["merged_player"].pk, None): "edited_since",
    }
    survivor = Person.objects.get(pk=pair.survivor.pk)
    assert survivor.first_name == "Karianne"  # edited since: not a field the merge changed
    # Everything else is back.
    assert Person.objects.get(pk=pair.merged.pk).merged_into_id is None
    assert Licence.objects.get(pk=pair["merged_licence"].pk).person_id == pair.merged.pk
    summary = merging.summarise_undo(undone.undo_report)
    assert {note.reason for note in summary.not_restored} == {
        "It has been deleted since the merge.",
        "It has been moved to another person since the merge.",
        "It has been changed since the merge; the new value stays.",
    }


def test_p14_undo_reports_a_detached_login_linked_since(pair, staff):
    UserFactory(person=pair.survivor, username="kari")
    merge = _merge(pair, staff)
    third = PersonFactory()
    User.objects.filter(pk=pair["merged_login"].pk).update(person=third)

    undone = merging.merge_undo(actor=staff, merge=merge)

    assert undone.undo_report["not_restored"] == [
        {
            "kind": "user",
            "model": "members.user",
            "pk": pair["merged_login"].pk,
            "label": "kari-old",
            "reason": "login_linked",
        }
    ]
    assert User.objects.get(pk=pair["merged_login"].pk).person_id == third.pk


def test_p14_relation_titles():
    assert merging.relation_title("members.membership.person") == "Memberships"
    assert merging.relation_title("members.guardianrelation.child") == "Guardians (child)"
    assert (
        merging.relation_title("billing.exemptionagreement_children.person")
        == "Exemption agreements (children)"
    )


def test_p14_undo_reports_an_edited_survivor_field(pair, staff):
    merge = _merge(pair, staff, last_name="Nordman-Berg")
    Person.objects.filter(pk=pair.survivor.pk).update(last_name="Berg")

    undone = merging.merge_undo(actor=staff, merge=merge)

    fields = {entry.get("field"): entry["reason"] for entry in undone.undo_report["not_restored"]}
    assert fields == {"last_name": "edited_since", "sports_id": "identity_edited"}
    survivor = Person.objects.get(pk=pair.survivor.pk)
    assert survivor.last_name == "Berg"


def test_p14_undo_reports_a_constraint_that_now_blocks(pair, staff, world):
    merge = _merge(pair, staff)
    # Meanwhile the merged person got a membership in 2020 again (registered by hand): the
    # old one (2019-2020) cannot go back beside it.
    Membership.objects.create(
        person=pair.merged,
        club=world.club_a,
        membership_type=pair["merged_old_membership"].membership_type,
        start_date=datetime.date(2020, 6, 1),
        end_date=datetime.date(2020, 8, 1),
        status="ended",
    )

    undone = merging.merge_undo(actor=staff, merge=merge)

    entry = next(
        entry
        for entry in undone.undo_report["not_restored"]
        if entry["model"] == "members.membership"
    )
    assert (entry["pk"], entry["reason"], entry["constraint"]) == (
        pair["merged_old_membership"].pk,
        "constraint",
        "membership_no_overlap",
    )
    assert Membership.objects.get(pk=pair["merged_old_membership"].pk).person_id == pair.survivor.pk


def test_p14_undo_once(pair, staff):
    merge = _merge(pair, staff)
    merging.merge_undo(actor=staff, merge=merge)
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        merging.merge_undo(actor=staff, merge=merge)

    assert raised.value.messages == [str(merging.MERGE_ALREADY_UNDONE)]
    assert state_of(pair) == before


def test_p14_undo_needs_the_later_merge_undone_first(pair, staff, world):
    merge = _merge(pair, staff)
    third = PersonFactory()
    FunctionFactory(person=third, organisation=world.club_a)
    later = merging.persons_merge(
        actor=staff,
        survivor=third,
        merged=pair.survivor,
        person_data={},
        keep_function_ids=list(
            Function.objects.filter(person__in=[third, pair.survivor]).values_list("pk", flat=True)
        ),
        keep_licence_ids=list(
            Licence.objects.filter(person=pair.survivor).values_list("pk", flat=True)
        ),
    )
    before = state_of(pair)

    with pytest.raises(ValidationError) as raised:
        merging.merge_undo(actor=staff, merge=merge)

    assert raised.value.messages == [str(merging.UNDO_SURVIVOR_MERGED)]
    assert state_of(pair) == before
    merging.merge_undo(actor=staff, merge=later)
    merging.merge_undo(actor=staff, merge=PersonMerge.objects.get(pk=merge.pk))
    assert Person.objects.get(pk=pair.merged.pk).merged_into_id is None


def test_p14_undo_needs_the_capability(pair, staff, world):
    merge = _merge(pair, staff)
    outsider = official(world.club_b, MERGE)
    before = state_of(pair)

    with pytest.raises(PermissionDenied):
        merging.merge_undo(actor=outsider, merge=merge)

    assert state_of(pair) == before


def test_p14_merged_person_without_functions_stays_in_scope_for_the_undo(world):
    """All the merged person's functions moved: the organisations recorded at merge time
    still let club A's official with duplicates.merge undo it."""
    actor = official(world.club_a, MERGE)
    survivor, merged = PersonFactory(), PersonFactory()
    FunctionFactory(person=survivor, organisation=world.club_a)
    function = FunctionFactory(person=merged, organisation=world.team_a)
    merge = merging.persons_merge(
        actor=actor,
        survivor=survivor,
        merged=merged,
        person_data={},
        keep_function_ids=[function.pk],
        keep_licence_ids=[],
    )
    assert not merging.may_merge_persons(actor, [merged])
    assert merging.may_handle_merge(actor, merge)

    merging.merge_undo(actor=actor, merge=merge)

    assert Function.objects.get(pk=function.pk).person_id == merged.pk
