"""P-04: one-time login links for selected persons (service, set-password page, view, task)."""

import re
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from redis import Redis

from clubadmin.celery import app as celery_app
from members.models import FunctionType, Person, User
from members.services import logins
from members.services.logins import LoginLinkReport
from members.tasks import send_login_links
from tests.conftest import World
from tests.members.factories import ContactSetFactory, FunctionFactory, PersonFactory, UserFactory

BASE_URL = "https://klubb.example.org/"
LINK = re.compile(r"https://klubb\.example\.org(/accounts/set-password/[^/\s]+/[^/\s]+/)")


def member(world: World, first: str, email: str = "", organisation=None, **person) -> Person:
    """A player in club A (or `organisation`) whose standard contact set has `email`."""
    person = PersonFactory(first_name=first, last_name="Lenkesen", standard_contact=None, **person)
    ContactSetFactory(person=person, is_standard=True, email=email)
    FunctionFactory(
        person=person,
        organisation=organisation or world.team_a,
        function_type=FunctionType.objects.get(code="player"),
    )
    return person


def send(actor: User, persons: list[Person], batch_id: str = "") -> LoginLinkReport:
    return logins.login_links_send(
        actor_id=actor.pk,
        person_ids=[person.pk for person in persons],
        batch_id=batch_id or uuid.uuid4().hex,
        base_url=BASE_URL,
    )


def link_path(message: mail.EmailMessage) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def editor(world: World) -> User:
    return world.user("official_this_club", "persons.edit")


# ----------------------------------------------------------------------------- the service


@pytest.mark.django_db
def test_p04_a_link_to_each_person_with_email_never_a_password(world, editor):
    kari = member(world, "Kari", "kari@example.org")
    ola = member(world, "Ola")  # no e-mail

    report = send(editor, [kari, ola])

    assert report == LoginLinkReport(sent=1, without_email=1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kari@example.org"]
    login = User.objects.get(person=kari)
    assert login.username == kari.sports_id
    assert login.email == "kari@example.org"
    assert not login.has_usable_password()
    assert link_path(message).startswith("/accounts/set-password/")
    assert kari.sports_id in message.body  # the username; no password exists to send
    assert not User.objects.filter(person=ola).exists()


@pytest.mark.django_db
def test_p04_the_link_sets_the_password_once(world, editor):
    kari = member(world, "Kari", "kari@example.org")
    send(editor, [kari])
    path = link_path(mail.outbox[0])
    client = Client()

    redirected = client.get(path)
    form = client.get(redirected["Location"])
    done = client.post(
        redirected["Location"],
        {"new_password1": "Lang-og-sikker-2026", "new_password2": "Lang-og-sikker-2026"},
    )

    assert redirected.status_code == 302
    assert form.status_code == 200 and form.context["validlink"] is True
    assert done.status_code == 302
    assert done["Location"] == reverse("members:set-password-done")
    login = User.objects.get(person=kari)
    assert login.check_password("Lang-og-sikker-2026")
    assert Client().login(username=kari.sports_id, password="Lang-og-sikker-2026")
    again = Client().get(path, follow=True)
    assert again.context["validlink"] is False  # one-time


@pytest.mark.django_db
def test_p04_persons_the_actor_may_not_edit_get_nothing(world, editor):
    outsider = member(world, "Ute", "ute@example.org", organisation=world.club_b)
    viewer = world.user("official_without_capability", "persons.edit")  # may view, not edit
    kari = member(world, "Kari", "kari@example.org")

    assert send(editor, [outsider]) == LoginLinkReport(not_allowed=1)
    assert send(viewer, [kari]) == LoginLinkReport(not_allowed=1)
    assert mail.outbox == []
    assert not User.objects.filter(person__in=[outsider, kari]).exists()


@pytest.mark.django_db
def test_p04_no_link_that_could_take_over_a_login(world, editor):
    """The link goes to a contact address the actor can change: never for a login that has a
    password, for staff, or for a person with rights where the actor may not edit."""
    with_password = member(world, "Passord", "a@example.org")
    UserFactory(username="har-passord", person=with_password)
    staff = member(world, "Stab", "b@example.org")
    User.objects.create_user("stab", person=staff, is_staff=True)  # no usable password
    elsewhere = member(world, "Styre", "c@example.org")
    FunctionFactory(
        person=elsewhere,
        organisation=world.club_b,
        function_type=FunctionType.objects.get(code="board-member"),
    )
    team_coach = member(world, "Trener", "d@example.org")
    FunctionFactory(
        person=team_coach,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
    )

    report = send(editor, [with_password, staff, elsewhere, team_coach])

    assert report == LoginLinkReport(sent=1, not_allowed=3)
    assert [message.to for message in mail.outbox] == [["d@example.org"]]


@pytest.mark.django_db
def test_p06_deceased_persons_get_no_link(world, editor):
    person = member(world, "Død", "dod@example.org", is_deceased=True)
    Person.objects.filter(pk=person.pk).update(date_of_death="2024-01-01")

    assert send(editor, [person]) == LoginLinkReport(deceased=1)
    assert mail.outbox == []


@pytest.mark.django_db
def test_p04_running_a_batch_twice_sends_once(world, editor):
    kari = member(world, "Kari", "kari@example.org")
    batch = uuid.uuid4().hex

    first = send(editor, [kari], batch)
    second = send(editor, [kari], batch)

    assert (first.sent, second.sent, second.already_sent) == (1, 0, 1)
    assert len(mail.outbox) == 1
    assert User.objects.filter(person=kari).count() == 1


@pytest.mark.django_db
def test_p04_a_taken_username_gets_the_person_id(world, editor):
    kari = member(world, "Kari", "kari@example.org")
    UserFactory(username=kari.sports_id)

    send(editor, [kari])

    assert User.objects.get(person=kari).username == f"{kari.sports_id}-{kari.pk}"


@pytest.mark.django_db
def test_p04_an_inactive_actor_sends_nothing(world, editor):
    kari = member(world, "Kari", "kari@example.org")
    User.objects.filter(pk=editor.pk).update(is_active=False)

    assert send(editor, [kari]) == LoginLinkReport(not_allowed=1)
    assert mail.outbox == []


# --------------------------------------------------------------------------------- the view


@pytest.mark.django_db
def test_p04_view_queues_one_task_and_reports_persons_without_email(world, editor, monkeypatch):
    queued = []
    monkeypatch.setattr(send_login_links, "delay_on_commit", lambda **kw: queued.append(kw))
    kari = member(world, "Kari", "kari@example.org")
    ola = member(world, "Ola")
    outsider = member(world, "Ute", "ute@example.org", organisation=world.club_b)
    client = world.client("official_this_club", "persons.edit")
    client.cookies["django_language"] = "en"
    back = reverse("members:person-search") + "?q=Lenkesen"

    response = client.post(
        reverse("members:person-login-links"),
        {"person": [kari.pk, ola.pk, outsider.pk], "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assert len(queued) == 1
    assert queued[0]["person_ids"] == [kari.pk]
    assert queued[0]["actor_id"] == editor.pk
    assert queued[0]["base_url"] == "http://testserver/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "A login link is being sent to 1 person.",
        "1 person has no e-mail address and gets no link: Ola Lenkesen.",
        "1 person gets no link: you may not edit them, they already have a login, or they "
        "are deceased.",
    ]
    assert not User.objects.filter(person=kari).exists()  # the task does that


@pytest.mark.django_db
def test_p04_view_without_selection_or_with_a_foreign_next(world, editor, monkeypatch):
    queued = []
    monkeypatch.setattr(send_login_links, "delay_on_commit", lambda **kw: queued.append(kw))
    client = world.client("official_this_club", "persons.edit")

    response = client.post(
        reverse("members:person-login-links"), {"next": "https://evil.example.com/"}
    )

    assert response["Location"] == reverse("members:person-search")
    assert queued == []


# ---------------------------------------------------------------------- the Celery worker


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_p04_a_real_worker_sends_the_batch(world):
    """STYLE 18: queued on commit, run by a real worker against the real Redis; the end state
    is in the database (a login for the person) and the mail is out."""
    editor = world.user("official_this_club", "persons.edit")
    kari = member(world, "Kari", "kari@example.org")
    queue = f"clubadmin-test-{uuid.uuid4().hex}"
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    kwargs = {
        "batch_id": uuid.uuid4().hex,
        "actor_id": editor.pk,
        "person_ids": [kari.pk],
        "base_url": BASE_URL,
    }
    try:
        with transaction.atomic():
            send_login_links.apply_async_on_commit(kwargs=kwargs, queue=queue)
            assert redis.llen(queue) == 0, "a task must not be sent before the commit"
        assert redis.llen(queue) == 1

        with start_worker(
            celery_app,
            queues=[queue],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            deadline = time.monotonic() + 30
            while not mail.outbox and time.monotonic() < deadline:
                time.sleep(0.1)
            result = send_login_links.apply_async(kwargs=kwargs, queue=queue)
            assert result.get(timeout=30) == {
                "sent": 0,
                "without_email": 0,
                "not_allowed": 0,
                "deceased": 0,
                "already_sent": 1,
            }
    finally:
        redis.delete(queue)

    assert [message.to for message in mail.outbox] == [["kari@example.org"]]
    login = User.objects.get(person=kari)
    assert login.username == kari.sports_id and not login.has_usable_password()
