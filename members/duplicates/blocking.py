"""Candidate pairs for duplicate detection (P-14, issue 4): pure functions, no ORM.

Comparing every pair of a register is quadratic; blocking proposes the pairs worth scoring,
as the union of cheap keys (two records become a candidate pair when they share any key).
Names are keys of `normalise.name_tokens` (folded, æøå and their ASCII spellings made equal):

1. birth date + any name token (first, middle or last): finds a typo in the other name, a
   married name, a middle name added or dropped, a double surname split differently;
2. birth date + a variant key of the first name (nickname group or loose spelling): finds a
   nickname *and* a changed surname (Kris Berg-Hansen / Kristoffer Hansen);
3. full name + birth year: finds a wrong day or month;
4. full name + birth day and month: finds a wrong year;
5. the set of first and last name tokens + birth year ± 1: finds first and last name swapped
   (also with a wrong birth date);
6. similar full name (Jaro-Winkler >= `SIMILAR_NAME`, rapidfuzz) among records with the same
   first letters of first and last name born in the same or the neighbouring year, kept when
   the birth dates are at most `SIMILAR_BIRTH_DAYS` apart: finds a typo in a name *and* an
   error in the birth date;
7. same e-mail and 8. same mobile/phone (E.164): find moved and renamed persons, but also
   whole households, which the scoring weighs down. A value shared by more than
   `MAX_SHARED_CONTACT` records (a club's or school's generic address, a coach's phone typed
   for a whole team) is skipped: it says nothing about identity and would add a quadratic
   number of pairs;
9. records without a birth date: paired with every record of the same full name, of the
   same last name with a first-name variant, and of the same last name with a similar first
   name (Jaro-Winkler >= `SIMILAR_NAME`).

The national identity number is unique in the register, so it needs no key here. A key group
larger than `MAX_GROUP` (a very common name at federation scale) is paired in overlapping
windows of that size (in id order) instead of all against all, so one group cannot explode
the number of pairs; the windows keep the pair count linear in the group size.

Speed: one pass computes each record's keys into a dict of groups, then pairs are emitted
per group; the similar-name key runs rapidfuzz's C++ `process.extract` per record against its
small sub-block. 25,000 records take about a second on one core.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from members.duplicates.normalise import name_tokens, normalise_email, normalise_phone, variant_keys
from members.duplicates.records import PersonRecord

MAX_SHARED_CONTACT = 20
MAX_GROUP = 200
SIMILAR_NAME = 0.88
SIMILAR_BIRTH_DAYS = 366


def _pair_group(ids: list[int], pairs: set[tuple[int, int]]) -> None:
    """All pairs of a key group (ids ascending), in overlapping windows when it is huge."""
    if len(ids) > MAX_GROUP:
        step = MAX_GROUP // 2
        for start in range(0, len(ids) - step, step):
            pairs.update(itertools.combinations(ids[start : start + MAX_GROUP], 2))
        return
    pairs.update(itertools.combinations(ids, 2))


def _pair_with(lonely: list[int], everyone: list[int], pairs: set[tuple[int, int]]) -> None:
    """Pairs of each of `lonely` (records without a birth date) with each of `everyone`."""
    for first in lonely[:MAX_GROUP]:
        for second in everyone[:MAX_GROUP]:
            if first != second:
                pairs.add((first, second) if first < second else (second, first))


def candidate_pairs(records: Sequence[PersonRecord]) -> set[tuple[int, int]]:
    """The candidate pairs (id_a < id_b) among the records: the union of the keys above."""
    ordered = sorted(records, key=lambda record: record.id)
    groups: dict[tuple, list[int]] = defaultdict(list)
    undated_names: dict[tuple, list[int]] = defaultdict(list)  # key 9, records without a date
    dated_names: dict[tuple, list[int]] = defaultdict(list)
    similar_blocks: dict[tuple[str, str, int], list[tuple[int, str, int]]] = defaultdict(list)
    by_last_name: dict[str, list[tuple[int, str]]] = defaultdict(list)
    undated: list[tuple[int, str, str]] = []
    for record in ordered:
        rid = record.id
        first = name_tokens(record.first_name)
        last = name_tokens(record.last_name)
        tokens = set(first) | set(last) | set(name_tokens(record.middle_name))
        full = (" ".join(first), " ".join(last))
        variants = variant_keys(first[0]) if first else frozenset()
        born = record.birth_date
        if born is not None:
            day = born.toordinal()
            for token in tokens:
                groups[("d", day, token)].append(rid)
            for variant in variants:
                groups[("v", day, variant)].append(rid)
            if first or last:
                groups[("y", full, born.year)].append(rid)
                groups[("m", full, born.month, born.day)].append(rid)
                groups[("s", tuple(sorted(first + last)), born.year)].append(rid)
            if first and last:
                name = f"{full[0]} {full[1]}"
                similar_blocks[(full[0][0], full[1][0], born.year)].append((rid, name, day))
        names_index = undated_names if born is None else dated_names
        if born is None and first and last:
            undated.append((rid, full[0], full[1]))
        if first or last:
            names_index[("f", full)].append(rid)
        if last:
            for variant in variants:
                names_index[("l", full[1], variant)].append(rid)
            by_last_name[full[1]].append((rid, full[0]))
        email = normalise_email(record.email)
        if email:
            groups[("e", email)].append(rid)
        for phone in {normalise_phone(record.mobile), normalise_phone(record.phone)}:
            if phone:
                groups[("p", phone)].append(rid)

    pairs: set[tuple[int, int]] = set()
    for key, ids in groups.items():
        if len(ids) < 2:
            continue
        if key[0] in ("e", "p") and len(ids) > MAX_SHARED_CONTACT:
            continue  # a generic address or phone: no identity signal
        _pair_group(ids, pairs)
    _swapped_neighbour_years(groups, pairs)
    for key, lonely in undated_names.items():
        if len(lonely) > 1:
            _pair_group(lonely, pairs)
        if key in dated_names:
            _pair_with(lonely, dated_names[key], pairs)
    _similar_name_pairs(similar_blocks, pairs)
    _undated_similar_first_names(undated, by_last_name, pairs)
    return pairs


def _undated_similar_first_names(
    undated: list[tuple[int, str, str]],
    by_last_name: dict[str, list[tuple[int, str]]],
    pairs: set[tuple[int, int]],
) -> None:
    """Key 9 with a typo: a record without a birth date and a record of the same last name
    whose first name is similar (Eminl / Emil Tangen)."""
    for rid, first, last in undated:
        namesakes = by_last_name[last][: MAX_GROUP * 5]
        if len(namesakes) < 2:
            continue
        matches = process.extract(
            first,
            [other_first for _other, other_first in namesakes],
            scorer=JaroWinkler.normalized_similarity,
            score_cutoff=SIMILAR_NAME,
            limit=None,
        )
        for _choice, _similarity, index in matches:
            other = namesakes[index][0]
            if other != rid:
                pairs.add((rid, other) if rid < other else (other, rid))


def _swapped_neighbour_years(groups: dict[tuple, list[int]], pairs: set[tuple[int, int]]) -> None:
    """Key 5 across neighbouring birth years (the same year is paired with the groups)."""
    for key, ids in groups.items():
        if key[0] != "s":
            continue
        neighbours = groups.get(("s", key[1], key[2] + 1))
        if neighbours:
            for first in ids[:MAX_GROUP]:
                for second in neighbours[:MAX_GROUP]:
                    if first != second:
                        pairs.add((first, second) if first < second else (second, first))


def _similar_name_pairs(
    blocks: dict[tuple[str, str, int], list[tuple[int, str, int]]], pairs: set[tuple[int, int]]
) -> None:
    """Key 6: similar full names within `SIMILAR_BIRTH_DAYS` of birth date."""
    for (first_letter, last_letter, year), members in blocks.items():
        others = members + blocks.get((first_letter, last_letter, year + 1), [])
        if len(others) < 2:
            continue
        choices = [name for _rid, name, _day in others]
        for rid, name, day in members:
            matches = process.extract(
                name,
                choices,
                scorer=JaroWinkler.normalized_similarity,
                score_cutoff=SIMILAR_NAME,
                limit=None,
            )
            for _choice, _similarity, index in matches:
                other, _other_name, other_day = others[index]
                if other != rid and abs(other_day - day) <= SIMILAR_BIRTH_DAYS:
                    pairs.add((rid, other) if rid < other else (other, rid))
