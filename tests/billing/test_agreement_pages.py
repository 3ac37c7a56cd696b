"""The agreement pages (issue 5, scope 5): written agreements (D-10), hardship exemptions
(D-11: the general manager's alone, invisible to everyone else), volunteer contracts (D-10),
volunteer hours (M-15), trial periods (D-06) and payment preferences (M-10). Saves go through
the services with their history; a failed save shows why and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from billing import selectors, services_agreements
from billing import services as billing_services
from billing.forms_agreements import CHOOSE_PERSON, VALID_UNTIL_BEFORE_FROM
from billing.models import (
    ExemptionAgreement,
    FeeSchedule,
    PaymentPreference,
    TrialPeriod,
    VolunteerContract,
    VolunteerHours,
)
from billing.pricing.example import HARDSHIP, REFEREES
from tests.billing.factories import (
    SEASON,
    ExemptionAgreementFactory,
    build_example_club,
    function,
)
from tests.billing.pages import billing_state, english, general_manager, manager
from tests.members.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]


@pytest.fixture
def club(world):
    return build_example_club(world)


def agreement_data(person, **changes) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "person": str(person.pk),
        "kind": "referee",
        "rule_id": REFEREES,
        "for_self": "on",
        "fee_kinds": ["activity"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def add_url(club, **params) -> str:  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in {"season": SEASON, **params}.items())
    return reverse("billing:agreement-add", args=[club.world.club_a.pk]) + "?" + query


def history_user(instance):  # type: ignore[no-untyped-def]
    return instance.history.order_by("-history_id").first().history_user


# ------------------------------------------------------------------ D-10 agreements


def test_d10_a_referee_agreement_is_recorded_with_its_history(club):
    client = manager(club.world)

    response = client.post(add_url(club), agreement_data(club["parent"], for_children="on"))

    assert response.status_code == 302
    agreement = ExemptionAgreement.objects.get(person=club["parent"])
    assert (agreement.kind, agreement.rule_id, agreement.for_self, agreement.for_children) == (
        "referee",
        REFEREES,
        True,
        True,
    )
    assert agreement.approved_by.username == "official_this_club-billing.manage"
    assert history_user(agreement) == agreement.approved_by


def test_d10_the_agreement_list_in_bounded_queries(club, django_assert_max_num_queries):
    client = manager(club.world)
    url = reverse("billing:agreement-list", args=[club.world.club_a.pk]) + f"?season={SEASON}"
    client.get(url)
    for name in ("parent", "father"):
        ExemptionAgreementFactory(
            person=club[name], club=club.world.club_a, kind="referee", rule_id=REFEREES
        )
    with django_assert_max_num_queries(12):
        few = client.get(url)
    for name in ("mother", "board", "pensioner", "girl"):
        agreement = ExemptionAgreementFactory(
            person=club[name], club=club.world.club_a, kind="role", rule_id=REFEREES
        )
        agreement.children.set([club["boy"]])
    with django_assert_max_num_queries(12):
        many = client.get(url)

    assert len(few.context["page"].object_list) == 2
    assert len(many.context["page"].object_list) == 6


def test_a_person_of_another_club_cannot_be_chosen_and_nothing_changes(club):
    stranger = PersonFactory(first_name="Fremmed")
    before = billing_state()

    response = manager(club.world).post(add_url(club), agreement_data(stranger))

    assert response.status_code == 200
    assert response.context["form"].errors["person"] == [CHOOSE_PERSON]
    assert billing_state() == before


def test_d11_a_role_agreement_cannot_grant_the_hardship_rule(club):
    before = billing_state()

    response = manager(club.world).post(
        add_url(club), agreement_data(club["parent"], kind="role", rule_id=HARDSHIP)
    )

    assert response.status_code == 200
    assert "rule_id" in response.context["form"].errors  # not offered to the administrator
    with pytest.raises(ValidationError) as error:
        services_agreements.exemption_agreement_record(
            actor=None,
            person=club["parent"],
            club=club.world.club_a,
            season=SEASON,
            kind="role",
            rule_id=HARDSHIP,
        )
    assert error.value.message_dict["rule_id"] == [
        services_agreements.CONFIDENTIAL_RULE_NEEDS_CONFIDENTIAL_KIND
    ]
    assert billing_state() == before


def test_d10_only_the_persons_own_children(club):
    with pytest.raises(ValidationError) as error:
        services_agreements.exemption_agreement_record(
            actor=None,
            person=club["parent"],
            club=club.world.club_a,
            season=SEASON,
            kind="referee",
            rule_id=REFEREES,
            for_self=False,
            for_children=True,
            children=[club["boy"]],
        )

    assert error.value.message_dict["children"] == [
        services_agreements.NOT_THEIR_CHILD % {"name": club["boy"].full_name}
    ]
    assert ExemptionAgreement.objects.count() == 0


def test_d10_edit_narrows_to_some_children_and_the_engine_follows(club):
    agreement = services_agreements.exemption_agreement_record(
        actor=None,
        person=club["parent"],
        club=club.world.club_a,
        season=SEASON,
        kind="referee",
        rule_id=REFEREES,
        for_self=False,
        for_children=True,
    )

    response = manager(club.world).post(
        reverse("billing:agreement-edit", args=[agreement.pk]),
        {
            "kind": "referee",
            "rule_id": REFEREES,
            "for_children": "on",
            "children": [str(club["sibling_3"].pk)],
            "fee_kinds": ["activity"],
            "percent": "50",
        },
    )

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert list(agreement.children.all()) == [club["sibling_3"]]
    assert agreement.percent == Decimal(50)
    facts = {f.person_id: f for f in selectors.person_facts(club.world.club_a, SEASON)}
    assert facts[club["parent"].pk].agreements[0].child_ids == (club["sibling_3"].pk,)


# ------------------------------------------------------------------ D-11 hardship


def test_d11_the_service_itself_refuses_a_role_agreement_granting_hardship(club):
    """The lower-level service checks too, so no caller can slip a confidential rule in
    under another kind."""
    before = billing_state()
    official = club.world.user("official_this_club", "billing.manage")

    with pytest.raises(PermissionDenied):
        billing_services.exemption_agreement_create(
            actor=official,
            person=club["parent"],
            club=club.world.club_a,
            season=SEASON,
            kind="role",
            rule_id=HARDSHIP,
        )

    assert billing_state() == before


def test_d11_the_general_manager_records_a_hardship_exemption(club):
    user, client = general_manager(club.world)

    response = client.post(
        add_url(club, kind="hardship"),
        agreement_data(club["sibling_1"], kind="hardship", rule_id=HARDSHIP),
    )

    assert response.status_code == 302
    assert response.url == (
        reverse("billing:hardship-list", args=[club.world.club_a.pk]) + f"?season={SEASON}"
    )
    agreement = ExemptionAgreement.objects.get(kind="hardship")
    assert agreement.approved_by == user
    hardship_list = client.get(response.url)
    assert [a.pk for a in hardship_list.context["page"].object_list] == [agreement.pk]
    ordinary_list = client.get(reverse("billing:agreement-list", args=[club.world.club_a.pk]))
    assert agreement.pk not in [a.pk for a in ordinary_list.context["page"].object_list]


def test_d11_hardship_is_invisible_to_every_other_administrator(club):
    agreement = ExemptionAgreementFactory(person=club["sibling_1"], club=club.world.club_a)
    client = manager(club.world)
    before = billing_state()

    lists = client.get(
        reverse("billing:agreement-list", args=[club.world.club_a.pk]) + f"?season={SEASON}"
    )
    hardship = client.get(reverse("billing:hardship-list", args=[club.world.club_a.pk]))
    edit = client.get(reverse("billing:agreement-edit", args=[agreement.pk]))
    delete = client.post(reverse("billing:agreement-delete", args=[agreement.pk]))
    form = client.get(add_url(club, kind="hardship"))

    assert list(lists.context["page"].object_list) == []
    assert "hardship" not in lists.content.decode().lower()
    assert (hardship.status_code, edit.status_code, delete.status_code) == (404, 404, 404)
    assert "hardship" not in dict(form.context["form"].fields["kind"].choices)
    assert HARDSHIP not in dict(form.context["form"].fields["rule_id"].choices)
    assert billing_state() == before
    with pytest.raises(PermissionDenied):
        services_agreements.exemption_agreement_update(
            actor=club.world.user("official_this_club", "billing.manage"),
            agreement=agreement,
            percent=Decimal(10),
        )


def test_d11_the_general_manager_changes_and_removes_a_hardship_exemption(club):
    agreement = ExemptionAgreementFactory(person=club["sibling_1"], club=club.world.club_a)
    _user, client = general_manager(club.world)

    edit = client.post(
        reverse("billing:agreement-edit", args=[agreement.pk]),
        agreement_data(club["sibling_1"], kind="hardship", rule_id=HARDSHIP, percent="60"),
    )
    agreement.refresh_from_db()
    assert (edit.status_code, agreement.percent) == (302, Decimal(60))

    delete = client.post(reverse("billing:agreement-delete", args=[agreement.pk]))

    assert delete.status_code == 302
    assert not ExemptionAgreement.objects.filter(pk=agreement.pk).exists()
    assert agreement.history.filter(history_type="-").get().history_user is not None


# ------------------------------------------------------------------ D-10 volunteer contracts


def test_d10_a_contract_is_registered_ended_and_refused_with_reversed_dates(club):
    client = manager(club.world)
    url = reverse("billing:contract-list", args=[club.world.club_a.pk])

    client.post(url, {"person": str(club["father"].pk), "signed_on": "2026-12-01"})
    contract = VolunteerContract.objects.get(person=club["father"])
    before = billing_state()
    refused = client.post(
        reverse("billing:contract-edit", args=[contract.pk]),
        {"signed_on": "2026-12-01", "valid_until": "2026-01-01"},
    )
    assert refused.context["form"].errors["valid_until"] == [VALID_UNTIL_BEFORE_FROM]
    assert billing_state() == before
    ended = client.post(
        reverse("billing:contract-edit", args=[contract.pk]),
        {"signed_on": "2026-12-01", "valid_until": f"{SEASON}-06-30"},
    )

    contract.refresh_from_db()
    assert ended.status_code == 302
    assert contract.valid_until == datetime.date(SEASON, 6, 30)
    assert history_user(contract).username == "official_this_club-billing.manage"


def test_contract_list_in_bounded_queries(club, django_assert_max_num_queries):
    client = manager(club.world)
    url = reverse("billing:contract-list", args=[club.world.club_a.pk])
    client.get(url)
    with django_assert_max_num_queries(12):
        few = client.get(url)
    for name in ("mother", "father", "parent", "pensioner"):
        VolunteerContract.objects.create(
            person=club[name], club=club.world.club_a, signed_on=datetime.date(2026, 1, 1)
        )
    with django_assert_max_num_queries(12):
        many = client.get(url)

    assert len(few.context["page"].object_list) == 1  # the board member's
    assert len(many.context["page"].object_list) == 5


# ------------------------------------------------------------------ M-15 volunteer hours


def test_m15_hours_are_set_and_refunded_by_the_engine(club, django_assert_max_num_queries):
    client = manager(club.world)
    url = reverse("billing:hours-list", args=[club.world.club_a.pk]) + f"?season={SEASON}"

    response = client.post(url, {"person": str(club["father"].pk), "hours": "3"})
    refused = client.post(url, {"person": str(club["father"].pk), "hours": "-1"})

    assert response.status_code == 302
    assert refused.status_code == 200
    assert VolunteerHours.objects.get(person=club["father"]).hours == Decimal(3)
    dues = selectors.dues_preview(None, club["father"], SEASON, club=club.world.club_a).person
    assert "M-15 refund 3 h x 100: -300" in [line.reason for line in dues.lines]
    with django_assert_max_num_queries(12):
        client.get(url)


# ------------------------------------------------------------------ D-06 trial periods


def test_d06_a_trial_is_started_and_the_former_club_agreement_recorded(club):
    client = english(club.world.client("official_this_club", "members.manage"))
    newcomer = PersonFactory(first_name="Ny")
    url = reverse("billing:trial-list", args=[club.world.club_a.pk])
    # a new player may not be in the club yet: any person the user may see
    function(newcomer, club.world.club_b, "player")
    staff = english(club.world.client("federation_staff", "members.manage"))

    response = staff.post(
        url,
        {
            "person": str(newcomer.pk),
            "team": str(club.team_football.pk),
            "start_date": f"{SEASON}-04-01",
            "from_other_club": "on",
        },
    )
    trial = TrialPeriod.objects.get(person=newcomer)
    agreed = client.post(
        reverse("billing:trial-edit", args=[trial.pk]),
        {"start_date": f"{SEASON}-04-01", "from_other_club": "on", "former_club_agreed": "on"},
    )

    trial.refresh_from_db()
    assert (response.status_code, agreed.status_code) == (302, 302)
    assert trial.former_club_agreed is True
    assert history_user(trial).username == "official_this_club-members.manage"


# ------------------------------------------------------------------ M-10 payment preference


def test_m10_paying_online_removes_the_invoice_fee_with_history(club):
    client = manager(club.world)

    response = client.post(
        reverse("billing:payment-list", args=[club.world.club_a.pk]),
        {"person": str(club["pensioner"].pk), "method": "online"},
    )

    preference = PaymentPreference.objects.get(person=club["pensioner"])
    assert response.status_code == 302
    assert preference.method == "online"
    assert history_user(preference).username == "official_this_club-billing.manage"
    dues = selectors.dues_preview(None, club["pensioner"], SEASON, club=club.world.club_a).person
    assert "invoice_fee" not in [line.fee for line in dues.lines]


def test_person_lookup_offers_only_persons_of_the_club(club):
    PersonFactory(first_name="Sibling", last_name="Stranger")
    client = manager(club.world)

    response = client.get(
        reverse("billing:person-lookup", args=[club.world.club_a.pk]), {"q": "Sibling"}
    )

    assert sorted(p.pk for p in response.context["persons"]) == sorted(
        club[name].pk for name in ("sibling_1", "sibling_2", "sibling_3")
    )


def test_d06_the_trial_pages_state_the_clubs_own_trial_length(club):
    """D-06: the trial length is the club's schedule setting, and the pages say so."""
    FeeSchedule.objects.filter(club=club.world.club_a, season=SEASON).update(trial_days=10)
    client = english(club.world.client("official_this_club", "members.manage"))
    newcomer = PersonFactory(first_name="Ny")
    function(newcomer, club.world.club_a, "player")
    trial = TrialPeriod.objects.create(
        person=newcomer, team=club.team_football, start_date=datetime.date(SEASON, 4, 1)
    )

    listed = client.get(
        reverse("billing:trial-list", args=[club.world.club_a.pk]) + f"?season={SEASON}"
    )
    edited = client.get(reverse("billing:trial-edit", args=[trial.pk]))

    assert "up to 10 days" in listed.content.decode()
    assert "up to 10 days" in edited.content.decode()
    assert selectors.club_trial_days(club.world.club_b, SEASON) == 21


@pytest.mark.parametrize("name", ["billing:trial-list", "billing:payment-list"])
def test_trial_and_payment_lists_in_bounded_queries(club, name, django_assert_max_num_queries):
    client = manager(club.world)
    url = reverse(name, args=[club.world.club_a.pk])
    client.get(url)
    with django_assert_max_num_queries(14):
        client.get(url)
    for person_name in ("mother", "father", "parent", "pensioner", "girl", "boy"):
        person = club[person_name]
        TrialPeriod.objects.create(
            person=person, team=club.team_football, start_date=datetime.date(SEASON, 4, 1)
        )
        PaymentPreference.objects.create(person=person, club=club.world.club_a, method="online")
    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert len(response.context["page"].object_list) == 6
