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
    Bayes factor: positive speaks for the same person, negative against)."""

    field: str
    level: str
    weight: float
    a: str = ""
    b: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing two records: the match probability (0..1), the total weight,
    and the evidence per field (which the review screen shows)."""

    score: float
    weight: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def levels(self) -> dict[str, str]:
        return {item.field: item.level for item in self.evidence}

    def explanation(self) -> list[dict[str, object]]:
        return [
            {"field": e.field, "level": e.level, "weight": round(e.weight, 2), "a": e.a, "b": e.b}
            for e in self.evidence
        ]
