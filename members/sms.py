"""Sending SMS: an interface and a file adapter.

The real SMS provider lives outside this project: an adapter for it implements `SmsSender`
and is named by `settings.SMS_BACKEND` (a dotted path to a class taking no arguments). Until
then, and in development and tests, `FileSmsSender` appends every message as one JSON line to
`settings.SMS_OUTBOX_FILE` (default: MEDIA_ROOT/sms-outbox.jsonl), where it can be read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

DEFAULT_OUTBOX_NAME = "sms-outbox.jsonl"


class SmsError(Exception):
    """The message could not be handed to the provider; sending again may succeed."""


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Hand one message to the provider; raise SmsError when that fails."""


class FileSmsSender:
    """Appends each message to a file, one JSON object per line."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else outbox_path()

    def send(self, *, to: str, body: str) -> None:
        line = json.dumps(
            {"to": to, "body": body, "sent_at": timezone.now().isoformat()}, ensure_ascii=False
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: concurrent workers do not interleave.
            with self.path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        except OSError as error:
            raise SmsError(str(error)) from error

    def messages(self) -> list[dict[str, str]]:
        """Everything sent so far (for development and tests)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as outbox:
            return [json.loads(line) for line in outbox if line.strip()]


def outbox_path() -> Path:
    configured = getattr(settings, "SMS_OUTBOX_FILE", None)
    if configured:
        return Path(configured)
    return Path(settings.MEDIA_ROOT) / DEFAULT_OUTBOX_NAME


def get_sms_sender() -> SmsSender:
    backend = getattr(settings, "SMS_BACKEND", None)
    if backend:
        return import_string(backend)()
    return FileSmsSender()
