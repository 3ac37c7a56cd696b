"""Merging two persons and undoing the merge (P-14 (2), issue 4 scope 4 and 5).

`persons_merge` folds the *merged* person into the *survivor* in one transaction;
`merge_preview` runs the same merge and rolls it back, so the wizard shows exactly what would
happen; `merge_undo` puts everything back that nothing has touched since.

Rules and choices
- Access: `duplicates.merge` on BOTH persons (`clubadmin.access`, without the "own person"
  shortcut). For the undo and the merge's page a person also counts as in scope when the
  user's grants cover an organisation where the person held a function at the time of the
  merge (recorded): a merged person whose functions all moved belongs to no organisation.
- Locks: both person rows with `SELECT ... FOR UPDATE`, in primary-key order, then every
  check runs again on the locked rows. Two staff merging overlapping pairs (A+B and B+C) at
  the same time: the second waits on the row lock, then finds B merged and refuses with
  `PERSON_ALREADY_MERGED`. The undo takes the same locks, then the merge row.
- Deceased (P-06): the merge is refused when one record is deceased and the other is not
  (correcting the deceased status needs its own confirmation on the person card). When both
  are, the merge may carry contact sets, accounts, competences and transfers over: a merge
  corrects the register, it does not add data to the person.
- Person data starts from the most recently changed record (the wizard's job) and is the
  survivor's final values (`PERSON_DATA_FIELDS`). A change of name, gender or birth date
  gives the survivor a new sports id exactly like `person_update` (P-05: the old id goes to
  `SportsIdHistory`); the wizard's preview is the confirmation. The merged person's sports
  id is added to the survivor's previous ids, so it still finds the survivor; the merged
  person's national person id is cleared (it identifies one real individual: the survivor).
- Functions (P-10) and licences (P-12): the kept functions and licences of the merged person
  move to the survivor. Not-kept functions of EITHER record that are not ended get ended at
  the merge date ("End function": to = max(today, from)) and stay where they are. A licence
  of the survivor always stays with the survivor (a licence is an invoiced document: a merge
  does not cancel it; cancel it on the licence page). A kept licence brings its function
  along (a licence needs its function, P-12); a licence whose function could not move stays.
  `keep_function_ids` lists the kept functions of BOTH records: a survivor's function not
  listed is ended too. A transfer always moves (P-14), also when the function it refers to
  stays with the merged person (it keeps pointing at it).
- Competences, transfers (P-14) and every other reference to the merged person move to the
  survivor. The references are found generically (`person_relations`: every foreign key and
  one-to-one to Person from every installed app, hidden ones included), so a model added
  later (invoices, payments, claims) is covered without changing this module; only the
  relations in `HANDLING` are special (a person merged earlier into the merged person stays
  merged into them: the chain leads to the survivor). Historical rows (django-simple-history)
  follow their row: the history of a row that moved (or of a row deleted earlier) moves with
  it. The merged person's own history (HistoricalPerson) stays with the merged person's row.
- Special cases: the login (User, one per person) moves when the survivor has none, else it
  is detached and deactivated; the merged person's standard contact set moves as a
  non-standard set when the survivor has one (P-08); a bank account moves when the survivor
  has none of its type, as a non-default account when the survivor has a default (P-09);
  a reference that would link the survivor to themself (a guardian relation between the two)
  stays. Every move runs in a savepoint: a move that a database constraint refuses (an
  overlapping membership, a second licensed function of a type, a unique row per club and
  season) leaves the row on the merged person, and the preview lists it with the reason. A
  membership left behind that way repeats the survivor's membership in the same club: it is
  ended at the merge date like a function not kept (ended members are never invoiced).
- Candidates: the pair's candidate becomes MERGED (a label the scoring learns from); other
  open candidates of the merged person become OBSOLETE; the survivor gets the incremental
  duplicate check after the commit (after an undo, both persons do).
- `PersonMerge.record` holds everything the undo needs: both persons before, both after,
  every moved row (model, field, from, to, primary keys) with its label, flags changed
  (standard set, default account), functions and memberships ended with their old values,
  the login, the sports ids added, candidate statuses, and the organisations of both
  persons at merge time.
- Moves are UPDATEs by primary key (no history row per moved row, `updated_at` untouched):
  the merge row and its history are the audit event (STYLE 5); person, login, candidate,
  flag and end changes are saved with `_history_user`. The preview (`merge_preview`) runs
  the very same code and rolls back: what it shows is what the merge does, constraint
  refusals included (it holds the two row locks for that moment, and may use a sports-id
  serial number: gaps in that sequence are harmless).
- Not covered: generic foreign keys (object ids in text columns, e.g. the admin log) are no
  foreign keys and are not moved.

What the undo cannot restore (it says so in `undo_report`, shown on the merge's page): a row
deleted since, a row moved to yet another person since (e.g. the survivor was merged on), a
row a constraint now refuses (e.g. the merged person got a new overlapping membership), a
field of the survivor edited since (the new value stays; the sports id then stays too), a
flag, a to-date or a membership's end changed since, a login linked elsewhere, a national
person id someone else holds now, a candidate decided since. Undoing needs the survivor to
be unmerged (undo the later merge first); a merge can be undone once. The sports id the
merge issued stays among the survivor's previous ids (P-05: an issued id keeps finding the
person).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clubadmin import access
from clubadmin.capabilities import Capability
from members import rules
from members.duplicates.tasks import check_person_duplicates
from members.models import (
    BankAccount,
    CandidateStatus,
    Competence,
    ContactSet,
    DuplicateCandidate,
    Function,
    Licence,
    Membership,
    MembershipStatus,
    MergeState,
    Person,
    PersonMerge,
    SportsIdHistory,
    Transfer,
    User,
)
from members.services.functions import function_is_ended
from members.services.persons import DEATH_DATE_ERRORS, next_sports_id

RECORD_VERSION = 1

# ------------------------------------------------------------------------ error messages

NOT_ALLOWED = gettext_lazy("You may not merge these persons.")
SAME_PERSON = gettext_lazy("A person cannot be merged with themself.")
PERSON_ALREADY_MERGED = gettext_lazy(
    "One of the persons has already been merged into another person."
)
DECEASED_MISMATCH = gettext_lazy(
    "One record is registered as deceased and the other is not: correct the deceased status "
    "on the person card first (P-06)."
)
CANDIDATE_NOT_THIS_PAIR = gettext_lazy("The duplicate candidate is not this pair of persons.")
UNKNOWN_PERSON_FIELD = gettext_lazy("This field cannot be set by a merge.")
NATIONAL_ID_TAKEN = gettext_lazy("Another person has this national person id.")
DATE_OF_DEATH_ONLY_IF_DECEASED = gettext_lazy(
    "A date of death can only be given when both records are deceased."
)
FUNCTION_NOT_OF_PAIR = gettext_lazy("Choose only functions of the two persons.")
LICENCE_NOT_OF_PAIR = gettext_lazy("Choose only licences of the two persons.")
MERGE_ALREADY_UNDONE = gettext_lazy("This merge has already been undone.")
UNDO_SURVIVOR_MERGED = gettext_lazy(
    "The surviving person has since been merged into another person: undo that merge first."
)
UNDO_MERGED_NOT_MERGED = gettext_lazy(
    "The merged person is no longer merged into the surviving person."
)

# Why a row was not moved (merge) or not put back (undo): codes in the record, texts here.
REASONS = {
    "constraint": gettext_lazy("A rule of the register refuses it: %(message)s"),
    "self_reference": gettext_lazy("It would link the surviving person to themself."),
    "account_type_taken": gettext_lazy(
        "The surviving person already has a bank account of this type (P-09)."
    ),
    "function_not_moved": gettext_lazy("Its function stays with the merged person."),
    "deleted": gettext_lazy("It has been deleted since the merge."),
    "moved_elsewhere": gettext_lazy("It has been moved to another person since the merge."),
    "edited_since": gettext_lazy("It has been changed since the merge; the new value stays."),
    "national_id_taken": gettext_lazy("Another person has this national person id now."),
    "identity_edited": gettext_lazy(
        "The name, gender or birth date was changed since the merge, so the sports id stays."
    ),
    "login_linked": gettext_lazy("The login has been linked to a person since the merge."),
    "decided_since": gettext_lazy("The candidate has been decided since the merge."),
}
CONSTRAINT_FALLBACK = gettext_lazy(
    "the person already has a row like it, or it conflicts with one (%(name)s)."
)

# ------------------------------------------------------------------------- person fields

# The survivor's final values that a merge sets (the wizard's form).
PERSON_DATA_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "gender",
    "birth_date",
    "national_person_id",
    "source_id",
    "reserved_against_data_wash",
    "date_of_death",
)
# What the record keeps of each person, before and after.
SNAPSHOT_FIELDS = (*PERSON_DATA_FIELDS, "is_deceased", "sports_id", "merged_into_id")

# ----------------------------------------------------------------------- the relations

KEEP = "keep"  # not moved: the table is about merges and candidates themselves
CANDIDATES = "candidates"
USER = "user"
FUNCTIONS = "functions"
LICENCES = "licences"
CONTACT_SETS = "contact_sets"
BANK_ACCOUNTS = "bank_accounts"
MOVE = "move"  # the default: every row moves (in a savepoint)
HISTORY = "history"  # historical rows follow their row

# Relations to Person that are not simply moved. Every other one is (`relation_plan`).
HANDLING: dict[str, str] = {
    # A person merged into the merged person earlier stays merged into them: the chain
    # leads to the survivor (the person card follows it).
    "members.person.merged_into": KEEP,
    "members.historicalperson.merged_into": KEEP,
    "members.duplicatecandidate.person_a": CANDIDATES,
    "members.duplicatecandidate.person_b": CANDIDATES,
    "members.historicalduplicatecandidate.person_a": KEEP,
    "members.historicalduplicatecandidate.person_b": KEEP,
    "members.personmerge.survivor": KEEP,
    "members.personmerge.merged": KEEP,
    "members.historicalpersonmerge.survivor": KEEP,
    "members.historicalpersonmerge.merged": KEEP,
    "members.user.person": USER,
    "members.function.person": FUNCTIONS,
    "members.licence.person": LICENCES,
    "members.contactset.person": CONTACT_SETS,
    "members.bankaccount.person": BANK_ACCOUNTS,
}


@dataclass(frozen=True)
class Relation:
    """A foreign key (or one-to-one) of `model` to Person."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"

    @property
    def is_history(self) -> bool:
        return getattr(self.model, "instance_type", None) is not None

    @property
    def handling(self) -> str:
        return HANDLING.get(self.label, HISTORY if self.is_history else MOVE)

    def rows(self) -> models.QuerySet:
        return self.model._base_manager.all()


@functools.cache
def person_relations() -> tuple[Relation, ...]:
    """Every foreign key and one-to-one to Person from every installed app, hidden ones
    (`related_name="+"`, historical models, many-to-many tables) included, by label."""
    found: dict[str, Relation] = {}
    for reverse in Person._meta.get_fields(include_hidden=True):
        if not (reverse.is_relation and reverse.auto_created and not reverse.concrete):
            continue
        if reverse.many_to_many:
            continue  # its table's own foreign key to Person is listed on its own
        relation = Relation(reverse.field.model._meta.concrete_model, reverse.field)
        found[relation.label] = relation
    return tuple(found[label] for label in sorted(found))


def relation_plan() -> dict[str, str]:
    """How a merge treats each relation to Person (label -> handling)."""
    return {relation.label: relation.handling for relation in person_relations()}


def _relation(label: str) -> Relation:
    return next(relation for relation in person_relations() if relation.label == label)


def _other_person_fields(relation: Relation) -> list[models.ForeignKey]:
    """The model's other foreign keys to Person (a guardian relation has two)."""
    return [
        each
        for each in relation.model._meta.concrete_fields
        if each.is_relation and each.related_model is Person and each.name != relation.field.name
    ]


# ---------------------------------------------------------------------------- plain values


def _json(value: object) -> object:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _snapshot(person: Person) -> dict[str, object]:
    return {name: _json(getattr(person, name)) for name in SNAPSHOT_FIELDS}


def _python(name: str, value: object) -> object:
    return Person._meta.get_field(name).to_python(value)


def _model_label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _row_label(obj: models.Model) -> str:
    return str(obj)


def _function_label(function: Function) -> str:
    until = f"{function.to_date:%d.%m.%Y}" if function.to_date else ""
    dates = f"{function.from_date:%d.%m.%Y}–{until}"
    return f"{function.function_type.name}, {function.organisation.name} ({dates})"


def _licence_label(licence: Licence) -> str:
    return f"{licence.licence_type.name}, {licence.period.name}"


def _constraint_name(error: IntegrityError) -> str:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) or ""


# ---------------------------------------------------------------------------- access


def may_merge_persons(user: User | None, persons: Iterable[Person | int]) -> bool:
    """duplicates.merge on every one of the persons (`None` is the system itself)."""
    if user is None:
        return True
    ids = {each if isinstance(each, int) else each.pk for each in persons}
    scoped = access.scope(
        user, Capability.DUPLICATES_MERGE, Person.objects.filter(pk__in=ids), include_own=False
    )
    return scoped.count() == len(ids)


def _scope_paths(person_ids: Iterable[int]) -> dict[int, list[str]]:
    paths: dict[int, set[str]] = {pk: set() for pk in person_ids}
    rows = Function.objects.filter(person_id__in=list(paths)).values_list(
        "person_id", "organisation__path"
    )
    for person_id, path in rows:
        paths[person_id].add(path)
    return {pk: sorted(values) for pk, values in paths.items()}


def may_handle_merge(user: User | None, merge: PersonMerge) -> bool:
    """See and undo a merge: duplicates.merge on both persons, where a person also counts as
    in scope through the organisations they had functions in when merged."""
    if user is None:
        return True
    grants = access.grants_for(user)
    if grants.is_superuser:
        return True
    recorded = merge.record.get("scope_paths", {})
    for role, person_id in (("survivor", merge.survivor_id), ("merged", merge.merged_id)):
        paths = recorded.get(role, [])
        if any(grants.covers(Capability.DUPLICATES_MERGE, path) for path in paths):
            continue
        if not may_merge_persons(user, [person_id]):
            return False
    return True


def _lock_pair(first_id: int, second_id: int) -> dict[int, Person]:
    """Both person rows, locked in primary-key order (no deadlock between two merges)."""
    return {
        pk: Person.objects.select_for_update().get(pk=pk) for pk in sorted((first_id, second_id))
    }


# ---------------------------------------------------------------------------- the merge


@transaction.atomic
def persons_merge(
    *,
    actor: User | None,
    survivor: Person,
    merged: Person,
    person_data: Mapping[str, Any],
    keep_function_ids: Iterable[int],
    keep_licence_ids: Iterable[int],
    candidate: DuplicateCandidate | None = None,
) -> PersonMerge:
    """P-14: merge `merged` into `survivor` (see the module docstring)."""
    merger = _Merger(actor=actor, survivor_id=survivor.pk, merged_id=merged.pk)
    merger.check(candidate)
    merger.prepare(person_data, set(keep_function_ids), set(keep_licence_ids))
    merge = merger.run()
    # The survivor's data changed, and the merged person's open pairs closed: check anew.
    check_person_duplicates.delay_on_commit(merge.survivor_id)
    return merge


class _Rollback(Exception):
    def __init__(self, preview: MergePreview) -> None:
        super().__init__()
        self.preview = preview


def merge_preview(**arguments: Any) -> MergePreview:
    """What `persons_merge` with these arguments would do, with nothing saved: the merge runs
    and is rolled back (its own locks are held only meanwhile)."""
    try:
        with transaction.atomic():
            merge = persons_merge(**arguments)
            raise _Rollback(MergePreview(record=merge.record, summary=summarise(merge.record)))
    except _Rollback as done:
        return done.preview


@dataclass
class MergePreview:
    record: dict[str, Any]
    summary: MergeSummary


class _Merger:
    """One merge: the locked persons, the plan and the record it builds."""

    def __init__(self, *, actor: User | None, survivor_id: int, merged_id: int) -> None:
        if survivor_id == merged_id:
            raise ValidationError(SAME_PERSON, code="same_person")
        self.actor = actor
        locked = _lock_pair(survivor_id, merged_id)
        self.survivor, self.merged = locked[survivor_id], locked[merged_id]
        self.today = timezone.localdate()
        self.record: dict[str, Any] = {
            "version": RECORD_VERSION,
            "date": self.today.isoformat(),
            "persons": {
                "survivor": {"before": _snapshot(self.survivor)},
                "merged": {"before": _snapshot(self.merged)},
            },
            "scope_paths": {},
            "moves": [],
            "history_moves": [],
            "not_moved": [],
            "flags": [],
            "ended": [],
            "user": None,
            "sports_ids_added": [],
            "candidates": [],
            "kept": {},
            "labels": {},
        }
        self.moved: dict[str, list[int]] = {}

    # --------------------------------------------------------------------- checks

    def check(self, candidate: DuplicateCandidate | None) -> None:
        # First: a merge that waited on the lock of a person merged meanwhile says so (the
        # merged person may have left every scope with their functions).
        if self.survivor.is_merged or self.merged.is_merged:
            raise ValidationError(PERSON_ALREADY_MERGED, code="already_merged")
        if not may_merge_persons(self.actor, [self.survivor, self.merged]):
            raise PermissionDenied(NOT_ALLOWED)
        if self.survivor.is_deceased != self.merged.is_deceased:
            raise ValidationError(DECEASED_MISMATCH, code="deceased_mismatch")
        pair = {self.survivor.pk, self.merged.pk}
        if candidate is not None and {candidate.person_a_id, candidate.person_b_id} != pair:
            raise ValidationError(CANDIDATE_NOT_THIS_PAIR, code="candidate_not_pair")

    def prepare(
        self, person_data: Mapping[str, Any], keep_functions: set[int], keep_licences: set[int]
    ) -> None:
        self.final = self._final_values(person_data)
        ids = [self.survivor.pk, self.merged.pk]
        self.functions = {
            function.pk: function
            for function in Function.objects.filter(person_id__in=ids)
            .select_related("function_type", "organisation")
            .order_by("pk")
        }
        self.licences = {
            licence.pk: licence
            for licence in Licence.objects.filter(person_id__in=ids)
            .select_related("licence_type", "period")
            .order_by("pk")
        }
        if keep_functions - set(self.functions):
            raise ValidationError({"keep_function_ids": FUNCTION_NOT_OF_PAIR})
        if keep_licences - set(self.licences):
            raise ValidationError({"keep_licence_ids": LICENCE_NOT_OF_PAIR})
        survivor_licences = {pk for pk, each in self.licences.items() if self._is_survivors(each)}
        self.keep_licences = keep_licences | survivor_licences
        # A licence that moves brings its function along (P-12: it needs one).
        needed = {self.licences[pk].function_id for pk in self.keep_licences - survivor_licences}
        self.functions_for_licences = sorted((needed & set(self.functions)) - keep_functions)
        self.keep_functions = keep_functions | set(self.functions_for_licences)
        self.record["kept"] = {
            "functions": sorted(self.keep_functions),
            "licences": sorted(self.keep_licences),
            "functions_for_licences": self.functions_for_licences,
        }
        paths = _scope_paths(ids)
        self.record["scope_paths"] = {
            "survivor": paths[self.survivor.pk],
            "merged": paths[self.merged.pk],
        }

    def _is_survivors(self, obj: models.Model) -> bool:
        return obj.person_id == self.survivor.pk

    def _final_values(self, person_data: Mapping[str, Any]) -> dict[str, object]:
        unknown = set(person_data) - set(PERSON_DATA_FIELDS)
        if unknown:
            raise ValidationError(dict.fromkeys(sorted(unknown), UNKNOWN_PERSON_FIELD))
        final: dict[str, object] = {}
        errors: dict[str, object] = {}
        for name in PERSON_DATA_FIELDS:
            value = person_data.get(name, getattr(self.survivor, name))
            if isinstance(value, str):
                value = value.strip()
            if name == "national_person_id" and not value:
                value = None
            try:
                final[name] = Person._meta.get_field(name).clean(value, self.survivor)
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)
        national_id = final["national_person_id"]
        if national_id and (
            Person.objects.filter(national_person_id=national_id)
            .exclude(pk__in=[self.survivor.pk, self.merged.pk])
            .exists()
        ):
            raise ValidationError({"national_person_id": NATIONAL_ID_TAKEN})
        self._check_death(final)
        return final

    def _check_death(self, final: dict[str, object]) -> None:
        if not self.survivor.is_deceased:
            if final["date_of_death"] is not None:
                raise ValidationError({"date_of_death": DATE_OF_DEATH_ONLY_IF_DECEASED})
            return
        # P-06: both are deceased; the date is after the birth date and not in the future.
        error = rules.death_date_error(final["date_of_death"], final["birth_date"], self.today)
        if error is not None:
            raise ValidationError({"date_of_death": DEATH_DATE_ERRORS[error]})

    # --------------------------------------------------------------------- steps

    def run(self) -> PersonMerge:
        candidate = self._candidates()
        self._contact_sets()
        self._bank_accounts()
        self._functions()
        self._licences()
        self._user()
        for relation in person_relations():
            if relation.handling == MOVE:
                self._move(relation, self._pks(relation))
        self._memberships_left()
        self._history()
        self._persons()
        merge = PersonMerge(
            survivor=self.survivor,
            merged=self.merged,
            candidate=candidate,
            record=self.record,
            performed_by=self.actor,
        )
        merge._history_user = self.actor
        merge.save()
        return merge

    def _pks(self, relation: Relation) -> list[int]:
        rows = relation.rows().filter(**{relation.field.attname: self.merged.pk})
        return list(rows.order_by("pk").values_list("pk", flat=True))

    def _move(
        self, relation: Relation, pks: list[int], *, labels: Mapping[int, str] | None = None
    ) -> None:
        """Move the rows to the survivor, each refused move (a constraint) left and reported.
        All at once in a savepoint first; one by one only when that fails."""
        if not pks:
            return
        for other in _other_person_fields(relation):
            selfish = set(
                relation.rows()
                .filter(pk__in=pks, **{other.attname: self.survivor.pk})
                .values_list("pk", flat=True)
            )
            for pk in sorted(selfish):
                self._not_moved(relation, pk, "self_reference", labels=labels)
            pks = [pk for pk in pks if pk not in selfish]
        if labels is None:
            labels = {obj.pk: _row_label(obj) for obj in relation.rows().filter(pk__in=pks)}
        model = _model_label(relation.model)
        self.record["labels"].update({f"{model}:{pk}": labels[pk] for pk in pks if pk in labels})
        moved, refused = _update_in_savepoints(relation, pks, self.survivor.pk)
        for pk, constraint in refused:
            self._not_moved(relation, pk, "constraint", constraint=constraint, labels=labels)
        if moved:
            self.moved.setdefault(relation.label, []).extend(moved)
            self.record["moves"].append(
                {
                    "model": _model_label(relation.model),
                    "field": relation.field.name,
                    "from": self.merged.pk,
                    "to": self.survivor.pk,
                    "pks": moved,
                }
            )

    def _not_moved(
        self,
        relation: Relation,
        pk: int,
        reason: str,
        *,
        constraint: str = "",
        labels: Mapping[int, str] | None = None,
    ) -> None:
        label = (labels or {}).get(pk)
        if label is None:
            obj = relation.rows().filter(pk=pk).first()
            label = _row_label(obj) if obj is not None else f"#{pk}"
        entry = {
            "model": _model_label(relation.model),
            "field": relation.field.name,
            "pk": pk,
            "label": label,
            "reason": reason,
        }
        if constraint:
            entry["constraint"] = constraint
        self.record["not_moved"].append(entry)

    def _flag(self, obj: models.Model, name: str, value: object, label: str) -> None:
        """Change a flag of a row of the merged person before it moves (recorded)."""
        self.record["flags"].append(
            {
                "model": _model_label(type(obj)),
                "pk": obj.pk,
                "field": name,
                "before": getattr(obj, name),
                "after": value,
                "person": self.merged.pk,
                "label": label,
            }
        )
        setattr(obj, name, value)
        obj._history_user = self.actor
        obj.save(update_fields=[name, "updated_at"])

    # P-14: the pair is decided; the merged person's other open pairs are moot.
    def _candidates(self) -> DuplicateCandidate | None:
        low, high = sorted((self.survivor.pk, self.merged.pk))
        rows = DuplicateCandidate.objects.select_for_update().filter(
            Q(person_a=self.merged) | Q(person_b=self.merged)
        )
        pair = None
        now = timezone.now()
        for candidate in rows.order_by("pk"):
            if (candidate.person_a_id, candidate.person_b_id) == (low, high):
                pair, status = candidate, CandidateStatus.MERGED
            elif candidate.status == CandidateStatus.OPEN:
                status = CandidateStatus.OBSOLETE
            else:
                continue
            self.record["candidates"].append(
                {
                    "pk": candidate.pk,
                    "status_before": candidate.status,
                    "status_after": status,
                    "decided_by_before": candidate.decided_by_id,
                    "decided_at_before": _json(candidate.decided_at),
                }
            )
            candidate.status, candidate.decided_by, candidate.decided_at = status, self.actor, now
            candidate._history_user = self.actor
            candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        return pair

    # P-08: one standard set per person; the merged person's moves as non-standard.
    def _contact_sets(self) -> None:
        relation = _relation("members.contactset.person")
        survivor_has_standard = ContactSet.objects.filter(
            person=self.survivor, is_standard=True
        ).exists()
        sets = list(ContactSet.objects.filter(person=self.merged).order_by("pk"))
        for contact_set in sets:
            if contact_set.is_standard and survivor_has_standard:
                self._flag(contact_set, "is_standard", False, _row_label(contact_set))
        self._move(relation, [each.pk for each in sets])

    # P-09: one account per type, one default account per person.
    def _bank_accounts(self) -> None:
        relation = _relation("members.bankaccount.person")
        theirs = list(BankAccount.objects.filter(person=self.survivor))
        taken_types = {account.account_type for account in theirs}
        has_default = any(account.is_default for account in theirs)
        movable = []
        for account in BankAccount.objects.filter(person=self.merged).order_by("pk"):
            if account.account_type in taken_types:
                self._not_moved(relation, account.pk, "account_type_taken")
                continue
            if account.is_default and has_default:
                self._flag(account, "is_default", False, _row_label(account))
            movable.append(account.pk)
        self._move(relation, movable)

    # P-10/P-14: kept functions move; the others, if not ended, are ended today and stay.
    def _functions(self) -> None:
        labels = {pk: _function_label(function) for pk, function in self.functions.items()}
        self.record["labels"].update({f"members.function:{pk}": lb for pk, lb in labels.items()})
        for pk, function in self.functions.items():
            if pk in self.keep_functions or function_is_ended(function, self.today):
                continue
            self._end(function, labels[pk], to_date=max(self.today, function.from_date))
        kept = [
            pk for pk in sorted(self.keep_functions) if not self._is_survivors(self.functions[pk])
        ]
        self._move(_relation("members.function.person"), kept, labels=labels)

    # P-12: kept licences move when their function is (now) the survivor's.
    def _licences(self) -> None:
        relation = _relation("members.licence.person")
        labels = {pk: _licence_label(licence) for pk, licence in self.licences.items()}
        self.record["labels"].update({f"members.licence:{pk}": lb for pk, lb in labels.items()})
        survivors_functions = {
            pk for pk, each in self.functions.items() if self._is_survivors(each)
        } | set(self.moved.get("members.function.person", []))
        movable = []
        for pk in sorted(self.keep_licences):
            licence = self.licences[pk]
            if self._is_survivors(licence):
                continue
            if licence.function_id not in survivors_functions:
                self._not_moved(relation, pk, "function_not_moved", labels=labels)
                continue
            movable.append(pk)
        self._move(relation, movable, labels=labels)

    # A membership that could not move repeats the survivor's in the same club (the only
    # constraint on it): it ends today like a function not kept, and is never invoiced again.
    def _memberships_left(self) -> None:
        left = Membership.objects.filter(person=self.merged).exclude(status=MembershipStatus.ENDED)
        for membership in left.filter(Q(end_date__isnull=True) | Q(end_date__gt=self.today)):
            end_date = max(self.today, membership.start_date)
            self._end(
                membership,
                self.record["labels"].get(f"members.membership:{membership.pk}", str(membership)),
                end_date=end_date,
                status=MembershipStatus.ENDED,
            )

    def _end(self, obj: models.Model, label: str, **values: object) -> None:
        """End a function or membership that stays behind (recorded with the old values)."""
        before = {name: _json(getattr(obj, name)) for name in values}
        for name, value in values.items():
            setattr(obj, name, value)
        obj._history_user = self.actor
        obj.save(update_fields=[*values, "updated_at"])
        self.record["ended"].append(
            {
                "model": _model_label(type(obj)),
                "pk": obj.pk,
                "person": obj.person_id,
                "label": label,
                "before": before,
                "after": {name: _json(value) for name, value in values.items()},
            }
        )

    # One login per person: the merged person's moves, or is detached and deactivated.
    def _user(self) -> None:
        login = User.objects.select_for_update().filter(person=self.merged).first()
        if login is None:
            return
        if User.objects.filter(person=self.survivor).exists():
            self.record["user"] = {
                "pk": login.pk,
                "username": login.get_username(),
                "action": "detached",
                "was_active": login.is_active,
            }
            login.person, login.is_active = None, False
        else:
            self.record["user"] = {
                "pk": login.pk,
                "username": login.get_username(),
                "action": "moved",
            }
            login.person = self.survivor
            self.moved.setdefault("members.user.person", []).append(login.pk)
            self.record["moves"].append(
                {
                    "model": "members.user",
                    "field": "person",
                    "from": self.merged.pk,
                    "to": self.survivor.pk,
                    "pks": [login.pk],
                }
            )
        login._history_user = self.actor
        login.save(update_fields=["person", "is_active"])
        access.forget_grants(login)

    # The history of a row follows the row: moved rows, and rows deleted before the merge.
    def _history(self) -> None:
        for relation in person_relations():
            if relation.handling != HISTORY:
                continue
            tracked = relation.model.instance_type
            tracked_label = f"{tracked._meta.label_lower}.{relation.field.name}"
            if HANDLING.get(tracked_label) == KEEP:
                continue
            key = tracked._meta.pk.attname
            condition = Q(**{f"{key}__in": self.moved.get(tracked_label, [])}) | ~Q(
                Exists(tracked._base_manager.filter(pk=OuterRef(key)))
            )
            rows = relation.rows().filter(condition, **{relation.field.attname: self.merged.pk})
            pks = list(rows.order_by("pk").values_list("pk", flat=True))
            if not pks:
                continue
            relation.rows().filter(pk__in=pks).update(**{relation.field.attname: self.survivor.pk})
            self.record["history_moves"].append(
                {
                    "model": _model_label(relation.model),
                    "field": relation.field.name,
                    "from": self.merged.pk,
                    "to": self.survivor.pk,
                    "pks": pks,
                }
            )

    # The persons: the merged one points at the survivor; the survivor gets the final data.
    def _persons(self) -> None:
        survivor, merged = self.survivor, self.merged
        reason = f"merge of person {merged.pk} into {survivor.pk}"
        merged.merged_into = survivor
        merged.national_person_id = None
        _save_person(merged, self.actor, ["merged_into", "national_person_id"], reason)
        self._add_previous_sports_id(merged.sports_id, "merged_id")
        changed = [name for name, value in self.final.items() if getattr(survivor, name) != value]
        for name in changed:
            setattr(survivor, name, self.final[name])
        if rules.changes_identity(set(changed)):
            # P-05: a new sports id; the old one still finds the person.
            self._add_previous_sports_id(survivor.sports_id, "survivor_old_id")
            survivor.sports_id = next_sports_id(
                birth_date=survivor.birth_date, gender=survivor.gender
            )
            changed.append("sports_id")
        survivor.full_clean(exclude=["merged_into"])
        _save_person(survivor, self.actor, changed, reason)
        self.record["persons"]["survivor"]["after"] = _snapshot(survivor)
        self.record["persons"]["merged"]["after"] = _snapshot(merged)

    def _add_previous_sports_id(self, sports_id: str, kind: str) -> None:
        row = SportsIdHistory.objects.create(person=self.survivor, sports_id=sports_id)
        self.record["sports_ids_added"].append({"pk": row.pk, "sports_id": sports_id, "kind": kind})


def _save_person(person: Person, actor: User | None, fields: list[str], reason: str) -> None:
    person._history_user = actor
    person._change_reason = reason
    person.save(update_fields=[*fields, "updated_at"])


def _update_in_savepoints(
    relation: Relation, pks: list[int], owner: int
) -> tuple[list[int], list[tuple[int, str]]]:
    """Point the rows' foreign key at `owner`: all at once, else one by one; the rows a
    constraint refuses come back with the constraint's name."""
    if not pks:
        return [], []
    column = relation.field.attname
    try:
        with transaction.atomic():
            relation.rows().filter(pk__in=pks).update(**{column: owner})
        return list(pks), []
    except IntegrityError:
        pass
    moved, refused = [], []
    for pk in pks:
        try:
            with transaction.atomic():
                relation.rows().filter(pk=pk).update(**{column: owner})
            moved.append(pk)
        except IntegrityError as error:
            refused.append((pk, _constraint_name(error)))
    return moved, refused


# ----------------------------------------------------------------------------- the undo


@transaction.atomic
def merge_undo(*, actor: User | None, merge: PersonMerge) -> PersonMerge:
    """Put back both persons and every moved reference that nothing has changed since; the
    rest is listed with the reason in `merge.undo_report` (see the module docstring)."""
    persons = _lock_pair(merge.survivor_id, merge.merged_id)
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    if not may_handle_merge(actor, merge):
        raise PermissionDenied(NOT_ALLOWED)
    if merge.state == MergeState.UNDONE:
        raise ValidationError(MERGE_ALREADY_UNDONE, code="already_undone")
    survivor, merged = persons[merge.survivor_id], persons[merge.merged_id]
    if survivor.is_merged:
        raise ValidationError(UNDO_SURVIVOR_MERGED, code="survivor_merged")
    if merged.merged_into_id != survivor.pk:
        raise ValidationError(UNDO_MERGED_NOT_MERGED, code="merged_not_merged")
    undo = _Undo(actor=actor, merge=merge, survivor=survivor, merged=merged)
    undo.run()
    merge.state = MergeState.UNDONE
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.undo_report = undo.report
    merge._history_user = actor
    merge.save(update_fields=["state", "undone_by", "undone_at", "undo_report"])
    for person in (survivor, merged):
        check_person_duplicates.delay_on_commit(person.pk)
    return merge


class _Undo:
    def __init__(
        self, *, actor: User | None, merge: PersonMerge, survivor: Person, merged: Person
    ) -> None:
        self.actor, self.merge, self.record = actor, merge, merge.record
        self.survivor, self.merged = survivor, merged
        self.report: dict[str, Any] = {"restored": [], "not_restored": []}
        self.labels: dict[str, str] = self.record.get("labels", {})

    def run(self) -> None:
        for move in reversed(self.record["moves"]):
            self._move_back(move, history=False)
        for move in reversed(self.record["history_moves"]):
            self._move_back(move, history=True)
        for flag in reversed(self.record["flags"]):
            self._flag_back(flag)
        for ended in self.record["ended"]:
            self._end_back(ended)
        self._user_back()
        self._persons_back()
        self._sports_ids_back()
        for change in self.record["candidates"]:
            self._candidate_back(change)

    def _missing(
        self, kind: str, model: str, pk: int | None, label: str, reason: str, **extra: object
    ) -> None:
        self.report["not_restored"].append(
            {"kind": kind, "model": model, "pk": pk, "label": label, "reason": reason, **extra}
        )

    def _label(self, model: str, pk: int, obj: models.Model | None = None) -> str:
        known = self.labels.get(f"{model}:{pk}")
        if known:
            return known
        return _row_label(obj) if obj is not None else f"#{pk}"

    def _move_back(self, move: Mapping[str, Any], *, history: bool) -> None:
        model = apps.get_model(move["model"])
        relation = Relation(model, model._meta.get_field(move["field"]))
        owners = dict(
            relation.rows().filter(pk__in=move["pks"]).values_list("pk", relation.field.attname)
        )
        back = [pk for pk in move["pks"] if owners.get(pk) == move["to"]]
        moved, refused = _update_in_savepoints(relation, back, move["from"])
        if moved:
            self.report["restored"].append(
                {
                    "model": move["model"],
                    "field": move["field"],
                    "count": len(moved),
                    "history": history,
                }
            )
        problems = [(pk, "deleted", "") for pk in move["pks"] if pk not in owners]
        problems += [
            (pk, "moved_elsewhere", "")
            for pk in move["pks"]
            if pk in owners and owners[pk] != move["to"]
        ]
        problems += [(pk, "constraint", constraint) for pk, constraint in refused]
        for pk, reason, constraint in sorted(problems):
            obj = relation.rows().filter(pk=pk).first() if not history else None
            extra = {"constraint": constraint} if constraint else {}
            self._missing(
                "history" if history else "row",
                move["model"],
                pk,
                self._label(move["model"], pk, obj),
                reason,
                **extra,
            )

    def _flag_back(self, flag: Mapping[str, Any]) -> None:
        model = apps.get_model(flag["model"])
        obj = model._base_manager.filter(pk=flag["pk"]).first()
        if obj is None:
            self._missing(
                "flag", flag["model"], flag["pk"], flag["label"], "deleted", field=flag["field"]
            )
            return
        if obj.person_id != flag["person"]:
            return  # still with the survivor (reported with its move): the flag stays
        if getattr(obj, flag["field"]) != flag["after"]:
            self._missing(
                "flag",
                flag["model"],
                flag["pk"],
                flag["label"],
                "edited_since",
                field=flag["field"],
            )
            return
        try:
            with transaction.atomic():
                setattr(obj, flag["field"], flag["before"])
                obj._history_user = self.actor
                obj.save(update_fields=[flag["field"], "updated_at"])
        except IntegrityError as error:
            self._missing(
                "flag",
                flag["model"],
                flag["pk"],
                flag["label"],
                "constraint",
                field=flag["field"],
                constraint=_constraint_name(error),
            )

    def _end_back(self, ended: Mapping[str, Any]) -> None:
        model = apps.get_model(ended["model"])
        obj = model._base_manager.filter(pk=ended["pk"]).first()
        where = ("end", ended["model"], ended["pk"], ended["label"])
        if obj is None:
            self._missing(*where, "deleted")
            return
        if any(_json(getattr(obj, name)) != value for name, value in ended["after"].items()):
            self._missing(*where, "edited_since")
            return
        try:
            with transaction.atomic():
                for name, value in ended["before"].items():
                    setattr(obj, name, model._meta.get_field(name).to_python(value))
                obj._history_user = self.actor
                obj.save(update_fields=[*ended["before"], "updated_at"])
        except IntegrityError as error:
            self._missing(*where, "constraint", constraint=_constraint_name(error))

    def _user_back(self) -> None:
        user = self.record.get("user")
        if not user or user["action"] != "detached":
            return  # a moved login went back with the moves
        login = User.objects.select_for_update().filter(pk=user["pk"]).first()
        if login is None:
            self._missing("user", "members.user", user["pk"], user["username"], "deleted")
            return
        if login.person_id is not None:
            self._missing("user", "members.user", user["pk"], user["username"], "login_linked")
            return
        if User.objects.filter(person=self.merged).exists():
            self._missing(
                "user",
                "members.user",
                user["pk"],
                user["username"],
                "constraint",
                constraint="members_user_person_id_key",
            )
            return
        login.person, login.is_active = self.merged, user["was_active"]
        login._history_user = self.actor
        login.save(update_fields=["person", "is_active"])
        access.forget_grants(login)

    def _persons_back(self) -> None:
        persons = self.record["persons"]
        reason = f"undo of merge {self.merge.pk}"
        restore = self._field_restores(self.survivor, persons["survivor"])
        if restore:
            for name, value in restore.items():
                setattr(self.survivor, name, value)
            _save_person(self.survivor, self.actor, list(restore), reason)
        self.merged.merged_into = None
        fields = ["merged_into"]
        before_id = persons["merged"]["before"]["national_person_id"]
        if before_id and self.merged.national_person_id is None:
            if (
                Person.objects.filter(national_person_id=before_id)
                .exclude(pk=self.merged.pk)
                .exists()
            ):
                self._field_missing(self.merged, "national_person_id", "national_id_taken")
            else:
                self.merged.national_person_id = before_id
                fields.append("national_person_id")
        _save_person(self.merged, self.actor, fields, reason)

    def _field_restores(self, person: Person, snapshots: Mapping[str, Any]) -> dict[str, object]:
        before, after = snapshots["before"], snapshots["after"]
        current = _snapshot(person)
        restore: dict[str, object] = {}
        for name in PERSON_DATA_FIELDS:
            if before[name] == after[name]:
                continue
            if current[name] != after[name]:
                self._field_missing(person, name, "edited_since")
                continue
            if (
                name == "national_person_id"
                and before[name]
                and Person.objects.filter(national_person_id=before[name])
                .exclude(pk=person.pk)
                .exclude(pk=self.merged.pk)
                .exists()
            ):
                self._field_missing(person, name, "national_id_taken")
                continue
            restore[name] = _python(name, before[name])
        self.identity_restored = all(current[name] == after[name] for name in rules.IDENTITY_FIELDS)
        return restore

    def _field_missing(self, person: Person, name: str, reason: str) -> None:
        self._missing("field", "members.person", person.pk, person.full_name, reason, field=name)

    def _sports_ids_back(self) -> None:
        before = self.record["persons"]["survivor"]["before"]["sports_id"]
        after = self.record["persons"]["survivor"]["after"]["sports_id"]
        for added in self.record["sports_ids_added"]:
            row = SportsIdHistory.objects.filter(pk=added["pk"]).first()
            if added["kind"] == "merged_id":
                if row is not None and row.person_id == self.survivor.pk:
                    row.delete()
                continue
            # P-05: the survivor gets its old id back; the id the merge issued still finds it.
            if self.survivor.sports_id != after or not self.identity_restored:
                self._missing(
                    "sports_id",
                    "members.person",
                    self.survivor.pk,
                    self.survivor.full_name,
                    "identity_edited",
                    field="sports_id",
                )
                continue
            if row is not None and row.sports_id == before:
                row.sports_id = after
                row.save(update_fields=["sports_id"])
            else:
                SportsIdHistory.objects.create(person=self.survivor, sports_id=after)
            self.survivor.sports_id = before
            _save_person(self.survivor, self.actor, ["sports_id"], f"undo of merge {self.merge.pk}")

    def _candidate_back(self, change: Mapping[str, Any]) -> None:
        candidate = DuplicateCandidate.objects.select_for_update().filter(pk=change["pk"]).first()
        label = f"#{change['pk']}"
        if candidate is None:
            self._missing("candidate", "members.duplicatecandidate", change["pk"], label, "deleted")
            return
        if candidate.status != change["status_after"]:
            self._missing(
                "candidate", "members.duplicatecandidate", change["pk"], label, "decided_since"
            )
            return
        candidate.status = change["status_before"]
        candidate.decided_by_id = change["decided_by_before"]
        decided_at = change["decided_at_before"]
        candidate.decided_at = parse_datetime(decided_at) if decided_at else None
        candidate._history_user = self.actor
        candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])


# ------------------------------------------------------------------ for the wizard


def reference_counts(person_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """How many rows of each table (history left out) refer to each person: one query."""
    ids = sorted(set(person_ids))
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    relations = [r for r in person_relations() if r.handling not in (KEEP, HISTORY, CANDIDATES)]
    if not ids or not relations:
        return counts
    quote = connection.ops.quote_name
    parts, params = [], []
    marks = ", ".join(["%s"] * len(ids))
    for relation in relations:
        column = quote(relation.field.column)
        table = quote(relation.model._meta.db_table)
        # Table and column names come from the models; the values are parameters.
        sql = f"SELECT %s::text, {column}, COUNT(*) FROM {table} WHERE {column} IN ({marks})"  # noqa: S608
        parts.append(f"{sql} GROUP BY {column}")
        params += [relation.label, *ids]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for label, person_id, count in cursor.fetchall():
            counts[person_id][label] = count
    return counts


def relation_title(label: str, *, plural: bool = True) -> str:
    """ "members.membership.person" -> "Memberships"; the field is named when the model has
    more than one relation to Person ("Guardians (child)"); a many-to-many table is named
    after its field ("Exemption agreements (children)")."""
    model_label, _dot, field_name = label.rpartition(".")
    model = apps.get_model(model_label)
    owner = model._meta.auto_created
    if owner:
        through = next(
            each for each in owner._meta.many_to_many if each.remote_field.through is model
        )
        return f"{capfirst(owner._meta.verbose_name_plural)} ({through.verbose_name})"
    name = model._meta.verbose_name_plural if plural else model._meta.verbose_name
    title = str(capfirst(name))
    fields_to_person = [
        each
        for each in model._meta.concrete_fields
        if each.is_relation and each.related_model is Person
    ]
    if len(fields_to_person) > 1:
        verbose = model._meta.get_field(field_name).verbose_name
        title = f"{title} ({verbose})"
    return title


# ------------------------------------------------------------------ human-readable record


@dataclass(frozen=True)
class FieldRow:
    label: str
    survivor: str
    merged: str
    result: str
    changed: bool


@dataclass(frozen=True)
class RowNote:
    kind: str
    label: str
    reason: str


@dataclass
class MergeSummary:
    fields: list[FieldRow] = field(default_factory=list)
    old_sports_id: str = ""
    new_sports_id: str = ""
    moved: list[tuple[str, int]] = field(default_factory=list)
    history_entries: int = 0
    functions_moved: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    functions_for_licences: list[str] = field(default_factory=list)
    licences_moved: list[str] = field(default_factory=list)
    not_moved: list[RowNote] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    login: str = ""
    previous_sports_ids: list[str] = field(default_factory=list)
    candidates_merged: int = 0
    candidates_obsolete: int = 0


@dataclass
class UndoSummary:
    restored: list[tuple[str, int]] = field(default_factory=list)
    history_entries: int = 0
    not_restored: list[RowNote] = field(default_factory=list)


def display_value(name: str, value: object) -> str:
    """A person field's value (Python or as recorded in JSON) as the pages show it."""
    if value in (None, ""):
        return "–"
    if isinstance(value, str) and name in ("birth_date", "date_of_death"):
        value = datetime.date.fromisoformat(value)
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    model_field = Person._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _field_title(name: str) -> str:
    return str(capfirst(Person._meta.get_field(name).verbose_name))


def _model_title(model_label: str) -> str:
    return str(capfirst(apps.get_model(model_label)._meta.verbose_name))


def reason_text(entry: Mapping[str, Any]) -> str:
    code = entry["reason"]
    if code == "constraint":
        message = _constraint_message(entry["model"], entry.get("constraint", ""))
        return str(REASONS["constraint"]) % {"message": message}
    text = str(REASONS.get(code, code))
    if entry.get("kind") in ("field", "flag", "sports_id"):
        model = apps.get_model(entry["model"])
        title = capfirst(model._meta.get_field(entry["field"]).verbose_name)
        text = f"{title}: {text}"
    return text


def _constraint_message(model_label: str, name: str) -> str:
    """The constraint's own message, when it has one."""
    model = apps.get_model(model_label)
    for constraint in model._meta.constraints:
        if constraint.name == name and (
            constraint.violation_error_message != constraint.default_violation_error_message
        ):
            return str(constraint.get_violation_error_message())
    return str(CONSTRAINT_FALLBACK) % {"name": name or "?"}


def summarise(record: Mapping[str, Any]) -> MergeSummary:
    """The record in human terms (merge page and preview); no database queries beyond the
    app registry."""
    persons = record["persons"]
    survivor, merged = persons["survivor"], persons["merged"]
    summary = MergeSummary()
    for name in PERSON_DATA_FIELDS:
        values = (survivor["before"][name], merged["before"][name], survivor["after"][name])
        if all(value in (None, "", False) for value in values) and name == "date_of_death":
            continue
        summary.fields.append(
            FieldRow(
                label=_field_title(name),
                survivor=display_value(name, values[0]),
                merged=display_value(name, values[1]),
                result=display_value(name, values[2]),
                changed=values[0] != values[2],
            )
        )
    if survivor["before"]["sports_id"] != survivor["after"]["sports_id"]:
        summary.old_sports_id = survivor["before"]["sports_id"]
        summary.new_sports_id = survivor["after"]["sports_id"]
    labels = record.get("labels", {})
    counted: dict[str, int] = {}
    for move in record["moves"]:
        label = f"{move['model']}.{move['field']}"
        counted[label] = counted.get(label, 0) + len(move["pks"])
        if move["model"] == "members.function":
            summary.functions_moved += [labels[f"members.function:{pk}"] for pk in move["pks"]]
        if move["model"] == "members.licence":
            summary.licences_moved += [labels[f"members.licence:{pk}"] for pk in move["pks"]]
    summary.moved = [(relation_title(label), count) for label, count in counted.items()]
    summary.history_entries = sum(len(move["pks"]) for move in record["history_moves"])
    summary.ended = [
        _("%(kind)s %(label)s: ended %(date)s")
        % {
            "kind": _model_title(ended["model"]),
            "label": ended["label"],
            "date": display_value("date_of_death", _end_date(ended["after"])),
        }
        for ended in record["ended"]
    ]
    summary.functions_for_licences = [
        labels[f"members.function:{pk}"] for pk in record["kept"].get("functions_for_licences", [])
    ]
    summary.not_moved = [
        RowNote(
            relation_title(f"{entry['model']}.{entry['field']}", plural=False),
            entry["label"],
            reason_text(entry),
        )
        for entry in record["not_moved"]
    ]
    summary.flags = [_flag_text(flag) for flag in record["flags"]]
    summary.login = _login_text(record.get("user"))
    summary.previous_sports_ids = [added["sports_id"] for added in record["sports_ids_added"]]
    statuses = [change["status_after"] for change in record["candidates"]]
    summary.candidates_merged = statuses.count(CandidateStatus.MERGED)
    summary.candidates_obsolete = statuses.count(CandidateStatus.OBSOLETE)
    return summary


def _end_date(values: Mapping[str, Any]) -> object:
    return values.get("to_date") or values.get("end_date")


def _flag_text(flag: Mapping[str, Any]) -> str:
    if flag["field"] == "is_standard":
        return _("Contact set “%(label)s” moves as a non-standard set (P-08).") % flag
    return _("Bank account %(label)s moves as a non-default account (P-09).") % flag


def _login_text(user: Mapping[str, Any] | None) -> str:
    if not user:
        return ""
    if user["action"] == "moved":
        return _("The login “%(username)s” moves to the surviving person.") % user
    return (
        _(
            "The surviving person has a login already: the login “%(username)s” is detached "
            "and deactivated."
        )
        % user
    )


def summarise_undo(report: Mapping[str, Any]) -> UndoSummary:
    summary = UndoSummary()
    for restored in report.get("restored", []):
        if restored["history"]:
            summary.history_entries += restored["count"]
        else:
            label = f"{restored['model']}.{restored['field']}"
            summary.restored.append((relation_title(label), restored["count"]))
    summary.not_restored = [
        RowNote(_model_title(entry["model"]), entry["label"], reason_text(entry))
        for entry in report.get("not_restored", [])
    ]
    return summary


# -------------------------------------------------------------- the wizard's two sides


@dataclass
class MergeSide:
    """One record as the wizard shows it beside the other."""

    key: str  # "a" or "b"
    person: Person
    standard_contact: ContactSet | None = None
    functions: list[Function] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)
    competences: list[Competence] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    # The other references: (title, count), and the total of all references.
    references: list[tuple[str, int]] = field(default_factory=list)
    total_references: int = 0

    def function_label(self, function: Function) -> str:
        return _function_label(function)

    def licence_label(self, licence: Licence) -> str:
        return _licence_label(licence)


# Shown on their own beside each other; the other references only as counts.
LISTED_RELATIONS = frozenset(
    {
        "members.function.person",
        "members.licence.person",
        "members.competence.person",
        "members.transfer.person",
        "members.membership.person",
        "members.contactset.person",
    }
)


def merge_sides(person_a: Person, person_b: Person) -> tuple[MergeSide, MergeSide]:
    """Both records with their functions, licences, competences, transfers, memberships, the
    standard contact set and the counts of every other reference: eight queries for any
    number of rows."""
    sides = {person_a.pk: MergeSide("a", person_a), person_b.pk: MergeSide("b", person_b)}
    ids = list(sides)
    for function in (
        Function.objects.filter(person_id__in=ids)
        .select_related("function_type", "organisation")
        .order_by("-from_date", "pk")
    ):
        sides[function.person_id].functions.append(function)
    for licence in (
        Licence.objects.filter(person_id__in=ids)
        .select_related("licence_type", "period", "organisation")
        .order_by("-period__valid_from", "pk")
    ):
        sides[licence.person_id].licences.append(licence)
    for competence in Competence.objects.filter(person_id__in=ids).select_related(
        "competence_type"
    ):
        sides[competence.person_id].competences.append(competence)
    for transfer in Transfer.objects.filter(person_id__in=ids).select_related(
        "function_type", "from_organisation", "to_organisation"
    ):
        sides[transfer.person_id].transfers.append(transfer)
    for membership in (
        Membership.objects.filter(person_id__in=ids)
        .select_related("club", "membership_type")
        .order_by("-start_date", "pk")
    ):
        sides[membership.person_id].memberships.append(membership)
    for contact_set in ContactSet.objects.filter(person_id__in=ids, is_standard=True):
        sides[contact_set.person_id].standard_contact = contact_set
    for person_id, counts in reference_counts(ids).items():
        side = sides[person_id]
        side.total_references = sum(counts.values())
        side.references = sorted(
            (relation_title(label), count)
            for label, count in counts.items()
            if label not in LISTED_RELATIONS
        )
    return sides[person_a.pk], sides[person_b.pk]


def default_survivor(first: MergeSide, second: MergeSide) -> MergeSide:
    """The record with more references survives (it is the one in use: its sports id is on
    the licences and in the clubs' lists, and fewer rows move, so fewer can conflict); on a
    tie the older record."""
    return min(
        (first, second),
        key=lambda side: (-side.total_references, side.person.created_at, side.person.pk),
    )


def most_recent(first: MergeSide, second: MergeSide) -> MergeSide:
    """P-14: the person info starts from the most recently changed record."""
    return max((first, second), key=lambda side: (side.person.updated_at, side.person.pk))


def default_kept(survivor: MergeSide, merged: MergeSide) -> tuple[set[int], set[int]]:
    """The wizard's first choice: every function and licence, except those of the merged
    record that repeat one of the survivor's (same function type in the same organisation
    at an overlapping time; a licence of a period the survivor has one in)."""

    def overlaps(one: Function, other: Function) -> bool:
        far = datetime.date.max
        return one.from_date <= (other.to_date or far) and other.from_date <= (one.to_date or far)

    functions = {function.pk for function in survivor.functions}
    for function in merged.functions:
        if not any(
            (own.function_type_id, own.organisation_id)
            == (function.function_type_id, function.organisation_id)
            and overlaps(own, function)
            for own in survivor.functions
        ):
            functions.add(function.pk)
    periods = {licence.period_id for licence in survivor.licences if licence.status != "cancelled"}
    licences = {licence.pk for licence in survivor.licences}
    licences |= {licence.pk for licence in merged.licences if licence.period_id not in periods}
    return functions, licences


def merge_of_pair(person_ids: Iterable[int]) -> PersonMerge | None:
    """The standing merge of these two persons, in either direction (a second submit of the
    wizard finds it)."""
    first, second = person_ids
    return (
        PersonMerge.objects.filter(state=MergeState.MERGED)
        .filter(Q(survivor_id=first, merged_id=second) | Q(survivor_id=second, merged_id=first))
        .order_by("-performed_at")
        .first()
    )
