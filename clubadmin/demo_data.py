"""The demo register behind `manage.py seed_demo`: Norwegian names, places and numbers, the
organisation tree and a stream of persons with their functions.

Pure Python, no ORM: the command writes what this module plans and yields. Everything comes
from one `random.Random(seed)` and fixed dates, so the same size and seed give the same register.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

# Birth dates and ages are relative to this date, not to today, so that reruns match.
REFERENCE_DATE = datetime.date(2026, 1, 1)
LAST_JOIN_DATE = datetime.date(2025, 12, 31)
EARLIEST_JOIN_DATE = datetime.date(2000, 1, 1)

DEMO_PASSWORD = "demo-passord-2026"  # noqa: S105 (published demo password)
FEDERATION_NAME = "Norges Demoidrettsforbund"
FEDERATION_ORGANISATION_NUMBER = "971000007"
FEDERATION_BANK_ACCOUNT = "15037777770"
DEMO_CLUB_NAME = "Sagene IF"
DEMO_CLUB_ORGANISATION_NUMBER = "991002006"
DEMO_CLUB_BANK_ACCOUNT = "15061234567"

# Person statuses (drawn from the generator's second random stream).
DECEASED_FROM_AGE = 60
DECEASED_SHARE_OF_OLD = 0.025  # of persons aged 60+: about 0.3 % of the register (P-06)
RESERVED_SHARE = 0.03  # reserved against the data wash (P-07)
HIDE_ADDRESS_SHARE = 0.02  # P-08
HIDE_EMAIL_SHARE = 0.01
HIDE_PHONE_SHARE = 0.03
PREVIOUS_SPORTS_ID_SHARE = 0.005  # P-05
LICENSED_AGES = (13, 35)
LICENSED_SHARE = 0.3  # of players of these ages with an active player function (P-15)

PERSONS_PER_CLUB = 400
MIN_CLUBS = 3
DUPLICATE_SPACING = (35, 100)  # one duplicate record every 35..100 persons: about 1.5 %

# Function type codes (members migration 0002).
MEMBER = "member"
PLAYER = "player"
COACH = "coach"
HEAD_COACH = "head-coach"
ASSISTANT_COACH = "assistant-coach"
TEAM_LEADER = "team-leader"
BOARD_MEMBER = "board-member"
CHAIR = "chair"
GENERAL_MANAGER = "general-manager"
TREASURER = "treasurer"
MEMBERSHIP_REGISTRAR = "membership-registrar"
REFEREE = "referee"
FEDERATION_STAFF = "federation-staff"
VOLUNTEER = "volunteer"
LICENSED_PLAYER = "licensed-player"  # members migration 0006 (P-15: licensed, one at a time)
FUNCTION_TYPE_CODES = (
    MEMBER,
    PLAYER,
    COACH,
    HEAD_COACH,
    ASSISTANT_COACH,
    TEAM_LEADER,
    BOARD_MEMBER,
    CHAIR,
    GENERAL_MANAGER,
    TREASURER,
    MEMBERSHIP_REGISTRAR,
    REFEREE,
    FEDERATION_STAFF,
    VOLUNTEER,
    LICENSED_PLAYER,
)

MALE = "male"
FEMALE = "female"

# ---------------------------------------------------------------------------------- numbers

ORGANISATION_NUMBER_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
BANK_ACCOUNT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
BANK_REGISTER_NUMBERS = ("1503", "1506", "1607", "1822", "2801", "3000", "3201", "4200", "9710")


def mod11_check_digit(digits: str, weights: Sequence[int]) -> int | None:
    """S-04: weights over the digits, r = sum mod 11, check 0 when r = 0, none when r = 1,
    else 11 - r."""
    remainder = sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    if remainder == 1:
        return None
    return (11 - remainder) % 11


def random_organisation_number(rng: random.Random, used: set[str]) -> str:
    """A valid, unused 9-digit organisation number (S-04); registered ones start with 8 or 9."""
    while True:
        base = f"{rng.choice('89')}{rng.randrange(10**7):07d}"
        check = mod11_check_digit(base, ORGANISATION_NUMBER_WEIGHTS)
        number = f"{base}{check}"
        if check is not None and number not in used:
            used.add(number)
            return number


def random_bank_account(rng: random.Random) -> str:
    """A valid 11-digit Norwegian account number (S-04): bank, account group, number, check."""
    while True:
        base = f"{rng.choice(BANK_REGISTER_NUMBERS)}{rng.randrange(10**6):06d}"
        check = mod11_check_digit(base, BANK_ACCOUNT_WEIGHTS)
        if check is not None:
            return f"{base}{check}"


def national_person_id(index: int) -> str:
    """A unique 8-digit id per record: 7919 is coprime with 90,000,000, so this is a bijection
    for the first 90 million indexes, and consecutive records do not get consecutive ids."""
    return str(10_000_000 + (index * 7919 + 4_242_424) % 90_000_000)


def random_phone(rng: random.Random) -> str:
    """A Norwegian mobile number in E.164 without spaces: +47 9xx xx xxx or +47 4xx xx xxx."""
    return f"+47{rng.choice('99994')}{rng.randrange(10**7):07d}"


# ------------------------------------------------------------------------------------ names


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list written as a block of text (short to read, stable to format)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


# First names by the decades people were named in: children are not called Åse and Arne.
MALE_FIRST_NAMES = {
    "young": _names(
        """
        Jakob, Filip, Emil, Noah, Oskar, Lucas, Isak, Olav, Aksel, Theodor, William, Henrik,
        Johannes, Magnus, Elias, Sander, Tobias, Mathias, Ludvig, Kasper, Ulrik, Even, Sigurd,
        Håkon, Jørgen, Ivar, Mikkel, Leon, Adrian, Matheo, Vetle, Storm, Bjørn, Edvard,
        Aleksander, Ola
        """
    ),
    "middle": _names(
        """
        Martin, Andreas, Kristian, Thomas, Lars, Jonas, Espen, Stian, Erlend, Eirik, Øystein,
        Jørgen, Håkon, Ståle, Pål, Rune, Morten, Christian, Anders, Marius, Fredrik, Joakim,
        Kjetil, Vegard, Sindre, Ola, Bjørn, Tor, Trond, Geir, Ørjan, Sigve, Asbjørn, Petter,
        Henrik, Daniel
        """
    ),
    "old": _names(
        """
        Jan, Per, Bjørn, Knut, Arne, Svein, Geir, Terje, Trond, Odd, Kåre, Tor, Rolf, Leif,
        Åsmund, Øivind, Harald, Egil, Helge, Olav, Ola, Nils, Gunnar, Steinar, Reidar, Tore,
        Ragnar, Sverre, Jostein, Ivar
        """
    ),
}
FEMALE_FIRST_NAMES = {
    "young": _names(
        """
        Nora, Emma, Ella, Olivia, Sofie, Maja, Sara, Leah, Frida, Ingrid, Tiril, Hedda, Thea,
        Ida, Astrid, Ingeborg, Selma, Sigrid, Vilde, Aurora, Oda, Mathilde, Amalie, Live, Eline,
        Saga, Sølvi, Åsa, Tuva, Hanna, Mia, Jenny, Linnea, Agnes, Signe, Ylva
        """
    ),
    "middle": _names(
        """
        Kari, Marte, Silje, Hanne, Kristin, Ingrid, Camilla, Ida, Ane, Hege, Line, Kjersti,
        Trine, Marit, Siri, Tone, Mette, Lene, Guro, Linn, Ragnhild, Synnøve, Åshild, Stine,
        Karoline, Maria, Nina, Eli, Sølvi, Tonje, Heidi, Ingvild, Solveig, Elin, Birgitte, Åse
        """
    ),
    "old": _names(
        """
        Anne, Inger, Kari, Liv, Berit, Randi, Bodil, Gro, Torill, Åse, Marit, Solveig, Gunn,
        Grete, Bjørg, Sølvi, Ragnhild, Eva, Turid, Wenche, Unni, Astrid, Elisabeth, Jorunn,
        Reidun, Åslaug, Gerd, Ellen, Tove
        """
    ),
}
MALE_MIDDLE_NAMES = ("Johan", "Andreas", "Kristian", "Magnus", "Olav", "André", "Emil", "Martin")
FEMALE_MIDDLE_NAMES = ("Marie", "Elisabeth", "Sofie", "Kristine", "Louise", "Helene", "Margrethe")
# Common Norwegian last names, most frequent first, with some from immigrant families.
LAST_NAMES = _names(
    """
    Hansen, Johansen, Olsen, Larsen, Andersen, Pedersen, Nilsen, Kristiansen, Jensen, Karlsen,
    Johnsen, Pettersen, Eriksen, Berg, Haugen, Hagen, Johannessen, Andreassen, Jacobsen, Dahl,
    Jørgensen, Halvorsen, Henriksen, Lund, Sørensen, Jakobsen, Moen, Gundersen, Iversen, Strand,
    Solberg, Svendsen, Eide, Knutsen, Martinsen, Paulsen, Bakken, Kristoffersen, Mathisen, Lie,
    Amundsen, Rasmussen, Lunde, Solheim, Berge, Moe, Nygård, Bakke, Kristensen, Fredriksen,
    Holm, Lien, Hauge, Christensen, Andresen, Nielsen, Knudsen, Evensen, Sæther, Aas, Myhre,
    Hanssen, Haugland, Thomassen, Sivertsen, Simonsen, Danielsen, Berntsen, Sandvik, Rønning,
    Arnesen, Antonsen, Næss, Vik, Haug, Ellingsen, Thorsen, Edvardsen, Birkeland, Isaksen,
    Gulbrandsen, Ødegård, Tangen, Bjørnstad, Håkonsen, Åsheim, Øien, Løken, Sætre, Bråten,
    Dæhli, Fjæreide, Grønli, Kvåle, Mørk, Røed, Sjøberg, Tjøstheim, Ås, Aasen, Nguyen, Ali,
    Ahmed, Khan, Hussain, Nowak, Kowalski, Mohamed, Tran, Andersson, Lindqvist
    """
)
# Roughly Zipf-like: the first names of the list are the most common ones.
LAST_NAME_WEIGHTS = tuple(1.0 / (rank + 8) for rank in range(len(LAST_NAMES)))
STREET_NAMES = _names(
    """
    Storgata, Kirkeveien, Skolegata, Parkveien, Solbakken, Bjørkeveien, Granveien, Furuveien,
    Lia, Kongens gate, Dronningens gate, Nedre Slottsgate, Bakkegata, Fjellveien, Sjøgata,
    Strandveien, Elvegata, Møllerveien, Tårnveien, Åsveien, Løkkeveien, Hagebyveien,
    Rosenlundgata, Ringveien, Gamle Drammensvei, Blåbærstien, Tyttebærveien, Måkeveien,
    Ørneveien, Gjøkveien, Skogveien, Sørlibakken, Nordre gate, Vestre gate, Østre vei,
    Idrettsveien, Stasjonsveien, Prestegårdsveien, Kløverveien, Lyngveien, Rådhusgata, Torggata,
    Thereses gate, Vogts gate, Sandakerveien, Bentsebrugata, Kristian Augusts gate,
    Haukelandsveien
    """
)

EMAIL_DOMAINS = ("gmail.com", "online.no", "hotmail.com", "outlook.com", "icloud.com", "live.no")
EMAIL_DOMAIN_WEIGHTS = (45, 15, 15, 10, 10, 5)
ASCII_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "aa", "é": "e", "ü": "u", "ö": "o", "ä": "a"}
)
# Typos of a person registered twice: what a club secretary without æøå on the keyboard types.
ASCII_TYPOS = (("æ", "ae"), ("ø", "o"), ("å", "aa"), ("Æ", "Ae"), ("Ø", "O"), ("Å", "Aa"))


def ascii_word(text: str) -> str:
    """Lower case, æøå spelled out, no spaces or hyphens: for e-mail addresses and domains."""
    return text.lower().translate(ASCII_LETTERS).replace(" ", "").replace("-", "")


def email_local_part(first_name: str, last_name: str) -> str:
    return f"{ascii_word(first_name)}.{ascii_word(last_name)}"


# ----------------------------------------------------------------------------------- places


@dataclass(frozen=True)
class City:
    name: str
    postcodes: tuple[str, ...]
    neighbourhoods: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class RegionSpec:
    name: str
    cities: tuple[City, ...]
    weight: float


def _postcodes(*ranges: tuple[int, int]) -> tuple[str, ...]:
    """Real postcodes of a place, given as inclusive ranges."""
    return tuple(f"{code:04d}" for low, high in ranges for code in range(low, high + 1))


OSLO_POSTCODES = _postcodes(
    (150, 162), (250, 268), (350, 383), (450, 496), (550, 595), (650, 694), (950, 990)
)
OSLO = City(
    "Oslo",
    OSLO_POSTCODES,
    _names(
        """
        Sagene, Torshov, Grorud, Bøler, Holmlia, Kjelsås, Nordstrand, Lambertseter, Manglerud,
        Furuset, Stovner, Romsås, Ullern, Røa, Vinderen, Tåsen, Frogner, Majorstuen, Tøyen,
        Vålerenga, Hasle, Bjerke, Veitvet, Haugerud, Skullerud, Mortensrud, Lindeberg, Årvoll,
        Ekeberg, Grefsen
        """
    ),
    10,
)
BERGEN = City(
    "Bergen",
    _postcodes((5003, 5018), (5031, 5039), (5052, 5059), (5093, 5099)),
    _names(
        """
        Fana, Åsane, Laksevåg, Fyllingsdalen, Loddefjord, Landås, Sandviken, Tertnes, Nymark,
        Minde, Paradis, Nesttun, Ytrebygda, Arna, Olsvik, Løv-Ham, Sædalen, Hordvik
        """
    ),
    6,
)
TRONDHEIM = City(
    "Trondheim",
    _postcodes((7010, 7059)),
    _names(
        """
        Byåsen, Strindheim, Ranheim, Kolstad, Heimdal, Tiller, Nardo, Charlottenlund, Lade,
        Flatåsen, Sverresborg, Kattem
        """
    ),
    4,
)
# The regions (idrettskretser) with their main places; weights follow the population.
REGIONS = (
    RegionSpec(
        "Oslo og Akershus krets",
        (
            OSLO,
            City("Asker", _postcodes((1383, 1387)), _names("Asker, Heggedal, Vollen, Holmen"), 2),
            City("Lørenskog", _postcodes((1470, 1476)), _names("Lørenskog, Fjellhamar, Rasta"), 1),
        ),
        25,
    ),
    RegionSpec("Vestland krets", (BERGEN,), 12),
    RegionSpec(
        "Trøndelag krets",
        (
            TRONDHEIM,
            City("Steinkjer", _postcodes((7713, 7718)), _names("Steinkjer, Egge, Sparbu"), 1),
        ),
        9,
    ),
    RegionSpec(
        "Rogaland krets",
        (
            City(
                "Stavanger",
                _postcodes((4006, 4036)),
                _names("Hinna, Madla, Hundvåg, Tasta, Eiganes, Våland, Storhaug, Hillevåg"),
                3,
            ),
            City(
                "Sandnes", _postcodes((4306, 4319)), _names("Sandnes, Ganddal, Lura, Austrått"), 2
            ),
            City("Haugesund", _postcodes((5501, 5509)), _names("Haugesund, Djerv, Vard, Skåre"), 1),
        ),
        9,
    ),
    RegionSpec(
        "Innlandet krets",
        (
            City("Hamar", _postcodes((2315, 2322)), _names("Hamar, Ajer, Storhamar, Vang"), 2),
            City("Lillehammer", _postcodes((2609, 2619)), _names("Lillehammer, Søre Ål, Nybu"), 1),
            City("Gjøvik", _postcodes((2815, 2819)), _names("Gjøvik, Hunndalen, Kallerud"), 1),
        ),
        7,
    ),
    RegionSpec(
        "Buskerud krets",
        (
            City(
                "Drammen", _postcodes((3015, 3048)), _names("Drammen, Åssiden, Konnerud, Fjell"), 3
            ),
            City("Kongsberg", _postcodes((3611, 3619)), _names("Kongsberg, Skavanger, Gomsrud"), 1),
        ),
        5,
    ),
    RegionSpec(
        "Østfold krets",
        (
            City(
                "Fredrikstad", _postcodes((1606, 1618)), _names("Fredrikstad, Lisleby, Gressvik"), 2
            ),
            City("Sarpsborg", _postcodes((1706, 1715)), _names("Sarpsborg, Tune, Borgen"), 1),
            City("Moss", _postcodes((1511, 1535)), _names("Moss, Jeløy, Kambo"), 1),
            City("Halden", _postcodes((1767, 1772)), _names("Halden, Tistedalen, Os"), 1),
        ),
        6,
    ),
    RegionSpec(
        "Agder krets",
        (
            City(
                "Kristiansand",
                _postcodes((4610, 4626)),
                _names("Vågsbygd, Lund, Randesund, Grim, Hånes, Søm"),
                2,
            ),
            City("Arendal", _postcodes((4836, 4844)), _names("Arendal, Stuenes, Hisøy"), 1),
        ),
        6,
    ),
    RegionSpec(
        "Vestfold og Telemark krets",
        (
            City(
                "Tønsberg", _postcodes((3110, 3127)), _names("Tønsberg, Eik, Husøy, Ringshaug"), 2
            ),
            City("Larvik", _postcodes((3256, 3271)), _names("Larvik, Stavern, Tjølling"), 1),
            City("Skien", _postcodes((3710, 3736)), _names("Skien, Gulset, Pors, Klyve"), 2),
            City("Porsgrunn", _postcodes((3911, 3921)), _names("Porsgrunn, Heistad, Brevik"), 1),
        ),
        8,
    ),
    RegionSpec(
        "Møre og Romsdal krets",
        (
            City("Ålesund", _postcodes((6002, 6018)), _names("Ålesund, Spjelkavik, Hessa"), 2),
            City("Molde", _postcodes((6402, 6416)), _names("Molde, Kleive, Bolsøy"), 1),
        ),
        5,
    ),
    RegionSpec(
        "Nordland krets",
        (
            City("Bodø", _postcodes((8003, 8016)), _names("Bodø, Mørkved, Hunstad, Rønvik"), 2),
            City("Narvik", _postcodes((8505, 8517)), _names("Narvik, Ankenes, Fagernes"), 1),
        ),
        4,
    ),
    RegionSpec(
        "Troms og Finnmark krets",
        (
            City(
                "Tromsø",
                _postcodes((9006, 9022)),
                _names("Tromsdalen, Kvaløysletta, Fløya, Skjelnan, Hamna, Tromsø"),
                2,
            ),
            City("Harstad", _postcodes((9405, 9409)), _names("Harstad, Kanebogen, Medkila"), 1),
            City("Alta", _postcodes((9510, 9519)), _names("Alta, Bossekop, Elvebakken"), 1),
        ),
        4,
    ),
)
CLUB_SUFFIXES = ("IL", "IF", "SK", "BK", "FK", "IK", "TIF", "Idrettslag")
CLUB_PREFIXES = ("Nordre", "Søndre", "Østre", "Vestre", "Øvre", "Nedre")

# The fixed first clubs: the demo club (the one of the logins) first.
FIXED_CLUBS = (
    (DEMO_CLUB_NAME, "Oslo og Akershus krets", "Oslo"),
    ("Fana IL", "Vestland krets", "Bergen"),
    ("Byåsen IL", "Trøndelag krets", "Trondheim"),
)

# Youth teams are per birth year, from 6 to 16 years old at the reference date.
YOUTH_BIRTH_YEARS = tuple(range(REFERENCE_DATE.year - 1 - 16, REFERENCE_DATE.year - 1 - 6 + 1))
FOOTBALL = "Fotball"
HANDBALL = "Håndball"
SKI = "Ski"
SPORT_WEIGHTS = {FOOTBALL: 0.65, HANDBALL: 0.35, SKI: 0.15}
SKI_TEAM_NAMES = ("Langrenn", "Alpint")
SENIOR_TEAM_NAMES = {MALE: "Senior herrer", FEMALE: "Senior damer"}
TEAM_OPEN_ROLES = (HEAD_COACH, TEAM_LEADER, COACH, ASSISTANT_COACH)


def youth_team_name(gender: str, birth_year: int) -> str:
    return f"{'G' if gender == MALE else 'J'}{birth_year}"


# ------------------------------------------------------------------------ organisation plan


@dataclass(eq=False)
class PlannedOrganisation:
    """A node of the organisation tree; `id` is set once the node is in the database."""

    name: str
    organisation_type: str
    fields: dict[str, object] = field(default_factory=dict)
    children: list[PlannedOrganisation] = field(default_factory=list)
    id: int | None = None

    def bulk_data(self) -> dict[str, object]:
        """The node as treebeard's `load_bulk` wants it."""
        return {
            "data": {"name": self.name, "organisation_type": self.organisation_type, **self.fields},
            "children": [child.bulk_data() for child in self.children],
        }

    def walk(self) -> Iterator[PlannedOrganisation]:
        """Pre-order, the order in which `load_bulk` creates the nodes."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False)
class Team:
    organisation: PlannedOrganisation
    # Roles still to hand out to the parents of the team's players.
    open_roles: list[str] = field(default_factory=lambda: list(TEAM_OPEN_ROLES))


@dataclass(eq=False)
class SportGroup:
    organisation: PlannedOrganisation
    sport: str
    youth_teams: dict[tuple[str, int], Team] = field(default_factory=dict)
    senior_teams: dict[str, Team] = field(default_factory=dict)
    other_teams: list[Team] = field(default_factory=list)

    def team_for(self, gender: str, birth_year: int, rng: random.Random) -> Team | None:
        """The team of a player, or None when the player trains with the group itself."""
        if self.other_teams:
            return rng.choice(self.other_teams)
        team = self.youth_teams.get((gender, birth_year))
        if team is None and birth_year < YOUTH_BIRTH_YEARS[0]:
            team = self.senior_teams.get(gender)
        return team


@dataclass(eq=False)
class Club:
    organisation: PlannedOrganisation
    region: PlannedOrganisation
    city: City
    weight: float
    groups: list[SportGroup] = field(default_factory=list)
    # Board roles still to hand out to the club's adults.
    open_board_roles: list[str] = field(default_factory=list)

    def group(self, sport: str) -> SportGroup | None:
        return next((group for group in self.groups if group.sport == sport), None)


@dataclass(eq=False)
class OrganisationPlan:
    federation: PlannedOrganisation
    regions: dict[str, PlannedOrganisation]
    clubs: list[Club]

    @property
    def demo_club(self) -> Club:
        return self.clubs[0]

    def count(self, organisation_type: str) -> int:
        return sum(
            1 for node in self.federation.walk() if node.organisation_type == organisation_type
        )


def number_of_clubs(persons: int) -> int:
    return max(MIN_CLUBS, round(persons / PERSONS_PER_CLUB))


def plan_organisations(rng: random.Random, persons: int) -> OrganisationPlan:
    """Federation > regions > clubs > sport groups > teams, siblings sorted by name (the
    model's `node_order_by`)."""
    used_numbers = {FEDERATION_ORGANISATION_NUMBER, DEMO_CLUB_ORGANISATION_NUMBER}
    federation = PlannedOrganisation(
        FEDERATION_NAME,
        "federation",
        _address_fields(OSLO, "Sognsveien 73", "0854")
        | {
            "organisation_number": FEDERATION_ORGANISATION_NUMBER,
            "email": "post@demoidrett.no",
            "phone": "+4721029000",
            "bank_account": FEDERATION_BANK_ACCOUNT,
        },
    )
    regions = {spec.name: _plan_region(rng, spec, used_numbers) for spec in REGIONS}
    federation.children = list(regions.values())
    clubs = _plan_clubs(rng, persons, regions, used_numbers)
    for node in list(federation.walk()):
        node.children.sort(key=lambda child: child.name)
    return OrganisationPlan(federation, regions, clubs)


def _address_fields(city: City, street: str, postcode: str) -> dict[str, object]:
    return {"street": street, "postcode": postcode, "city": city.name}


def _plan_region(
    rng: random.Random, spec: RegionSpec, used_numbers: set[str]
) -> PlannedOrganisation:
    city = spec.cities[0]
    return PlannedOrganisation(
        spec.name,
        "region",
        _address_fields(city, f"{rng.choice(STREET_NAMES)} {rng.randint(1, 60)}", city.postcodes[0])
        | {
            "organisation_number": random_organisation_number(rng, used_numbers),
            "email": f"{_slug(spec.name.removesuffix(' krets'))}@demoidrett.no",
            "phone": random_phone(rng),
            "bank_account": random_bank_account(rng),
        },
    )


def _plan_clubs(
    rng: random.Random,
    persons: int,
    regions: dict[str, PlannedOrganisation],
    used_numbers: set[str],
) -> list[Club]:
    count = number_of_clubs(persons)
    weights = [rng.lognormvariate(0, 0.7) for _ in range(count)]
    # The demo club is a big club: it has a team for every cohort and room for the logins.
    weights[0] = max(weights) * 1.5
    total_weight = sum(weights)
    used_names: set[str] = set()
    clubs = []
    for index, weight in enumerate(weights):
        is_demo = index == 0
        name, region_name, city = _club_identity(rng, index, used_names)
        organisation = PlannedOrganisation(name, "club", _club_fields(rng, name, city, is_demo))
        if not is_demo:
            organisation.fields["organisation_number"] = random_organisation_number(
                rng, used_numbers
            )
        club = Club(organisation, regions[region_name], city, weight)
        expected_persons = persons * weight / total_weight
        _plan_groups(rng, club, expected_persons, is_demo=is_demo)
        club.open_board_roles = _board_roles(expected_persons, is_demo=is_demo)
        club.region.children.append(organisation)
        clubs.append(club)
    return clubs


def _club_identity(rng: random.Random, index: int, used_names: set[str]) -> tuple[str, str, City]:
    """Name, region name and city of a club: the fixed clubs first, then generated ones."""
    if index < len(FIXED_CLUBS):
        name, region_name, city_name = FIXED_CLUBS[index]
        spec = next(spec for spec in REGIONS if spec.name == region_name)
        city = next(city for city in spec.cities if city.name == city_name)
        used_names.add(name)
        return name, region_name, city
    spec = rng.choices(REGIONS, weights=[spec.weight for spec in REGIONS])[0]
    city = rng.choices(spec.cities, weights=[city.weight for city in spec.cities])[0]
    return _unique_club_name(rng, city, used_names), spec.name, city


def _unique_club_name(rng: random.Random, city: City, used_names: set[str]) -> str:
    """A name like "Grorud IL"; when those run out "Nordre Grorud IL", then a running number."""
    for attempt in range(20):
        place = rng.choice(city.neighbourhoods)
        if attempt >= 10:
            place = f"{rng.choice(CLUB_PREFIXES)} {place}"
        name = f"{place} {rng.choice(CLUB_SUFFIXES)}"
        if name not in used_names:
            used_names.add(name)
            return name
    base = f"{rng.choice(city.neighbourhoods)} {rng.choice(CLUB_SUFFIXES)}"
    number = 2
    while f"{base} {number}" in used_names:
        number += 1
    used_names.add(f"{base} {number}")
    return f"{base} {number}"


def _club_fields(rng: random.Random, name: str, city: City, is_demo: bool) -> dict[str, object]:
    street = f"{rng.choice(STREET_NAMES)} {rng.randint(1, 120)}"
    return _address_fields(city, street, rng.choice(city.postcodes)) | {
        "organisation_number": DEMO_CLUB_ORGANISATION_NUMBER if is_demo else "",
        "email": f"post@{ascii_word(name)}.no",
        "phone": random_phone(rng),
        "bank_account": DEMO_CLUB_BANK_ACCOUNT if is_demo else random_bank_account(rng),
        # S-01: MOD10 is preferred; a few clubs have a MOD11 agreement.
        "kid_algorithm": "MOD10" if is_demo or rng.random() < 0.8 else "MOD11",
        "kid_length": 10 if is_demo else rng.choice((7, 8, 10, 10, 12, 15)),
    }


def _slug(text: str) -> str:
    return text.lower().translate(ASCII_LETTERS).replace(" ", "-")


def _plan_groups(rng: random.Random, club: Club, expected_persons: float, *, is_demo: bool) -> None:
    football_years = len(YOUTH_BIRTH_YEARS) if is_demo else _window(expected_persons / 60, 2, 11)
    sports = [(FOOTBALL, football_years)]
    if is_demo or rng.random() < 0.6:
        sports.append((HANDBALL, 9 if is_demo else _window(expected_persons / 100, 2, 9)))
    if is_demo or rng.random() < 0.3:
        sports.append((SKI, 0))
    for sport, years in sports:
        group = PlannedOrganisation(f"{club.organisation.name} {sport}", "group", {"sport": sport})
        club.organisation.children.append(group)
        club.groups.append(_plan_teams(rng, club.organisation.name, group, sport, years))


def _window(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _plan_teams(
    rng: random.Random, club_name: str, group: PlannedOrganisation, sport: str, years: int
) -> SportGroup:
    sport_group = SportGroup(group, sport)

    def add_team(name: str) -> Team:
        team = PlannedOrganisation(f"{club_name} {sport} {name}", "team", {"sport": sport})
        group.children.append(team)
        return Team(team)

    if sport == SKI:
        names = SKI_TEAM_NAMES[: rng.randint(1, len(SKI_TEAM_NAMES))]
        sport_group.other_teams = [add_team(name) for name in names]
        return sport_group
    start = rng.randint(0, len(YOUTH_BIRTH_YEARS) - years)
    for birth_year in YOUTH_BIRTH_YEARS[start : start + years]:
        for gender in (MALE, FEMALE):
            team = add_team(youth_team_name(gender, birth_year))
            sport_group.youth_teams[gender, birth_year] = team
    for gender, name in SENIOR_TEAM_NAMES.items():
        sport_group.senior_teams[gender] = add_team(name)
    return sport_group


def _board_roles(expected_persons: float, *, is_demo: bool) -> list[str]:
    roles = [CHAIR, TREASURER, BOARD_MEMBER, BOARD_MEMBER, BOARD_MEMBER, MEMBERSHIP_REGISTRAR]
    # The demo club's general manager is the `dagligleder` login; big clubs employ one.
    if not is_demo and expected_persons >= 300:
        roles.append(GENERAL_MANAGER)
    return roles


# ---------------------------------------------------------------------------------- persons


class PlannedFunction(NamedTuple):
    organisation: PlannedOrganisation
    function_type: str
    from_date: datetime.date
    to_date: datetime.date | None = None


@dataclass(slots=True)
class PlannedPerson:
    index: int
    first_name: str
    middle_name: str
    last_name: str
    gender: str
    birth_date: datetime.date
    email: str = ""
    phone: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    functions: list[PlannedFunction] = field(default_factory=list)
    login: str = ""
    duplicate_of: int | None = None
    # P-06: a deceased person's open functions end on the date of death.
    is_deceased: bool = False
    date_of_death: datetime.date | None = None
    # P-07: reserved against the data wash.
    reserved_against_data_wash: bool = False
    # P-08: parts of the standard contact set hidden from the public.
    hide_address: bool = False
    hide_email: bool = False
    hide_phone: bool = False
    # P-05: the person had another sports id before (e.g. registered with unknown gender).
    has_previous_sports_id: bool = False

    @property
    def national_person_id(self) -> str:
        return national_person_id(self.index)

    @property
    def age(self) -> int:
        return age_on_reference_date(self.birth_date)


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str


def age_on_reference_date(birth_date: datetime.date) -> int:
    years = REFERENCE_DATE.year - birth_date.year
    return years - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth_date.month, birth_date.day))


def birth_date_for_age(rng: random.Random, age: int) -> datetime.date:
    """A day in the year that makes the person `age` years old on the reference date."""
    year = REFERENCE_DATE.year - 1 - age
    first = datetime.date(year, 1, 1).toordinal()
    return datetime.date.fromordinal(first + rng.randrange(365))


def date_between(rng: random.Random, low: datetime.date, high: datetime.date) -> datetime.date:
    if high <= low:
        return low
    return datetime.date.fromordinal(rng.randint(low.toordinal(), high.toordinal()))


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class LoginSpec:
    username: str
    first_name: str
    last_name: str
    gender: str
    birth_date: datetime.date
    role: str
    is_staff: bool = False


# The persons behind the demo logins, with fixed names so that the demo is easy to explain.
LOGINS = (
    LoginSpec(
        "forbund",
        "Åse",
        "Bjørnstad",
        FEMALE,
        datetime.date(1971, 4, 12),
        "federation staff",
        is_staff=True,
    ),
    LoginSpec(
        "dagligleder", "Håkon", "Sæther", MALE, datetime.date(1979, 9, 23), "general manager"
    ),
    LoginSpec("lagleder", "Ingrid", "Ødegård", FEMALE, datetime.date(1984, 2, 7), "team leader"),
    LoginSpec("dommer", "Jørgen", "Håkonsen", MALE, datetime.date(1990, 5, 18), "referee"),
    LoginSpec("forelder", "Sølvi", "Åsheim", FEMALE, datetime.date(1982, 8, 9), "parent"),
)
PARENT_SPOUSE = ("Øystein", MALE, datetime.date(1980, 1, 26))
PARENT_CHILDREN = (
    ("Tiril", FEMALE, datetime.date(2015, 3, 14)),
    ("Filip", MALE, datetime.date(2017, 6, 30)),
    ("Jakob", MALE, datetime.date(2019, 11, 2)),
)
LOGIN_FROM_DATE = datetime.date(2020, 1, 1)


class RegisterGenerator:
    """Yields `count` persons, household by household, each with their functions.

    Households: families (two parents and 1-4 children sharing last name and address), couples
    and singles. About 1.5 % of the records are a second registration of someone in another
    club, with a typo (P-14: they are there for duplicate detection).
    """

    def __init__(self, rng: random.Random, plan: OrganisationPlan, count: int) -> None:
        self.rng = rng
        self.plan = plan
        self.count = count
        self.emitted = 0
        self.duplicates = 0
        self.next_duplicate_at = rng.randint(*DUPLICATE_SPACING)
        self.club_weights = list(_cumulative(club.weight for club in plan.clubs))
        self.last_name_weights = list(_cumulative(LAST_NAME_WEIGHTS))
        self.federation_staff = 0
        # A second stream for the person statuses (deceased, reserved, hidden contact data,
        # licences): tuning them does not change the households drawn from `rng`.
        self.status_rng = random.Random(rng.getrandbits(64))  # noqa: S311 (demo data)
        # The sport group of each team and group: licensed players are registered there.
        self.sport_group_of = {
            id(organisation): group.organisation
            for club in plan.clubs
            for group in club.groups
            for organisation in (
                group.organisation,
                *(team.organisation for team in group.youth_teams.values()),
                *(team.organisation for team in group.senior_teams.values()),
            )
        }
        self.teams_by_organisation = {
            id(team.organisation): team
            for club in plan.clubs
            for group in club.groups
            for team in (
                *group.youth_teams.values(),
                *group.senior_teams.values(),
                *group.other_teams,
            )
        }

    def persons(self) -> Iterator[PlannedPerson]:
        yield from self._emit(self._login_persons(), allow_duplicates=False)
        while self.emitted < self.count:
            yield from self._emit(self._household(), allow_duplicates=True)

    def _emit(
        self, persons: list[PlannedPerson], *, allow_duplicates: bool
    ) -> Iterator[PlannedPerson]:
        for person in persons:
            if self.emitted >= self.count:
                return
            person.index = self.emitted
            self.emitted += 1
            if allow_duplicates:
                self._assign_status(person)
            yield person
            if allow_duplicates and self.next_duplicate_at <= self.emitted < self.count:
                self.next_duplicate_at = self.emitted + self.rng.randint(*DUPLICATE_SPACING)
                duplicate = self._duplicate_of(person)
                duplicate.index = self.emitted
                self.emitted += 1
                self.duplicates += 1
                self._assign_status(duplicate)
                yield duplicate

    # -------------------------------------------------------------------------- statuses

    def _assign_status(self, person: PlannedPerson) -> None:
        """Deceased (P-06), reserved against the data wash (P-07), hidden contact data
        (P-08), a previous sports id (P-05) and licensed players (P-15), drawn from
        `status_rng`. Logins and their families never get any of these."""
        rng = self.status_rng
        age = person.age
        if age >= DECEASED_FROM_AGE and rng.random() < DECEASED_SHARE_OF_OLD:
            _make_deceased(rng, person)
        person.reserved_against_data_wash = rng.random() < RESERVED_SHARE
        person.hide_address = rng.random() < HIDE_ADDRESS_SHARE
        person.hide_email = bool(person.email) and rng.random() < HIDE_EMAIL_SHARE
        person.hide_phone = bool(person.phone) and rng.random() < HIDE_PHONE_SHARE
        person.has_previous_sports_id = rng.random() < PREVIOUS_SPORTS_ID_SHARE
        if (
            not person.is_deceased
            and LICENSED_AGES[0] <= age <= LICENSED_AGES[1]
            and rng.random() < LICENSED_SHARE
        ):
            self._add_licence_function(person)

    def _add_licence_function(self, person: PlannedPerson) -> None:
        """P-15: at most one licensed function of a type per person, in the sport group of
        the player's first active player function."""
        for function in person.functions:
            group = self.sport_group_of.get(id(function.organisation))
            if function.function_type == PLAYER and function.to_date is None and group:
                person.functions.append(PlannedFunction(group, LICENSED_PLAYER, function.from_date))
                return

    # ------------------------------------------------------------------------ households

    def _household(self) -> list[PlannedPerson]:
        club = self._random_club()
        address = self._address(club.city)
        kind = self.rng.random()
        if kind < 0.45:
            return self._family(club, address)
        if kind < 0.60:
            age = self.rng.randint(50, 85)
            partner_age = min(85, max(45, age + self.rng.randint(-4, 4)))
            last_name = self._last_name()
            return [
                self._adult(club, address, MALE, age, last_name),
                self._adult(club, address, FEMALE, partner_age, last_name),
            ]
        gender = self.rng.choice((MALE, FEMALE))
        return [self._adult(club, address, gender, self._single_age(), self._last_name())]

    def _single_age(self) -> int:
        """Young adults are most of the singles in a sports register."""
        roll = self.rng.random()
        if roll < 0.6:
            return self.rng.randint(18, 35)
        if roll < 0.9:
            return self.rng.randint(36, 70)
        return self.rng.randint(71, 85)

    def _family(self, club: Club, address: Address) -> list[PlannedPerson]:
        rng = self.rng
        father_age = int(rng.triangular(30, 56, 41))
        mother_age = min(55, max(27, father_age + rng.randint(-5, 3)))
        family_name = self._last_name()
        # Many mothers keep their own name; the children then often carry it as a middle name.
        mother_name = family_name if rng.random() < 0.6 else self._last_name()
        children = self._children(club, address, family_name, mother_name, mother_age)
        parents = [
            self._adult(club, address, MALE, father_age, family_name, children),
            self._adult(club, address, FEMALE, mother_age, mother_name, children),
        ]
        self._share_parent_contact(parents, children)
        return parents + children

    def _children(
        self, club: Club, address: Address, last_name: str, mother_name: str, mother_age: int
    ) -> list[PlannedPerson]:
        rng = self.rng
        wanted = rng.choices((1, 2, 3, 4), weights=(25, 40, 25, 10))[0]
        age = rng.randint(5, max(5, min(19, mother_age - 21)))
        children = []
        for _ in range(wanted):
            if age < 5:
                break
            gender = rng.choice((MALE, FEMALE))
            middle_name = mother_name if mother_name != last_name and rng.random() < 0.5 else ""
            child = self._person(gender, age, last_name, address, middle_name=middle_name)
            child.functions = self._child_functions(club, child)
            self._give_own_contact(child)
            children.append(child)
            age -= rng.randint(1, 4)
        return children

    def _share_parent_contact(
        self, parents: list[PlannedPerson], children: list[PlannedPerson]
    ) -> None:
        """M-14's trap: a child registered with a parent's e-mail or phone."""
        for child in children:
            parent = self.rng.choice(parents)
            if not child.email and parent.email and self.rng.random() < 0.08:
                child.email = parent.email
            if not child.phone and parent.phone and self.rng.random() < 0.05:
                child.phone = parent.phone

    def _adult(
        self,
        club: Club,
        address: Address,
        gender: str,
        age: int,
        last_name: str,
        children: Sequence[PlannedPerson] = (),
    ) -> PlannedPerson:
        person = self._person(gender, age, last_name, address)
        if self.rng.random() < 0.9:
            person.email = self._email(person)
        if self.rng.random() < 0.95:
            person.phone = random_phone(self.rng)
        person.functions = self._adult_functions(club, person, children)
        return person

    def _person(
        self, gender: str, age: int, last_name: str, address: Address, middle_name: str = ""
    ) -> PlannedPerson:
        rng = self.rng
        birth_date = birth_date_for_age(rng, age)
        names = MALE_FIRST_NAMES if gender == MALE else FEMALE_FIRST_NAMES
        generation = (
            "young" if birth_date.year >= 2000 else "middle" if birth_date.year >= 1970 else "old"
        )
        if not middle_name and rng.random() < 0.2:
            middle_name = rng.choice(MALE_MIDDLE_NAMES if gender == MALE else FEMALE_MIDDLE_NAMES)
        return PlannedPerson(
            index=-1,
            first_name=rng.choice(names[generation]),
            middle_name=middle_name,
            last_name=last_name,
            gender=gender,
            birth_date=birth_date,
            street=address.street,
            postcode=address.postcode,
            city=address.city,
        )

    def _give_own_contact(self, child: PlannedPerson) -> None:
        age = child.age
        if (age >= 15 and self.rng.random() < 0.6) or (age >= 10 and self.rng.random() < 0.2):
            child.email = self._email(child)
        if age >= 12 and self.rng.random() < 0.7:
            child.phone = random_phone(self.rng)

    # ------------------------------------------------------------------------- functions

    def _join_date(self, person: PlannedPerson) -> datetime.date:
        low = max(_add_years(person.birth_date, 5), EARLIEST_JOIN_DATE)
        return date_between(self.rng, low, LAST_JOIN_DATE)

    def _child_functions(self, club: Club, child: PlannedPerson) -> list[PlannedFunction]:
        rng = self.rng
        joined = self._join_date(child)
        functions = [PlannedFunction(club.organisation, MEMBER, joined)]
        age = child.age
        plays = 0.4 if age < 6 else 0.85 if age <= 16 else 0.6
        if rng.random() < plays:
            sports = self._sports(club, 2 if rng.random() < 0.2 else 1)
            for group in sports:
                functions.append(self._player_function(group, child, joined))
            # A sport the child tried and quit: an ended function.
            if age >= 12 and rng.random() < 0.1:
                functions.append(
                    self._ended_function(child, club.groups[-1].organisation, PLAYER, 7)
                )
        return functions

    def _player_function(
        self, group: SportGroup, person: PlannedPerson, joined: datetime.date
    ) -> PlannedFunction:
        team = group.team_for(person.gender, person.birth_date.year, self.rng)
        organisation = team.organisation if team else group.organisation
        return PlannedFunction(organisation, PLAYER, date_between(self.rng, joined, LAST_JOIN_DATE))

    def _sports(self, club: Club, wanted: int) -> list[SportGroup]:
        weights = [SPORT_WEIGHTS[group.sport] for group in club.groups]
        chosen = self.rng.choices(club.groups, weights=weights, k=wanted)
        return list(dict.fromkeys(chosen))

    def _adult_functions(
        self, club: Club, adult: PlannedPerson, children: Sequence[PlannedPerson]
    ) -> list[PlannedFunction]:
        rng = self.rng
        age = adult.age
        joined = self._join_date(adult)
        functions = [PlannedFunction(club.organisation, MEMBER, joined)]

        def since() -> datetime.date:
            return date_between(rng, joined, LAST_JOIN_DATE)

        if age <= 40 and rng.random() < 0.25:
            group = self._sports(club, 1)[0]
            functions.append(self._player_function(group, adult, joined))
        functions.extend(self._team_roles(children, since))
        if 25 <= age <= 65 and rng.random() < 0.04:
            functions.extend(self._senior_team_role(club, since))
        if age >= 25 and club.open_board_roles and rng.random() < 0.15:
            functions.append(
                PlannedFunction(club.organisation, club.open_board_roles.pop(0), since())
            )
        if 18 <= age <= 60 and rng.random() < 0.015:
            functions.append(PlannedFunction(club.region, REFEREE, since()))
        if rng.random() < 0.03:
            functions.append(PlannedFunction(club.organisation, VOLUNTEER, since()))
        if 25 <= age <= 67 and self.federation_staff < 20 and rng.random() < 0.0005:
            self.federation_staff += 1
            staff_of = self.plan.federation if rng.random() < 0.5 else club.region
            functions.append(PlannedFunction(staff_of, FEDERATION_STAFF, since()))
        if age >= 28 and rng.random() < 0.12:
            senior = club.groups[0].senior_teams.get(adult.gender)
            organisation = senior.organisation if senior else club.groups[0].organisation
            functions.append(self._ended_function(adult, organisation, PLAYER, 18))
        return functions

    def _team_roles(
        self, children: Sequence[PlannedPerson], since: Callable[[], datetime.date]
    ) -> list[PlannedFunction]:
        """Parents coach and lead their children's teams (D-10 builds on this)."""
        functions = []
        for child in children:
            for function in child.functions:
                team = self._open_team(function)
                if team is not None and self.rng.random() < 0.3:
                    functions.append(
                        PlannedFunction(function.organisation, team.open_roles.pop(0), since())
                    )
        return functions

    def _senior_team_role(
        self, club: Club, since: Callable[[], datetime.date]
    ) -> list[PlannedFunction]:
        teams = [
            team for group in club.groups for team in group.senior_teams.values() if team.open_roles
        ]
        if not teams:
            return []
        team = self.rng.choice(teams)
        return [PlannedFunction(team.organisation, team.open_roles.pop(0), since())]

    def _open_team(self, function: PlannedFunction) -> Team | None:
        if function.function_type != PLAYER or function.to_date is not None:
            return None
        team = self.teams_by_organisation.get(id(function.organisation))
        return team if team is not None and team.open_roles else None

    def _ended_function(
        self, person: PlannedPerson, organisation: PlannedOrganisation, code: str, from_age: int
    ) -> PlannedFunction:
        """A function that ended in the past: from `from_age` for one to eight years."""
        start = date_between(
            self.rng,
            _add_years(person.birth_date, from_age),
            _add_years(person.birth_date, from_age + 1),
        )
        end = min(
            date_between(self.rng, _add_years(start, 1), _add_years(start, 8)),
            LAST_JOIN_DATE - datetime.timedelta(days=30),
        )
        return PlannedFunction(organisation, code, min(start, end), end)

    # ------------------------------------------------------------------------ duplicates

    def _duplicate_of(self, person: PlannedPerson) -> PlannedPerson:
        """The same person registered again in another club, with a typo (P-14)."""
        rng = self.rng
        club = self._random_club(other_than=person.functions[0].organisation)
        duplicate = PlannedPerson(
            index=-1,
            first_name=person.first_name,
            middle_name=person.middle_name,
            last_name=person.last_name,
            gender=person.gender,
            birth_date=person.birth_date,
            email=person.email if rng.random() < 0.5 else "",
            phone=person.phone if rng.random() < 0.5 else "",
            street=person.street,
            postcode=person.postcode,
            city=person.city,
            duplicate_of=person.index,
        )
        if rng.random() < 0.4:
            address = self._address(club.city)
            duplicate.street, duplicate.postcode, duplicate.city = (
                address.street,
                address.postcode,
                address.city,
            )
        _add_typo(rng, duplicate)
        joined = self._join_date(duplicate)
        # Often the old registration of someone who changed clubs: the membership has ended.
        ended = date_between(rng, joined, LAST_JOIN_DATE) if rng.random() < 0.5 else None
        duplicate.functions = [PlannedFunction(club.organisation, MEMBER, joined, ended)]
        if duplicate.age <= 19 and ended is None:
            group = self._sports(club, 1)[0]
            duplicate.functions.append(self._player_function(group, duplicate, joined))
        return duplicate

    # --------------------------------------------------------------------------- helpers

    def _random_club(self, other_than: PlannedOrganisation | None = None) -> Club:
        clubs = self.plan.clubs
        for _ in range(10):
            club = self.rng.choices(clubs, cum_weights=self.club_weights)[0]
            if club.organisation is not other_than:
                return club
        return clubs[0] if clubs[0].organisation is not other_than else clubs[1]

    def _last_name(self) -> str:
        return self.rng.choices(LAST_NAMES, cum_weights=self.last_name_weights)[0]

    def _address(self, city: City) -> Address:
        rng = self.rng
        letter = rng.choice("ABC") if rng.random() < 0.15 else ""
        street = f"{rng.choice(STREET_NAMES)} {rng.randint(1, 120)}{letter}"
        return Address(street, rng.choice(city.postcodes), city.name)

    def _email(self, person: PlannedPerson) -> str:
        local = email_local_part(person.first_name, person.last_name)
        if self.rng.random() < 0.5:
            local = f"{local}{self.rng.randint(1, 99)}"
        domain = self.rng.choices(EMAIL_DOMAINS, weights=EMAIL_DOMAIN_WEIGHTS)[0]
        return f"{local}@{domain}"

    # ---------------------------------------------------------------------------- logins

    def _login_persons(self) -> list[PlannedPerson]:
        """The persons behind the demo logins, all in the demo club and its region."""
        club = self.plan.demo_club
        football = club.group(FOOTBALL)
        assert football is not None
        persons = []
        for spec in LOGINS:
            person = PlannedPerson(
                index=-1,
                first_name=spec.first_name,
                middle_name="",
                last_name=spec.last_name,
                gender=spec.gender,
                birth_date=spec.birth_date,
                phone=random_phone(self.rng),
                login=spec.username,
            )
            person.email = f"{email_local_part(spec.first_name, spec.last_name)}@online.no"
            address = self._address(club.city)
            person.street, person.postcode, person.city = (
                address.street,
                address.postcode,
                address.city,
            )
            person.functions = [PlannedFunction(club.organisation, MEMBER, LOGIN_FROM_DATE)]
            persons.append(person)
        by_login = {person.login: person for person in persons}
        children = self._parent_family(by_login["forelder"], club, football)
        first_team = football.youth_teams[PARENT_CHILDREN[0][1], PARENT_CHILDREN[0][2].year]
        first_team.open_roles.remove(TEAM_LEADER)
        extra = {
            "forbund": (self.plan.federation, FEDERATION_STAFF),
            "dagligleder": (club.organisation, GENERAL_MANAGER),
            "lagleder": (first_team.organisation, TEAM_LEADER),
            "dommer": (club.region, REFEREE),
        }
        for username, (organisation, code) in extra.items():
            by_login[username].functions.append(
                PlannedFunction(organisation, code, LOGIN_FROM_DATE)
            )
        return persons + children

    def _parent_family(
        self, parent: PlannedPerson, club: Club, football: SportGroup
    ) -> list[PlannedPerson]:
        """`forelder`'s family: a spouse and three children who play football in the demo
        club. Nobody in it holds a function that grants anything."""
        address = Address(parent.street, parent.postcode, parent.city)
        first_name, gender, birth_date = PARENT_SPOUSE
        spouse = PlannedPerson(-1, first_name, "", parent.last_name, gender, birth_date)
        family = [spouse]
        for first_name, gender, birth_date in PARENT_CHILDREN:
            family.append(PlannedPerson(-1, first_name, "", parent.last_name, gender, birth_date))
        for person in family:
            person.street, person.postcode, person.city = (
                address.street,
                address.postcode,
                address.city,
            )
            person.functions = [PlannedFunction(club.organisation, MEMBER, LOGIN_FROM_DATE)]
        spouse.email = self._email(spouse)
        for child in family[1:]:
            team = football.youth_teams[child.gender, child.birth_date.year]
            child.functions.append(PlannedFunction(team.organisation, PLAYER, LOGIN_FROM_DATE))
        return family


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _make_deceased(rng: random.Random, person: PlannedPerson) -> None:
    """P-06: the date of death is after the birth date (and after every function started)
    and not in the future; open functions end on it."""
    earliest = max(
        _add_years(person.birth_date, DECEASED_FROM_AGE),
        *(function.from_date for function in person.functions),
    )
    if earliest > LAST_JOIN_DATE:
        return
    died = date_between(rng, earliest, LAST_JOIN_DATE)
    person.is_deceased = True
    person.date_of_death = died
    person.functions = [
        function
        if function.to_date is not None and function.to_date <= died
        else function._replace(to_date=died)
        for function in person.functions
    ]


def _add_typo(rng: random.Random, person: PlannedPerson) -> None:
    """One of the mistakes that make a second registration: æøå typed as ae/o/aa, a forgotten
    middle name, day and month swapped, or two letters swapped (always possible)."""
    birth_date = person.birth_date
    typos: list[tuple[Callable[[], None], int]] = [(lambda: _swap_letters_in_name(rng, person), 35)]
    if (
        _ascii_spelling(person.first_name + person.last_name)
        != person.first_name + person.last_name
    ):
        typos.append((lambda: _ascii_typo(person), 60))
    if person.middle_name:
        typos.append((lambda: setattr(person, "middle_name", ""), 30))
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        swapped = birth_date.replace(month=birth_date.day, day=birth_date.month)
        typos.append((lambda: setattr(person, "birth_date", swapped), 40))
    typo = rng.choices([typo for typo, _ in typos], weights=[weight for _, weight in typos])[0]
    typo()


def _ascii_spelling(name: str) -> str:
    for letter, replacement in ASCII_TYPOS:
        name = name.replace(letter, replacement)
    return name


def _ascii_typo(person: PlannedPerson) -> None:
    """The first name part with æøå is typed without them."""
    for attribute in ("last_name", "first_name"):
        name = getattr(person, attribute)
        if _ascii_spelling(name) != name:
            setattr(person, attribute, _ascii_spelling(name))
            return


def _swap_letters_in_name(rng: random.Random, person: PlannedPerson) -> None:
    if rng.random() < 0.6:
        person.last_name = _swap_letters(rng, person.last_name)
    else:
        person.first_name = _swap_letters(rng, person.first_name)


def _swap_letters(rng: random.Random, name: str) -> str:
    """Swap two neighbouring, different letters after the first one."""
    positions = [i for i in range(1, len(name) - 1) if name[i] != name[i + 1]]
    if not positions:
        return f"{name}{name[-1]}"
    i = rng.choice(positions)
    return f"{name[:i]}{name[i + 1]}{name[i]}{name[i + 2 :]}"
