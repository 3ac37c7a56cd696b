"""An e-mail backend whose server refuses every message (for the SMTP error test)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPDataError(554, b"Transaction failed")
