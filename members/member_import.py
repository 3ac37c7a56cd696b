"""A club's member list from its old system (issue 5 scope 9, M-01..M-03).

The persons import (`members.duplicates.importing`) reads, cleans and creates persons; this
module adds what a member list needs on top: column mapping, the cleaning report per M-01..M-03,
persons matched or created, memberships. See `member_import_plan` and `member_import_commit`.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from simple_history.utils import bulk_create_with_history

from clubadmin import access
from clubadmin.access import person_scope_filter
from clubadmin.capabilities import Capability
from members import membership_rules, selectors_memberships
from members.duplicates.importing import (
    BATCH_SIZE,
    CHANGE_REASON_LENGTH,
    DATE_FORMAT,
    DATE_IMPOSSIBLE,
    DEFAULT_FUNCTION_TYPE,
    FILE_REJECTED,
    ImportResult,
    Issue,
    Row,
    Table,
    check_source_ids,
    clean_person,
    field_text,
    fold_names,
    parse_date,
    persons_bulk_create,
    register_matches,
    resolve_function_type,
    row_cells,
)
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    MembershipVerification,
    Organisation,
    Person,
    User,
    VerificationStatus,
)
from members.services.common import require_capability

# ======================================================================================
# Member lists from a club's old system (issue 5 scope 9, M-01..M-03)
# ======================================================================================
#
# A club's membership registrar uploads the member list of the old system (CSV or XLSX),
# maps its columns to our fields and checks the cleaning report (a dry run) before the
# import commits, in one transaction:
# - M-02: passive (and former) members are skipped, without checking their data;
# - M-03: likely e-mail typos are warnings; invalid values (dates, e-mails, phones,
#   postcodes) are errors, as in `clean_person`;
# - a row whose person is already in the register (the club's own source id, else exactly
#   one person with the same folded name and birth date) gets the membership on that
#   person; a row naming the same person as an earlier row is skipped; several possible
#   persons: skipped, to be registered by hand;
# - a person already a member of the club is skipped (so an import can be run again);
# - M-13: an individual member's e-mail is not another current member's; M-14: a child with
#   an adult's e-mail is imported without it (warned), so that verification reaches the
#   child's own address.
# New persons get a standard contact set and the "member" function (persons_bulk_create),
# every imported row a membership of the chosen (or the row's) type, pending verification
# unless the person is already verified (M-14), as `membership_join` makes them.

MEMBER_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "gender",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "source_id",
    "membership_type",
    "status",
    "start_date",
)

# Header words (folded: lower case, æøå as ae/o/a, only letters and digits) by field.
_HEADER_WORDS_TEXT = """
first_name: fornavn firstname givenname fornamn forename
middle_name: mellomnavn middlename
last_name: etternavn lastname surname familyname efternamn
birth_date: fodselsdato fodt fdato fodselsdag birthdate dateofbirth dob born
gender: kjonn gender sex kon
email: epost epostadresse email emailaddress mail mailadresse
phone: mobil mobilnummer mobiltelefon mobilnr telefon telefonnummer tlf tlfnr mobile
    mobilephone phone phonenumber cellphone
street: adresse gateadresse postadresse address street streetaddress
postcode: postnr postnummer postcode zip zipcode postalcode
city: poststed sted city place town postalplace
country: land landkode country countrycode
source_id: medlemsnr medlemsnummer medlemsid memberno membernumber memberid id nr kundenr
    sourceid
membership_type: medlemstype medlemskategori medlemskapstype kategori membershiptype
    membertype type category
status: status medlemsstatus memberstatus aktiv active
start_date: innmeldt innmeldingsdato innmeldtdato medlemsiden medlemfra startdato
    membersince joined joindate startdate
"""
HEADER_WORDS = {
    name.strip(): tuple(words.split())
    for name, _colon, words in (
        entry.partition(":") for entry in re.split(r"\n(?=\S)", _HEADER_WORDS_TEXT.strip())
    )
}

# M-02: the old system's status words. Empty means active.
ACTIVE_WORDS = frozenset({"", "aktiv", "aktivt", "active", "a", "ja", "yes", "1"})
PASSIVE_WORDS = frozenset(
    {"passiv", "passivt", "passive", "inaktiv", "inactive", "p", "nei", "no", "0"}
)
FORMER_WORDS = frozenset(
    {"sluttet", "utmeldt", "avsluttet", "slettet", "ended", "resigned", "former", "left"}
)

MEMBER_IMPORT_MAX_ROWS = 20_000

STATUS_UNKNOWN = _(
    "“%(value)s” is not a status: write aktiv/active, passiv/passive or sluttet/ended, or "
    "leave it empty (active)."
)
SKIPPED_PASSIVE = _("Passive member: not imported (M-02).")
SKIPPED_FORMER = _("No longer a member: not imported (M-02).")
SKIPPED_ALREADY_MEMBER = _("Already a member of the club: not imported again.")
SKIPPED_SAME_PERSON_AS_LINE = _(
    "Same person as line %(line)s (same name and birth date): imported once, from line %(line)s."
)
SKIPPED_SEVERAL_MATCHES = _(
    "%(count)s persons in the register have this name and birth date: register this member by "
    "hand, choosing the right person."
)
MATCHED_PERSON = _(
    "Already in the register: the membership goes to %(name)s (sports id %(sports_id)s)."
)
MATCHED_PERSON_ELSEWHERE = _(
    "Already in the register (same name and birth date): the membership goes to that person."
)
MEMBERSHIP_TYPE_UNKNOWN = _(
    "“%(value)s” is not one of the club's membership types (%(types)s): rename it in the file, "
    "or leave the column unmapped to use the chosen type."
)
MEMBERSHIP_TYPE_FAMILY = _(
    "%(type)s is a family membership: register families on the Families page, or import this "
    "member with an individual type (M-11)."
)
START_DATE_IN_FUTURE = _("The join date %(value)s is in the future.")
PERSON_IS_DECEASED = _("%(name)s is registered as deceased in the register.")
MEMBERSHIP_OVERLAPS = _(
    "%(name)s had a membership in the club until %(end)s: the join date must be after it."
)
EMAIL_TAKEN_IN_FILE = _(
    "The e-mail address %(email)s is also on line %(line)s: each individual member needs their "
    "own e-mail address (M-13)."
)
EMAIL_TAKEN_BY_MEMBER = _(
    "Another member of the club has the e-mail address %(email)s: each individual member needs "
    "their own e-mail address (M-13)."
)
CHILD_EMAIL_DROPPED = _(
    "The child has the same e-mail address as %(other)s: imported without it, so that "
    "verification reaches the child's own address (M-14). Record the guardian relation."
)
CHILD_SHARES_MOBILE_IN_FILE = _(
    "The child has the same mobile number as line %(line)s (an adult): verification by SMS "
    "would reach the adult (M-14)."
)
A_MEMBER = _("a member of the club")
LINE_N = _("line %(line)s")
MEMBER_TYPE_NOT_ALLOWED = _("Choose an individual, active membership type of this club.")
NOTHING_TO_COMMIT = _("Nothing to import: every row is skipped or rejected.")


def header_word(name: str) -> str:
    """A header name folded for guessing: lower case, æøå and accents to ASCII, letters and
    digits only ("Fødselsdato" -> "fodselsdato", "E-post" -> "epost")."""
    text = name.strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if char.isalnum() and not unicodedata.combining(char))


def guess_mapping(header: Sequence[str]) -> dict[str, int]:
    """Our field -> the column that most likely holds it, from the header names (Norwegian
    and English); each column is used at most once, the first fitting column wins."""
    words = [header_word(name) for name in header]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for field_name in MEMBER_FIELDS:
        candidates = {field_name.replace("_", ""), *HEADER_WORDS[field_name]}
        for index, word in enumerate(words):
            if index not in used and word in candidates:
                mapping[field_name] = index
                used.add(index)
                break
    return mapping


def member_status(value: str) -> str | None:
    """M-02: "active", "passive" or "former" from the old system's word; None: unknown word."""
    word = value.strip().lower()
    if word in ACTIVE_WORDS:
        return "active"
    if word in PASSIVE_WORDS:
        return "passive"
    if word in FORMER_WORDS:
        return "former"
    return None


@dataclass
class MemberLine:
    """One row of a member list: the person's values and what the import does with it."""

    row: Row
    membership_type: MembershipType | None = None
    start_date: datetime.date | None = None
    skipped: str = ""  # why the row is not imported, when that is no error
    person_id: int | None = None  # the existing person the membership goes to
    is_child: bool = False
    name: str = ""  # as the file writes it (also for rows that are not cleaned)

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def is_rejected(self) -> bool:
        return not self.skipped and not self.row.is_valid

    @property
    def is_imported(self) -> bool:
        return not self.skipped and self.row.is_valid

    def skip(self, message: str) -> None:
        self.skipped = str(message)


@dataclass
class MemberImportPlan:
    """The cleaning report of a member list, and after a commit what was created."""

    lines: list[MemberLine] = field(default_factory=list)
    file_issues: list[Issue] = field(default_factory=list)
    skip_invalid: bool = False
    committed: bool = False
    created_person_ids: list[int] = field(default_factory=list)
    membership_ids: list[int] = field(default_factory=list)

    def _result(self) -> ImportResult:
        rows = [line.row for line in self.lines if not line.skipped]
        return ImportResult(rows=rows, file_issues=self.file_issues)

    @property
    def errors(self) -> list[Issue]:
        return self._result().errors

    @property
    def warnings(self) -> list[Issue]:
        return self._result().warnings

    @property
    def file_is_readable(self) -> bool:
        return not any(issue.is_error for issue in self.file_issues)

    @property
    def imported(self) -> list[MemberLine]:
        return [line for line in self.lines if line.is_imported]

    @property
    def new_persons(self) -> list[MemberLine]:
        return [line for line in self.imported if line.person_id is None]

    @property
    def matched_persons(self) -> list[MemberLine]:
        return [line for line in self.imported if line.person_id is not None]

    @property
    def skipped(self) -> list[MemberLine]:
        return [line for line in self.lines if line.skipped]

    @property
    def rejected(self) -> list[MemberLine]:
        return [line for line in self.lines if line.is_rejected]

    @property
    def may_commit(self) -> bool:
        if not self.file_is_readable or not self.imported:
            return False
        return self.skip_invalid or not self.rejected

    @property
    def refusal(self) -> str:
        if not self.file_is_readable:
            return str(FILE_REJECTED)
        if self.rejected and not self.skip_invalid:
            return str(
                ROWS_REJECTED_IN_FORM % {"count": len(self.rejected), "valid": len(self.imported)}
            )
        if not self.imported:
            return str(NOTHING_TO_COMMIT)
        return ""


ROWS_REJECTED_IN_FORM = ngettext_lazy(
    "%(count)s row has errors. Correct the file and upload it again, or choose to skip the "
    "rows with errors and import the other %(valid)s.",
    "%(count)s rows have errors. Correct the file and upload it again, or choose to skip the "
    "rows with errors and import the other %(valid)s.",
    "count",
)


def _types_by_word(club: Organisation) -> dict[str, MembershipType]:
    types = MembershipType.objects.filter(club=club, is_active=True).order_by("pk")
    found: dict[str, MembershipType] = {}
    for membership_type in types:
        for word in (membership_type.name, membership_type.code):
            found.setdefault(header_word(word), membership_type)
    return found


def _member_line(
    line: int,
    values: Mapping[str, str],
    *,
    default_type: MembershipType,
    types: Mapping[str, MembershipType],
    today: datetime.date,
) -> MemberLine:
    """One row: M-02 first (a passive member is skipped whatever their data), then the
    person's values (`clean_person`), the membership type and the join date."""
    name = " ".join(field_text(values, part) for part in ("first_name", "middle_name", "last_name"))
    name = " ".join(name.split())
    status = member_status(values.get("status") or "")
    if status == "passive":
        return MemberLine(Row(line, None), skipped=str(SKIPPED_PASSIVE), name=name)
    if status == "former":
        return MemberLine(Row(line, None), skipped=str(SKIPPED_FORMER), name=name)
    row = clean_person(line, values, today)
    if status is None:
        row.add("status", STATUS_UNKNOWN % {"value": field_text(values, "status")})
    member = MemberLine(row, membership_type=default_type, start_date=today, name=name)
    type_word = field_text(values, "membership_type")
    if type_word:
        member.membership_type = types.get(header_word(type_word))
        if member.membership_type is None:
            names = ", ".join(sorted({t.name for t in types.values()}))
            row.add(
                "membership_type", MEMBERSHIP_TYPE_UNKNOWN % {"value": type_word, "types": names}
            )
        elif member.membership_type.category == MembershipCategory.FAMILY:
            row.add(
                "membership_type", MEMBERSHIP_TYPE_FAMILY % {"type": member.membership_type.name}
            )
    start = field_text(values, "start_date")
    if start:
        member.start_date = _clean_start_date(row, start, today)
    birth_date = row.person.birth_date
    member.is_child = membership_rules.is_child(birth_date, member.start_date or today)
    return member


def _clean_start_date(row: Row, raw: str, today: datetime.date) -> datetime.date | None:
    day, error = parse_date(raw)
    if error == "format":
        row.add("start_date", DATE_FORMAT % {"value": raw})
    elif error == "impossible":
        row.add("start_date", DATE_IMPOSSIBLE % {"value": raw})
    elif day > today:
        row.add("start_date", START_DATE_IN_FUTURE % {"value": day.isoformat()})
    else:
        return day
    return None


def _skip_same_persons(lines: Sequence[MemberLine]) -> None:
    """Rows with the same folded name and birth date: the first is imported, the later ones
    are skipped (one person, registered twice in the old system)."""
    dated = [m for m in lines if m.is_imported and m.row.person.birth_date is not None]
    folded = fold_names([(m.row.person.first_name, m.row.person.last_name) for m in dated])
    first_line: dict[tuple[str, str, datetime.date], int] = {}
    for member, names in zip(dated, folded, strict=True):
        key = (*names, member.row.person.birth_date)
        if key in first_line:
            member.skip(SKIPPED_SAME_PERSON_AS_LINE % {"line": first_line[key]})
        else:
            first_line[key] = member.line


def _club_persons_by_source_id(lines: Sequence[MemberLine], club: Organisation) -> dict[str, int]:
    wanted = sorted({m.row.person.source_id for m in lines if m.row.person.source_id})
    found: dict[str, int] = {}
    scope = person_scope_filter([club.path])
    for start in range(0, len(wanted), BATCH_SIZE):
        persons = (
            Person.objects.filter(
                source_id__in=wanted[start : start + BATCH_SIZE], merged_into=None
            )
            .filter(scope)
            .order_by("pk")
            .values_list("source_id", "pk")
        )
        for source_id, pk in persons:
            found.setdefault(source_id, pk)
    return found


def _match_persons(lines: Sequence[MemberLine], club: Organisation) -> None:
    """The club's own source id first, else exactly one person of the register with the
    row's folded name and birth date. Several: skipped, for the registrar to choose."""
    candidates = [m for m in lines if m.is_imported]
    by_source_id = _club_persons_by_source_id(candidates, club)
    for member in candidates:
        member.person_id = by_source_id.get(member.row.person.source_id)
    unmatched = {m.line: m for m in candidates if m.person_id is None}
    matches: dict[int, list[int]] = defaultdict(list)
    for match in register_matches([m.row.person for m in unmatched.values()]):
        matches[match.line].append(match.person_id)
    for line, person_ids in matches.items():
        if len(person_ids) == 1:
            unmatched[line].person_id = person_ids[0]
        else:
            unmatched[line].skip(SKIPPED_SEVERAL_MATCHES % {"count": len(person_ids)})


def _check_matched_persons(
    lines: Sequence[MemberLine], club: Organisation, user: User | None
) -> dict[int, Person]:
    """Matched persons: deceased (error), already a member (skipped), an earlier membership
    overlapping the join date (error), the same person on two lines (the later skipped)."""
    matched = [m for m in lines if m.is_imported and m.person_id is not None]
    persons = Person.objects.in_bulk({m.person_id for m in matched})
    visible = set()
    if user is not None:
        visible = set(
            access.scope(
                user, Capability.PERSONS_VIEW, Person.objects.filter(pk__in=persons)
            ).values_list("pk", flat=True)
        )
    memberships: dict[int, list[Membership]] = defaultdict(list)
    for membership in Membership.objects.filter(person_id__in=persons, club=club).order_by("pk"):
        memberships[membership.person_id].append(membership)
    first_line: dict[int, int] = {}
    for member in matched:
        person = persons[member.person_id]
        if member.person_id in first_line:
            member.skip(SKIPPED_SAME_PERSON_AS_LINE % {"line": first_line[member.person_id]})
            continue
        first_line[member.person_id] = member.line
        _check_matched(member, person, memberships[person.pk], visible=person.pk in visible)
    return persons


def _check_matched(
    member: MemberLine, person: Person, memberships: Sequence[Membership], *, visible: bool
) -> None:
    if any(m.status != MembershipStatus.ENDED for m in memberships):
        member.skip(SKIPPED_ALREADY_MEMBER)
        return
    row = member.row
    if person.is_deceased:
        row.add("", PERSON_IS_DECEASED % {"name": person.full_name})
    start = member.start_date
    ends = [m.end_date for m in memberships if m.end_date is not None]
    if start is not None and ends and max(ends) >= start:
        values = {"name": person.full_name, "end": max(ends).isoformat()}
        row.add("start_date", MEMBERSHIP_OVERLAPS % values)
    if visible:
        message = MATCHED_PERSON % {"name": person.full_name, "sports_id": person.sports_id}
    else:
        message = MATCHED_PERSON_ELSEWHERE
    row.add("", message, is_error=False)
    member.is_child = membership_rules.is_child(person.birth_date, start or timezone.localdate())


def _current_member_emails(club: Organisation) -> dict[str, int]:
    """M-13: e-mail (lower case) -> person id of the club's current members."""
    members = selectors_memberships.current_memberships().filter(club=club).values("person_id")
    contacts = ContactSet.objects.filter(is_standard=True, person_id__in=members).exclude(email="")
    return {
        email.lower(): person_id for person_id, email in contacts.values_list("person_id", "email")
    }


def _check_emails(
    lines: Sequence[MemberLine], club: Organisation, persons: Mapping[int, Person]
) -> None:
    """M-13: each individual member has their own e-mail address, in the file and among the
    club's current members; M-14: a new child with an adult's address is imported without it
    (an existing child's data is not changed here: that is an error to sort out by hand)."""
    standard = {
        person_id: email.lower()
        for person_id, email in ContactSet.objects.filter(
            is_standard=True, person_id__in=list(persons)
        ).values_list("person_id", "email")
    }
    owners: dict[str, int | MemberLine] = dict(_current_member_emails(club))
    for member in (m for m in lines if m.is_imported):
        if member.person_id is not None:
            email = standard.get(member.person_id, "")
        else:
            email = member.row.person.email.lower()
        if not email:
            continue
        owner = owners.get(email)
        if owner is None or owner == member.person_id:
            owners[email] = member
            continue
        owner_line = owner if isinstance(owner, MemberLine) else None
        if owner_line is not None and owner_line.is_child and owner_line.person_id is None:
            _drop_child_email(owner_line, str(LINE_N % {"line": member.line}))
            owners[email] = member
        elif member.is_child and member.person_id is None:
            other = LINE_N % {"line": owner_line.line} if owner_line else A_MEMBER
            _drop_child_email(member, str(other))
        elif owner_line is not None:
            member.row.add("email", EMAIL_TAKEN_IN_FILE % {"email": email, "line": owner_line.line})
        else:
            member.row.add("email", EMAIL_TAKEN_BY_MEMBER % {"email": email})


def _drop_child_email(member: MemberLine, other: str) -> None:
    member.row.person.email = ""
    member.row.add("email", CHILD_EMAIL_DROPPED % {"other": other}, is_error=False)


def _check_child_mobiles(lines: Sequence[MemberLine]) -> None:
    """M-14: a new child with an adult's mobile number (in the file) is a warning."""
    adults: dict[str, int] = {}
    for member in lines:
        if member.is_imported and not member.is_child and member.row.person.mobile:
            adults.setdefault(member.row.person.mobile, member.line)
    for member in lines:
        mobile = member.row.person.mobile if member.row.person else ""
        if member.is_imported and member.is_child and mobile in adults:
            member.row.add(
                "phone", CHILD_SHARES_MOBILE_IN_FILE % {"line": adults[mobile]}, is_error=False
            )


def check_member_type(club: Organisation, membership_type: MembershipType) -> None:
    """The default type of an import: the club's own, active and individual."""
    if (
        membership_type.club_id != club.pk
        or not membership_type.is_active
        or membership_type.category == MembershipCategory.FAMILY
    ):
        raise ValidationError({"membership_type": MEMBER_TYPE_NOT_ALLOWED})


def member_import_plan(
    *,
    table: Table,
    mapping: Mapping[str, int],
    club: Organisation,
    membership_type: MembershipType,
    skip_invalid: bool = False,
    user: User | None = None,
    today: datetime.date | None = None,
) -> MemberImportPlan:
    """The dry run: what importing the member list would do, row by row (nothing saved).
    `mapping` gives the column of each of our fields (MEMBER_FIELDS); `user` decides which
    matched persons are named in the report (those the user may see)."""
    check_member_type(club, membership_type)
    today = today or timezone.localdate()
    plan = MemberImportPlan(file_issues=list(table.issues), skip_invalid=skip_invalid)
    if not table.is_readable:
        return plan
    types = _types_by_word(club)
    for line, raw_cells in table.rows:
        cells, problem = row_cells(table, line, raw_cells)
        if problem is not None:
            plan.lines.append(MemberLine(Row(line, None, [problem])))
            continue
        values = {name: cells[index] for name, index in mapping.items() if index < len(cells)}
        plan.lines.append(
            _member_line(line, values, default_type=membership_type, types=types, today=today)
        )
    check_source_ids([m.row for m in plan.lines if not m.skipped])
    _skip_same_persons(plan.lines)
    _match_persons(plan.lines, club)
    persons = _check_matched_persons(plan.lines, club, user)
    _check_emails(plan.lines, club, persons)
    _check_child_mobiles(plan.lines)
    return plan


def _verified_person_ids(person_ids: Iterable[int]) -> set[int]:
    """M-14: persons traced to one real individual (selectors_memberships.person_is_verified)."""
    verified = MembershipVerification.objects.filter(
        membership__person_id=OuterRef("pk"), status=VerificationStatus.VERIFIED
    )
    return set(
        Person.objects.filter(pk__in=list(person_ids))
        .filter(Q(national_person_id__isnull=False) & ~Q(national_person_id="") | Exists(verified))
        .values_list("pk", flat=True)
    )


def _add_member_functions(
    *, actor: User | None, club: Organisation, lines: Sequence[MemberLine], reason: str
) -> None:
    """The "member" function in the club for matched persons who hold no open one."""
    function_type = FunctionType.objects.get(code=DEFAULT_FUNCTION_TYPE)
    holding = set(
        Function.objects.filter(
            person_id__in=[m.person_id for m in lines],
            organisation=club,
            function_type=function_type,
            to_date__isnull=True,
        ).values_list("person_id", flat=True)
    )
    functions = [
        Function(
            person_id=m.person_id,
            organisation=club,
            function_type=function_type,
            from_date=m.start_date,
            is_licensed=function_type.is_licensed,
        )
        for m in lines
        if m.person_id not in holding
    ]
    bulk_create_with_history(
        functions, Function, batch_size=BATCH_SIZE, default_user=actor, default_change_reason=reason
    )


@transaction.atomic
def member_import_commit(
    *,
    actor: User | None,
    table: Table,
    mapping: Mapping[str, int],
    club: Organisation,
    membership_type: MembershipType,
    skip_invalid: bool,
    change_reason: str,
    today: datetime.date | None = None,
) -> MemberImportPlan:
    """Import the member list (members.manage in the club): the dry run again, under a lock
    on the club, and when it allows it, every person and membership in one transaction.
    When it does not, nothing is saved and the plan says why (`refusal`)."""
    require_capability(actor, Capability.MEMBERS_MANAGE, club)
    Organisation.objects.select_for_update().filter(pk=club.pk).first()
    plan = member_import_plan(
        table=table,
        mapping=mapping,
        club=club,
        membership_type=membership_type,
        skip_invalid=skip_invalid,
        user=actor,
        today=today,
    )
    if not plan.may_commit:
        return plan
    reason = change_reason[:CHANGE_REASON_LENGTH]
    new = plan.new_persons
    plan.created_person_ids = persons_bulk_create(
        actor=actor,
        persons=[m.row.person for m in new],
        organisation=club,
        function_type=resolve_function_type(club, DEFAULT_FUNCTION_TYPE),
        change_reason=reason,
        from_dates=[m.start_date for m in new],
    )
    for member, person_id in zip(new, plan.created_person_ids, strict=True):
        member.person_id = person_id
    _add_member_functions(actor=actor, club=club, lines=plan.matched_persons, reason=reason)
    plan.membership_ids = _create_memberships(actor=actor, club=club, plan=plan, reason=reason)
    plan.committed = True
    return plan


def _create_memberships(
    *, actor: User | None, club: Organisation, plan: MemberImportPlan, reason: str
) -> list[int]:
    """One membership per imported row: active for a verified person, else pending
    verification (M-14), as `membership_join` makes them."""
    verified = _verified_person_ids(m.person_id for m in plan.matched_persons)
    memberships = [
        Membership(
            person_id=m.person_id,
            club=club,
            membership_type=m.membership_type,
            start_date=m.start_date,
            status=(
                MembershipStatus.ACTIVE
                if m.person_id in verified
                else MembershipStatus.PENDING_VERIFICATION
            ),
        )
        for m in plan.imported
    ]
    created = bulk_create_with_history(
        memberships,
        Membership,
        batch_size=BATCH_SIZE,
        default_user=actor,
        default_change_reason=reason,
    )
    return [membership.pk for membership in created]
