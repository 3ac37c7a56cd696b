"""`manage.py import_persons`: persons from another system into an organisation (issue 4).

    manage.py import_persons FILE.csv --organisation ORG [--function-type CODE]
                                      [--dry-run] [--skip-invalid]

FILE is UTF-8 CSV (a BOM is fine; `,`, `;` or tab between cells) with the header
`source_id, first_name, last_name, gender, birth_date, email, phone, street, postcode, city,
country` in any order; only the names are required in every row. ORG is the organisation's
id or its organisation number. Every person gets a standard contact set and a function in
ORG (default `member`; `--function-type` another one allowed there), so that the organisation
sees them. History rows name the system and the reason "import_persons FILE".

The report lists every error and warning with its line number (with `-v 2` also every
person created, or in a dry run every person that would be). A file with any bad row
imports nothing unless `--skip-invalid`; `--dry-run` checks and reports, changing nothing.
The exit status is 1 when nothing was (or would be) imported because of errors.
See `members.duplicates.importing` for the rules.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.duplicates import importing

FILE_NOT_FOUND = gettext_lazy("Cannot read %(file)s: %(reason)s.")


class Command(BaseCommand):
    help = "Import persons from a CSV file into an organisation (issue 4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="UTF-8 CSV file with a header row.")
        parser.add_argument(
            "--organisation",
            required=True,
            help="The organisation's id or organisation number.",
        )
        parser.add_argument(
            "--function-type",
            default=importing.DEFAULT_FUNCTION_TYPE,
            help="Code of the function the persons get in the organisation (default: member).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; change nothing."
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows even when other rows have errors.",
        )

    def handle(self, *args: object, **options: object) -> None:
        path = Path(str(options["file"]))
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(FILE_NOT_FOUND % {"file": path, "reason": error.strerror}) from None
        try:
            organisation = importing.resolve_organisation(str(options["organisation"]))
            function_type = importing.resolve_function_type(
                organisation, str(options["function_type"])
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        dry_run = bool(options["dry_run"])
        self.stdout.write(
            _("Importing %(file)s into %(organisation)s, function type %(type)s%(dry)s.")
            % {
                "file": path.name,
                "organisation": importing.organisation_label(organisation),
                "type": function_type.code,
                "dry": _(" (dry run)") if dry_run else "",
            }
        )
        result = importing.import_persons(
            actor=None,
            data=data,
            organisation=organisation,
            function_type=function_type,
            change_reason=importing.change_reason_for(path),
            dry_run=dry_run,
            skip_invalid=bool(options["skip_invalid"]),
        )
        self._report(result)
        if int(options.get("verbosity", 1)) >= 2:
            self._list_rows(result)
        if not result.may_import:
            raise CommandError(result.refusal)
        values = {
            "count": len(result.valid_rows),
            "skipped": len(result.rejected_rows),
            "type": function_type.code,
            "organisation": organisation.name,
        }
        if dry_run:
            message = _(
                "Dry run: would create %(count)s persons and skip %(skipped)s rows; nothing "
                "was changed."
            )
            self.stdout.write(message % values)
        else:
            message = _(
                "Created %(count)s persons with a %(type)s function in %(organisation)s; "
                "skipped %(skipped)s rows."
            )
            self.stdout.write(
                self.style.SUCCESS(message % {**values, "count": len(result.created)})
            )

    def _report(self, result: importing.ImportResult) -> None:
        """The summary line, then every error and every warning with its line number."""
        summary = _(
            "Rows: %(read)s read, %(valid)s valid, %(rejected)s rejected. Errors: %(errors)s. "
            "Warnings: %(warnings)s."
        )
        errors, warnings = result.errors, result.warnings
        self.stdout.write(
            summary
            % {
                "read": len(result.rows),
                "valid": len(result.valid_rows),
                "rejected": len(result.rejected_rows),
                "errors": len(errors),
                "warnings": len(warnings),
            }
        )
        if errors:
            self.stdout.write(_("Errors:"))
            for issue in errors:
                self.stdout.write(f"  {issue}")
        if warnings:
            self.stdout.write(_("Warnings:"))
            for issue in warnings:
                self.stdout.write(f"  {issue}")

    def _list_rows(self, result: importing.ImportResult) -> None:
        """With -v 2: every person the import creates (or would create)."""
        self.stdout.write(_("Persons:"))
        for row in result.valid_rows:
            person = row.person
            born = person.birth_date.isoformat() if person.birth_date else "–"
            source = f" [{person.source_id}]" if person.source_id else ""
            self.stdout.write(f"  line {row.line}: {person.full_name}, {born}{source}")
