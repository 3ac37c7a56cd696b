"""`manage.py detect_duplicates`: a full duplicate detection run, and wait for it (issue 4).

    manage.py detect_duplicates [--organisation ORG] [--inline | --wait-only]

Without ORG the whole register is compared; with ORG (the organisation's id or organisation
number) the persons of its subtree are compared with the whole register (see
`members.duplicates.detection`). The run's chunks are queued for the Celery workers, and the
command works on pending chunks itself while it waits, so it finishes with or without workers
(`--wait-only` leaves the work to the workers; `--inline` queues nothing and does it all here).
While it waits it also re-queues chunks whose worker died. Prints the progress and a summary;
the exit status is 1 when the run failed.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.duplicates import detection
from members.models import DetectionRun, Organisation, RunState

ORGANISATION_NOT_FOUND = gettext_lazy("No organisation with id or organisation number %(value)s.")
RUN_FAILED = gettext_lazy("Detection run %(run)s failed: %(error)s")
POLL_SECONDS = 1.0
RECONCILE_EVERY_SECONDS = 30.0


def resolve_organisation(value: str) -> Organisation:
    """An organisation by organisation number (9 digits) or by id."""
    text = value.strip()
    organisation = None
    if len(text) == 9 and text.isdigit():
        organisation = Organisation.objects.filter(organisation_number=text).first()
    if organisation is None and text.isdigit():
        organisation = Organisation.objects.filter(pk=int(text)).first()
    if organisation is None:
        raise CommandError(ORGANISATION_NOT_FOUND % {"value": text})
    return organisation


class Command(BaseCommand):
    help = "Run the full duplicate detection (P-14) and wait until it has finished."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation",
            help="Only look for duplicates of this organisation's persons (id or number).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--inline", action="store_true", help="Do all the work here; queue nothing."
        )
        mode.add_argument(
            "--wait-only",
            action="store_true",
            help="Leave the chunks to the Celery workers and only wait.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = None
        if options["organisation"]:
            organisation = resolve_organisation(options["organisation"])
        started = time.monotonic()
        try:
            run = detection.detection_start(
                actor=None, organisation=organisation, inline=options["inline"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            _("Detection run %(run)s: %(chunks)s chunks.")
            % {"run": run.pk, "chunks": run.chunks_total}
        )
        if not options["inline"]:
            run = self._wait(run, work=not options["wait_only"])
        self._summary(run, time.monotonic() - started)

    def _wait(self, run: DetectionRun, *, work: bool) -> DetectionRun:
        last_reconcile = time.monotonic()
        shown = -1
        while True:
            if work:
                detection.detection_work(run=run)
            run.refresh_from_db()
            if run.chunks_done != shown:
                shown = run.chunks_done
                self.stdout.write(
                    _("  %(done)s of %(total)s chunks done (%(percent)s %%)")
                    % {
                        "done": run.chunks_done,
                        "total": run.chunks_total,
                        "percent": run.progress_percent,
                    }
                )
            if run.state in (RunState.DONE, RunState.FAILED):
                return run
            if time.monotonic() - last_reconcile >= RECONCILE_EVERY_SECONDS:
                detection.detection_reconcile(run=run)
                last_reconcile = time.monotonic()
            time.sleep(POLL_SECONDS)

    def _summary(self, run: DetectionRun, seconds: float) -> None:
        self.stdout.write(
            _(
                "Run %(run)s %(state)s in %(seconds).1f s: %(pairs)s pairs compared, "
                "%(candidates)s candidates stored."
            )
            % {
                "run": run.pk,
                "state": run.get_state_display(),
                "seconds": seconds,
                "pairs": run.pairs_compared,
                "candidates": run.candidates_found,
            }
        )
        if run.state == RunState.FAILED:
            raise CommandError(RUN_FAILED % {"run": run.pk, "error": run.error})
