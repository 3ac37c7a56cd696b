"""Forms of the member-list import (issue 5 scope 9): the upload, and the mapping of the
file's columns to our fields. They only parse and check input; the rules are in
members.duplicates.importing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from members.member_import import MEMBER_FIELDS
from members.models import MembershipType

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CSV_EXTENSIONS = (".csv", ".txt")
XLSX_EXTENSION = ".xlsx"

FILE_TOO_LARGE = _("The file is larger than %(limit)s MB: split it into smaller files.")
FILE_TYPE_NOT_ACCEPTED = _("Upload a CSV file (.csv) or an Excel workbook (.xlsx).")
COLUMN_USED_TWICE = _("The column “%(column)s” is chosen for both %(first)s and %(second)s.")
NAMES_REQUIRED = _("Choose the columns of the first and the last name.")

FIELD_LABELS = {
    "first_name": _("First name"),
    "middle_name": _("Middle name"),
    "last_name": _("Last name"),
    "birth_date": _("Birth date"),
    "gender": _("Gender"),
    "email": _("E-mail"),
    "phone": _("Mobile phone"),
    "street": _("Street address"),
    "postcode": _("Postcode"),
    "city": _("Place"),
    "country": _("Country"),
    "source_id": _("Member number in the old system"),
    "membership_type": _("Membership type"),
    "status": _("Status (active/passive)"),
    "start_date": _("Member since"),
}
REQUIRED_FIELDS = ("first_name", "last_name")
COLUMN_PREFIX = "column_"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Member list"),
        help_text=_(
            "CSV (UTF-8, with a header row) or Excel (.xlsx, the first sheet), at most 5 MB."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                FILE_TOO_LARGE % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}, code="too_large"
            )
        name = upload.name.lower()
        if not name.endswith((*CSV_EXTENSIONS, XLSX_EXTENSION)):
            raise forms.ValidationError(FILE_TYPE_NOT_ACCEPTED, code="file_type")
        return upload

    @property
    def is_xlsx(self) -> bool:
        return self.cleaned_data["file"].name.lower().endswith(XLSX_EXTENSION)


class MappingForm(forms.Form):
    """One select per field of ours, offering the file's columns; the membership type of the
    rows that do not name one; whether rows with errors are skipped."""

    membership_type = forms.ModelChoiceField(
        queryset=MembershipType.objects.none(),
        label=_("Membership type"),
        help_text=_("For every member, unless a mapped column names the club's type."),
    )
    skip_invalid = forms.BooleanField(
        label=_("Skip the rows with errors and import the others"), required=False
    )

    def __init__(
        self,
        *args: Any,
        header: Sequence[str],
        membership_types: QuerySet[MembershipType],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header = list(header)
        columns = [("", _("— not in the file —"))] + [
            (str(index), name or _("Column %(number)s") % {"number": index + 1})
            for index, name in enumerate(self.header)
        ]
        for name in MEMBER_FIELDS:
            self.fields[COLUMN_PREFIX + name] = forms.TypedChoiceField(
                label=FIELD_LABELS[name],
                choices=columns,
                coerce=int,
                empty_value=None,
                required=False,
            )
        self.fields["membership_type"].queryset = membership_types
        self.order_fields([COLUMN_PREFIX + name for name in MEMBER_FIELDS])

    def column_fields(self) -> list[forms.BoundField]:
        return [self[COLUMN_PREFIX + name] for name in MEMBER_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if any(cleaned.get(COLUMN_PREFIX + name) is None for name in REQUIRED_FIELDS):
            raise forms.ValidationError(NAMES_REQUIRED, code="names_required")
        used: dict[int, str] = {}
        for name in MEMBER_FIELDS:
            index = cleaned.get(COLUMN_PREFIX + name)
            if index is None:
                continue
            if index in used:
                self.add_error(
                    COLUMN_PREFIX + name,
                    COLUMN_USED_TWICE
                    % {
                        "column": self.header[index],
                        "first": FIELD_LABELS[used[index]],
                        "second": FIELD_LABELS[name],
                    },
                )
            used[index] = name
        return cleaned

    def mapping(self) -> dict[str, int]:
        """Our field -> the file's column, for the mapped fields."""
        return {
            name: self.cleaned_data[COLUMN_PREFIX + name]
            for name in MEMBER_FIELDS
            if self.cleaned_data.get(COLUMN_PREFIX + name) is not None
        }


def mapping_initial(mapping: dict[str, int]) -> dict[str, str]:
    return {COLUMN_PREFIX + name: str(index) for name, index in mapping.items()}
