"""The fast paths of invoicing (issue 6 benchmark) change nothing (issue 5: one source): the
adapter reads rows as tuples with `= ANY(array)` filters, and a chunk prices its block of
persons exactly as the dues preview prices the whole club or one person."""

import dataclasses
from decimal import Decimal

import pytest
from django.db.models import Prefetch

from billing import pricing, selectors
from billing.invoicing import selectors as invoicing_selectors
from members.models import GuardianRelation, Person
from tests.billing.factories import SEASON
from tests.members.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _reference_facts(club, season, ids) -> list[pricing.PersonFacts]:
    """The adapter as it was before the fast path (model instances and prefetches)."""
    tree = selectors._tree(club, season)
    people = (
        Person.objects.filter(birth_date__isnull=False, pk__in=ids)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=selectors._season_memberships(club, season)
                .select_related("membership_type", "family")
                .order_by("start_date", "pk"),
                to_attr="billing_memberships",
            ),
            Prefetch(
                "functions",
                queryset=selectors._season_functions(club, season)
                .select_related("function_type")
                .order_by("from_date", "pk"),
                to_attr="billing_functions",
            ),
            Prefetch(
                "children_relations",
                queryset=GuardianRelation.objects.order_by("child_id"),
                to_attr="billing_children",
            ),
        )
        .order_by("pk")
    )
    extras = selectors._Extras.load(club, season, ids, tree)
    result = []
    for person in people:
        memberships = person.billing_memberships
        family = next((m.family for m in reversed(memberships) if m.family_id), None)
        resignations = [m.resignation_received_on for m in memberships if m.resignation_received_on]
        activities: list[pricing.Activity] = []
        roles: list[pricing.Role] = []
        for function in person.billing_functions:
            selectors._add_function(
                (function.function_type.code, function.organisation_id, function.from_date,
                 function.to_date),
                tree, activities, roles,
            )  # fmt: skip
        result.append(
            pricing.PersonFacts(
                person_id=person.pk,
                birth_date=person.birth_date,
                gender=person.gender,
                family_id=family.pk if family else None,
                family_contact=bool(family and family.contact_person_id == person.pk),
                memberships=tuple(
                    pricing.Membership(
                        selectors.ENGINE_MEMBERSHIP_TYPES.get(
                            m.membership_type.category, "ordinary"
                        ),
                        m.start_date,
                        m.end_date,
                    )
                    for m in memberships
                ),
                resigned_on=min(resignations) if resignations else None,
                payment_method=pricing.PaymentMethod(
                    extras.methods.get(person.pk, pricing.PaymentMethod.INVOICE)
                ),
                activities=tuple(activities),
                roles=tuple(roles),
                volunteer_contract_signed=person.pk in extras.contracts,
                agreements=tuple(extras.agreements.get(person.pk, ())),
                children_ids=tuple(r.child_id for r in person.billing_children),
                volunteer_hours=extras.hours.get(person.pk, Decimal(0)),
            )
        )
    return result


def test_issue5_fast_adapter_equals_the_model_instance_adapter(club):
    # given the example club (families, guardians, coaches, board, agreements, contracts)
    world_club = club.world.club_a
    ids = selectors.club_person_ids(world_club, SEASON)
    assert GuardianRelation.objects.filter(child_id__in=ids).exists()
    # when the facts are read both ways
    fast = selectors.person_facts(world_club, SEASON, ids)
    # then they are the same values
    assert fast == _reference_facts(world_club, SEASON, ids)
    assert fast == selectors.person_facts(world_club, SEASON)  # None: the whole club


def test_issue5_a_chunk_prices_its_persons_as_the_whole_club_preview(club):
    # given the dues preview of the whole club (the source the pages show)
    world_club = club.world.club_a
    config = selectors.season_config(world_club, SEASON)
    whole = selectors.dues_preview(None, world_club, SEASON)
    ids = selectors.club_person_ids(world_club, SEASON)
    # when each person is priced alone, as a block of one in an invoicing chunk
    for person_id in ids:
        dues, _issues = invoicing_selectors.dues_of(world_club, SEASON, config, [person_id])
        # then the dues are the preview's (redacted as the preview is for non-managers)
        assert [d.redacted() for d in dues] == [whole.season_dues.person(person_id)]


def test_issue5_person_preview_equals_the_club_run(club):
    world_club = club.world.club_a
    whole = selectors.dues_preview(None, world_club, SEASON)
    for person in Person.objects.filter(pk__in=selectors.club_person_ids(world_club, SEASON)):
        preview = selectors.dues_preview(None, person, SEASON, club=world_club)
        assert preview.person == whole.season_dues.person(person.pk)


def test_any_of_filters_like_in():
    people = PersonFactory.create_batch(3)
    ids = [people[0].pk, people[2].pk]
    assert list(
        Person.objects.filter(selectors.any_of("pk", ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    ) == sorted(ids)
    assert not Person.objects.filter(selectors.any_of("pk", [])).exists()
    assert Person.objects.filter(selectors.any_of("pk", {people[1].pk})).get() == people[1]


def test_person_facts_take_the_same_queries_for_one_person_and_many(
    club, django_assert_max_num_queries
):
    world_club = club.world.club_a
    ids = selectors.club_person_ids(world_club, SEASON)
    with django_assert_max_num_queries(12) as one:
        selectors.person_facts(world_club, SEASON, ids[:1])
    with django_assert_max_num_queries(len(one.captured_queries)):
        facts = selectors.person_facts(world_club, SEASON, ids)
    assert {f.person_id for f in facts} <= set(ids)
    assert dataclasses.is_dataclass(facts[0])
