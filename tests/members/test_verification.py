"""Membership verification (M-14, S-08): a single-use link valid 24 hours, sent by e-mail or
SMS, only a hash of the token stored; statuses not sent / sent / verified / failed (with the
reason); resending replaces the earlier links; the portal page; the warning when a child
shares a parent's e-mail or phone; the Celery task, also through a real worker."""

import datetime
import hashlib
import re
import time
import uuid

import pytest
from celery.app import routes
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from redis import Redis

from clubadmin.capabilities import Capability
from clubadmin.celery import app as celery_app
from members import selectors_memberships, sms
from members.models import (
    FunctionType,
    GuardianRelation,
    Membership,
    MembershipStatus,
    MembershipVerification,
    OrganisationType,
    Person,
    VerificationStatus,
)
from members.services import memberships as membership_services
from members.services import verification as services
from members.verification_tasks import send_verification
from tests.members.factories import FunctionFactory, PersonFactory, make_organisation
from tests.members.factories_memberships import MembershipFactory, default_types

pytestmark = pytest.mark.django_db

BASE_URL = "https://klubb.example.org/"
SENT_AT = datetime.datetime(2026, 5, 4, 18, 30, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
YEAR = datetime.timedelta(days=365)
LINK = re.compile(r"https://klubb\.example\.org/portal/verify/([A-Za-z0-9_-]+)/")


def registrar(world):  # type: ignore[no-untyped-def]
    return world.user("official_this_club", Capability.MEMBERS_MANAGE)


def pending(world, **contact) -> Membership:  # type: ignore[no-untyped-def]
    person = PersonFactory(first_name="Vera", last_name="Venter", **contact)
    return MembershipFactory(
        club=world.club_a, person=person, status=MembershipStatus.PENDING_VERIFICATION
    )


def send(world, membership: Membership, channel: str = "email", now=SENT_AT) -> str:  # type: ignore[no-untyped-def]
    """Request a link and deliver it as the task would; the token from the message."""
    verification = services.verification_request(
        actor=registrar(world), membership=membership, channel=channel, base_url=BASE_URL
    )
    services.verification_deliver(verification_id=verification.pk, base_url=BASE_URL, now=now)
    body = sms.FileSmsSender().messages()[-1]["body"] if channel == "sms" else mail.outbox[-1].body
    return LINK.search(body).group(1)


def verifications_state() -> list:
    return sorted(
        MembershipVerification.objects.values_list(
            "pk", "status", "token_hash", "sent_at", "expires_at", "used_at", "failure_reason"
        )
    )


def memberships_state() -> list:
    return sorted(Membership.objects.values_list("pk", "status", "end_date"))


def in_english(message: object) -> str:
    """Failure reasons are stored in English and translated when shown."""
    with translation.override("en"):
        return str(message)


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture(autouse=True)
def _sms_outbox(settings, tmp_path):
    settings.SMS_OUTBOX_FILE = str(tmp_path / "sms-outbox.jsonl")


# ------------------------------------------------------------------------ sending links


def test_s08_a_request_is_not_sent_until_the_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    membership = pending(world)
    actor = registrar(world)

    with django_capture_on_commit_callbacks() as callbacks:
        verification = services.verification_request(
            actor=actor, membership=membership, base_url=BASE_URL
        )

    assert (verification.status, verification.channel, verification.created_by) == (
        VerificationStatus.NOT_SENT,
        "email",
        actor,
    )
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_m14_s08_link_by_email_valid_24_hours_and_only_its_hash_stored(world, mailoutbox):
    membership = pending(world, standard_contact__email="vera@example.org")

    token = send(world, membership)

    verification = membership.verifications.get()
    assert (verification.status, verification.sent_at, verification.expires_at) == (
        VerificationStatus.SENT,
        SENT_AT,
        SENT_AT + 24 * HOUR,
    )
    assert verification.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(MembershipVerification.objects.values_list()))
    (message,) = mailoutbox
    assert message.to == ["vera@example.org"]
    with translation.override(settings.LANGUAGE_CODE):  # the club's language
        values = {"name": "Vera Venter", "club": "Sagene IF"}
        assert message.subject == str(services.MESSAGE_SUBJECT) % values
        link = f"{BASE_URL}portal/verify/{token}/"
        assert message.body == str(services.MESSAGE_BODY) % {**values, "link": link}


def test_m14_s08_link_by_sms_goes_through_the_sms_adapter(world, settings):
    membership = pending(world, standard_contact__mobile="+4791234567")

    token = send(world, membership, channel="sms")

    (message,) = sms.FileSmsSender(settings.SMS_OUTBOX_FILE).messages()
    assert message["to"] == "+4791234567"
    assert f"{BASE_URL}portal/verify/{token}/" in message["body"]
    assert membership.verifications.get().status == VerificationStatus.SENT


@pytest.mark.parametrize(
    ("channel", "contact", "reason"),
    [
        ("email", {"standard_contact__email": ""}, services.NO_EMAIL),
        ("sms", {"standard_contact__mobile": ""}, services.NO_MOBILE),
    ],
)
def test_s08_failed_with_the_reason_when_there_is_no_address(
    world, mailoutbox, settings, channel, contact, reason
):
    membership = pending(world, **contact)
    verification = services.verification_request(
        actor=None, membership=membership, channel=channel, base_url=BASE_URL
    )

    services.verification_deliver(verification_id=verification.pk, base_url=BASE_URL)

    verification.refresh_from_db()
    assert (verification.status, verification.failure_reason, verification.sent_at) == (
        VerificationStatus.FAILED,
        in_english(reason),
        None,
    )
    assert mailoutbox == []
    assert sms.FileSmsSender(settings.SMS_OUTBOX_FILE).messages() == []


def test_s08_delivering_twice_sends_one_message(world, mailoutbox):
    membership = pending(world)
    verification = services.verification_request(
        actor=None, membership=membership, base_url=BASE_URL
    )
    services.verification_deliver(verification_id=verification.pk, base_url=BASE_URL)
    before = verifications_state()

    services.verification_deliver(verification_id=verification.pk, base_url=BASE_URL)

    assert len(mailoutbox) == 1
    assert verifications_state() == before


def test_s08_the_task_runs_the_service(world, mailoutbox):
    membership = pending(world)
    verification = services.verification_request(
        actor=None, membership=membership, base_url=BASE_URL
    )

    result = send_verification.apply(args=(verification.pk, BASE_URL)).get()
    again = send_verification.apply(args=(verification.pk, BASE_URL)).get()

    assert (result, again) == ("sent", "sent")
    assert len(mailoutbox) == 1
    assert send_verification.apply(args=(10**9, BASE_URL)).get() is None  # deleted meanwhile


def test_s08_only_pending_memberships_get_links(world):
    active = MembershipFactory(club=world.club_a)
    with pytest.raises(ValidationError) as error:
        services.verification_request(actor=None, membership=active)
    assert error.value.messages == [str(services.MEMBERSHIP_NOT_PENDING)]
    assert not MembershipVerification.objects.exists()


def test_s08_sending_needs_members_manage_in_the_club(world):
    membership = pending(world)
    for role in ("member", "official_without_capability", "official_other_club"):
        with pytest.raises(PermissionDenied):
            services.verification_request(
                actor=world.user(role, Capability.MEMBERS_MANAGE), membership=membership
            )
    with pytest.raises(ValidationError) as error:
        services.verification_request(actor=None, membership=membership, channel="pigeon")
    assert error.value.message_dict == {"channel": [str(services.UNKNOWN_CHANNEL)]}
    assert not MembershipVerification.objects.exists()


# ----------------------------------------------------------------------- using a link


def test_m14_confirming_activates_the_membership(world, mailoutbox):
    membership = pending(world)
    token = send(world, membership)

    verification = services.verification_confirm(token=token, now=SENT_AT + 23 * HOUR)

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert (verification.status, verification.used_at) == (
        VerificationStatus.VERIFIED,
        SENT_AT + 23 * HOUR,
    )
    assert selectors_memberships.person_is_verified(membership.person) is True


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        (24 * HOUR - datetime.timedelta(seconds=1), None),
        (24 * HOUR, services.LINK_EXPIRED),
        (72 * HOUR, services.LINK_EXPIRED),
    ],
)
def test_s08_a_link_is_valid_for_24_hours(world, mailoutbox, after, problem):
    membership = pending(world)
    token = send(world, membership)
    before = (verifications_state(), memberships_state())

    if problem is None:
        services.verification_confirm(token=token, now=SENT_AT + after)
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.ACTIVE
        return
    with pytest.raises(ValidationError) as error:
        services.verification_confirm(token=token, now=SENT_AT + after)
    assert error.value.messages == [str(problem)]
    assert (verifications_state(), memberships_state()) == before


def test_s08_a_link_is_used_once(world, mailoutbox):
    membership = pending(world)
    token = send(world, membership)
    services.verification_confirm(token=token, now=SENT_AT + HOUR)
    before = (verifications_state(), memberships_state())

    with pytest.raises(ValidationError) as error:
        services.verification_confirm(token=token, now=SENT_AT + 2 * HOUR)

    assert error.value.messages == [str(services.LINK_USED)]
    assert (verifications_state(), memberships_state()) == before


def test_s08_resending_replaces_the_earlier_link(world, mailoutbox):
    membership = pending(world)
    old = send(world, membership)
    new = send(world, membership, now=SENT_AT + 30 * HOUR)

    with pytest.raises(ValidationError) as error:
        services.verification_confirm(token=old, now=SENT_AT + 31 * HOUR)
    assert error.value.messages == [str(services.LINK_REPLACED)]
    first, second = membership.verifications.order_by("pk")
    assert (first.status, first.failure_reason) == (
        VerificationStatus.FAILED,
        in_english(services.REPLACED),
    )

    services.verification_confirm(token=new, now=SENT_AT + 31 * HOUR)
    second.refresh_from_db()
    assert second.status == VerificationStatus.VERIFIED


def test_s08_a_request_replaced_before_it_was_sent_is_never_sent(world, mailoutbox):
    membership = pending(world)
    first = services.verification_request(actor=None, membership=membership, base_url=BASE_URL)
    second = services.verification_request(actor=None, membership=membership, base_url=BASE_URL)

    services.verification_deliver(verification_id=first.pk, base_url=BASE_URL)
    services.verification_deliver(verification_id=second.pk, base_url=BASE_URL)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (VerificationStatus.FAILED, VerificationStatus.SENT)
    assert len(mailoutbox) == 1


def test_s08_unknown_links_and_ended_memberships(world, mailoutbox):
    membership = pending(world)
    token = send(world, membership)
    with pytest.raises(ValidationError) as unknown:
        services.verification_confirm(token="not-a-token", now=SENT_AT)
    membership_services.membership_end(
        actor=None, membership=membership, end_date=timezone.localdate()
    )
    before = (verifications_state(), memberships_state())

    with pytest.raises(ValidationError) as ended:
        services.verification_confirm(token=token, now=SENT_AT + HOUR)

    assert unknown.value.messages == [str(services.LINK_UNKNOWN)]
    assert ended.value.messages == [str(services.LINK_MEMBERSHIP_ENDED)]
    assert (verifications_state(), memberships_state()) == before


def test_s08_a_link_of_a_membership_that_ended_before_sending_fails(world, mailoutbox):
    membership = pending(world)
    verification = services.verification_request(actor=None, membership=membership)
    membership_services.membership_end(actor=None, membership=membership)

    services.verification_deliver(verification_id=verification.pk, base_url=BASE_URL)

    verification.refresh_from_db()
    assert (verification.status, verification.failure_reason) == (
        VerificationStatus.FAILED,
        in_english(services.MEMBERSHIP_NOT_PENDING),
    )
    assert mailoutbox == []


# ---------------------------------------------------------------------- portal page


def test_m14_portal_page_shows_the_data_and_confirms_without_login(world, mailoutbox):
    membership = pending(world, standard_contact__email="vera@example.org")
    token = send(world, membership, now=timezone.now())
    client = english(Client())
    url = reverse("members:portal-verify", args=[token])

    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Vera Venter" in html and "vera@example.org" in html and "Sagene IF" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert membership.verifications.get().used_at is None  # looking does not use the link

    confirmed = client.post(url)

    assert confirmed.status_code == 200
    assert "Your membership in Sagene IF is confirmed." in confirmed.content.decode()
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_s08_portal_page_says_when_a_link_expired_or_was_used(world, mailoutbox):
    membership = pending(world)
    expired = send(world, membership, now=timezone.now() - 25 * HOUR)
    client = english(Client())

    expired_page = client.get(reverse("members:portal-verify", args=[expired]))
    expired_post = client.post(reverse("members:portal-verify", args=[expired]))
    used = send(world, membership, now=timezone.now())
    client.post(reverse("members:portal-verify", args=[used]))
    used_page = client.get(reverse("members:portal-verify", args=[used]))

    with translation.override("en"):
        assert str(services.LINK_EXPIRED) in expired_page.content.decode()
        assert "Ask the club to send you a new one." in expired_page.content.decode()
        assert str(services.LINK_EXPIRED) in expired_post.content.decode()
        assert str(services.LINK_USED) in used_page.content.decode()
        assert "Yes, this is me" not in used_page.content.decode()


def test_s08_membership_page_resends_and_shows_the_statuses(world, mailoutbox):
    membership = pending(world, standard_contact__email="")
    client = english(world.client("official_this_club", Capability.MEMBERS_MANAGE))
    failed = services.verification_request(actor=None, membership=membership)
    services.verification_deliver(verification_id=failed.pk)

    response = client.post(
        reverse("members:membership-verification-send", args=[membership.pk]), {"channel": "sms"}
    )
    page = client.get(reverse("members:membership-detail", args=[membership.pk]))

    assert response.status_code == 302
    assert [(v.channel, v.status) for v in page.context["verifications"]] == [
        ("sms", VerificationStatus.NOT_SENT),
        ("email", VerificationStatus.FAILED),
    ]
    with translation.override("en"):
        assert str(services.NO_EMAIL) in page.content.decode()


# ----------------------------------------------- M-14: a child with a parent's e-mail


def child_with_parents_contact(world, field: str, parent_club=None):  # type: ignore[no-untyped-def]
    parent = PersonFactory(
        first_name="Mor",
        last_name="Moe",
        birth_date=timezone.localdate() - 40 * YEAR,
        standard_contact__email="mor@example.org",
        standard_contact__mobile="+4799988877",
    )
    FunctionFactory(
        person=parent,
        organisation=parent_club or world.club_a,
        function_type=FunctionType.objects.get(code="volunteer"),
    )
    shared = {"email": "mor@example.org", "mobile": "+4799988877"}[field]
    return parent, {
        "first_name": "Lillebror",
        "last_name": "Moe",
        "birth_date": timezone.localdate() - 9 * YEAR,
        field: shared,
    }


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("email", selectors_memberships.CHILD_SHARES_EMAIL),
        ("mobile", selectors_memberships.CHILD_SHARES_MOBILE),
    ],
)
def test_m14_a_child_with_a_parents_contact_is_a_warning_to_confirm(world, field, message):
    _parent, child = child_with_parents_contact(world, field)
    types = default_types(world.club_a)
    actor = registrar(world)
    people = Person.objects.count()

    with pytest.raises(ValidationError) as error:
        membership_services.membership_join(
            actor=actor, club=world.club_a, membership_type=types["junior"], new_person=child
        )

    assert error.value.message_dict == {
        "confirm_warnings": [str(message) % {"child": "Lillebror Moe", "adult": "Mor Moe"}]
    }
    assert (Person.objects.count(), Membership.objects.count()) == (people, 0)
    membership = membership_services.membership_join(
        actor=actor,
        club=world.club_a,
        membership_type=types["junior"],
        new_person=child,
        warnings_confirmed=True,
    )
    assert membership.person.first_name == "Lillebror"


def test_m14_the_warning_hides_a_parent_the_registrar_may_not_see(world):
    _parent, child = child_with_parents_contact(world, "email", parent_club=world.club_c)
    with pytest.raises(ValidationError) as error:
        membership_services.membership_join(
            actor=registrar(world),
            club=world.club_a,
            membership_type=default_types(world.club_a)["junior"],
            new_person=child,
        )
    (warning,) = error.value.message_dict["confirm_warnings"]
    assert "Mor Moe" not in warning
    assert str(selectors_memberships.ADULT_NOT_VISIBLE) in warning


def test_m14_adults_sharing_an_address_are_no_warning(world):
    PersonFactory(birth_date=datetime.date(1970, 1, 1), standard_contact__email="par@example.org")
    membership = membership_services.membership_join(
        actor=registrar(world),
        club=world.club_a,
        membership_type=default_types(world.club_a)["senior"],
        person=PersonFactory(
            birth_date=datetime.date(1972, 1, 1), standard_contact__email="par@example.org"
        ),
    )
    assert membership.pk is not None


def test_m14_join_page_asks_to_confirm_and_suggests_the_guardian(world):
    parent, child = child_with_parents_contact(world, "email")
    types = default_types(world.club_a)
    client = english(world.client("official_this_club", Capability.MEMBERS_MANAGE))
    data = {
        **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in child.items()},
        "gender": "male",
        "membership_type": types["junior"].pk,
        "verification_channel": "",
    }

    warned = client.post(reverse("members:membership-join", args=[world.club_a.pk]), data)
    assert warned.status_code == 200
    assert warned.context["has_warnings"] is True
    assert "Mor Moe" in warned.content.decode()
    assert not Membership.objects.exists()

    joined = client.post(
        reverse("members:membership-join", args=[world.club_a.pk]),
        {**data, "confirm_warnings": "on"},
    )
    membership = Membership.objects.get()
    assert joined.url == reverse("members:membership-detail", args=[membership.pk])
    detail = client.get(joined.url)
    assert detail.context["guardian_suggestions"] == [parent]

    client.post(
        reverse("members:membership-guardian-add", args=[membership.pk]), {"guardian": parent.pk}
    )
    assert GuardianRelation.objects.get().guardian == parent
    assert client.get(joined.url).context["guardian_suggestions"] == []


# --------------------------------------------------------- a real Celery worker (STYLE 18)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_s08_link_sent_by_a_real_worker_after_commit(default_function_types, monkeypatch):
    queue = f"clubadmin-test-verification-{uuid.uuid4().hex}"
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    router = routes.Router(
        routes.prepare({"members.send_verification": {"queue": queue}}),
        celery_app.amqp.queues,
        True,
        app=celery_app,
    )
    monkeypatch.setattr(celery_app.amqp, "router", router)
    federation = make_organisation("Verifikasjonsforbundet", OrganisationType.FEDERATION)
    club = make_organisation("Verifikasjon IL", OrganisationType.CLUB, federation)
    person = PersonFactory(first_name="Wenche", standard_contact__email="wenche@example.org")
    membership = MembershipFactory(
        club=club, person=person, status=MembershipStatus.PENDING_VERIFICATION
    )
    mail.outbox = []
    try:
        verification = services.verification_request(
            actor=None, membership=membership, base_url=BASE_URL
        )
        assert redis.llen(queue) == 1  # queued by the commit

        with start_worker(
            celery_app,
            queues=[queue],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                verification.refresh_from_db()
                if verification.status != VerificationStatus.NOT_SENT:
                    break
                time.sleep(0.1)

        assert verification.status == VerificationStatus.SENT
        assert verification.expires_at - verification.sent_at == 24 * HOUR
        (message,) = mail.outbox
        assert message.to == ["wenche@example.org"]
        token = LINK.search(message.body).group(1)
        assert verification.token_hash == hashlib.sha256(token.encode()).hexdigest()
        services.verification_confirm(token=token)
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.ACTIVE
        assert redis.llen(queue) == 0
    finally:
        redis.delete(queue)


def test_s08_api_sends_links_on_join_and_on_request(world, django_capture_on_commit_callbacks):
    types = default_types(world.club_a)
    client = world.client("official_this_club", Capability.MEMBERS_MANAGE)

    with django_capture_on_commit_callbacks() as callbacks:
        joined = client.post(
            "/api/v1/memberships/",
            {
                "club": world.club_a.pk,
                "membership_type": types["ordinary"].pk,
                "person": world.player_a.pk,
                "send_verification": "sms",
            },
            content_type="application/json",
        )
        resent = client.post(
            f"/api/v1/memberships/{joined.json()['id']}/send-verification/",
            {"channel": "email"},
            content_type="application/json",
        )

    assert (joined.status_code, resent.status_code) == (201, 201)
    assert (resent.json()["channel"], resent.json()["status"]) == ("email", "not_sent")
    assert len(callbacks) == 2
    membership = Membership.objects.get(pk=joined.json()["id"])
    assert [
        (v.channel, v.status, v.failure_reason) for v in membership.verifications.order_by("pk")
    ] == [
        ("sms", VerificationStatus.FAILED, in_english(services.REPLACED)),
        ("email", VerificationStatus.NOT_SENT, ""),
    ]
