"""Writes for membership types, memberships, families and guardian relations (issue 5).

- Joining a club makes a membership pending verification (M-14), or active at once when an
  administrator registers a person already traced to one real individual.
- Resigning ends the membership on the day the resignation is received; ended memberships
  are never invoiced again (members.selectors_memberships.invoiceable_memberships).
- Leaving a group or a team is ending a function there, not the membership.
- A family groups personal memberships of one club (M-11, D-01): a family-category type, at
  most the club's limit (members.club_settings), the first registered is the contact person.
- Activating a membership pending verification (`membership_activate`, and
  `memberships_activate` for the paid persons of an invoice) is one change with one history
  record, whatever the grounds: the member confirmed their data through the link (M-14, S-08),
  paid online (M-10), or their payment was registered (M-10). The callers check the grounds.
- A member holds a "member" function in the club while the membership runs: persons belong
  to the organisations where they hold functions (clubadmin.access), so this is what makes a
  new member visible in the club's person register.

Every service takes the acting user (`None` = the system), checks members.manage on the club
through clubadmin.access, validates and records the actor in the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from clubadmin import access
from clubadmin.capabilities import Capability
from members import club_settings, membership_rules, selectors_memberships
from members.models import (
    Family,
    Function,
    FunctionType,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    Organisation,
    OrganisationType,
    PeriodKind,
    Person,
    User,
)
from members.services import verification
from members.services.common import NOT_ALLOWED, UNSET, require_capability
from members.services.persons import person_create

NOT_A_CLUB = _("Memberships are held in a club.")
CLUB_INACTIVE = _("The club is not active.")
TYPE_OF_ANOTHER_CLUB = _("The membership type belongs to another club.")
TYPE_INACTIVE = _("This membership type is no longer in use.")
FAMILY_OF_ANOTHER_CLUB = _("The family belongs to another club.")
FAMILY_TYPE_NEEDS_FAMILY = _(
    "A family membership type is only for members of a family: choose the family (M-11)."
)
FAMILY_NEEDS_FAMILY_TYPE = _("A member of a family needs a family membership type (M-11).")
FAMILY_FULL = _("The family already has %(limit)s members, the most the club allows (D-01).")
PERSON_DECEASED = _("The person is registered as deceased.")
ALREADY_MEMBER = _("The person already has a membership in this club in that period.")
SINGLE_AND_FAMILY = _(
    "The person has an individual membership in this club in that period: nobody holds an "
    "individual and a family membership for the same period (D-01). End the individual "
    "membership first."
)
IN_ANOTHER_FAMILY = _("The person is already in another family of this club in that period.")
ALREADY_IN_FAMILY = _("The person is already a member of this family.")
EMAIL_NOT_UNIQUE = _(
    "Another member of this club has the e-mail address %(email)s. Each individual member "
    "needs their own e-mail address (M-13); only members of a family may share one."
)
WARNINGS_NOT_CONFIRMED = _("Check the warnings above and confirm to continue.")
ALREADY_ENDED = _("The membership has already ended.")
END_IN_FUTURE = _("A membership cannot be ended on a future date.")
END_BEFORE_START = _("The membership cannot end before it started.")
RESIGNATION_IN_FUTURE = _("The resignation cannot be received on a future date.")
NOT_IN_THIS_FAMILY = _("The membership is not in this family.")
START_OF_ENDED = _("An ended membership cannot be changed.")
ENDED_NOT_ACTIVATED = _("An ended membership cannot be activated.")
PERSON_AND_NEW_PERSON = _("Choose an existing person or give a new person's name, not both.")
PERSON_MISSING = _("Choose a person or give a new person's name.")
CHILD_NOT_UNDER_18 = _("The child must be under 18 and have a birth date.")
GUARDIAN_IS_CHILD = _("A guardian must be an adult.")
GUARDIAN_EXISTS = _("This guardian relation is already registered.")
GUARDIAN_SELF = _("A person cannot be their own guardian.")

# Why a membership became active: the history's change reason (stored in English, at most
# 100 characters).
ACTIVATED_BY_LINK = "confirmed through the verification link (M-14)"
ACTIVATED_BY_ONLINE_PAYMENT = "paid online (M-10)"
ACTIVATED_BY_PAYMENT = "payment registered (M-10)"

# The function every member holds in the club while the membership runs (migration 0002).
MEMBER_FUNCTION_CODE = "member"

# The default types a club starts with (names are data, in the club's language).
DEFAULT_MEMBERSHIP_TYPES = (
    ("ordinary", "Ordinært medlem", MembershipCategory.ORDINARY),
    ("junior", "Junior", MembershipCategory.JUNIOR),
    ("senior", "Senior", MembershipCategory.SENIOR),
    ("family", "Familiemedlem", MembershipCategory.FAMILY),
    ("pensioner", "Pensjonist", MembershipCategory.PENSIONER),
    ("honorary", "Æresmedlem", MembershipCategory.HONORARY),
)


# ----------------------------------------------------------------------- membership types


def _check_club(club: Organisation) -> None:
    if club.organisation_type != OrganisationType.CLUB:
        raise ValidationError({"club": NOT_A_CLUB})
    if not club.is_active:
        raise ValidationError({"club": CLUB_INACTIVE})


@transaction.atomic
def membership_type_create(
    *,
    actor: User | None,
    club: Organisation,
    code: str,
    name: str,
    category: str,
    period_kind: str = PeriodKind.CALENDAR_YEAR,
    is_active: bool = True,
) -> MembershipType:
    """A membership type of the club; its category tells the price engine what it is."""
    require_capability(actor, Capability.MEMBERS_MANAGE, club)
    _check_club(club)
    membership_type = MembershipType(
        club=club,
        code=code.strip(),
        name=name.strip(),
        category=category,
        period_kind=period_kind,
        is_active=is_active,
    )
    membership_type.full_clean()
    membership_type.save()
    return membership_type


@transaction.atomic
def membership_types_create_defaults(
    *, actor: User | None, club: Organisation, period_kind: str = PeriodKind.CALENDAR_YEAR
) -> list[MembershipType]:
    """The default types (ordinary, junior, senior, family, pensioner, honorary); types the
    club already has (same code) are kept as they are. Safe to run twice."""
    require_capability(actor, Capability.MEMBERS_MANAGE, club)
    _check_club(club)
    existing = {t.code: t for t in MembershipType.objects.filter(club=club)}
    result = []
    for code, name, category in DEFAULT_MEMBERSHIP_TYPES:
        if code in existing:
            result.append(existing[code])
            continue
        result.append(
            membership_type_create(
                actor=actor,
                club=club,
                code=code,
                name=name,
                category=category,
                period_kind=period_kind,
            )
        )
    return result


# ----------------------------------------------------------------------------- joining


def _check_type_and_family(
    *, club: Organisation, membership_type: MembershipType, family: Family | None
) -> None:
    if membership_type.club_id != club.pk:
        raise ValidationError({"membership_type": TYPE_OF_ANOTHER_CLUB})
    if not membership_type.is_active:
        raise ValidationError({"membership_type": TYPE_INACTIVE})
    is_family_type = membership_type.category == MembershipCategory.FAMILY
    if family is None and is_family_type:
        raise ValidationError({"membership_type": FAMILY_TYPE_NEEDS_FAMILY})
    if family is not None:
        if family.club_id != club.pk:
            raise ValidationError({"family": FAMILY_OF_ANOTHER_CLUB})
        if not is_family_type:
            raise ValidationError({"membership_type": FAMILY_NEEDS_FAMILY_TYPE})


def _check_no_overlap(*, person: Person, club: Organisation, family: Family | None) -> None:
    """One membership of a person in a club at a time (the exclusion constraint guards it;
    this names the reason). A new membership is open-ended, so every membership not ended
    overlaps it."""
    existing = (
        selectors_memberships.current_memberships()
        .filter(person=person, club=club)
        .only("family_id")
        .first()
    )
    if existing is None:
        return
    if family is not None and existing.family_id == family.pk:
        raise ValidationError({"person": ALREADY_IN_FAMILY})
    if family is not None and existing.family_id is None:
        raise ValidationError({"person": SINGLE_AND_FAMILY})
    if existing.family_id is not None:
        raise ValidationError({"person": IN_ANOTHER_FAMILY})
    raise ValidationError({"person": ALREADY_MEMBER})


def _check_unique_email(*, person: Person, club: Organisation) -> None:
    """M-13: an individual member's e-mail address is not another current member's."""
    contact = selectors_memberships.standard_contact(person)
    email = contact.email if contact else ""
    if (
        email
        and selectors_memberships.other_members_with_email(
            email=email, club=club, person=person
        ).exists()
    ):
        raise ValidationError({"email": EMAIL_NOT_UNIQUE % {"email": email}})


def _check_family_room(family: Family, club: Organisation, day: datetime.date) -> None:
    limit = club_settings.for_club(club, day.year).family_member_limit
    count = selectors_memberships.family_member_count(family)
    if not membership_rules.family_has_room(count, limit):
        raise ValidationError({"family": FAMILY_FULL % {"limit": limit}})


def _check_warnings(
    *, person: Person, club: Organisation, actor: User | None, day: datetime.date, confirmed: bool
) -> None:
    warnings = selectors_memberships.join_warnings(person=person, club=club, user=actor, on=day)
    if warnings and not confirmed:
        raise ValidationError(
            {"confirm_warnings": [w.message for w in warnings]}, code="warnings_not_confirmed"
        )


def _resolve_person(
    *, actor: User | None, person: Person | None, new_person: Mapping[str, Any] | None
) -> Person:
    if person is not None and new_person:
        raise ValidationError(PERSON_AND_NEW_PERSON)
    if person is not None:
        return Person.objects.select_for_update().get(pk=person.pk)
    if not new_person:
        raise ValidationError({"person": PERSON_MISSING})
    # The registrar may create the person: members.manage in the club was checked.
    return person_create(actor=actor, **dict(new_person))


def _ensure_member_function(*, actor: User | None, membership: Membership) -> None:
    """The member's "member" function in the club, from the start of the membership."""
    function_type = FunctionType.objects.filter(code=MEMBER_FUNCTION_CODE).first()
    if function_type is None:
        return
    already = Function.objects.filter(
        person=membership.person,
        organisation=membership.club,
        function_type=function_type,
        to_date__isnull=True,
    ).exists()
    if already:
        return
    function = Function(
        person=membership.person,
        organisation=membership.club,
        function_type=function_type,
        from_date=membership.start_date,
        is_licensed=function_type.is_licensed,
    )
    function.full_clean()
    function._history_user = actor
    function.save()


@transaction.atomic
def membership_join(
    *,
    actor: User | None,
    club: Organisation,
    membership_type: MembershipType,
    person: Person | None = None,
    new_person: Mapping[str, Any] | None = None,
    start_date: datetime.date | None = None,
    family: Family | None = None,
    warnings_confirmed: bool = False,
    verification_channel: str | None = None,
    base_url: str = "",
) -> Membership:
    """A person (existing, or new: `new_person` holds person_create's fields) joins the club.

    Pending verification (M-14) unless the person is already verified; then active. With
    `family`, the membership is a family membership (M-11, D-01). Warnings (M-14: a child
    sharing an adult's e-mail or mobile; unpaid dues elsewhere) must be confirmed with
    `warnings_confirmed`. With `verification_channel` ("email"/"sms") a verification link
    is sent once the transaction commits."""
    require_capability(actor, Capability.MEMBERS_MANAGE, club)
    _check_club(club)
    if family is not None:
        family = Family.objects.select_for_update().get(pk=family.pk)
    _check_type_and_family(club=club, membership_type=membership_type, family=family)
    person = _resolve_person(actor=actor, person=person, new_person=new_person)
    if person.is_deceased:
        raise ValidationError({"person": PERSON_DECEASED})
    day = start_date or timezone.localdate()
    _check_no_overlap(person=person, club=club, family=family)
    if family is None:
        _check_unique_email(person=person, club=club)
    else:
        _check_family_room(family, club, day)
    _check_warnings(person=person, club=club, actor=actor, day=day, confirmed=warnings_confirmed)
    verified = selectors_memberships.person_is_verified(person)
    membership = Membership(
        person=person,
        club=club,
        membership_type=membership_type,
        family=family,
        start_date=day,
        status=MembershipStatus.ACTIVE if verified else MembershipStatus.PENDING_VERIFICATION,
    )
    membership.full_clean()
    membership._history_user = actor
    membership.save()
    _ensure_member_function(actor=actor, membership=membership)
    if verification_channel and not verified:
        verification.verification_request(
            actor=actor, membership=membership, channel=verification_channel, base_url=base_url
        )
    return membership


def _lock(actor: User | None, membership: Membership) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("club", "person", "membership_type", "family")
        .get(pk=membership.pk)
    )
    require_capability(actor, Capability.MEMBERS_MANAGE, membership.club)
    return membership


@transaction.atomic
def membership_update(
    *,
    actor: User | None,
    membership: Membership,
    membership_type: MembershipType | object = UNSET,
    start_date: datetime.date | object = UNSET,
) -> Membership:
    """Correct the type or start date of a membership that has not ended. Person, club and
    family never change: another club or family is another membership."""
    membership = _lock(actor, membership)
    if membership.status == MembershipStatus.ENDED:
        raise ValidationError(START_OF_ENDED)
    changes: dict[str, object] = {}
    if membership_type is not UNSET:
        _check_type_and_family(
            club=membership.club, membership_type=membership_type, family=membership.family
        )
        changes["membership_type"] = membership_type
    if start_date is not UNSET:
        changes["start_date"] = start_date
    for name, value in changes.items():
        setattr(membership, name, value)
    membership.full_clean()
    membership._history_user = actor
    membership.save(update_fields=[*changes, "updated_at"])
    return membership


# ----------------------------------------------------------------------------- activating


@transaction.atomic
def membership_activate(*, actor: User | None, membership: Membership, reason: str) -> Membership:
    """A membership pending verification becomes active, with one history record (who:
    `actor`, None = the system or the payment provider; why: `reason`, one of the
    `ACTIVATED_BY_*`). The caller has checked the grounds (a valid link, a payment), so the
    actor is recorded, not checked. Idempotent: an active membership is returned unchanged
    (no second record, also when two calls race: the row is locked). An ended membership
    is refused."""
    membership = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    if membership.status == MembershipStatus.ENDED:
        raise ValidationError(ENDED_NOT_ACTIVATED, code="membership_ended")
    if membership.status == MembershipStatus.ACTIVE:
        return membership
    membership.status = MembershipStatus.ACTIVE
    membership._history_user = actor
    membership._change_reason = reason
    membership.save(update_fields=["status", "updated_at"])
    return membership


@transaction.atomic
def memberships_activate(
    *, actor: User | None, club_id: int, person_ids: Iterable[int], reason: str
) -> list[Membership]:
    """M-10: the memberships pending verification of `person_ids` in the club become active
    (what a payment for these persons does); ended and active ones are left as they are.
    Returns the activated ones. Set-based: a lock, an update and a history insert, whatever
    the number of persons (an OCR file pays thousands of invoices)."""
    ids = sorted(set(person_ids))
    if not ids:
        return []
    memberships = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(club_id=club_id, person_id__in=ids, status=MembershipStatus.PENDING_VERIFICATION)
        .order_by("pk")  # STYLE 4: locks in primary-key order
    )
    if not memberships:
        return []
    now = timezone.now()
    for membership in memberships:
        membership.status = MembershipStatus.ACTIVE
        membership.updated_at = now  # bulk_update does not fill auto_now
        membership._history_user = actor  # not the request's user (the sandbox's webhook)
    bulk_update_with_history(
        memberships,
        Membership,
        ["status", "updated_at"],
        default_user=actor,
        default_change_reason=reason,
        default_date=now,
    )
    return memberships


# ----------------------------------------------------------------------------- ending


def _end_member_function(*, actor: User | None, membership: Membership) -> None:
    """The "member" function ends with the last membership in the club."""
    still_member = (
        selectors_memberships.current_memberships()
        .filter(person_id=membership.person_id, club_id=membership.club_id)
        .exclude(pk=membership.pk)
        .exists()
    )
    if still_member:
        return
    open_functions = Function.objects.select_for_update(of=("self",)).filter(
        person_id=membership.person_id,
        organisation_id=membership.club_id,
        function_type__code=MEMBER_FUNCTION_CODE,
        to_date__isnull=True,
    )
    for function in open_functions:
        function.to_date = max(membership.end_date, function.from_date)
        function._history_user = actor
        function.save(update_fields=["to_date", "updated_at"])


def _pass_on_family_contact(*, actor: User | None, membership: Membership) -> None:
    """M-11: the contact is the first registered member; when they leave, the next one."""
    if membership.family_id is None:
        return
    family = Family.objects.select_for_update().get(pk=membership.family_id)
    if family.contact_person_id != membership.person_id:
        return
    following = (
        selectors_memberships.family_memberships(family=family).exclude(pk=membership.pk).first()
    )
    if following is None:
        return
    family.contact_person_id = following.person_id
    family._history_user = actor
    family.save(update_fields=["contact_person", "updated_at"])


def _close(
    *,
    actor: User | None,
    membership: Membership,
    end_date: datetime.date,
    received_on: datetime.date | None = None,
) -> Membership:
    membership.end_date = end_date
    membership.status = MembershipStatus.ENDED
    fields = ["end_date", "status", "updated_at"]
    if received_on is not None:
        membership.resignation_received_on = received_on
        fields.append("resignation_received_on")
    membership.full_clean()
    membership._history_user = actor
    membership.save(update_fields=fields)
    _end_member_function(actor=actor, membership=membership)
    _pass_on_family_contact(actor=actor, membership=membership)
    return membership


@transaction.atomic
def membership_resign(
    *, actor: User | None, membership: Membership, received_on: datetime.date | None = None
) -> Membership:
    """The member resigns: the membership ends on the day the resignation is received (the
    start date, for a membership that had not started yet) and is never invoiced again."""
    membership = _lock(actor, membership)
    if membership.status == MembershipStatus.ENDED:
        raise ValidationError(ALREADY_ENDED)
    received = received_on or timezone.localdate()
    if received > timezone.localdate():
        raise ValidationError({"received_on": RESIGNATION_IN_FUTURE})
    return _close(
        actor=actor,
        membership=membership,
        end_date=max(received, membership.start_date),
        received_on=received,
    )


@transaction.atomic
def membership_end(
    *, actor: User | None, membership: Membership, end_date: datetime.date | None = None
) -> Membership:
    """The club ends a membership (e.g. struck off, deceased, or moved out of a family)."""
    membership = _lock(actor, membership)
    if membership.status == MembershipStatus.ENDED:
        raise ValidationError(ALREADY_ENDED)
    day = end_date or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"end_date": END_IN_FUTURE})
    if day < membership.start_date:
        raise ValidationError({"end_date": END_BEFORE_START})
    return _close(actor=actor, membership=membership, end_date=day)


# ----------------------------------------------------------------------------- families


@transaction.atomic
def family_create(
    *,
    actor: User | None,
    club: Organisation,
    membership_type: MembershipType,
    contact_person: Person | None = None,
    new_person: Mapping[str, Any] | None = None,
    name: str = "",
    start_date: datetime.date | None = None,
    warnings_confirmed: bool = False,
    verification_channel: str | None = None,
    base_url: str = "",
) -> Family:
    """A family (M-11, D-01) whose first registered member, its contact person, joins with a
    family membership."""
    require_capability(actor, Capability.MEMBERS_MANAGE, club)
    _check_club(club)
    # The family does not exist yet: check the type against an unsaved one of this club.
    _check_type_and_family(club=club, membership_type=membership_type, family=Family(club=club))
    person = _resolve_person(actor=actor, person=contact_person, new_person=new_person)
    family = Family(club=club, name=name.strip() or person.last_name, contact_person=person)
    family.full_clean()
    family._history_user = actor
    family.save()
    membership_join(
        actor=actor,
        club=club,
        membership_type=membership_type,
        person=person,
        start_date=start_date,
        family=family,
        warnings_confirmed=warnings_confirmed,
        verification_channel=verification_channel,
        base_url=base_url,
    )
    return family


@transaction.atomic
def family_add_member(
    *,
    actor: User | None,
    family: Family,
    membership_type: MembershipType,
    person: Person | None = None,
    new_person: Mapping[str, Any] | None = None,
    start_date: datetime.date | None = None,
    warnings_confirmed: bool = False,
    verification_channel: str | None = None,
    base_url: str = "",
) -> Membership:
    """Another member of the family joins with a family membership (at most the club's limit,
    D-01; not in two families, not individual and family at once)."""
    return membership_join(
        actor=actor,
        club=family.club,
        membership_type=membership_type,
        person=person,
        new_person=new_person,
        start_date=start_date,
        family=family,
        warnings_confirmed=warnings_confirmed,
        verification_channel=verification_channel,
        base_url=base_url,
    )


@transaction.atomic
def family_remove_member(
    *,
    actor: User | None,
    family: Family,
    membership: Membership,
    end_date: datetime.date | None = None,
) -> Membership:
    """Only an administrator removes a family member (M-11): the family membership ends; the
    person may join again as an individual member from the next day."""
    if membership.family_id != family.pk:
        require_capability(actor, Capability.MEMBERS_MANAGE, family.club)
        raise ValidationError(NOT_IN_THIS_FAMILY)
    return membership_end(actor=actor, membership=membership, end_date=end_date)


# ----------------------------------------------------------------------------- guardians


def _require_members_manage_for(actor: User | None, person: Person) -> None:
    if actor is not None and not access.can(actor, Capability.MEMBERS_MANAGE, person):
        raise PermissionDenied(NOT_ALLOWED)


@transaction.atomic
def guardian_relation_create(
    *, actor: User | None, guardian: Person, child: Person, on: datetime.date | None = None
) -> GuardianRelation:
    """A guardian of a child under 18 (M-14: children sharing a parent's e-mail or phone are
    matched to the parent; S-09: a guardian consents for children under 15)."""
    _require_members_manage_for(actor, child)
    if actor is not None and not access.can(actor, Capability.PERSONS_VIEW, guardian):
        raise PermissionDenied(NOT_ALLOWED)
    day = on or timezone.localdate()
    if guardian.pk == child.pk:
        raise ValidationError({"guardian": GUARDIAN_SELF})
    if not membership_rules.is_child(child.birth_date, day):
        raise ValidationError({"child": CHILD_NOT_UNDER_18})
    if membership_rules.is_child(guardian.birth_date, day):
        raise ValidationError({"guardian": GUARDIAN_IS_CHILD})
    if GuardianRelation.objects.filter(guardian=guardian, child=child).exists():
        raise ValidationError({"guardian": GUARDIAN_EXISTS})
    relation = GuardianRelation(guardian=guardian, child=child)
    relation.full_clean()
    relation.save()
    return relation


@transaction.atomic
def guardian_relation_delete(*, actor: User | None, relation: GuardianRelation) -> None:
    relation = (
        GuardianRelation.objects.select_for_update(of=("self",))
        .select_related("child")
        .get(pk=relation.pk)
    )
    _require_members_manage_for(actor, relation.child)
    relation.delete()
