"""P-04: send selected persons a one-time link to set the password of their login.

Never a password in an e-mail: the link carries Django's password reset token, which stops
working once the password is set (the token hashes the password and the last login). The
set-password page is Django's PasswordResetConfirmView (members.views.search).

Who gets a link: each selected person that the acting user may edit (persons.edit), who is
alive, has an e-mail address in their standard contact set (P-08), and whose login (existing
or new) stays within the actor's reach. A person without e-mail is reported, not dropped.

"Within reach" guards against taking over a login: the link goes to a contact address that
the actor can change, so the actor must not be able to hand themselves someone else's rights.
No link for a login that already has a password (its owner uses it, or "forgot password"
with their own address), for staff and superusers, or for a person whose functions grant
capabilities in an organisation where the actor may not edit persons.

Sending runs in a Celery task (members.tasks.send_login_links), one per batch; a batch id
marks each person sent in the cache, so a retried or repeated task does not send twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import Function, Person, User
from members.search import persons_with_contact

SENT_MARK_TIMEOUT = int(datetime.timedelta(days=7).total_seconds())
SUBJECT_TEMPLATE = "members/search_login_link_subject.txt"
BODY_TEMPLATE = "members/search_login_link_email.txt"


@dataclass
class LoginLinkRecipients:
    """The selected persons split by what happens to them."""

    sendable: list[Person] = field(default_factory=list)  # annotated with contact_email
    without_email: list[Person] = field(default_factory=list)
    deceased: list[Person] = field(default_factory=list)
    not_allowed: int = 0  # not editable by the actor, or a login out of the actor's reach


@dataclass
class LoginLinkReport:
    sent: int = 0
    without_email: int = 0
    not_allowed: int = 0
    deceased: int = 0
    already_sent: int = 0  # in this batch, by an earlier run of the task


def login_link_recipients(*, actor: User, person_ids: list[int]) -> LoginLinkRecipients:
    """P-04: which of the selected persons get a link (a fixed number of queries)."""
    wanted = set(person_ids)
    editable = set(
        access.scope(
            actor, Capability.PERSONS_EDIT, Person.objects.filter(pk__in=wanted), include_own=False
        ).values_list("pk", flat=True)
    )
    persons = persons_with_contact(editable)
    logins = {
        user.person_id: user
        for user in User.objects.filter(person_id__in=editable).only(
            "pk", "person_id", "password", "is_staff", "is_superuser", "is_active"
        )
    }
    rights = _granting_paths(editable)
    actor_grants = access.grants_for(actor)
    recipients = LoginLinkRecipients(not_allowed=len(wanted - editable))
    for person in sorted(persons.values(), key=lambda p: (p.last_name, p.first_name, p.pk)):
        login = logins.get(person.pk)
        if person.is_deceased:
            recipients.deceased.append(person)
        elif not person.contact_email:
            recipients.without_email.append(person)
        elif (login is not None and not _may_get_link(login)) or not all(
            actor_grants.covers(Capability.PERSONS_EDIT, path) for path in rights.get(person.pk, ())
        ):
            recipients.not_allowed += 1
        else:
            recipients.sendable.append(person)
    return recipients


def _may_get_link(login: User) -> bool:
    """Only a login that was never activated, of an ordinary user."""
    return not (
        login.has_usable_password() or login.is_staff or login.is_superuser or not login.is_active
    )


def _granting_paths(person_ids: set[int]) -> dict[int, list[str]]:
    """Where each person's active functions grant capabilities: the rights their login has
    (the rows clubadmin.access.grants_for reads for a login, for many persons at once)."""
    rows = (
        Function.objects.active()
        .filter(
            person_id__in=person_ids,
            function_type__is_active=True,
            organisation__is_active=True,
        )
        .exclude(function_type__capabilities=[])
        .values_list("person_id", "organisation__path")
    )
    paths: dict[int, list[str]] = {}
    for person_id, path in rows:
        paths.setdefault(person_id, []).append(path)
    return paths


def login_links_send(
    *, actor_id: int, person_ids: list[int], batch_id: str, base_url: str
) -> LoginLinkReport:
    """P-04: send each selected person a one-time set-password link (see the module doc).
    Idempotent per batch: a person marked sent in this batch is not sent again."""
    actor = User.objects.filter(pk=actor_id, is_active=True).first()
    if actor is None:
        return LoginLinkReport(not_allowed=len(set(person_ids)))
    recipients = login_link_recipients(actor=actor, person_ids=person_ids)
    report = LoginLinkReport(
        without_email=len(recipients.without_email),
        not_allowed=recipients.not_allowed,
        deceased=len(recipients.deceased),
    )
    connection = get_connection()
    for person in recipients.sendable:
        mark = f"login-link:{batch_id}:{person.pk}"
        if cache.get(mark):
            report.already_sent += 1
            continue
        login = login_for_person(actor=actor, person=person, email=person.contact_email)
        _send_link(login, person.contact_email, base_url, connection)
        # Marked after sending: a crash in between sends once more rather than never.
        cache.set(mark, True, SENT_MARK_TIMEOUT)
        report.sent += 1
    return report


@transaction.atomic
def login_for_person(*, actor: User | None, person: Person, email: str) -> User:
    """The person's login, created without a usable password when there is none: username =
    sports id (with the person id added if that is taken), e-mail = the contact e-mail."""
    existing = User.objects.filter(person=person).first()
    if existing is not None:
        return existing
    username = person.sports_id
    if User.objects.filter(username=username).exists():
        username = f"{person.sports_id}-{person.pk}"
    login = User(
        username=username,
        email=email,
        first_name=person.first_name,
        last_name=person.last_name,
        person=person,
    )
    login.set_unusable_password()
    login.full_clean(exclude=["password"])
    login._history_user = actor
    try:
        with transaction.atomic():
            login.save()
    except IntegrityError:  # created meanwhile by another run
        return User.objects.get(person=person)
    return login


def set_password_path(login: User) -> str:
    return reverse(
        "members:set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(login.pk)),
            "token": default_token_generator.make_token(login),
        },
    )


def _send_link(login: User, email: str, base_url: str, connection) -> None:  # type: ignore[no-untyped-def]
    context = {
        "name": login.first_name or login.get_username(),
        "username": login.get_username(),
        "link": base_url.rstrip("/") + set_password_path(login),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    # Norwegian unless the login chose English (the e-mail texts go through gettext).
    with translation.override(login.language or settings.LANGUAGE_CODE):
        subject = render_to_string(SUBJECT_TEMPLATE, context).strip()
        body = render_to_string(BODY_TEMPLATE, context)
    EmailMessage(subject, body, to=[email], connection=connection).send()
