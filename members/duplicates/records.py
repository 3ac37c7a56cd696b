"""The plain values the duplicate engine works on: no ORM here, so the rules can be tested
and benchmarked on their own."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as the engine sees them: names as written, contact data of the standard
    contact set (e-mail lower case, phones in E.164), all strings never None."""

    id: int
    first_name: str
    last_name: str
    middle_name: str = ""
    gender: str = "unknown"  # "male" | "female" | "unknown"
    birth_date: datetime.date | None = None
    email: str = ""
    mobile: str = ""
    phone: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    source_id: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """How one field of two records compared: the level reached and its weight (log2 of the
    Bayes factor: positive speaks for the same person, negative against).

    A name that agrees is weighed by how common it is in the register (`scoring`'s term
    frequency adjustment): `term_frequency` is the name's frequency the weight was adjusted
    by (None: not adjusted), `note` says "common_name" or "rare_name" when the adjustment
    moved the weight noticeably."""

    field: str
    level: str
    weight: float
    a: str = ""
    b: str = ""
    term_frequency: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing two records: the match probability (0..1), the total weight,
    and the evidence per field (which the review screen shows)."""

    score: float
    weight: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def levels(self) -> dict[str, str | float]:
        """The level per field ({"first_name": "exact", ...}), plus the term frequency of each
        name the weight was adjusted by ({"first_name_tf": 812.0}): enough to score the pair
        again under other parameters (`scoring.score_of_levels`, learning)."""
        levels: dict[str, str | float] = {item.field: item.level for item in self.evidence}
        for item in self.evidence:
            if item.term_frequency is not None:
                levels[f"{item.field}{TERM_FREQUENCY_SUFFIX}"] = item.term_frequency
        return levels

    def explanation(self) -> list[dict[str, object]]:
        return [_explained(item) for item in self.evidence]


# The key of a field's term frequency in `Comparison.levels` ("first_name_tf").
TERM_FREQUENCY_SUFFIX = "_tf"


def _explained(item: Evidence) -> dict[str, object]:
    explained: dict[str, object] = {
        "field": item.field,
        "level": item.level,
        "weight": round(item.weight, 2),
        "a": item.a,
        "b": item.b,
    }
    if item.note:
        explained["note"] = item.note
    return explained
