"""Norwegian postcode -> place (P-08), from the data file members/data/postcodes_no.csv.

The file (`postcode;place`, UTF-8, `#` starts a comment) is read once per process and kept in
memory. It ships a compact extract; a deployment can point POSTCODES_FILE at Posten's full
register in the same format.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from django.conf import settings

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "postcodes_no.csv"


@functools.cache
def _load(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        reader = csv.DictReader(lines, delimiter=";")
        return {row["postcode"].strip(): row["place"].strip() for row in reader}


def postcode_place(postcode: str) -> str | None:
    """The place of a Norwegian postcode, or None when the postcode is unknown."""
    path = getattr(settings, "POSTCODES_FILE", None) or DEFAULT_FILE
    return _load(str(path)).get(postcode.strip())
