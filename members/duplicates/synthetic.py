"""A labelled synthetic Norwegian person register for duplicate detection (P-14, issue 4).

`generate(n_persons, seed)` builds `n_persons` real persons (deterministic per seed) and then
registers about 10 % of them a second time (a few a third time) with the errors real registers
show, so every record knows which person it belongs to:

- households: one or two parents and 1-4 children sharing the surname (sometimes a double or
  hyphenated one), the address, and a parent's e-mail and mobile (young children); twins in
  about 3 % of families with children (same birth date, often the same gender, now and then
  names as close as Ida/Ina, Mats/Mads, Emil/Emilie); couples without children; single adults;
- names by generation (children are not called Åse and Arne), with æøå names, a skew toward
  the common ones (Hansen, Johansen, Olsen ...), families of immigrant background
  (Mohammed Ali, Nguyen, Nowak), middle names;
- duplicate records with mostly one or two errors each: a typo in a name, æøå spelled in
  ASCII (Bjoern, Aase, Saether), a nickname or variant (Kristoffer/Kris), a married name
  (replaced, double or hyphenated), a middle name added or dropped, first and last name
  swapped, birth date with day and month swapped, one digit off or missing, gender unknown,
  the child's own e-mail instead of the parent's, missing phone, a new address (moved). The
  second registration is typically made by another club, so contact data is re-entered.

`.records` are in random order with ids 1..len(records) (more records than persons);
`.true_pairs` holds every pair of records of the same person; `.hard_non_pairs` every pair of
records of siblings (twins included) and `.twin_pairs` those of twins; `.frequencies` are the
register's own name frequencies (`scoring.name_frequencies`, what a full run computes from the
database), for scoring its pairs with the term frequency adjustment. `evaluate(predicted,
truth)` gives precision, recall and F1.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from members.duplicates.normalise import NICKNAMES_PATH, fold
from members.duplicates.records import PersonRecord
from members.duplicates.scoring import NameFrequencies, name_frequencies

REFERENCE_DATE = datetime.date(2025, 1, 1)  # "today" of the register: deterministic output
DUPLICATE_SHARE = 0.10
POSTCODES_PATH = Path(__file__).resolve().parent.parent / "data" / "postcodes_no.csv"


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


# First names by generation (born before 1970, 1970-1994, from 1995).
MALE_NAMES = {
    "old": _names(
        """Jan, Per, Bjørn, Ole, Lars, Kjell, Knut, Arne, Svein, Hans, Geir, Tor, Terje, Odd,
        Harald, Jon, Olav, Kåre, Dag, Leif, Gunnar, Rolf, Nils, Steinar, Tore, Reidar, Egil,
        Helge, Øivind, Åsmund, Ragnar, Sverre, Jostein, Ivar, Pål, Finn, Asbjørn, Torbjørn,
        Halvor, Kristen, Erling, Trygve, Arvid, Oddvar, Magne, Roar, Sigmund, Ståle, Bernt"""
    ),
    "middle": _names(
        """Thomas, Martin, Andreas, Kristian, Lars, Morten, Espen, Stian, Anders, Rune, Trond,
        Erik, Eirik, Øystein, Jørgen, Håkon, Ørjan, Kjetil, Vegard, Marius, Fredrik, Joakim,
        Christian, Daniel, Petter, Frode, Tommy, Kenneth, Ronny, Glenn, Erlend, Sindre, Per,
        Jon, Ola, Bjørn, Geir, Tor, Henrik, Magnus, Øyvind, Eivind, Håvard, Sigve, Kristoffer,
        Aleksander, Jan, Steffen, Jonas, Simen, Knut, Audun, Torstein"""
    ),
    "young": _names(
        """Jakob, Emil, Noah, Oskar, Lucas, Isak, Filip, Aksel, Theodor, William, Henrik,
        Johannes, Magnus, Elias, Sander, Tobias, Mathias, Ludvig, Kasper, Ulrik, Even, Sigurd,
        Håkon, Jørgen, Ivar, Mikkel, Leon, Adrian, Matheo, Vetle, Bjørn, Edvard, Aleksander,
        Ola, Olav, Jonas, Mats, Mads, Markus, Sebastian, Kristoffer, Benjamin, Brage, Herman,
        Alfred, Iver, Gustav, Liam, Nikolai, Peder, Johan, Sivert, Amund, Torje, Eskil, Kåre,
        Storm, Viktor, Marius, Martin, Daniel, Andreas, Eirik, Håvard, Tiago, Odin, Ask"""
    ),
}
FEMALE_NAMES = {
    "old": _names(
        """Anne, Inger, Kari, Marit, Ingrid, Liv, Eva, Berit, Astrid, Bjørg, Randi, Solveig,
        Ragnhild, Turid, Wenche, Torill, Åse, Sølvi, Gro, Bodil, Gunn, Grete, Unni, Elisabeth,
        Jorunn, Reidun, Åslaug, Gerd, Ellen, Tove, Aud, Kirsten, Sissel, Margrethe, Karin,
        Brit, Oddny, Synnøve, Gunvor, Ingeborg, Mona, Hilde, Laila, Signe, Else"""
    ),
    "middle": _names(
        """Hilde, Marianne, Nina, Kristin, Silje, Hanne, Heidi, Camilla, Tone, Line, Mette,
        Kristine, Ingvild, Marte, Tonje, Ida, Ane, Hege, Kjersti, Trine, Siri, Lene, Guro,
        Linn, Synnøve, Åshild, Stine, Karoline, Maria, Eli, Sølvi, Elin, Birgitte, Åse,
        Katrine, Cecilie, Helene, Therese, Lise, Marit, Anne, Ingrid, Monica, Anita, Kine,
        Kathrine, Susanne, Veronica, Charlotte, Malin, Janne, Merete, Benedicte"""
    ),
    "young": _names(
        """Nora, Emma, Ella, Olivia, Sofie, Maja, Sara, Leah, Frida, Ingrid, Tiril, Hedda, Thea,
        Ida, Astrid, Ingeborg, Selma, Sigrid, Vilde, Aurora, Oda, Mathilde, Amalie, Live,
        Eline, Saga, Sølvi, Åsa, Tuva, Hanna, Mia, Jenny, Linnea, Agnes, Signe, Ylva, Emilie,
        Julie, Ina, Elise, Synne, Karoline, Martine, Mari, Marthe, Pernille, Sunniva, Ronja,
        Henriette, Victoria, Kaja, Johanne, Helene, Iben, Alma, Eva, Othilie, Madeleine"""
    ),
}
MALE_MIDDLE = _names("Johan, Andreas, Kristian, Magnus, Olav, André, Emil, Martin, Alexander")
FEMALE_MIDDLE = _names("Marie, Elisabeth, Sofie, Kristine, Louise, Helene, Margrethe, Cecilie")
SURNAME_MIDDLE = _names("Berg, Lie, Dahl, Holm, Moe, Bakke, Strand, Aas, Vik, Lund, Haug, Sæther")

SURNAMES = _names(
    """Hansen, Johansen, Olsen, Larsen, Andersen, Pedersen, Nilsen, Kristiansen, Jensen,
    Karlsen, Johnsen, Pettersen, Eriksen, Berg, Haugen, Hagen, Johannessen, Andreassen,
    Jacobsen, Dahl, Jørgensen, Halvorsen, Henriksen, Lund, Sørensen, Jakobsen, Moen, Gundersen,
    Iversen, Strand, Solberg, Svendsen, Eide, Knutsen, Martinsen, Paulsen, Bakken,
    Kristoffersen, Mathisen, Lie, Amundsen, Rasmussen, Lunde, Solheim, Berge, Moe, Nygård,
    Bakke, Kristensen, Fredriksen, Holm, Lien, Hauge, Christensen, Andresen, Nielsen, Knudsen,
    Evensen, Sæther, Aas, Myhre, Hanssen, Haugland, Thomassen, Sivertsen, Simonsen, Danielsen,
    Berntsen, Sandvik, Rønning, Arnesen, Antonsen, Næss, Vik, Haug, Ellingsen, Thorsen,
    Edvardsen, Birkeland, Isaksen, Gulbrandsen, Ruud, Aasen, Strøm, Myklebust, Tangen,
    Ødegård, Eliassen, Helland, Bøe, Jenssen, Aune, Mikkelsen, Tveit, Brekke, Abrahamsen,
    Madsen, Løken, Bråten, Sætre, Grønli, Kvåle, Mørk, Røed, Sjøberg, Åsheim, Øien, Dæhli,
    Fjæreide, Bjørnstad, Håkonsen, Ås, Gjerde, Rønningen, Sunde, Våge, Skår, Fossum, Brenna,
    Engen, Nordby, Ulriksen, Wold, Bye, Torgersen, Kleven, Holmen, Hovland, Aasheim, Ødegaard"""
)
# Rarer surnames, as the long tail of farm names: prefix + suffix (Bjørkheim, Fjellvik ...).
FARM_PREFIXES = _names(
    """Bjørk, Fjell, Lyng, Gran, Furu, Eik, Ask, Bakk, Berg, Dal, Haug, Holm, Li, Lund, Myr,
    Nes, Rud, Sand, Skog, Stein, Strand, Vik, Øvre, Nedre, Vest, Nord, Sør, Aust, Kvit, Rød,
    Grøn, Hov, Tveit, Sæ, Bø, Ør, Mo, Flat, Heg, Skjer, Kval, Lang, Stor, Vass, Hol, Tjønn,
    Elv, Fors, Hell, Kolb, Røyk, Sol, Stav, Trø, Ulv, Hjelm"""
)
FARM_SUFFIXES = _names(
    """heim, li, vik, dal, stad, rud, set, haug, nes, berg, land, bakken, mo, eng, mark, vold,
    gård, ås, sæter, bø, tveit, hagen, holm, voll, lien, rød, nes, bråten, stø, myr"""
)
RARE_SURNAME_SHARE = 0.45

# Families of immigrant background: (male names, female names, surnames).
ORIGINS = {
    "somali_pakistani": (
        _names("Mohammed, Ali, Ahmed, Omar, Yusuf, Hussein, Ibrahim, Hassan, Abdullah, Bilal"),
        _names("Fatima, Aisha, Maryam, Amina, Zainab, Hafsa, Sara, Khadija, Hodan, Noor"),
        _names("Ali, Ahmed, Hussain, Khan, Mohamed, Hassan, Abdi, Yusuf, Omar, Iqbal, Farah"),
    ),
    "polish": (
        _names("Piotr, Tomasz, Krzysztof, Pawel, Marcin, Jakub, Michal, Kamil, Adam, Lukasz"),
        _names("Agnieszka, Katarzyna, Magdalena, Joanna, Anna, Monika, Zofia, Natalia, Julia"),
        _names("Nowak, Kowalczyk, Wójcik, Kamiński, Lewandowski, Zieliński, Szymański, Mazur"),
    ),
    "vietnamese": (
        _names("Minh, Duc, Tuan, Huy, Long, Nam, Khoa, Bao, Quang, Thanh"),
        _names("Linh, Thu, Lan, Mai, Ngoc, Trang, Huong, Anh, Vy, Hoa"),
        _names("Nguyen, Tran, Le, Pham, Hoang, Vu, Dang, Bui, Do, Ngo"),
    ),
}
ORIGIN_WEIGHTS = {"norwegian": 86, "somali_pakistani": 7, "polish": 5, "vietnamese": 2}
# Twins now and then get names this close (the hardest non-duplicates there are).
SIMILAR_TWIN_NAMES = (
    ("Ida", "Ina", "female", "female"),
    ("Mats", "Mads", "male", "male"),
    ("Emil", "Emilie", "male", "female"),
    ("Eline", "Elise", "female", "female"),
    ("Marius", "Markus", "male", "male"),
    ("Maja", "Mia", "female", "female"),
    ("Jonas", "Jonatan", "male", "male"),
    ("Henrik", "Henrikke", "male", "female"),
)
STREETS = _names(
    """Storgata, Kirkeveien, Skolegata, Parkveien, Solbakken, Bjørkeveien, Granveien,
    Furuveien, Lia, Kongens gate, Bakkegata, Fjellveien, Sjøgata, Strandveien, Elvegata,
    Møllerveien, Tårnveien, Åsveien, Løkkeveien, Rosenlundgata, Ringveien, Blåbærstien,
    Tyttebærveien, Måkeveien, Ørneveien, Gjøkveien, Skogveien, Sørlibakken, Nordre gate,
    Vestre gate, Østre vei, Idrettsveien, Stasjonsveien, Prestegårdsveien, Kløverveien,
    Lyngveien, Rådhusgata, Torggata, Gamle Drammensvei, Haukelandsveien, Eikeveien, Lindeveien,
    Hegglandsveien, Øvre Slottsgate, Tollbugata, Kanalveien, Grevlingveien, Revebjelleveien"""
)
EMAIL_DOMAINS = ("gmail.com", "online.no", "hotmail.com", "outlook.com", "icloud.com", "live.no")
EMAIL_DOMAIN_WEIGHTS = (45, 15, 15, 10, 10, 5)
KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "kø", "m": "n", "n": "bm", "o": "ip", "p": "oå",
    "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "y": "tu", "z": "x",
    "ø": "læ", "æ": "ø", "å": "p",
}  # fmt: skip
ASCII_SPELLINGS = {"æ": ("ae", "a", "e"), "ø": ("o", "oe"), "å": ("a", "aa")}

# Error kinds of a duplicate record and how often a record gets each (relative weights).
ERROR_WEIGHTS = {
    "typo_first": 12,
    "typo_last": 12,
    "ascii": 8,
    "nickname": 9,
    "married_name": 5,
    "middle_name": 7,
    "swapped_names": 2,
    "birth_swapped": 4,
    "birth_digit": 6,
    "birth_missing": 4,
    "gender_unknown": 5,
    "own_email": 5,
    "phone_missing": 6,
    "moved": 8,
}


@dataclass(frozen=True, slots=True)
class Metrics:
    precision: float
    recall: float
    f1: float


@dataclass
class SyntheticRegister:
    records: list[PersonRecord]
    true_pairs: set[tuple[int, int]]
    hard_non_pairs: set[tuple[int, int]]
    twin_pairs: set[tuple[int, int]] = field(default_factory=set)
    person_of: dict[int, int] = field(default_factory=dict)  # record id → person number
    errors: dict[int, tuple[str, ...]] = field(default_factory=dict)  # duplicate record id → errors
    households: int = 0
    twin_families: int = 0
    _frequencies: NameFrequencies | None = field(default=None, repr=False, compare=False)

    @property
    def frequencies(self) -> NameFrequencies:
        """The register's name frequencies (computed once)."""
        if self._frequencies is None:
            self._frequencies = name_frequencies(self.records)
        return self._frequencies


def evaluate(predicted: Iterable[tuple[int, int]], truth: Iterable[tuple[int, int]]) -> Metrics:
    """Precision, recall and F1 of predicted pairs against the true pairs (both as (a, b),
    a < b). Empty predictions have precision 1; an empty truth has recall 1."""
    predicted_set = {(min(a, b), max(a, b)) for a, b in predicted}
    truth_set = {(min(a, b), max(a, b)) for a, b in truth}
    hits = len(predicted_set & truth_set)
    precision = hits / len(predicted_set) if predicted_set else 1.0
    recall = hits / len(truth_set) if truth_set else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(precision=precision, recall=recall, f1=f1)


def _load_postcodes() -> list[tuple[str, str]]:
    rows = []
    with POSTCODES_PATH.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("postcode"):
                continue
            code, place = line.split(";", 1)
            rows.append((code, place))
    return rows


def _load_nicknames() -> dict[str, list[str]]:
    """name → the other names of its variant groups (for the nickname error)."""
    groups: dict[str, list[str]] = {}
    with NICKNAMES_PATH.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or line.startswith("canonical") or not line.strip():
                continue
            canonical, variant = (part.strip() for part in line.split(","))
            groups.setdefault(canonical, [canonical]).append(variant)
    variants: dict[str, list[str]] = {}
    for members in groups.values():
        for name in members:
            variants.setdefault(name, []).extend(other for other in members if other != name)
    return variants


@dataclass
class _Person:
    number: int
    first_name: str
    last_name: str
    gender: str
    birth_date: datetime.date | None
    middle_name: str = ""
    email: str = ""
    mobile: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    origin: str = "norwegian"
    household: int = 0
    parent_email: str = ""
    parent_mobile: str = ""


class _Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.postcodes = _load_postcodes()
        self.nicknames = _load_nicknames()
        self.persons: list[_Person] = []
        self.siblings: list[tuple[int, int]] = []
        self.twins: list[tuple[int, int]] = []
        self.households = 0
        self.twin_families = 0
        self.used_mobiles: set[str] = set()
        self.used_emails: set[str] = set()

    # ---------------------------------------------------------------- drawing values

    def skewed(self, names: tuple[str, ...]) -> str:
        """A name drawn with a Zipf-like skew: the first names of a list are the common ones."""
        weights = _zipf_weights(len(names))
        return self.random.choices(names, weights)[0]

    def first_name(self, gender: str, born: datetime.date, origin: str) -> str:
        if origin != "norwegian":
            male, female, _ = ORIGINS[origin]
            return self.random.choice(male if gender == "male" else female)
        generation = "old" if born.year < 1970 else "middle" if born.year < 1995 else "young"
        return self.skewed((MALE_NAMES if gender == "male" else FEMALE_NAMES)[generation])

    def surname(self, origin: str) -> str:
        if origin != "norwegian":
            return self.random.choice(ORIGINS[origin][2])
        if self.random.random() < RARE_SURNAME_SHARE:
            return self.random.choice(FARM_PREFIXES) + self.random.choice(FARM_SUFFIXES)
        return self.skewed(SURNAMES)

    def birth_date(self, first_year: int, last_year: int) -> datetime.date:
        year = self.random.randint(first_year, last_year)
        return datetime.date(year, 1, 1) + datetime.timedelta(days=self.random.randrange(365))

    def address(self) -> tuple[str, str, str]:
        code, place = self.random.choice(self.postcodes)
        number = self.random.randint(1, 120)
        letter = self.random.choice(("", "", "", "", "A", "B", "C"))
        return f"{self.random.choice(STREETS)} {number}{letter}", code, place

    def mobile(self) -> str:
        while True:
            number = f"+47{self.random.choice('99994')}{self.random.randrange(10**7):07d}"
            if number not in self.used_mobiles:
                self.used_mobiles.add(number)
                return number

    def email(self, first: str, last: str) -> str:
        local_first = fold(first.split()[0]).replace("-", "")
        local_last = fold(last.split()[-1]).replace("-", "")
        domain = self.random.choices(EMAIL_DOMAINS, EMAIL_DOMAIN_WEIGHTS)[0]
        for attempt in itertools.count():
            style = self.random.random()
            if style < 0.5:
                local = f"{local_first}.{local_last}"
            elif style < 0.75:
                local = f"{local_first}{local_last}"
            else:
                local = f"{local_first[:1]}{local_last}"
            if attempt or self.random.random() < 0.3:
                local += str(self.random.randint(1, 99))
            address = f"{local}@{domain}"
            if address not in self.used_emails:
                self.used_emails.add(address)
                return address
        raise AssertionError  # pragma: no cover

    def middle_name(self, gender: str, family_surnames: tuple[str, ...]) -> str:
        draw = self.random.random()
        if draw < 0.10:
            return self.random.choice(MALE_MIDDLE if gender == "male" else FEMALE_MIDDLE)
        if draw < 0.16:
            return self.random.choice(family_surnames or SURNAME_MIDDLE)
        return ""

    def gender(self) -> str:
        return self.random.choice(("male", "female"))

    # ---------------------------------------------------------------- households

    def add(self, person: _Person) -> _Person:
        person.number = len(self.persons)
        self.persons.append(person)
        return person

    def adult(
        self,
        origin: str,
        gender: str,
        born: datetime.date,
        last: str,
        household: int,
        address: tuple[str, str, str],
    ) -> _Person:
        first = self.first_name(gender, born, origin)
        middle = self.middle_name(gender, ()) if origin == "norwegian" else ""
        street, postcode, city = address
        email = self.email(first, last) if self.random.random() < 0.93 else ""
        mobile = self.mobile() if self.random.random() < 0.95 else ""
        gender_kept = gender if self.random.random() > 0.01 else "unknown"
        if self.random.random() < 0.01:
            born = None  # type: ignore[assignment]
        return _Person(
            0,
            first,
            last,
            gender_kept,
            born,
            middle,
            email,
            mobile,
            street,
            postcode,
            city,
            origin,
            household,
        )

    def family(self, n_target: int) -> None:
        self.households += 1
        household = self.households
        origin = self.random.choices(list(ORIGIN_WEIGHTS), list(ORIGIN_WEIGHTS.values()))[0]
        address = self.address()
        father_last = self.surname(origin)
        mother_last = self.surname(origin)
        single_parent = self.random.random() < 0.18
        mother_born = self.birth_date(1960, 1995)
        father_born = mother_born - datetime.timedelta(days=self.random.randint(-700, 2500))
        if origin == "norwegian" and self.random.random() < 0.15:
            child_last = (
                f"{mother_last} {father_last}" if mother_last != father_last else father_last
            )
            if self.random.random() < 0.3:
                child_last = child_last.replace(" ", "-")
        else:
            child_last = father_last
        mother_keeps = origin != "norwegian" or self.random.random() < 0.45
        mother_surname = mother_last if mother_keeps else child_last
        parents: list[_Person] = []
        if self.random.random() < 0.65:
            parents.append(
                self.add(
                    self.adult(origin, "female", mother_born, mother_surname, household, address)
                )
            )
        if not single_parent and self.random.random() < 0.55:
            parents.append(
                self.add(self.adult(origin, "male", father_born, father_last, household, address))
            )
        contact_parent = (
            parents[0]
            if parents
            else self.adult(origin, "female", mother_born, mother_surname, household, address)
        )
        children_count = self.random.choices((1, 2, 3, 4), (30, 45, 20, 5))[0]
        first_child = mother_born + datetime.timedelta(days=self.random.randint(22 * 365, 36 * 365))
        born = first_child
        children: list[_Person] = []
        twins_at = -1
        if self.random.random() < 0.03:
            twins_at = self.random.randrange(children_count)
            self.twin_families += 1
        taken = {parent.first_name for parent in parents}
        for index in range(children_count):
            if born > REFERENCE_DATE - datetime.timedelta(days=200):
                break
            children.append(
                self.child(origin, born, child_last, household, address, contact_parent, taken)
            )
            if index == twins_at:
                children.append(
                    self.twin(children[-1], origin, household, address, contact_parent, taken)
                )
            born = born + datetime.timedelta(days=self.random.randint(330, 5 * 365))
        for child in children:
            self.add(child)
        for first, second in itertools.combinations(children, 2):
            self.siblings.append((first.number, second.number))
            if first.birth_date is not None and first.birth_date == second.birth_date:
                self.twins.append((first.number, second.number))

    def child(
        self,
        origin: str,
        born: datetime.date,
        last: str,
        household: int,
        address: tuple[str, str, str],
        parent: _Person,
        taken: set[str],
    ) -> _Person:
        gender = self.gender()
        first = self.first_name(gender, born, origin)
        for _ in range(30):  # parents do not give two children (or a child and themselves) one name
            if first not in taken:
                break
            first = self.first_name(gender, born, origin)
        taken.add(first)
        return self._child_with(first, gender, origin, born, last, household, address, parent)

    def _child_with(
        self,
        first: str,
        gender: str,
        origin: str,
        born: datetime.date,
        last: str,
        household: int,
        address: tuple[str, str, str],
        parent: _Person,
    ) -> _Person:
        age = (REFERENCE_DATE - born).days // 365
        middle = self.middle_name(gender, tuple(last.replace("-", " ").split()[:-1]))
        if origin != "norwegian":
            middle = ""
        draw = self.random.random()
        if age >= 15 and draw < 0.55:
            email = self.email(first, last)
        elif draw < 0.85:
            email = parent.email
        else:
            email = ""
        draw = self.random.random()
        if age >= 12 and draw < 0.65:
            mobile = self.mobile()
        elif draw < 0.8:
            mobile = parent.mobile
        else:
            mobile = ""
        street, postcode, city = address
        return _Person(
            0,
            first,
            last,
            gender,
            born,
            middle,
            email,
            mobile,
            street,
            postcode,
            city,
            origin,
            household,
            parent.email,
            parent.mobile,
        )

    def twin(
        self,
        sibling: _Person,
        origin: str,
        household: int,
        address: tuple[str, str, str],
        parent: _Person,
        taken: set[str],
    ) -> _Person:
        born = sibling.birth_date
        assert born is not None
        if origin == "norwegian" and self.random.random() < 0.2:
            first_a, first_b, gender_a, gender_b = self.random.choice(SIMILAR_TWIN_NAMES)
            sibling.first_name, sibling.gender = first_a, gender_a
            taken.update((first_a, first_b))
            return self._child_with(
                first_b, gender_b, origin, born, sibling.last_name, household, address, parent
            )
        gender = sibling.gender if self.random.random() < 0.6 else self.gender()
        first = sibling.first_name
        for _ in range(30):
            if first not in taken:
                break
            first = self.first_name(gender, born, origin)
        taken.add(first)
        return self._child_with(
            first, gender, origin, born, sibling.last_name, household, address, parent
        )

    def couple_or_single(self) -> None:
        self.households += 1
        household = self.households
        origin = self.random.choices(list(ORIGIN_WEIGHTS), list(ORIGIN_WEIGHTS.values()))[0]
        address = self.address()
        born = self.birth_date(1940, 2004)
        gender = self.gender()
        last = self.surname(origin)
        self.add(self.adult(origin, gender, born, last, household, address))
        if self.random.random() < 0.35:
            partner_born = born + datetime.timedelta(days=self.random.randint(-2000, 2000))
            partner_last = last if self.random.random() < 0.4 else self.surname(origin)
            other = "female" if gender == "male" else "male"
            self.add(self.adult(origin, other, partner_born, partner_last, household, address))

    def build(self, n_persons: int) -> None:
        while len(self.persons) < n_persons:
            if self.random.random() < 0.55:
                self.family(n_persons)
            else:
                self.couple_or_single()
        cut = n_persons
        del self.persons[cut:]
        self.siblings = [(a, b) for a, b in self.siblings if a < cut and b < cut]
        self.twins = [(a, b) for a, b in self.twins if a < cut and b < cut]

    # ---------------------------------------------------------------- duplicates

    def duplicate(self, person: _Person) -> tuple[_Person, tuple[str, ...]]:
        copy = replace(person)
        count = self.random.choices((0, 1, 2, 3), (8, 55, 31, 6))[0]
        kinds = list(ERROR_WEIGHTS)
        weights = list(ERROR_WEIGHTS.values())
        applied: list[str] = []
        attempts = 0
        while len(applied) < count and attempts < 20:
            attempts += 1
            kind = self.random.choices(kinds, weights)[0]
            if kind in applied:
                continue
            if getattr(self, f"_error_{kind}")(copy, person):
                applied.append(kind)
        self.reentered_contact(copy, person)
        return copy, tuple(applied)

    def reentered_contact(self, copy: _Person, person: _Person) -> None:
        """A second club types the contact data again: mostly the same, sometimes left out."""
        if copy.email and self.random.random() < 0.12:
            copy.email = ""
        if copy.mobile and self.random.random() < 0.12:
            copy.mobile = ""
        if copy.street and self.random.random() < 0.06:
            copy.street, copy.postcode, copy.city = "", "", ""

    def _typo(self, text: str) -> str:
        if len(text) < 3:
            return text + self.random.choice("aeilnrst")
        letters = list(text)
        position = self.random.randrange(1, len(letters))  # the first letter is seldom wrong
        kind = self.random.choice(("substitute", "delete", "insert", "transpose", "double"))
        char = letters[position].lower()
        if kind == "substitute":
            letters[position] = self.random.choice(KEYBOARD_NEIGHBOURS.get(char, "aeiou"))
        elif kind == "delete" and len(letters) > 3:
            del letters[position]
        elif kind == "insert":
            letters.insert(position, self.random.choice("aeinrstl"))
        elif kind == "transpose" and position < len(letters) - 1:
            letters[position], letters[position + 1] = letters[position + 1], letters[position]
        else:
            letters.insert(position, letters[position])
        result = "".join(letters)
        return result if result != text else text + "e"

    def _error_typo_first(self, copy: _Person, person: _Person) -> bool:
        copy.first_name = self._typo(copy.first_name)
        return True

    def _error_typo_last(self, copy: _Person, person: _Person) -> bool:
        copy.last_name = self._typo(copy.last_name)
        return True

    def _error_ascii(self, copy: _Person, person: _Person) -> bool:
        changed = False
        for attribute in ("first_name", "last_name"):
            value = getattr(copy, attribute)
            for letter, spellings in ASCII_SPELLINGS.items():
                for char in (letter, letter.upper()):
                    if char in value:
                        spelling = self.random.choice(spellings)
                        value = value.replace(
                            char, spelling if char.islower() else spelling.capitalize()
                        )
                        changed = True
            setattr(copy, attribute, value)
        return changed

    def _error_nickname(self, copy: _Person, person: _Person) -> bool:
        variants = self.nicknames.get(copy.first_name)
        if not variants:
            return False
        copy.first_name = self.random.choice(variants)
        return True

    def _error_married_name(self, copy: _Person, person: _Person) -> bool:
        born = copy.birth_date
        if copy.gender != "female" or born is None or (REFERENCE_DATE - born).days < 20 * 365:
            return False
        new = self.surname(copy.origin)
        if fold(new) == fold(copy.last_name):
            return False
        style = self.random.random()
        if style < 0.45:
            copy.last_name = new
        elif style < 0.75:
            copy.last_name = f"{copy.last_name} {new}"
        else:
            copy.last_name = f"{copy.last_name}-{new}"
        return True

    def _error_middle_name(self, copy: _Person, person: _Person) -> bool:
        if copy.middle_name:
            if self.random.random() < 0.5:
                copy.middle_name = ""
            else:  # written into the first-name field: "Anne Marie"
                copy.first_name, copy.middle_name = f"{copy.first_name} {copy.middle_name}", ""
            return True
        copy.middle_name = self.random.choice(
            MALE_MIDDLE if copy.gender == "male" else FEMALE_MIDDLE
        )
        return True

    def _error_swapped_names(self, copy: _Person, person: _Person) -> bool:
        copy.first_name, copy.last_name = copy.last_name, copy.first_name
        return True

    def _error_birth_swapped(self, copy: _Person, person: _Person) -> bool:
        born = copy.birth_date
        if born is None or born.day > 12 or born.day == born.month:
            return False
        copy.birth_date = datetime.date(born.year, born.day, born.month)
        return True

    def _error_birth_digit(self, copy: _Person, person: _Person) -> bool:
        born = copy.birth_date
        if born is None:
            return False
        digits = born.strftime("%d%m%Y")
        for _ in range(20):
            position = self.random.choice((0, 1, 2, 3, 6, 7, 7, 7, 1, 3))
            new = digits[:position] + str(self.random.randrange(10)) + digits[position + 1 :]
            try:
                changed = datetime.datetime.strptime(new, "%d%m%Y").date()  # noqa: DTZ007
            except ValueError:
                continue
            if changed != born and changed < REFERENCE_DATE and changed.year > 1920:
                copy.birth_date = changed
                return True
        return False

    def _error_birth_missing(self, copy: _Person, person: _Person) -> bool:
        if copy.birth_date is None:
            return False
        copy.birth_date = None
        return True

    def _error_gender_unknown(self, copy: _Person, person: _Person) -> bool:
        if copy.gender == "unknown":
            return False
        copy.gender = "unknown"
        return True

    def _error_own_email(self, copy: _Person, person: _Person) -> bool:
        if copy.parent_email and copy.email == copy.parent_email:
            copy.email = self.email(copy.first_name, copy.last_name)
            return True
        if copy.parent_email and copy.email != copy.parent_email:
            copy.email = copy.parent_email
            return True
        return False

    def _error_phone_missing(self, copy: _Person, person: _Person) -> bool:
        if not copy.mobile:
            return False
        copy.mobile = ""
        return True

    def _error_moved(self, copy: _Person, person: _Person) -> bool:
        copy.street, copy.postcode, copy.city = self.address()
        return True


def _zipf_weights(length: int, _cache: dict[int, list[float]] = {}) -> list[float]:  # noqa: B006
    if length not in _cache:
        _cache[length] = [1.0 / (rank + 12) for rank in range(length)]
    return _cache[length]


def generate(n_persons: int, seed: int) -> SyntheticRegister:
    """A labelled register of `n_persons` real persons plus their duplicate records
    (deterministic for a seed); see the module docstring."""
    generator = _Generator(seed)
    generator.build(n_persons)
    rng = generator.random
    entries: list[tuple[_Person, tuple[str, ...] | None]] = [(p, None) for p in generator.persons]
    for person in generator.persons:
        if rng.random() >= DUPLICATE_SHARE:
            continue
        copies = 2 if rng.random() < 0.08 else 1
        for _ in range(copies):
            entries.append(generator.duplicate(person))
    rng.shuffle(entries)
    records: list[PersonRecord] = []
    person_of: dict[int, int] = {}
    errors: dict[int, tuple[str, ...]] = {}
    by_person: dict[int, list[int]] = {}
    for record_id, (person, applied) in enumerate(entries, start=1):
        records.append(
            PersonRecord(
                id=record_id,
                first_name=person.first_name,
                last_name=person.last_name,
                middle_name=person.middle_name,
                gender=person.gender,
                birth_date=person.birth_date,
                email=person.email,
                mobile=person.mobile,
                street=person.street,
                postcode=person.postcode,
                city=person.city,
                source_id=f"S{seed}-{record_id}",
            )
        )
        person_of[record_id] = person.number
        by_person.setdefault(person.number, []).append(record_id)
        if applied is not None:
            errors[record_id] = applied
    true_pairs = {
        (min(a, b), max(a, b))
        for ids in by_person.values()
        for a, b in itertools.combinations(ids, 2)
    }
    hard = _record_pairs(generator.siblings, by_person)
    twins = _record_pairs(generator.twins, by_person)
    return SyntheticRegister(
        records=records,
        true_pairs=true_pairs,
        hard_non_pairs=hard,
        twin_pairs=twins,
        person_of=person_of,
        errors=errors,
        households=generator.households,
        twin_families=generator.twin_families,
    )


def _record_pairs(
    person_pairs: list[tuple[int, int]], by_person: dict[int, list[int]]
) -> set[tuple[int, int]]:
    return {
        (min(a, b), max(a, b))
        for first, second in person_pairs
        for a in by_person.get(first, ())
        for b in by_person.get(second, ())
    }
