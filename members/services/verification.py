"""Membership verification links (M-14, S-08): a new member confirms their personal data
through a single-use link valid 24 hours, sent by e-mail or SMS.

- Only a SHA-256 hash of the token is stored. The token is made when the link is sent, by
  the worker (members.verification_tasks), so it never passes through the broker either: a
  request row starts "not sent" with the hash of a throwaway token nobody ever sees.
- Sending again replaces the earlier links of the membership: they can no longer be used.
- Statuses (S-08): not sent, sent, verified, failed (with the reason, e.g. no e-mail address).
  Failure reasons are stored as their English text and translated when shown.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clubadmin.capabilities import Capability
from members import selectors_memberships, sms, verification_tasks
from members.models import (
    Membership,
    MembershipStatus,
    MembershipVerification,
    User,
    VerificationChannel,
    VerificationStatus,
)
from members.services import memberships as membership_services  # a cycle: call time only
from members.services.common import require_capability

# S-08, M-14: a link is valid 24 hours from sending.
LINK_LIFETIME = datetime.timedelta(hours=24)

UNKNOWN_CHANNEL = _("Choose e-mail or SMS.")
MEMBERSHIP_NOT_PENDING = _("The membership is not waiting for verification.")

# Failure reasons (S-08).
NO_EMAIL = _("The person has no e-mail address in their standard contact set.")
NO_MOBILE = _("The person has no mobile number in their standard contact set.")
REPLACED = _("Replaced by a newer link.")

# What the member sees on the portal page when a link cannot be used.
LINK_UNKNOWN = _(
    "This link is not valid. Check that you opened the whole link from the message, or ask "
    "the club to send you a new one."
)
LINK_EXPIRED = _(
    "This link has expired: links are valid for 24 hours. Ask the club to send you a new one."
)
LINK_USED = _(
    "This link has already been used. If you have not confirmed your membership, ask the club "
    "to send you a new link."
)
LINK_REPLACED = _(
    "This link has been replaced by a newer one. Use the newest link you received, or ask the "
    "club to send you a new one."
)
LINK_MEMBERSHIP_ENDED = _(
    "This membership has ended, so there is nothing to confirm. Contact the club if this is wrong."
)
LINK_MEMBERSHIP_ACTIVE = _("This membership is already confirmed: there is nothing more to do.")

MESSAGE_SUBJECT = _("Confirm your membership in %(club)s")
MESSAGE_BODY = _(
    "To register %(name)s as a member of %(club)s, the personal data must be confirmed. Open "
    "this link to check and confirm them: %(link)s The link is valid for 24 hours and can be "
    "used once. If the membership should not be registered, contact %(club)s."
)

OPEN_STATUSES = (VerificationStatus.NOT_SENT, VerificationStatus.SENT)


def _english(message: object) -> str:
    with translation.override("en"):
        return str(message)


def _throwaway_hash() -> str:
    return selectors_memberships.hash_token(secrets.token_urlsafe(32))


def base_url_default() -> str:
    """Where links point when the caller gives no base URL (e.g. a management command)."""
    return getattr(settings, "SITE_URL", "")


@transaction.atomic
def verification_request(
    *,
    actor: User | None,
    membership: Membership,
    channel: str = VerificationChannel.EMAIL,
    base_url: str = "",
) -> MembershipVerification:
    """Send (or send again) a verification link for a membership pending verification. The
    membership's earlier links stop working; the new one is sent by a Celery task once the
    transaction commits (`base_url`: scheme and host the link starts with)."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("club")
        .get(pk=membership.pk)
    )
    require_capability(actor, Capability.MEMBERS_MANAGE, membership.club)
    if channel not in VerificationChannel.values:
        raise ValidationError({"channel": UNKNOWN_CHANNEL})
    if membership.status != MembershipStatus.PENDING_VERIFICATION:
        raise ValidationError(MEMBERSHIP_NOT_PENDING)
    membership.verifications.filter(status__in=OPEN_STATUSES).update(
        status=VerificationStatus.FAILED, failure_reason=_english(REPLACED)
    )
    verification = MembershipVerification(
        membership=membership,
        channel=channel,
        token_hash=_throwaway_hash(),
        status=VerificationStatus.NOT_SENT,
        created_by=actor,
    )
    verification.full_clean()
    verification.save()
    verification_tasks.send_verification.delay_on_commit(
        verification.pk, base_url or base_url_default()
    )
    return verification


def _fail(verification: MembershipVerification, reason: object) -> MembershipVerification:
    verification.status = VerificationStatus.FAILED
    verification.failure_reason = _english(reason)
    verification.save(update_fields=["status", "failure_reason"])
    return verification


def _address(verification: MembershipVerification) -> str:
    contact = selectors_memberships.standard_contact(verification.membership.person)
    if contact is None:
        return ""
    if verification.channel == VerificationChannel.SMS:
        return contact.mobile
    return contact.email


def _send(verification: MembershipVerification, address: str, link: str) -> None:
    membership = verification.membership
    with translation.override(settings.LANGUAGE_CODE):  # the club's language
        values = {"name": membership.person.full_name, "club": membership.club.name}
        body = str(MESSAGE_BODY) % {**values, "link": link}
        if verification.channel == VerificationChannel.SMS:
            sms.get_sms_sender().send(to=address, body=body)
        else:
            send_mail(str(MESSAGE_SUBJECT) % values, body, None, [address])


@transaction.atomic
def verification_deliver(
    *, verification_id: int, base_url: str = "", now: datetime.datetime | None = None
) -> MembershipVerification | None:
    """Make the token and send the link of a "not sent" verification (run by the Celery
    task). Idempotent: a verification already sent, replaced or failed is left alone. When
    sending raises (SMTP or SMS provider down), nothing is saved and the task retries."""
    verification = (
        MembershipVerification.objects.select_for_update(of=("self",))
        .select_related("membership__person", "membership__club")
        .filter(pk=verification_id)
        .first()
    )
    if verification is None or verification.status != VerificationStatus.NOT_SENT:
        return verification
    if verification.membership.status != MembershipStatus.PENDING_VERIFICATION:
        return _fail(verification, MEMBERSHIP_NOT_PENDING)
    address = _address(verification)
    if not address:
        sms_channel = verification.channel == VerificationChannel.SMS
        return _fail(verification, NO_MOBILE if sms_channel else NO_EMAIL)
    moment = now or timezone.now()
    token = secrets.token_urlsafe(32)
    verification.token_hash = selectors_memberships.hash_token(token)
    verification.status = VerificationStatus.SENT
    verification.sent_at = moment
    verification.expires_at = moment + LINK_LIFETIME
    verification.save(update_fields=["token_hash", "status", "sent_at", "expires_at"])
    link = base_url.rstrip("/") + reverse("members:portal-verify", args=[token])
    _send(verification, address, link)
    return verification


def link_problem(
    verification: MembershipVerification | None, now: datetime.datetime | None = None
) -> object | None:
    """Why a link cannot be used (a message for the member), or None when it can."""
    moment = now or timezone.now()
    if verification is None or verification.status == VerificationStatus.NOT_SENT:
        return LINK_UNKNOWN
    if verification.status == VerificationStatus.VERIFIED or verification.used_at is not None:
        return LINK_USED
    if verification.status == VerificationStatus.FAILED:
        return LINK_REPLACED
    if verification.expires_at is None or moment >= verification.expires_at:
        return LINK_EXPIRED
    if verification.membership.status == MembershipStatus.ENDED:
        return LINK_MEMBERSHIP_ENDED
    if verification.membership.status == MembershipStatus.ACTIVE:
        return LINK_MEMBERSHIP_ACTIVE
    return None


@transaction.atomic
def verification_confirm(
    *, token: str, actor: User | None = None, now: datetime.datetime | None = None
) -> MembershipVerification:
    """The member confirms their data through the link: the link is used up and the
    membership becomes active. Raises ValidationError (code "link") with a message for the
    member when the link is unknown, expired, used or replaced."""
    found = selectors_memberships.verification_by_token(token)
    if found is not None:
        # Membership first, then the link: the same lock order as verification_request.
        Membership.objects.select_for_update().filter(pk=found.membership_id).first()
        found = (
            MembershipVerification.objects.select_for_update(of=("self",))
            .select_related("membership")
            .get(pk=found.pk)
        )
    problem = link_problem(found, now)
    if problem is not None:
        raise ValidationError(problem, code="link")
    moment = now or timezone.now()
    found.status = VerificationStatus.VERIFIED
    found.used_at = moment
    found.save(update_fields=["status", "used_at"])
    found.membership = membership_services.membership_activate(
        actor=actor, membership=found.membership, reason=membership_services.ACTIVATED_BY_LINK
    )
    return found
