"""`manage.py export_duplicate_candidates FILE.csv`: every open duplicate candidate pair
(issue 4), best first.

Columns: `source_id_a, source_id_b, score, person_id_a, person_id_b` (UTF-8, header row; the
source ids are the persons' ids in the system they were imported from, empty for persons
registered here; person A is the one with the lower id). `-` as FILE writes to stdout.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import CandidateStatus, DuplicateCandidate

HEADER = ("source_id_a", "source_id_b", "score", "person_id_a", "person_id_b")
CANNOT_WRITE = gettext_lazy("Cannot write %(file)s: %(reason)s.")


def open_candidate_rows():
    """The rows of the export, one query streamed from the database."""
    return (
        DuplicateCandidate.objects.filter(
            status=CandidateStatus.OPEN,
            person_a__merged_into__isnull=True,
            person_b__merged_into__isnull=True,
        )
        .order_by("-score", "person_a_id", "person_b_id")
        .values_list(
            "person_a__source_id", "person_b__source_id", "score", "person_a_id", "person_b_id"
        )
        .iterator(chunk_size=5000)
    )


class Command(BaseCommand):
    help = "Write every open duplicate candidate pair to a CSV file (P-14)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to write (- for stdout).")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            count = self._write(sys.stdout)
            self.stderr.write(_("%(count)s candidate pairs written.") % {"count": count})
            return
        try:
            with Path(file).open("w", encoding="utf-8", newline="") as output:
                count = self._write(output)
        except OSError as error:
            raise CommandError(CANNOT_WRITE % {"file": file, "reason": error.strerror}) from error
        self.stdout.write(
            _("%(count)s candidate pairs written to %(file)s.") % {"count": count, "file": file}
        )

    def _write(self, output: Any) -> int:
        writer = csv.writer(output)
        writer.writerow(HEADER)
        count = 0
        for source_a, source_b, score, person_a, person_b in open_candidate_rows():
            writer.writerow((source_a, source_b, f"{score:.4f}", person_a, person_b))
            count += 1
        return count
