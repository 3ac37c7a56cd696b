"""The price engine (issue 5): what each member owes for a club's season, and why.

One source for the dues preview and the invoicing runs. Pure: frozen values in (a
`SeasonConfig` and `PersonFacts`), frozen values out (`Line`s with reasons and totals).

Order of application, per household (a family, or a person without one):
 1. Charges. Membership fee (D-01: the lowest price whose membership types and ages fit;
    M-11: a family membership pays at most the family price, split so that every member has
    a personal line of at least the minimum, M-04), activity fee per group and birth-year
    cohort (D-07), volunteer-work fee by age band (M-15). Nothing invoiced on or after a
    resignation is charged, nor a membership or activity that ended before its invoicing date.
 2. Exemptions: D-05 (membership types), D-10 (roles), D-11 (agreements), in configuration
    order. The first that applies takes the fee; a partial one leaves the rest for step 3 on.
 3. The sibling rule (D-09) over the family's active players.
 4. Percentage reductions (D-09 two sports, late start), in configuration order, each taken
    of what is still due after the steps before (so 30% and 50% leave 35%).
 5. Moving away (D-09): a percentage of what is still due, as a reduction when reported
    before the due date, else as a refund.
 6. Volunteer-work refund (M-15): per hour worked, at most the fee.
 7. Invoice fee (M-10): for a person paying by invoice, once on each invoice of the
    configured fee kinds that still has something to pay.
A step never takes more than is still due (never below zero) and adds no zero lines.
Percentages are rounded half up to the season's rounding unit (whole kroner by default).

Lines come out per person in a stable order: membership, then activities in the order of the
season's groups, then volunteer work; each charge followed by its adjustments in the order
above, and its invoice fee last. Persons come out by id, families by family id.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from billing.pricing.config import (
    PHASE_EXEMPTIONS,
    PHASE_MOVING_AWAY,
    PHASE_PERCENTAGES,
    PHASE_SIBLINGS,
    AgreementExemptionParams,
    Beneficiary,
    LateStartParams,
    MembershipPrice,
    MembershipTypeExemptionParams,
    MovingAwayParams,
    RoleExemptionParams,
    RoleScope,
    Rule,
    SeasonConfig,
    SiblingsParams,
    TwoSportsParams,
)
from billing.pricing.facts import Activity, Agreement, Membership, PersonFacts, Role
from billing.pricing.helpers import (
    Instalment,
    age_in_year,
    build_instalment_plan,
    cohort_label,
    date_to_date_period,
    volunteer_refund,
)
from billing.pricing.lines import (
    FamilyDues,
    Line,
    PersonDues,
    PricingIssue,
    SeasonDues,
    build_line,
    build_person_dues,
)
from billing.pricing.values import (
    HUNDRED,
    ORDINARY_CATEGORIES,
    ZERO,
    FamilyId,
    FeeKind,
    InstalmentError,
    LineKind,
    MembershipType,
    PaymentMethod,
    Period,
    PeriodMode,
    PersonId,
    PricingError,
    Severity,
    Text,
    format_nok,
    format_percent,
    percent_of,
    text,
)

DUPLICATE_PERSON = "Person {person_id} is given twice."
UNKNOWN_PERSON = "Person {person_id} is not among the persons given."
UNKNOWN_FAMILY = "Family {family_id} has no members among the persons given."
SINGLE_AND_FAMILY = (
    "M-11: person {person_id} would hold single and family dues for the same period "
    "({period}); end one of the memberships first."
)
DOUBLE_MEMBERSHIP = (
    "Person {person_id} has two memberships for the same period ({period}); end one first."
)
FAMILY_TOO_LARGE = (
    "D-01: family {family_id} has {count} members in its family membership; "
    "at most {maximum} are allowed."
)
FAMILY_MEMBERSHIP_WITHOUT_FAMILY = (
    "M-11: person {person_id} has a family membership but belongs to no family."
)
NO_FAMILY_FEE = (
    "M-11: person {person_id} has a family membership, but the season has no family fee."
)
TWO_FAMILY_CONTACTS = "M-11: family {family_id} has more than one contact person."
NO_MEMBERSHIP_PRICE = (
    "D-01: no membership fee applies to type '{membership_type}' at age {age} (person {person_id})."
)
NOT_A_MEMBER = (
    "D-05/M-16: person {person_id} plays or holds a function but has no membership for {season}."
)
NO_ACTIVITY_FEE = (
    "D-07: no activity fee is set for {group} cohort {cohort} (person {person_id}); "
    "nothing charged."
)
UNKNOWN_ACTIVITY_GROUP = (
    "D-07: person {person_id} is active in '{group}', which the season does not define; "
    "nothing charged."
)

NO_INSTALMENT_RULE = "D-08: the group '{group}' has no instalment rule."
NO_ACTIVITY_FEE_TO_SPLIT = "D-08: there is no activity fee for '{group}' to split."

MUST_BE_MEMBER_RULE_ID = "M-16"

# The reasons on the lines, as translatable Texts (values in braces; billing.texts renders
# them in the user's language). `Line.reason` is each one in English.
MEMBERSHIP_REASON = "Membership fee {period} {category} {amount} ({rule_id})"
FAMILY_CONTACT_SHARE_REASON = (
    "Membership fee {period} family {family_id}, contact person's share {amount} of {total} "
    "({rule_id})"
)
FAMILY_MEMBER_SHARE_REASON = (
    "Membership fee {period} family {family_id}, member's share {amount} of {total} ({rule_id})"
)
FAMILY_UNDER_PRICE_REASON = (
    "Membership fee {period} family {family_id}, {category} {amount} (family total {total}, "
    "under the family price {family_fee}; {rule_id})"
)
ACTIVITY_REASON = "Activity fee {cohort} {group} {amount} ({rule_id})"
VOLUNTEER_REASON = "Volunteer-work fee {period} {amount} ({rule_id})"
INVOICE_FEE_REASON = "Invoice fee {amount} ({rule_id})"
VOLUNTEER_REFUND_REASON = "{rule_id} {hours} h x {rate}: -{amount}"
ADJUSTMENT_REASON = "{rule_id} -{percent}%: -{amount}"
ADJUSTMENT_DETAIL_REASON = "{rule_id} ({detail}) -{percent}%: -{amount}"
# the details of an adjustment, in its brackets
MEMBERSHIP_TYPE_DETAIL = "{membership_type} member"
ROLE_OWN_DETAIL = "{role}, own"
ROLE_GUARDIAN_DETAIL = "{role}, guardian {guardian_id}"
SIBLING_DETAIL = "player {rank} of {count} by age, only the {paying} oldest pay"
STARTED_DETAIL = "started {date}"
NEW_COHORT_DETAIL = "new cohort, age {age}"
LEFT_DETAIL = "left {date}, {leave_reason}"
LEFT_REFUND_DETAIL = "left {date}, {leave_reason}, refund"


class _Charge:
    """A charge being priced: its base amount, what is still due, and its adjustments."""

    __slots__ = (
        "activity",
        "adjustments",
        "base",
        "base_amount",
        "category",
        "cohort",
        "due_date",
        "fee",
        "group",
        "invoice_date",
        "invoice_fee_line",
        "membership_type",
        "period",
        "person",
        "reason",
        "remaining",
        "rule_id",
        "team_id",
        "text",
    )

    def __init__(
        self,
        person: PersonFacts,
        fee: FeeKind,
        base: Decimal,
        rule_id: str,
        reason: tuple[str, Text],
        period: Period,
        invoice_date: datetime.date,
        due_date: datetime.date,
    ) -> None:
        self.person = person
        self.fee = fee
        self.base = base
        self.remaining = base
        self.rule_id = rule_id
        self.reason, self.text = reason
        self.period = period
        self.invoice_date = invoice_date
        self.due_date = due_date
        self.group: str | None = None
        self.cohort: str | None = None
        self.team_id: int | str | None = None
        self.category: str | None = None
        self.membership_type: str | None = None
        self.base_amount: Decimal | None = None
        self.activity: Activity | None = None
        self.adjustments: list[Line] = []
        self.invoice_fee_line: Line | None = None

    def line(self) -> Line:
        # every field of Line in order: this runs once per charge of a 100,000-member season
        return build_line(
            self.person.person_id,
            self.fee,
            LineKind.CHARGE,
            self.base,
            self.rule_id,
            self.reason,
            self.period,
            self.invoice_date,
            self.due_date,
            self.group,
            self.cohort,
            self.team_id,
            self.category,
            self.person.family_id,
            None,  # percent
            self.base_amount,
            None,  # quantity
            None,  # source_person_id
            False,  # confidential
            None,  # for_fee
            self.text,
        )


class _SeasonMembership:
    __slots__ = ("due_date", "invoice_date", "membership", "period")

    def __init__(
        self,
        membership: Membership,
        period: Period,
        invoice_date: datetime.date,
        due_date: datetime.date,
    ) -> None:
        self.membership = membership
        self.period = period
        self.invoice_date = invoice_date
        self.due_date = due_date


class _Household:
    """The persons priced together: a family (family membership, siblings) or one person."""

    __slots__ = ("charges", "contact_id", "family_id", "issues", "members", "memberships")

    def __init__(self, family_id: FamilyId | None, members: list[PersonFacts]) -> None:
        self.family_id = family_id
        self.members = members
        self.charges: dict[PersonId, list[_Charge]] = {}
        self.issues: dict[PersonId, list[PricingIssue]] = defaultdict(list)
        self.memberships: dict[PersonId, _SeasonMembership | None] = {}
        self.contact_id: PersonId | None = None


class _Engine:
    def __init__(self, config: SeasonConfig, persons: Iterable[PersonFacts]) -> None:
        self.config = config
        self.unit = config.rounding_unit
        self.by_id: dict[PersonId, PersonFacts] = {}
        self.guardians: dict[PersonId, list[PersonFacts]] = defaultdict(list)
        self.families: dict[FamilyId, list[PersonFacts]] = defaultdict(list)
        self._index_persons(persons)
        self.groups = {group.group: group for group in config.groups}
        self.group_order = {group.group: index for index, group in enumerate(config.groups)}
        self.group_periods = {g.group: Period(g.season_start, g.season_end) for g in config.groups}
        season = config.season
        self.year = Period(datetime.date(season, 1, 1), datetime.date(season, 12, 31))
        self.year_label = str(self.year)
        self._prepare_rules()
        self._prepare_texts()
        self._prices: dict[tuple[str, int], MembershipPrice | None] = {}
        self._team_roles: dict[object, list[tuple[PersonFacts, Role]]] | None = None
        self._allowed_holders: dict[tuple[str, object], frozenset[PersonId]] = {}

    def _index_persons(self, persons: Iterable[PersonFacts]) -> None:
        # Sorted by id, so that the output never depends on the order of the input.
        for person in sorted(persons, key=_person_id):
            if person.person_id in self.by_id:
                raise PricingError.of(DUPLICATE_PERSON, person_id=person.person_id)
            self.by_id[person.person_id] = person
            if person.family_id is not None:
                self.families[person.family_id].append(person)
            for child_id in person.children_ids:
                self.guardians[child_id].append(person)

    def _prepare_rules(self) -> None:
        config = self.config
        self.exemption_rules = config.active_rules(PHASE_EXEMPTIONS)
        self.exempt_membership_types = {
            membership_type
            for rule in self.exemption_rules
            if isinstance(rule.params, MembershipTypeExemptionParams)
            for membership_type in rule.params.membership_types
        }
        # the exemption rules worth trying, by (has roles, has agreements, exempt type)
        self._exemption_subsets = {
            (roles, agreements, exempt_type): tuple(
                rule
                for rule in self.exemption_rules
                if (isinstance(rule.params, RoleExemptionParams) and roles)
                or (isinstance(rule.params, AgreementExemptionParams) and agreements)
                or (isinstance(rule.params, MembershipTypeExemptionParams) and exempt_type)
            )
            for roles in (False, True)
            for agreements in (False, True)
            for exempt_type in (False, True)
        }
        self.sibling_rules = config.active_rules(PHASE_SIBLINGS)
        self.percentage_steps = [
            (self._apply_two_sports, rule, rule.params)
            if isinstance(rule.params, TwoSportsParams)
            else (self._apply_late_start_to_charges, rule, rule.params)
            for rule in config.active_rules(PHASE_PERCENTAGES)
        ]
        self.moving_rules = config.active_rules(PHASE_MOVING_AWAY)

    def _prepare_texts(self) -> None:
        """Charge texts repeat across a season: build each once."""
        self._reasons: dict[tuple[object, ...], tuple[str, Text]] = {}
        self._cohorts: dict[tuple[int, str], str] = {}
        invoice_fee = self.config.invoice_fee
        self.invoice_fee_reason = (
            _reason(INVOICE_FEE_REASON, amount=invoice_fee.amount, rule_id=invoice_fee.rule_id)
            if invoice_fee is not None
            else ("", Text(""))
        )
        volunteer_fee = self.config.volunteer_fee
        self.volunteer_reason = (
            _reason(
                VOLUNTEER_REASON,
                period=self.year_label,
                amount=volunteer_fee.amount,
                rule_id=volunteer_fee.rule_id,
            )
            if volunteer_fee is not None
            else ("", Text(""))
        )

    # ------------------------------------------------------------ households

    def household_of(self, person: PersonFacts) -> _Household:
        if person.family_id is None:
            return _Household(None, [person])
        return _Household(person.family_id, self.families[person.family_id])

    def price_household(self, household: _Household) -> list[PersonDues]:
        """Steps 1-7 of the module docstring for one household."""
        self._charge(household)
        self._adjust(household)
        return [self._person_dues(person, household) for person in household.members]

    def _charge(self, household: _Household) -> None:
        for person in household.members:
            household.memberships[person.person_id] = self._season_membership(person)
        membership_charges = self._membership_charges(household)
        for person in household.members:
            charges = []
            if membership_charges.get(person.person_id) is not None:
                charges.append(membership_charges[person.person_id])
            charges.extend(self._activity_charges(person, household))
            volunteer = self._volunteer_charge(person, household)
            if volunteer is not None:
                charges.append(volunteer)
            household.charges[person.person_id] = charges
            self._check_must_be_member(person, household)

    def _adjust(self, household: _Household) -> None:
        for person in household.members:
            charges = household.charges[person.person_id]
            rules = self._exemption_rules_for(person, charges)
            if rules:
                for charge in charges:
                    self._apply_exemptions(charge, rules)
        for rule in self.sibling_rules:
            self._apply_siblings(rule, household)
        for person in household.members:
            activity_charges = [
                charge
                for charge in household.charges[person.person_id]
                if charge.fee is FeeKind.ACTIVITY
            ]
            if not activity_charges:
                continue
            for apply_step, rule, params in self.percentage_steps:
                apply_step(rule, params, activity_charges)
            for charge in activity_charges:
                if charge.activity is not None and charge.activity.end is not None:
                    for rule in self.moving_rules:
                        self._apply_moving_away(rule, charge)
        for person in household.members:
            self._apply_volunteer_refund_and_invoice_fees(household.charges[person.person_id])

    def _person_dues(self, person: PersonFacts, household: _Household) -> PersonDues:
        lines: list[Line] = []
        total = ZERO
        for charge in household.charges[person.person_id]:
            lines.append(charge.line())
            total += charge.base
            for adjustment in charge.adjustments:
                lines.append(adjustment)
                total += adjustment.amount
            if charge.invoice_fee_line is not None:
                lines.append(charge.invoice_fee_line)
                total += charge.invoice_fee_line.amount
        issues = household.issues.get(person.person_id)
        return build_person_dues(
            person.person_id, person.family_id, tuple(lines), total, tuple(issues or ())
        )

    def _membership_reason(self, period: Period, price: MembershipPrice) -> tuple[str, Text]:
        key = (period, price)
        reason = self._reasons.get(key)
        if reason is None:
            reason = _reason(
                MEMBERSHIP_REASON,
                period=self._label(period),
                category=price.category,
                amount=price.amount,
                rule_id=price.rule_id,
            )
            self._reasons[key] = reason
        return reason

    def _label(self, period: Period) -> str:
        return self.year_label if period is self.year else str(period)

    # ------------------------------------------------------------ 1. charges: membership

    def _season_membership(self, person: PersonFacts) -> _SeasonMembership | None:
        """The membership charged this season, if any (D-02, M-12). Raises PricingError when
        two memberships would be charged for overlapping periods (M-11)."""
        memberships = person.memberships
        if len(memberships) == 1:  # the common case
            return self._charged_period(person, memberships[0])
        found = [
            candidate
            for membership in memberships
            if (candidate := self._charged_period(person, membership)) is not None
        ]
        if not found:
            return None
        found.sort(key=lambda candidate: candidate.period.start)
        for first, second in itertools.pairwise(found):
            if second.period.start <= first.period.end:
                types = {first.membership.membership_type, second.membership.membership_type}
                mixed = MembershipType.FAMILY in types and len(types) > 1
                message = SINGLE_AND_FAMILY if mixed else DOUBLE_MEMBERSHIP
                raise PricingError.of(
                    message,
                    rule="M-11" if mixed else "D-02",
                    person_id=person.person_id,
                    period=str(second.period),
                )
        return found[0]

    def _charged_period(
        self, person: PersonFacts, membership: Membership
    ) -> _SeasonMembership | None:
        schedule = self.config.membership_schedule
        season = self.config.season
        if schedule.period_mode is PeriodMode.DATE_TO_DATE:
            if membership.start.year > season:
                return None
            period = date_to_date_period(membership.start, season)
            invoice_date = period.start
            due_date = invoice_date + datetime.timedelta(days=schedule.due_days)
        else:
            period = self.year
            if membership.start > period.end:
                return None
            # D-02: the full year's fee whatever the join month; new members are invoiced
            # on joining.
            invoice_date = max(schedule.invoice_date, membership.start)
            due_date = schedule.due_date
            if invoice_date > schedule.invoice_date:
                new_member_due = invoice_date + datetime.timedelta(days=schedule.due_days)
                due_date = max(due_date, new_member_due)
        if membership.end is not None and membership.end < invoice_date:
            return None
        if person.resigned_on is not None and person.resigned_on <= invoice_date:
            return None
        return _SeasonMembership(membership, period, invoice_date, due_date)

    def _membership_price(
        self, person: PersonFacts, membership_type: str, year: int
    ) -> MembershipPrice:
        age = age_in_year(person.birth_date, year)
        key = (membership_type, age)
        if key in self._prices:
            best = self._prices[key]
        else:
            best = self._lowest_price(membership_type, age)
            if best is None and membership_type in ORDINARY_CATEGORIES:
                # D-01: a category the schedule gives no fee of its own pays as ordinary
                best = self._lowest_price(MembershipType.ORDINARY, age)
            self._prices[key] = best
        if best is None:
            raise PricingError.of(
                NO_MEMBERSHIP_PRICE,
                rule="D-01",
                membership_type=membership_type,
                age=age,
                person_id=person.person_id,
            )
        return best

    def _lowest_price(self, membership_type: str, age: int) -> MembershipPrice | None:
        best = None
        for price in self.config.membership_prices:
            if price.applies(membership_type, age) and (best is None or price.amount < best.amount):
                best = price
        return best

    def _membership_charges(self, household: _Household) -> dict[PersonId, _Charge]:
        charges: dict[PersonId, _Charge] = {}
        family_charges: list[_Charge] = []
        for person in household.members:
            season_membership = household.memberships[person.person_id]
            if season_membership is None:
                continue
            membership_type = season_membership.membership.membership_type
            period = season_membership.period
            price = self._membership_price(person, membership_type, period.start.year)
            charge = _Charge(
                person,
                FeeKind.MEMBERSHIP,
                price.amount,
                price.rule_id,
                self._membership_reason(period, price),
                period,
                season_membership.invoice_date,
                season_membership.due_date,
            )
            charge.category = price.category
            charge.membership_type = membership_type
            charges[person.person_id] = charge
            if membership_type == MembershipType.FAMILY:
                if person.family_id is None:
                    raise PricingError.of(
                        FAMILY_MEMBERSHIP_WITHOUT_FAMILY, rule="M-11", person_id=person.person_id
                    )
                if self.config.family_fee is None:
                    raise PricingError.of(NO_FAMILY_FEE, rule="M-11", person_id=person.person_id)
                family_charges.append(charge)
        if family_charges:
            self._split_family_fee(household, family_charges)
        return charges

    def _split_family_fee(self, household: _Household, charges: list[_Charge]) -> None:
        """M-11/D-01: the family never pays more than the family price; when the members'
        own prices add up to more, the contact person (the first registered) pays the family
        price less the minimum (M-04) for each other member, who each pay the minimum."""
        family_fee = self.config.family_fee
        assert family_fee is not None  # checked by the caller
        if len(charges) > family_fee.max_members:
            raise PricingError.of(
                FAMILY_TOO_LARGE,
                rule="D-01",
                family_id=household.family_id,
                count=len(charges),
                maximum=family_fee.max_members,
            )
        charges.sort(key=lambda charge: self._family_order(charge, household))
        contacts = [charge for charge in charges if charge.person.family_contact]
        if len(contacts) > 1:
            raise PricingError.of(TWO_FAMILY_CONTACTS, rule="M-11", family_id=household.family_id)
        household.contact_id = charges[0].person.person_id
        own_prices = sum((charge.base for charge in charges), ZERO)
        family_total = min(family_fee.amount, own_prices)
        minimum = self.config.membership_minimum
        for index, charge in enumerate(charges):
            period = self._label(charge.period)
            if family_total < own_prices:
                if index == 0:
                    charge.base = family_total - minimum * (len(charges) - 1)
                    template = FAMILY_CONTACT_SHARE_REASON
                else:
                    charge.base = minimum
                    template = FAMILY_MEMBER_SHARE_REASON
                charge.reason, charge.text = _reason(
                    template,
                    period=period,
                    family_id=household.family_id,
                    amount=charge.base,
                    total=family_total,
                    rule_id=family_fee.rule_id,
                )
            else:
                charge.reason, charge.text = _reason(
                    FAMILY_UNDER_PRICE_REASON,
                    period=period,
                    family_id=household.family_id,
                    category=charge.category,
                    amount=charge.base,
                    total=family_total,
                    family_fee=family_fee.amount,
                    rule_id=family_fee.rule_id,
                )
            charge.remaining = charge.base
            charge.rule_id = family_fee.rule_id
            charge.base_amount = family_fee.amount

    @staticmethod
    def _family_order(
        charge: _Charge, household: _Household
    ) -> tuple[bool, datetime.date, PersonId]:
        season_membership = household.memberships[charge.person.person_id]
        assert season_membership is not None
        start = season_membership.membership.start
        return (not charge.person.family_contact, start, charge.person.person_id)

    # ------------------------------------------------------------ 1. charges: activity, volunteer

    def _activity_charges(self, person: PersonFacts, household: _Household) -> list[_Charge]:
        charges: list[_Charge] = []
        charged_groups: set[str] = set()
        activities = person.activities
        if len(activities) > 1:
            activities = sorted(activities, key=self._activity_order)
        for activity in activities:
            group = self.groups.get(activity.group)
            if group is None:
                self._warn(household, person, "D-07", UNKNOWN_ACTIVITY_GROUP, group=activity.group)
                continue
            if activity.group in charged_groups or activity.start > group.season_end:
                continue
            # D-07: new players are invoiced when they start.
            invoice_date = max(group.invoice_date, activity.start)
            if activity.end is not None and activity.end < invoice_date:
                continue  # left the group before it was invoiced
            if person.resigned_on is not None and person.resigned_on <= invoice_date:
                continue
            cohort = self._cohort(person)
            fee = self.config.activity_fee(activity.group, person.birth_date.year)
            if fee is None:
                self._warn(
                    household, person, "D-07", NO_ACTIVITY_FEE, group=group.name, cohort=cohort
                )
                continue
            reason_key = (cohort, group.group, fee)
            reason = self._reasons.get(reason_key)
            if reason is None:
                reason = _reason(
                    ACTIVITY_REASON,
                    cohort=cohort,
                    group=group.name,
                    amount=fee.amount,
                    rule_id=fee.rule_id,
                )
                self._reasons[reason_key] = reason
            charge = _Charge(
                person,
                FeeKind.ACTIVITY,
                fee.amount,
                fee.rule_id,
                reason,
                self.group_periods[group.group],
                invoice_date,
                invoice_date + datetime.timedelta(days=group.due_days),
            )
            charge.group = activity.group
            charge.cohort = cohort
            charge.team_id = activity.team_id
            charge.activity = activity
            membership = household.memberships[person.person_id]
            charge.membership_type = membership.membership.membership_type if membership else None
            charges.append(charge)
            charged_groups.add(activity.group)
        return charges

    def _cohort(self, person: PersonFacts) -> str:
        key = (person.birth_date.year, person.gender)
        label = self._cohorts.get(key)
        if label is None:
            label = self._cohorts[key] = cohort_label(person.birth_date, person.gender)
        return label

    def _activity_order(self, activity: Activity) -> tuple[int, datetime.date]:
        return (self.group_order.get(activity.group, len(self.group_order)), activity.start)

    def _volunteer_charge(self, person: PersonFacts, household: _Household) -> _Charge | None:
        """M-15: members aged 12..80 in the calendar year pay the volunteer-work fee."""
        fee = self.config.volunteer_fee
        membership = household.memberships[person.person_id]
        if fee is None or membership is None:
            return None
        if person.resigned_on is not None and person.resigned_on <= fee.invoice_date:
            return None
        season = self.config.season
        if not fee.min_age <= age_in_year(person.birth_date, season) <= fee.max_age:
            return None
        charge = _Charge(
            person,
            FeeKind.VOLUNTEER_WORK,
            fee.amount,
            fee.rule_id,
            self.volunteer_reason,
            self.year,
            fee.invoice_date,
            fee.due_date,
        )
        charge.membership_type = membership.membership.membership_type
        return charge

    def _check_must_be_member(self, person: PersonFacts, household: _Household) -> None:
        """D-05/M-16: players, coaches, referees and officials must be members."""
        if household.memberships[person.person_id] is not None:
            return
        if person.resigned_on is not None:
            return
        plays = any(c.fee is FeeKind.ACTIVITY for c in household.charges[person.person_id])
        if plays or person.roles:
            self._warn(household, person, MUST_BE_MEMBER_RULE_ID, NOT_A_MEMBER)

    def _warn(
        self,
        household: _Household,
        person: PersonFacts,
        rule_id: str,
        message: str,
        **values: object,
    ) -> None:
        issue_text = text(message, person_id=person.person_id, season=self.config.season, **values)
        household.issues[person.person_id].append(
            PricingIssue(
                severity=Severity.WARNING,
                rule_id=rule_id,
                message=str(issue_text),
                person_id=person.person_id,
                family_id=person.family_id,
                text=issue_text,
            )
        )

    # ------------------------------------------------------------ adjustments

    def _take(
        self,
        charge: _Charge,
        rule_id: str,
        percent: Decimal,
        kind: LineKind,
        detail: Text | None = None,
        *,
        source: PersonFacts | None = None,
        confidential: bool = False,
        dates: tuple[datetime.date, datetime.date] | None = None,
    ) -> None:
        """Take `percent`% of what is still due off the charge (never more than is due)."""
        base = charge.remaining
        if base <= ZERO:
            return
        amount = min(base, percent_of(base, percent, self.unit))
        if amount <= ZERO:
            return
        charge.remaining = base - amount
        if detail is None:
            reason = f"{rule_id} -{format_percent(percent)}%: -{format_nok(amount)}"
            reason_text = Text(
                ADJUSTMENT_REASON, (("rule_id", rule_id), ("percent", percent), ("amount", amount))
            )
        else:
            reason = f"{rule_id} ({detail}) -{format_percent(percent)}%: -{format_nok(amount)}"
            reason_text = Text(
                ADJUSTMENT_DETAIL_REASON,
                (
                    ("rule_id", rule_id),
                    ("detail", detail),
                    ("percent", percent),
                    ("amount", amount),
                ),
            )
        invoice_date, due_date = dates or (charge.invoice_date, charge.due_date)
        charge.adjustments.append(
            build_line(  # every field of Line in order
                charge.person.person_id,
                charge.fee,
                kind,
                -amount,
                rule_id,
                reason,
                charge.period,
                invoice_date,
                due_date,
                charge.group,
                charge.cohort,
                charge.team_id,
                charge.category,
                charge.person.family_id,
                percent,
                base,
                None,  # quantity
                source.person_id if source is not None else None,
                confidential,
                None,  # for_fee
                reason_text,
            )
        )

    # ------------------------------------------------------------ 2. exemptions

    def _exemption_rules_for(self, person: PersonFacts, charges: list[_Charge]) -> tuple[Rule, ...]:
        """The exemption rules that could apply to this person's charges: a shortcut for the
        many members who hold no role, have no agreement and no exempt membership type."""
        if not charges:
            return ()
        has_roles = bool(person.roles)
        has_agreements = bool(person.agreements)
        for guardian in self.guardians.get(person.person_id, ()):
            has_roles = has_roles or bool(guardian.roles)
            has_agreements = has_agreements or bool(guardian.agreements)
        # a person's charges share their season membership type
        exempt_type = charges[0].membership_type in self.exempt_membership_types
        return self._exemption_subsets[(has_roles, has_agreements, exempt_type)]

    def _apply_exemptions(self, charge: _Charge, rules: tuple[Rule, ...]) -> None:
        for rule in rules:
            if charge.remaining <= ZERO:
                return
            params = rule.params
            if isinstance(params, MembershipTypeExemptionParams):
                self._exempt_membership_type(rule, params, charge)
            elif isinstance(params, RoleExemptionParams):
                self._exempt_role(rule, params, charge)
            elif isinstance(params, AgreementExemptionParams):
                self._exempt_by_agreement(rule, params, charge)

    def _exempt_membership_type(
        self, rule: Rule, params: MembershipTypeExemptionParams, charge: _Charge
    ) -> None:
        """D-05: honorary members pay no membership fee."""
        if charge.fee in params.fee_kinds and charge.membership_type in params.membership_types:
            self._take(
                charge,
                rule.rule_id,
                params.percent,
                LineKind.EXEMPTION,
                text(MEMBERSHIP_TYPE_DETAIL, membership_type=charge.membership_type),
            )

    def _exempt_role(self, rule: Rule, params: RoleExemptionParams, charge: _Charge) -> None:
        """D-10: role exemptions, for the holder and/or the holder's own children."""
        if charge.fee is not FeeKind.ACTIVITY:
            return
        person = charge.person
        holders: list[PersonFacts] = []
        if Beneficiary.SELF in params.beneficiaries and person.roles:
            holders.append(person)
        if Beneficiary.CHILDREN in params.beneficiaries:
            holders.extend(self.guardians.get(person.person_id, ()))
        for holder in holders:
            if params.requires_volunteer_contract and not holder.volunteer_contract_signed:
                continue
            role = self._qualifying_role(rule, params, holder, person, charge)
            if role is None:
                continue
            detail = (
                text(ROLE_OWN_DETAIL, role=role.kind)
                if holder is person
                else text(ROLE_GUARDIAN_DETAIL, role=role.kind, guardian_id=holder.person_id)
            )
            self._take(
                charge, rule.rule_id, params.percent, LineKind.EXEMPTION, detail, source=holder
            )
            return

    def _qualifying_role(
        self,
        rule: Rule,
        params: RoleExemptionParams,
        holder: PersonFacts,
        athlete: PersonFacts,
        charge: _Charge,
    ) -> Role | None:
        for role in holder.roles:
            if role.kind not in params.role_kinds:
                continue
            if params.scope is RoleScope.GROUP and role.group != charge.group:
                continue
            if params.scope is RoleScope.TEAM and (
                role.team_id is None or role.team_id != charge.team_id
            ):
                continue
            if params.agreement_required and (
                self._agreement(holder, rule.rule_id, athlete, charge) is None
            ):
                continue
            if params.max_holders_per_team is not None and role.team_id is not None:
                allowed = self._allowed_team_holders(rule, params, role.team_id)
                if holder.person_id not in allowed:
                    continue
            return role
        return None

    def _allowed_team_holders(
        self, rule: Rule, params: RoleExemptionParams, team_id: object
    ) -> frozenset[PersonId]:
        """D-10 2.3-b: at most N holders per team (the lowest person ids among those who
        qualify: signed contract and, where required, an agreement for the rule)."""
        key = (rule.rule_id, team_id)
        if key not in self._allowed_holders:
            if self._team_roles is None:
                self._team_roles = defaultdict(list)
                for person in self.by_id.values():
                    for role in person.roles:
                        if role.team_id is not None:
                            self._team_roles[role.team_id].append((person, role))
            qualified = sorted(
                {
                    person.person_id
                    for person, role in self._team_roles.get(team_id, ())
                    if role.kind in params.role_kinds
                    and (person.volunteer_contract_signed or not params.requires_volunteer_contract)
                    and (
                        not params.agreement_required
                        or any(a.rule_id == rule.rule_id for a in person.agreements)
                    )
                }
            )
            limit = params.max_holders_per_team or 0
            self._allowed_holders[key] = frozenset(qualified[:limit])
        return self._allowed_holders[key]

    def _agreement(
        self, holder: PersonFacts, rule_id: str, athlete: PersonFacts, charge: _Charge
    ) -> Agreement | None:
        """A written agreement of `holder` for `rule_id` that covers this charge."""
        for agreement in holder.agreements:
            if agreement.rule_id != rule_id or charge.fee not in agreement.fee_kinds:
                continue
            if holder is athlete:
                if not agreement.for_self:
                    continue
            elif not agreement.for_children or (
                agreement.child_ids and athlete.person_id not in agreement.child_ids
            ):
                continue
            if agreement.group is not None and agreement.group != charge.group:
                continue
            if agreement.team_id is not None and agreement.team_id != charge.team_id:
                continue
            if not agreement.valid_on(charge.invoice_date):
                continue
            return agreement
        return None

    def _exempt_by_agreement(
        self, rule: Rule, params: AgreementExemptionParams, charge: _Charge
    ) -> None:
        """D-11: hardship (and working off the fee) by agreement, confidential."""
        if charge.fee not in params.fee_kinds:
            return
        person = charge.person
        for holder in (person, *self.guardians.get(person.person_id, ())):
            agreement = self._agreement(holder, rule.rule_id, person, charge)
            if agreement is None:
                continue
            percent = agreement.percent if agreement.percent is not None else params.percent
            self._take(
                charge,
                rule.rule_id,
                min(percent, params.percent),
                LineKind.EXEMPTION,
                source=None if holder is person else holder,
                confidential=params.confidential,
            )
            return

    # ------------------------------------------------------------ 3. siblings

    def _apply_siblings(self, rule: Rule, household: _Household) -> None:
        """D-09: a family with more than two active players pays only for the two oldest."""
        params = rule.params
        assert isinstance(params, SiblingsParams)
        if household.family_id is None:
            return
        players: list[tuple[PersonFacts, list[_Charge]]] = []
        for person in household.members:
            charges = [
                charge
                for charge in household.charges[person.person_id]
                if charge.fee is FeeKind.ACTIVITY
                and (not params.groups or charge.group in params.groups)
            ]
            if not charges:
                continue
            if not params.count_exempt_players and all(c.remaining <= ZERO for c in charges):
                continue
            players.append((person, charges))
        if len(players) <= params.paying_players:
            return
        players.sort(key=lambda player: (player[0].birth_date, player[0].person_id))
        for rank, (_person, charges) in enumerate(players, start=1):
            if rank <= params.paying_players:
                continue
            for charge in charges:
                self._take(
                    charge,
                    rule.rule_id,
                    HUNDRED,
                    LineKind.REDUCTION,
                    text(
                        SIBLING_DETAIL,
                        rank=rank,
                        count=len(players),
                        paying=params.paying_players,
                    ),
                )

    # ------------------------------------------------------------ 4. percentages

    def _apply_two_sports(
        self, rule: Rule, params: TwoSportsParams, charges: list[_Charge]
    ) -> None:
        """D-09: a player in both handball and football gets 30% off the activity fees."""
        if len(charges) < len(params.groups):
            return
        groups = {charge.group for charge in charges}
        if not all(group in groups for group in params.groups):
            return
        for charge in charges:
            if charge.group in params.groups:
                self._take(charge, rule.rule_id, params.percent, LineKind.REDUCTION)

    def _apply_late_start_to_charges(
        self, rule: Rule, params: LateStartParams, charges: list[_Charge]
    ) -> None:
        for charge in charges:
            if charge.group == params.group:
                self._apply_late_start(rule, params, charge)

    def _apply_late_start(self, rule: Rule, params: LateStartParams, charge: _Charge) -> None:
        """D-09: starting football after 1 August (or handball after 1 January): 50% off;
        the new cohort of six-year-olds pays 50% its first autumn."""
        activity = charge.activity
        if activity is None:
            return
        if activity.start > params.started_after:
            detail = text(STARTED_DETAIL, date=activity.start)
        elif params.new_cohort_age is not None and (
            activity.start >= charge.period.start
            and age_in_year(charge.person.birth_date, charge.period.start.year)
            == params.new_cohort_age
        ):
            detail = text(NEW_COHORT_DETAIL, age=params.new_cohort_age)
        else:
            return
        self._take(charge, rule.rule_id, params.percent, LineKind.REDUCTION, detail)

    # ------------------------------------------------------------ 5. moving away

    def _apply_moving_away(self, rule: Rule, charge: _Charge) -> None:
        """D-09: leaving because of moving (school, military service; documented) before the
        cut-off: 30% back, as a reduction if reported before the due date. Not for club
        changes."""
        params = rule.params
        assert isinstance(params, MovingAwayParams)
        activity = charge.activity
        if activity is None or charge.group != params.group or activity.end is None:
            return
        if activity.end >= params.left_before or activity.leave_reason not in params.reasons:
            return
        if params.documentation_required and not activity.leave_documented:
            return
        reported = activity.leave_reported_on
        if reported is not None and reported < charge.due_date:
            kind, dates = LineKind.REDUCTION, None
        else:
            paid_back_on = max(reported or activity.end, charge.invoice_date)
            kind, dates = LineKind.REFUND, (paid_back_on, paid_back_on)
        detail = text(
            LEFT_REFUND_DETAIL if kind is LineKind.REFUND else LEFT_DETAIL,
            date=activity.end,
            leave_reason=activity.leave_reason,
        )
        self._take(charge, rule.rule_id, params.percent, kind, detail, dates=dates)

    # ------------------------------------------------------------ 6., 7. refunds, invoice fee

    def _apply_volunteer_refund_and_invoice_fees(self, charges: list[_Charge]) -> None:
        invoice_fee = self.config.invoice_fee
        for charge in charges:
            if charge.fee is FeeKind.VOLUNTEER_WORK and charge.person.volunteer_hours > ZERO:
                self._refund_volunteer_work(charge)
            if (
                invoice_fee is not None
                and charge.person.payment_method is PaymentMethod.INVOICE
                and charge.fee in invoice_fee.fee_kinds
            ):
                to_pay = charge.base + sum(
                    (
                        line.amount
                        for line in charge.adjustments
                        if line.kind is not LineKind.REFUND
                    ),
                    ZERO,
                )
                if to_pay > ZERO:
                    charge.invoice_fee_line = Line(
                        person_id=charge.person.person_id,
                        fee=FeeKind.INVOICE_FEE,
                        kind=LineKind.CHARGE,
                        amount=invoice_fee.amount,
                        rule_id=invoice_fee.rule_id,
                        reason=self.invoice_fee_reason[0],
                        period=charge.period,
                        invoice_date=charge.invoice_date,
                        due_date=charge.due_date,
                        group=charge.group,
                        family_id=charge.person.family_id,
                        for_fee=charge.fee,
                        text=self.invoice_fee_reason[1],
                    )

    def _refund_volunteer_work(self, charge: _Charge) -> None:
        """M-15: NOK 100 back per hour worked (at most what the member pays)."""
        fee = self.config.volunteer_fee
        assert fee is not None
        hours = charge.person.volunteer_hours
        refund = min(volunteer_refund(hours, fee, self.unit), charge.remaining)
        if refund <= ZERO:
            return
        charge.remaining -= refund
        rule_id = f"{fee.rule_id} refund"
        reason, reason_text = _reason(
            VOLUNTEER_REFUND_REASON,
            rule_id=rule_id,
            hours=hours,
            rate=fee.refund_per_hour,
            amount=refund,
        )
        charge.adjustments.append(
            Line(
                person_id=charge.person.person_id,
                fee=charge.fee,
                kind=LineKind.REFUND,
                amount=-refund,
                rule_id=rule_id,
                reason=reason,
                period=charge.period,
                invoice_date=charge.invoice_date,
                due_date=charge.due_date,
                family_id=charge.person.family_id,
                base_amount=fee.refund_per_hour,
                quantity=hours,
                text=reason_text,
            )
        )


# ---------------------------------------------------------------- public API


def price_person(
    config: SeasonConfig, persons: Iterable[PersonFacts], person_id: PersonId
) -> PersonDues:
    """One person's dues. `persons` must hold the person, their family and their guardians
    (a family is priced together: family price, siblings). Raises PricingError."""
    engine = _Engine(config, persons)
    person = engine.by_id.get(person_id)
    if person is None:
        raise PricingError.of(UNKNOWN_PERSON, person_id=person_id)
    for dues in engine.price_household(engine.household_of(person)):
        if dues.person_id == person_id:
            return dues
    raise AssertionError("the household always holds the person")  # pragma: no cover


def price_family(
    config: SeasonConfig, persons: Iterable[PersonFacts], family_id: FamilyId
) -> FamilyDues:
    """A family's dues (M-11): every member's lines, contact person first. Raises
    PricingError."""
    engine = _Engine(config, persons)
    members = engine.families.get(family_id)
    if not members:
        raise PricingError.of(UNKNOWN_FAMILY, family_id=family_id)
    household = _Household(family_id, members)
    return _family_dues(household, engine.price_household(household))


def price_season(config: SeasonConfig, persons: Iterable[PersonFacts]) -> SeasonDues:
    """Every person's dues for the season. A household that cannot be priced is left out
    and reported in `issues` (error), so one bad record does not stop an invoicing run."""
    with _cyclic_gc_paused():
        return _price_season(config, persons)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A season run allocates millions of small acyclic objects; the cyclic garbage
    collector would walk them all again and again (about half the run time at 100,000
    members). Reference counting still frees everything; the collector's state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _price_season(config: SeasonConfig, persons: Iterable[PersonFacts]) -> SeasonDues:
    engine = _Engine(config, persons)
    all_dues: list[PersonDues] = []
    families: list[FamilyDues] = []
    issues: list[PricingIssue] = []
    households = [_Household(fid, members) for fid, members in sorted(engine.families.items())]
    households += [_Household(None, [p]) for p in engine.by_id.values() if p.family_id is None]
    for household in households:
        try:
            household_dues = engine.price_household(household)
        except PricingError as error:
            error_person_id = (
                household.members[0].person_id if household.family_id is None else None
            )
            issues.append(
                PricingIssue(
                    severity=Severity.ERROR,
                    rule_id=error.rule_id,
                    message=str(error),
                    person_id=error_person_id,
                    family_id=household.family_id,
                    text=error.text,
                )
            )
            continue
        all_dues.extend(household_dues)
        for dues in household_dues:
            issues.extend(dues.issues)
        if household.family_id is not None:
            families.append(_family_dues(household, household_dues))
    all_dues.sort(key=lambda dues: dues.person_id)
    return SeasonDues(
        club_id=config.club_id,
        season=config.season,
        persons=tuple(all_dues),
        families=tuple(families),
        issues=tuple(issues),
        total=sum((dues.total for dues in all_dues), ZERO),
    )


def activity_instalment_plan(
    config: SeasonConfig,
    dues: PersonDues,
    group: str,
    count: int,
    *,
    months_between: int = 1,
) -> tuple[Instalment, ...]:
    """D-08: split what a person owes for one group's activity fee (the charge less its
    exemptions and reductions; refunds are paid back separately) into `count` instalments
    from the fee's due date, checked against the group's "70% before date X" rule."""
    activity_group = config.group(group)
    if activity_group is None or activity_group.instalments is None:
        raise InstalmentError.of(NO_INSTALMENT_RULE, rule="D-08", group=group)
    lines = [
        line
        for line in dues.lines
        if line.fee is FeeKind.ACTIVITY and line.group == group and line.kind is not LineKind.REFUND
    ]
    if not lines:
        raise InstalmentError.of(NO_ACTIVITY_FEE_TO_SPLIT, rule="D-08", group=group)
    return build_instalment_plan(
        sum((line.amount for line in lines), ZERO),
        count,
        lines[0].due_date,
        activity_group.instalments,
        months_between=months_between,
        unit=config.rounding_unit,
    )


def _reason(template: str, **values: object) -> tuple[str, Text]:
    """A reason in English and as a translatable Text."""
    reason_text = text(template, **values)
    return str(reason_text), reason_text


def _person_id(person: PersonFacts) -> PersonId:
    return person.person_id


def _family_dues(household: _Household, members: list[PersonDues]) -> FamilyDues:
    contact = household.contact_id
    ordered = sorted(members, key=lambda dues: (dues.person_id != contact, dues.person_id))
    assert household.family_id is not None
    return FamilyDues(
        family_id=household.family_id,
        contact_person_id=contact,
        members=tuple(ordered),
        total=sum((dues.total for dues in members), ZERO),
        membership_total=sum((dues.total_for(FeeKind.MEMBERSHIP) for dues in members), ZERO),
    )
