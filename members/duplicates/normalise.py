"""Name and contact normalisation for duplicate detection (P-14, issue 4): pure functions, no ORM.

Three levels of "the same name", from strict to loose:

- `fold(text)`: lower case with accents and æøå folded to ASCII exactly like the database
  function `clubadmin_fold` (`lower(unaccent(text))`, PostgreSQL's `unaccent.rules`): æ→ae,
  ø→o, å→a, ä→a, ö→o, é→e, ß→ss, þ→th ... so keys built in Python and in SQL agree. The
  table below covers the Latin script, combining marks, typographic hyphens and quotes and the
  Latin ligatures (what names are written with); other scripts are only lower-cased.
- `name_key(text)`: the folded name as tokens (split on spaces, hyphens, dots, commas and
  apostrophes dropped), with the alternative Norwegian spellings made equal: "aa" for å and
  "oe" for ø, so Aase/Åse, Bjoern/Bjørn, Oedegaard/Ødegård, Saether/Sæther (æ already folds to
  "ae") give one key. Two names with the same key count as the *same* name.
- `sound_key(token)`: a loose spelling key for one name token (th→t, ch→k, c→k, ph→f, w→v,
  z→s, x→ks, q→k, y→i, a final h dropped, doubled letters single), so Mathias/Matias/Mattias,
  Christoffer/Kristoffer, Sophie/Sofie give one key; with the nickname table
  (`members/data/nicknames_no.csv`, loaded once) this makes the *variant* level:
  `are_variants("Kristoffer", "Kris")`.

Phones: `normalise_phone` gives E.164 (the register stores contact-set phones that way, P-08).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from pathlib import Path

from members.rules import normalise_phone as _normalise_phone

NICKNAMES_PATH = Path(__file__).resolve().parent.parent / "data" / "nicknames_no.csv"
FIRST_NAMES_PATH = Path(__file__).resolve().parent.parent / "data" / "first_names_no.txt"

# Characters where PostgreSQL's unaccent.rules differ from "decompose (NFKD) and drop the
# combining marks" in the ranges below (letters without a decomposition: æ, ø, ð, ł ...).
_UNACCENT_EXCEPTIONS = {
    "¡": "!", "©": "(C)", "«": "<<", "\u00ad": "-", "®": "(R)", "±": "+/-", "»": ">>",
    "¼": "1/4", "½": "1/2", "¾": "3/4", "¿": "?", "Æ": "AE", "Ð": "D", "×": "*", "Ø": "O",
    "Þ": "TH", "ß": "ss", "æ": "ae",
    "ð": "d", "÷": "/", "ø": "o", "þ": "th", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i",
    "ĸ": "q", "Ŀ": "L", "ŀ": "l", "Ł": "L", "ł": "l", "ŉ": "'n", "Ŋ": "N", "ŋ": "n", "Œ": "OE",
    "œ": "oe", "Ŧ": "T", "ŧ": "t", "ƀ": "b", "Ɓ": "B", "Ƃ": "B", "ƃ": "b", "Ƈ": "C", "ƈ": "c",
    "Ɖ": "D", "Ɗ": "D", "Ƌ": "D", "ƌ": "d", "Ɛ": "E", "Ƒ": "F", "ƒ": "f", "Ɠ": "G", "ƕ": "hv",
    "Ɩ": "I", "Ɨ": "I", "Ƙ": "K", "ƙ": "k", "ƚ": "l", "Ɲ": "N", "ƞ": "n", "Ƣ": "OI", "ƣ": "oi",
    "Ƥ": "P", "ƥ": "p", "ƫ": "t", "Ƭ": "T", "ƭ": "t", "Ʈ": "T", "Ʋ": "V", "Ƴ": "Y", "ƴ": "y",
    "Ƶ": "Z", "ƶ": "z", "Ǥ": "G", "ǥ": "g", "ȡ": "d", "Ȥ": "Z", "ȥ": "z", "ȴ": "l", "ȵ": "n",
    "ȶ": "t", "ȷ": "j", "ȸ": "db", "ȹ": "qp", "Ⱥ": "A", "Ȼ": "C", "ȼ": "c", "Ƚ": "L", "Ⱦ": "T",
    "ȿ": "s", "ɀ": "z", "Ƀ": "B", "Ʉ": "U", "Ɇ": "E", "ɇ": "e", "Ɉ": "J", "ɉ": "j", "Ɍ": "R",
    "ɍ": "r", "Ɏ": "Y", "ɏ": "y", "\u034f": "", "ẚ": "a", "ẜ": "s", "ẝ": "s", "ẞ": "SS",
    "Ỻ": "LL", "ỻ": "ll", "Ỽ": "V", "ỽ": "v", "Ỿ": "Y", "ỿ": "y", "‐": "-", "‑": "-", "‒": "-",
    "–": "-", "—": "-", "―": "-", "‖": "||", "‘": "'", "’": "'", "‚": ",", "‛": "'", "“": '"',
    "”": '"', "„": ",,", "‟": '"',
}  # fmt: skip
# Characters in the ranges that unaccent.rules leave alone although NFKD would change them.
_UNACCENT_KEEPS = frozenset(
    "\u00a0\u00a8\u00aa\u00af\u00b2\u00b3\u00b4\u00b5\u00b8\u00b9\u00ba\u01e2\u01e3\u01ee\u01ef\u01fc\u01fd\u01fe\u01ff\u1e9b\u2017"
    + "".join(chr(code) for code in range(0x0363, 0x0370))
)
_UNACCENT_RANGES = (
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0300, 0x036F),  # combining marks (decomposed input)
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese names among others)
    (0x2010, 0x201F),  # hyphens and quotes
    (0xFB00, 0xFB06),  # Latin ligatures
)


def _build_unaccent_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for first, last in _UNACCENT_RANGES:
        for code in range(first, last + 1):
            char = chr(code)
            if char in _UNACCENT_KEEPS:
                continue
            if char in _UNACCENT_EXCEPTIONS:
                table[code] = _UNACCENT_EXCEPTIONS[char]
                continue
            decomposed = unicodedata.normalize("NFKD", char)
            stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
            if stripped != char:
                table[code] = stripped
    return table


_UNACCENT_TABLE = _build_unaccent_table()
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/,.;:()]+")
_DROPPED = re.compile(r"['`´\"]")


@functools.lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """`clubadmin_fold` in Python: accents and æøå to ASCII as PostgreSQL's unaccent does it,
    then lower case ("Æsøy Ødegård Åse" → "aesoy odegard ase")."""
    return text.translate(_UNACCENT_TABLE).lower()


def _respell(token: str) -> str:
    # Norwegian ASCII spellings: "aa" is å (Aase), "oe" is ø (Bjoern); æ folds to "ae" anyway.
    if "aa" in token:
        token = token.replace("aa", "a")
    if "oe" in token:
        token = token.replace("oe", "o")
    return token


@functools.lru_cache(maxsize=100_000)
def name_tokens(text: str) -> tuple[str, ...]:
    """The name's tokens as keys: folded, split on spaces and hyphens (double surnames,
    hyphenated first names), apostrophes dropped, alternative spellings made equal.
    "Ødegård-Aasen" → ("odegard", "asen")."""
    folded = _DROPPED.sub("", fold(text))
    return tuple(_respell(token) for token in _SEPARATORS.split(folded) if token)


def name_key(text: str) -> str:
    """The whole name as one key: its tokens joined by a space ("" when there is no name)."""
    return " ".join(name_tokens(text))


_SOUND_RULES = (
    ("sch", "sj"),
    ("th", "t"),
    ("ch", "k"),
    ("ck", "k"),
    ("ph", "f"),
    ("c", "k"),
    ("q", "k"),
    ("w", "v"),
    ("z", "s"),
    ("x", "ks"),
    ("y", "i"),
    ("dt", "t"),
)
_DOUBLED = re.compile(r"(.)\1+")


@functools.lru_cache(maxsize=100_000)
def sound_key(token: str) -> str:
    """A loose spelling key of one name token (already a `name_tokens` key): Mathias, Matias
    and Mattias → "matias"; Christoffer and Kristoffer → "kristofer"; Sophie → "sofie"."""
    key = token
    for old, new in _SOUND_RULES:
        if old in key:
            key = key.replace(old, new)
    if len(key) > 2 and key.endswith("h"):
        key = key[:-1]
    return _DOUBLED.sub(r"\1", key)


@functools.cache
def _nickname_groups() -> dict[str, frozenset[int]]:
    """name token key → the ids of the variant groups it belongs to (loaded once)."""
    groups: dict[str, set[int]] = {}
    group_ids: dict[str, int] = {}
    with NICKNAMES_PATH.open(encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        for row in csv.DictReader(lines):
            canonical = sound_key(name_key(row["canonical"]))
            group_id = group_ids.setdefault(canonical, len(group_ids))
            for name in (row["canonical"], row["variant"]):
                groups.setdefault(sound_key(name_key(name)), set()).add(group_id)
    return {name: frozenset(ids) for name, ids in groups.items()}


def nickname_groups(token: str) -> frozenset[int]:
    """The ids of the nickname/variant groups a name token (a `name_tokens` key) belongs to."""
    return _nickname_groups().get(sound_key(token), frozenset())


@functools.lru_cache(maxsize=100_000)
def variant_keys(token: str) -> frozenset[str]:
    """Keys under which a first-name token meets its variants: its sound key and one key per
    nickname group ("g12"). Two tokens are variants when their keys intersect."""
    return frozenset({sound_key(token), *(f"g{group}" for group in nickname_groups(token))})


def are_variants(first: str, second: str) -> bool:
    """Whether two first names (as written) are spelling variants or nicknames of each other
    (Kristoffer/Christoffer/Kris, Mohammed/Muhammad), judged on their first tokens."""
    first_tokens, second_tokens = name_tokens(first), name_tokens(second)
    if not first_tokens or not second_tokens:
        return False
    return bool(variant_keys(first_tokens[0]) & variant_keys(second_tokens[0]))


@functools.cache
def _known_first_names() -> frozenset[str]:
    """The name keys of common first names and of every name in the nickname table."""
    names: set[str] = set()
    with FIRST_NAMES_PATH.open(encoding="utf-8") as handle:
        names.update(name_key(line) for line in handle if line.strip() and not line.startswith("#"))
    with NICKNAMES_PATH.open(encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        for row in csv.DictReader(lines):
            names.update((name_key(row["canonical"]), name_key(row["variant"])))
    return frozenset(names)


def is_known_first_name(token: str) -> bool:
    """Whether a first-name token (a `name_tokens` key) is a common first name: a near miss
    between two known names (Ida/Ina) is two names, with an unknown one (Elala) a typo."""
    return token in _known_first_names()


def normalise_email(raw: str) -> str:
    """An e-mail address compared case-insensitively and without surrounding spaces."""
    return raw.strip().lower()


def normalise_phone(raw: str, default_region: str = "NO") -> str:
    """A phone number in E.164 (+4791234567), numbers without a country code read as
    Norwegian; "" when empty or not a valid number (the register's own P-08 helper)."""
    if not raw or not raw.strip():
        return ""
    if raw.startswith("+") and raw[1:].isdigit():
        return raw  # already E.164, as the register stores it
    return _normalise_phone(raw, default_region) or ""


def normalise_postcode(raw: str) -> str:
    return "".join(raw.split())


@functools.lru_cache(maxsize=100_000)
def normalise_street(raw: str) -> str:
    """A street address as a comparison key: folded, punctuation and repeated spaces gone,
    "gata"/"gaten"/"gt" and "veien"/"vei"/"vn" made equal ("Storgata 5B" = "storgt. 5 b")."""
    tokens = name_tokens(raw)
    out = []
    for token in tokens:
        for long_form, short in (
            ("gata", "gt"),
            ("gaten", "gt"),
            ("veien", "vn"),
            ("vei", "vn"),
            ("vegen", "vn"),
            ("veg", "vn"),
        ):
            if token.endswith(long_form) and len(token) > len(long_form):
                token = token[: -len(long_form)] + short
                break
        out.append(token)
    return "".join(out)
