"""The delivery outbox (issue 6 scope 4): each invoice sent exactly once, also when a worker
dies between the claim and the send; one e-mail per payer; the paper channel. E-mails are
checked in Django's locmem outbox (the test e-mail backend)."""

import datetime
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from billing.delivery import selectors, services
from billing.invoicing import services as invoicing_services
from billing.models_delivery import DeliveryChannel, DeliveryState, InvoiceDelivery
from billing.models_invoicing import Invoice
from members.models import ContactSet
from tests.billing.delivery.helpers import invoice_for
from tests.billing.factories import SEASON, build_example_club
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db
LONG_AGO = datetime.timedelta(hours=1)


def outbox_row(invoice) -> InvoiceDelivery:
    return InvoiceDelivery.objects.get(invoice=invoice, reminder__isnull=True)


def invoice_outbox():
    return services._outboxes()[0]


def test_issue6_plan_once_per_invoice_and_channel(world):
    invoice = invoice_for(world.club_a, world.player_a)

    assert services.deliveries_plan(invoices=[invoice], queue=False) == 1
    assert services.deliveries_plan(invoices=[invoice], queue=False) == 0
    row = outbox_row(invoice)
    assert (row.channel, row.state, row.recipient) == ("email", "pending", "payer@example.org")


def test_issue6_send_twice_sends_one_mail_with_the_pdf(world):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)

    first = services.deliveries_send()
    second = services.deliveries_send()

    assert (first.messages, second.messages) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["payer@example.org"]
    assert str(invoice.number) in message.subject
    (_name, content, mimetype) = message.attachments[0]
    assert mimetype == "application/pdf"
    assert invoice.kid in "".join(page.extract_text() for page in PdfReader(_io(content)).pages)
    row = outbox_row(invoice)
    assert row.state == DeliveryState.SENT
    assert row.handed_over_at is not None and row.sent_at == row.handed_over_at
    assert row.attempts == 1


def _io(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_issue6_english_invoice_mail_in_english(world):
    invoice = invoice_for(world.club_a, world.player_a, language="en")
    norwegian = invoice_for(world.club_a, PersonFactory(), email="nb@example.org")
    services.deliveries_plan(invoices=[invoice, norwegian], queue=False)

    services.deliveries_send()

    by_to = {message.to[0]: message for message in mail.outbox}
    assert by_to["payer@example.org"].subject.startswith("Invoice ")
    assert by_to["payer@example.org"].attachments[0][0].startswith("invoice-")


def test_issue6_crash_after_claim_before_handover_is_retried_once(world):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)
    # a worker claims the row and dies before handing anything to SMTP
    services._claim(invoice_outbox(), timezone.now() - LONG_AGO)
    assert services.deliveries_send().messages == 0  # still claimed by the dead worker

    report = services.deliveries_reconcile()
    services.deliveries_send()
    services.deliveries_reconcile()
    services.deliveries_send()

    assert report.retried == (outbox_row(invoice).pk,)
    assert len(mail.outbox) == 1
    assert outbox_row(invoice).state == DeliveryState.SENT
    assert outbox_row(invoice).attempts == 2


def test_issue6_crash_while_handing_over_is_never_resent_automatically(world):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)
    rows = services._claim(invoice_outbox(), timezone.now() - LONG_AGO)
    InvoiceDelivery.objects.filter(pk=rows[0].pk).update(send_started_at=timezone.now())

    report = services.deliveries_reconcile()
    services.deliveries_send()

    assert report.uncertain == (rows[0].pk,)
    assert mail.outbox == []
    assert outbox_row(invoice).state == DeliveryState.UNCERTAIN


def test_issue6_crash_after_handover_is_not_resent(world):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)
    rows = services._claim(invoice_outbox(), timezone.now() - LONG_AGO)
    handed = timezone.now()
    InvoiceDelivery.objects.filter(pk=rows[0].pk).update(
        send_started_at=handed, handed_over_at=handed
    )

    report = services.deliveries_reconcile()
    services.deliveries_send()

    assert report.sent == (rows[0].pk,)
    assert mail.outbox == []
    assert outbox_row(invoice).state == DeliveryState.SENT


def test_issue6_smtp_error_puts_the_row_back_and_it_is_sent_later(world, settings):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)
    settings.EMAIL_BACKEND = "tests.billing.delivery.failing_backend.RefusingBackend"

    services.deliveries_send(limit=1)

    row = outbox_row(invoice)
    assert (row.state, row.send_started_at) == (DeliveryState.PENDING, None)
    assert "SMTPDataError" in row.error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.deliveries_send()
    assert len(mail.outbox) == 1
    assert outbox_row(invoice).state == DeliveryState.SENT


def test_issue6_a_voided_invoice_is_not_sent(world):
    invoice = invoice_for(world.club_a, world.player_a)
    services.deliveries_plan(invoices=[invoice], queue=False)
    invoicing_services.invoice_void(actor=None, invoice=invoice, reason="wrong")

    services.deliveries_send()

    assert mail.outbox == []
    assert outbox_row(invoice).state == DeliveryState.CANCELLED


def test_m11_one_mail_per_payer_for_a_guardian_with_three_children_and_two_invoices(world):
    guardian = PersonFactory()
    children = [PersonFactory() for _ in range(3)]
    first = invoice_for(world.club_a, guardian, children, email="guardian@example.org")
    second = invoice_for(
        world.club_a, guardian, children[:1], email="guardian@example.org", fee="activity"
    )
    other = invoice_for(world.club_a, PersonFactory(), email="other@example.org")
    services.deliveries_plan(invoices=[first, second, other], queue=False)

    report = services.deliveries_send()

    assert report.messages == 2
    to_guardian = [m for m in mail.outbox if m.to == ["guardian@example.org"]]
    assert len(to_guardian) == 1
    assert [a[0] for a in to_guardian[0].attachments] == [
        f"faktura-{first.number}.pdf",
        f"faktura-{second.number}.pdf",
    ]


def test_m11_invoicing_run_then_one_mail_per_payer(world):
    club = build_example_club(world)
    started = invoicing_services.invoicing_run_start(
        actor=None,
        club=world.club_a,
        season=SEASON,
        fee_kinds=["membership"],
        issue_date=datetime.date(SEASON, 1, 15),
        queue=False,
    )
    invoicing_services.invoicing_work(run=started)

    assert services.deliveries_plan_finished_runs() == Invoice.objects.filter(run=started).count()
    services.deliveries_send()

    payers = set(Invoice.objects.filter(run=started).values_list("buyer_email", flat=True))
    assert len(mail.outbox) == len(payers)
    mother_email = ContactSet.objects.get(person=club["mother"], is_standard=True).email
    assert sum(1 for m in mail.outbox if m.to == [mother_email]) == 1
    assert services.deliveries_plan_finished_runs() == 0


def test_issue6_paper_channel_without_email_and_mark_posted(world):
    invoice = invoice_for(world.club_a, world.player_a, email="")
    services.deliveries_plan(invoices=[invoice], queue=False)
    admin = world.user("official_this_club", "billing.manage")

    services.deliveries_send()

    row = outbox_row(invoice)
    assert (row.channel, row.state) == (DeliveryChannel.PAPER, DeliveryState.PENDING)
    assert mail.outbox == []
    assert list(selectors.paper_list(admin, world.club_a)) == [row]
    assert services.deliveries_mark_posted(actor=admin, club=world.club_a, delivery_ids=[row.pk])
    row.refresh_from_db()
    assert (row.state, row.posted_by) == (DeliveryState.POSTED, admin)
    assert list(selectors.paper_list(admin, world.club_a)) == []


def test_issue6_mark_posted_needs_a_choice_and_changes_nothing(world):
    invoice = invoice_for(world.club_a, world.player_a, email="")
    services.deliveries_plan(invoices=[invoice], queue=False)

    with pytest.raises(ValidationError) as error:
        services.deliveries_mark_posted(actor=None, club=world.club_a, delivery_ids=[])

    assert error.value.messages == [str(services.NOTHING_CHOSEN)]
    assert outbox_row(invoice).state == DeliveryState.PENDING


def test_issue6_delivery_status_per_invoice_for_the_invoice_pages(world):
    sent = invoice_for(world.club_a, world.player_a)
    paper = invoice_for(world.club_a, PersonFactory(), email="")
    none = invoice_for(world.club_a, PersonFactory())
    services.deliveries_plan(invoices=[sent, paper], queue=False)
    services.deliveries_send()

    rows = {
        invoice.pk: invoice
        for invoice in selectors.with_delivery_status(Invoice.objects.filter(club=world.club_a))
    }

    assert rows[sent.pk].delivery_state == "sent" and rows[sent.pk].delivery_sent_at
    assert (rows[paper.pk].delivery_state, rows[paper.pk].delivery_channel) == ("pending", "paper")
    assert rows[none.pk].delivery_state is None
