"""Two records of one person with something of everything that refers to a person, for the
merge tests (P-14), and the counts that show nothing is lost or duplicated."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from djmoney.money import Money

from billing.models import (
    ExemptionAgreement,
    InstalmentPlan,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from billing.models_invoicing import Invoice, InvoiceLine
from members.duplicates import merging
from members.models import (
    BankAccount,
    CandidateStatus,
    Competence,
    ContactSet,
    DuplicateCandidate,
    Family,
    Function,
    FunctionType,
    GuardianRelation,
    Licence,
    Membership,
    Person,
    SportsIdHistory,
    Transfer,
    User,
)
from members.services import licences as licence_services
from tests.conftest import World
from tests.members.factories import (
    ContactSetFactory,
    FunctionFactory,
    PersonFactory,
    UserFactory,
)
from tests.members.factories_licences import (
    CompetenceFactory,
    LicencePeriodFactory,
    LicenceTypeFactory,
    licensed_player_type,
)
from tests.members.factories_memberships import MembershipFactory, MembershipTypeFactory

SEASON = 2027
LONG_AGO = datetime.date(2020, 1, 1)


@dataclass
class Pair:
    """`survivor` (Kari Nordmann) and `merged` (Kari Nordman), the same woman registered
    twice in Sagene IF, and the rows named by what the tests expect of them."""

    survivor: Person
    merged: Person
    rows: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        return self.rows[name]

    def keep_functions(self) -> list[int]:
        """The wizard's default: all of the survivor's, the merged person's coach function."""
        return [self["survivor_player"].pk, self["merged_coach"].pk]

    def keep_licences(self) -> list[int]:
        return [self["merged_licence"].pk]

    def person_data(self, **changes: object) -> dict[str, object]:
        data = {
            "first_name": "Kari",
            "middle_name": "",
            "last_name": "Nordmann",
            "gender": "female",
            "birth_date": datetime.date(1990, 5, 17),
            "national_person_id": "NPI-1001",
            "source_id": "",
            "reserved_against_data_wash": False,
            "date_of_death": None,
        }
        data.update(changes)
        return data

    def merge_arguments(self, actor, **changes):  # type: ignore[no-untyped-def]
        return {
            "actor": actor,
            "survivor": self.survivor,
            "merged": self.merged,
            "person_data": self.person_data(**changes),
            "keep_function_ids": self.keep_functions(),
            "keep_licence_ids": self.keep_licences(),
            "candidate": self.rows.get("candidate"),
        }


def _type(code: str) -> FunctionType:
    return FunctionType.objects.get(code=code)


def build_pair(world: World, *, with_login: bool = True) -> Pair:
    survivor = PersonFactory(
        first_name="Kari",
        last_name="Nordmann",
        gender="female",
        birth_date=datetime.date(1990, 5, 17),
    )
    merged = PersonFactory(
        first_name="Kari",
        last_name="Nordman",
        gender="female",
        birth_date=datetime.date(1990, 5, 17),
        national_person_id="NPI-1001",
    )
    pair = Pair(survivor, merged)
    rows = pair.rows
    # P-10: the same player function twice (one kept), a coach function, a licensed one.
    rows["survivor_player"] = FunctionFactory(
        person=survivor,
        organisation=world.team_a,
        function_type=_type("player"),
        from_date=LONG_AGO,
    )
    rows["merged_player"] = FunctionFactory(
        person=merged, organisation=world.team_a, function_type=_type("player"), from_date=LONG_AGO
    )
    rows["merged_coach"] = FunctionFactory(
        person=merged, organisation=world.group_a, function_type=_type("coach"), from_date=LONG_AGO
    )
    rows["merged_licensed"] = FunctionFactory(
        person=merged,
        organisation=world.group_a,
        function_type=licensed_player_type(),
        is_licensed=True,
        from_date=LONG_AGO,
    )
    rows["merged_old_volunteer"] = FunctionFactory(
        person=merged,
        organisation=world.club_a,
        function_type=_type("volunteer"),
        from_date=LONG_AGO,
        to_date=datetime.date(2021, 12, 31),
    )
    # P-12: the merged record's licence (its function moves with it).
    period = LicencePeriodFactory(organisation=world.federation, name="Fotball 2026")
    licence_type = LicenceTypeFactory(period=period, code="basis", name="Basislisens")
    rows["merged_licence"] = licence_services.licence_register(
        actor=None, person=merged, licence_type=licence_type, organisation=world.club_a
    )
    # P-13 competences of both.
    rows["survivor_competence"] = CompetenceFactory(person=survivor)
    rows["merged_competence"] = CompetenceFactory(person=merged)
    # P-15 a transfer of the merged record (registered straight, without its function moves).
    rows["merged_transfer"] = Transfer.objects.create(
        person=merged,
        function=rows["merged_coach"],
        function_type=_type("coach"),
        from_organisation=world.club_b,
        to_organisation=world.group_a,
        transfer_type="standard",
        transfer_date=datetime.date(2024, 1, 1),
    )
    # Memberships: the merged record's old one moves; its overlapping one cannot (the
    # exclusion constraint: one membership of a person in a club at a time).
    ordinary = MembershipTypeFactory(club=world.club_a, code="ordinary")
    rows["survivor_membership"] = MembershipFactory(
        person=survivor,
        club=world.club_a,
        membership_type=ordinary,
        start_date=datetime.date(2024, 1, 1),
    )
    rows["merged_old_membership"] = MembershipFactory(
        person=merged,
        club=world.club_a,
        membership_type=ordinary,
        start_date=datetime.date(2019, 1, 1),
        end_date=datetime.date(2020, 12, 31),
        status="ended",
    )
    rows["merged_overlapping_membership"] = MembershipFactory(
        person=merged,
        club=world.club_a,
        membership_type=ordinary,
        start_date=datetime.date(2025, 1, 1),
    )
    # P-08: both have a standard set (the factory's); the merged record has a second one.
    rows["survivor_standard"] = ContactSet.objects.get(person=survivor, is_standard=True)
    rows["merged_standard"] = ContactSet.objects.get(person=merged, is_standard=True)
    rows["merged_work"] = ContactSetFactory(person=merged, label="Jobb")
    # P-09: both have a private account (the merged one stays); the merged fees account
    # moves but not as the default.
    rows["survivor_private"] = BankAccount.objects.create(
        person=survivor,
        account_type="private",
        account_number="86011117947",
        owner_name="Kari Nordmann",
        is_default=True,
    )
    rows["merged_private"] = BankAccount.objects.create(
        person=merged,
        account_type="private",
        account_number="12345678903",
        owner_name="Kari Nordman",
        is_default=False,
    )
    rows["merged_fees"] = BankAccount.objects.create(
        person=merged,
        account_type="fees",
        account_number="15038231228",
        owner_name="Kari Nordman",
        is_default=True,
    )
    if with_login:
        rows["merged_login"] = UserFactory(person=merged, username="kari-old")
    # P-05: an earlier sports id of the merged record.
    rows["merged_previous_id"] = SportsIdHistory.objects.create(
        person=merged, sports_id="11111111111111"
    )
    # Guardians: both records are registered as the child's guardian (one stays: unique).
    child = PersonFactory(
        first_name="Lise", last_name="Nordmann", birth_date=datetime.date(2015, 3, 3)
    )
    rows["child"] = child
    rows["survivor_guardian"] = GuardianRelation.objects.create(guardian=survivor, child=child)
    rows["merged_guardian"] = GuardianRelation.objects.create(guardian=merged, child=child)
    rows["family"] = Family.objects.create(
        club=world.club_a, name="Familien Nordman", contact_person=merged
    )
    # Billing rows (issue 5): all move, but the survivor already has a payment preference
    # for the club (unique per person and club).
    rows["hours"] = VolunteerHours.objects.create(
        person=merged, club=world.club_a, season=SEASON, hours=Decimal(4)
    )
    rows["survivor_preference"] = PaymentPreference.objects.create(
        person=survivor, club=world.club_a
    )
    rows["merged_preference"] = PaymentPreference.objects.create(person=merged, club=world.club_a)
    rows["trial"] = TrialPeriod.objects.create(
        person=merged, team=world.team_a, start_date=datetime.date(SEASON, 4, 1)
    )
    rows["plan"] = InstalmentPlan.objects.create(
        person=merged,
        club=world.club_a,
        season=SEASON,
        group_code="fotball",
        total=Money("2400.00", "NOK"),
    )
    rows["contract"] = VolunteerContract.objects.create(
        person=merged, club=world.club_a, signed_on=datetime.date(2026, 1, 1)
    )
    rows["agreement"] = ExemptionAgreement.objects.create(
        person=merged,
        club=world.club_a,
        season=SEASON,
        kind="hardship",
        rule_id="D-11 hardship",
        fee_kinds=["activity"],
    )
    parent = PersonFactory(first_name="Per", last_name="Nordman")
    rows["parent_agreement"] = ExemptionAgreement.objects.create(
        person=parent,
        club=world.club_a,
        season=SEASON,
        kind="hardship",
        rule_id="D-11 hardship",
        for_children=True,
        fee_kinds=["activity"],
    )
    rows["parent_agreement"].children.add(merged)
    # Invoices (issue 6): the merged record's invoice moves with its lines, except its
    # membership line: the survivor was billed the same fee for the same period already (the
    # unique "one charge per person, fee and period" keeps it with the merged record).
    rows["survivor_invoice"] = _invoice(world, survivor, 1, ("membership", "activity"))
    rows["merged_invoice"] = _invoice(world, merged, 2, ("membership", "volunteer_work"))
    lines = {line.fee: line for line in rows["merged_invoice"].lines.all()}
    rows["merged_double_line"] = lines["membership"]
    rows["merged_volunteer_line"] = lines["volunteer_work"]
    # P-14: the pair's candidate, and an open pair of the merged record with a third person.
    low, high = sorted((survivor, merged), key=lambda person: person.pk)
    rows["candidate"] = DuplicateCandidate.objects.create(person_a=low, person_b=high, score=0.97)
    third = PersonFactory(first_name="Karin", last_name="Nordmo")
    low, high = sorted((third, merged), key=lambda person: person.pk)
    rows["other_candidate"] = DuplicateCandidate.objects.create(
        person_a=low, person_b=high, score=0.6
    )
    # Changes with history (django-simple-history): the merged record is the newer one.
    rows["merged_standard"].city = "Bergen"
    rows["merged_standard"].save()
    merged.refresh_from_db()
    survivor.refresh_from_db()
    return pair


def _invoice(world: World, payer: Person, number: int, fees: tuple[str, ...]) -> Invoice:
    invoice = Invoice.objects.create(
        club=world.club_a,
        number=number,
        season=SEASON,
        payer=payer,
        buyer_name=payer.full_name,
        seller_name=world.club_a.name,
        issue_date=datetime.date(SEASON, 1, 15),
        due_date=datetime.date(SEASON, 3, 1),
        kid=f"1000{number}",
        total=Money("900.00", "NOK"),
    )
    for position, fee in enumerate(fees, start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            club=world.club_a,
            person=payer,
            position=position,
            fee=fee,
            key_fee=fee,
            line_kind="charge",
            period_start=datetime.date(SEASON, 1, 1),
            period_end=datetime.date(SEASON, 12, 31),
            description=f"{fee} {SEASON}",
            amount=Money("450.00", "NOK"),
        )
    return invoice


# -------------------------------------------------------------------------- the counts


def rows_of(person_ids: Iterable[int]) -> dict[str, set[tuple[int, int]]]:
    """(pk, person) of every row of every table that refers to these persons."""
    ids = list(person_ids)
    found = {}
    for relation in merging.person_relations():
        column = relation.field.attname
        found[relation.label] = set(
            relation.rows().filter(**{f"{column}__in": ids}).values_list("pk", column)
        )
    return found


def table_totals() -> dict[str, int]:
    """How many rows each table that refers to persons holds (history tables left out)."""
    return {
        relation.label: relation.rows().count()
        for relation in merging.person_relations()
        if not relation.is_history
    }


def without_history(rows: dict[str, set]) -> dict[str, set]:
    return {label: value for label, value in rows.items() if not _is_history(label)}


def _is_history(label: str) -> bool:
    return next(r for r in merging.person_relations() if r.label == label).is_history


def state_of(pair: Pair) -> dict[str, object]:
    """Everything a failed merge must leave as it was."""
    persons = sorted(
        Person.objects.filter(pk__in=[pair.survivor.pk, pair.merged.pk]).values_list(
            "pk", "first_name", "last_name", "sports_id", "national_person_id", "merged_into_id"
        )
    )
    return {
        "persons": persons,
        "rows": without_history(rows_of([pair.survivor.pk, pair.merged.pk])),
        "functions": sorted(Function.objects.values_list("pk", "person_id", "to_date")),
        "candidates": sorted(DuplicateCandidate.objects.values_list("pk", "status")),
        "users": sorted(User.objects.values_list("pk", "person_id", "is_active")),
        "flags": (
            sorted(ContactSet.objects.values_list("pk", "is_standard")),
            sorted(BankAccount.objects.values_list("pk", "is_default")),
        ),
        "sports_ids": sorted(SportsIdHistory.objects.values_list("pk", "person_id", "sports_id")),
        "merges": merging.PersonMerge.objects.count(),
    }


__all__ = [
    "CandidateStatus",
    "Competence",
    "Licence",
    "Membership",
    "Pair",
    "build_pair",
    "rows_of",
    "state_of",
    "table_totals",
    "without_history",
]
