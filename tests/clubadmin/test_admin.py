"""The Django admin for federation staff: scoped choices, writes through the services."""

import pytest
from django.test import Client

from members.models import Function, FunctionType, Organisation
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db


def _organisation_add_data(parent, name="Nydalen IL"):
    return {
        "parent": parent.pk,
        "name": name,
        "organisation_type": "club",
        "is_active": "on",
        "country": "NO",
        "kid_algorithm": "MOD10",
        "kid_length": "10",
    }


def test_staff_add_a_club_in_their_federation_and_the_change_is_audited(world):
    client = world.client("federation_staff")
    staff = world.user("federation_staff")
    form = client.get("/admin/members/organisation/add/").context["adminform"].form
    parents = set(form.fields["parent"].queryset)
    assert world.region in parents and world.club_c not in parents

    response = client.post("/admin/members/organisation/add/", _organisation_add_data(world.region))
    assert response.status_code == 302, response.context["adminform"].form.errors
    club = Organisation.objects.get(name="Nydalen IL")
    assert club.path.startswith(world.region.path)
    assert club.history.latest().history_user == staff


def test_staff_cannot_add_under_another_federation(world):
    client = world.client("federation_staff")
    before = Organisation.objects.count()
    response = client.post("/admin/members/organisation/add/", _organisation_add_data(world.club_c))
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Organisation.objects.count() == before


def test_the_admin_cannot_change_an_organisations_type(world):
    client = world.client("federation_staff")
    form = (
        client.get(f"/admin/members/organisation/{world.club_a.pk}/change/")
        .context["adminform"]
        .form
    )
    assert "organisation_type" not in form.fields  # read-only on change


def test_staff_add_a_function_through_the_admin(world):
    client = world.client("federation_staff")
    coach = FunctionType.objects.get(code="coach")
    response = client.post(
        "/admin/members/function/add/",
        {
            "person": world.player_a.pk,
            "organisation": world.team_a.pk,
            "function_type": coach.pk,
            "from_date": "2026-01-01",
        },
    )
    assert response.status_code == 302
    function = Function.objects.get(person=world.player_a, function_type=coach)
    assert function.history.latest().history_user == world.user("federation_staff")


def test_admin_function_add_checks_placement_rules(world):
    client = world.client("federation_staff")
    before = Function.objects.count()
    response = client.post(
        "/admin/members/function/add/",
        {
            "person": world.player_a.pk,
            "organisation": world.team_a.pk,
            "function_type": FunctionType.objects.get(code="general-manager").pk,
            "from_date": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert "function_type" in response.context["adminform"].form.errors
    assert Function.objects.count() == before


def test_staff_may_not_change_logins_or_function_types(world):
    client = world.client("federation_staff")
    member = world.user("member")
    assert client.get(f"/admin/members/user/{member.pk}/change/").status_code == 200  # view only
    response = client.post(
        f"/admin/members/user/{member.pk}/change/", {"username": "x", "is_superuser": "on"}
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert (member.username, member.is_superuser) == ("member-any", False)
    types = FunctionType.objects.get(code="coach")
    response = client.post(f"/admin/members/functiontype/{types.pk}/change/", {"name": "Sjef"})
    assert response.status_code == 403
    assert FunctionType.objects.get(code="coach").name == "Trener"


def test_staff_without_admin_access_capability_are_refused(world):
    user = UserFactory(is_staff=True)  # staff flag but no function granting admin.access
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302


def test_licence_periods_are_scoped_to_the_issuing_organisation(world):
    from members.models import LicencePeriod

    own = LicencePeriod.objects.create(
        organisation=world.federation,
        name="Fotball 2027",
        sport="Fotball",
        valid_from="2027-01-01",
        valid_to="2027-12-31",
    )
    other = LicencePeriod.objects.create(
        organisation=world.federation_2,
        name="Innebandy 2027",
        sport="Innebandy",
        valid_from="2027-01-01",
        valid_to="2027-12-31",
    )
    client = world.client("federation_staff")
    page = client.get("/admin/members/licenceperiod/").content.decode()
    assert own.name in page and other.name not in page
    assert client.get(f"/admin/members/licenceperiod/{other.pk}/change/").status_code == 302

    form = client.get("/admin/members/licenceperiod/add/").context["adminform"].form
    choices = set(form.fields["organisation"].queryset)
    assert world.federation in choices and world.federation_2 not in choices


@pytest.mark.parametrize("model", ["licence", "competence", "transfer", "contactset"])
def test_person_records_are_read_only_in_the_admin(world, model):
    client = world.client("federation_staff")
    expected = 404 if model == "contactset" else 403  # contact sets only as inlines
    assert client.get(f"/admin/members/{model}/add/").status_code == expected


def test_person_admin_shows_contact_sets_read_only(world):
    client = world.client("federation_staff")
    response = client.get(f"/admin/members/person/{world.player_a.pk}/change/")
    assert response.status_code == 200
    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert {"contact_sets", "bank_accounts", "functions"} <= set(formsets)
    assert not formsets["contact_sets"].has_add_permission
    html = response.content.decode()
    assert world.function_a.organisation.name in html


def _person_admin_data(person, **changes):
    data = {
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat(),
        **{
            f"{prefix}-{key}": value
            for prefix in ("contact_sets", "bank_accounts", "functions")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }
    data.update(changes)
    return data


def test_p05_admin_name_change_needs_confirmation_and_issues_a_new_sports_id(world):
    from members.models import Person, SportsIdHistory

    client = world.client("federation_staff")
    url = f"/admin/members/person/{world.player_a.pk}/change/"
    old_id = world.player_a.sports_id

    response = client.post(url, _person_admin_data(world.player_a, last_name="Ødegaard"))
    assert response.status_code == 200
    assert "confirm_identity_change" in response.context["adminform"].form.errors
    assert Person.objects.get(pk=world.player_a.pk).last_name == "Ødegård"

    response = client.post(
        url, _person_admin_data(world.player_a, last_name="Ødegaard", confirm_identity_change="on")
    )
    assert response.status_code == 302
    person = Person.objects.get(pk=world.player_a.pk)
    assert person.last_name == "Ødegaard" and person.sports_id != old_id
    assert SportsIdHistory.objects.filter(person=person, sports_id=old_id).exists()


def test_an_old_version_of_a_read_only_record_is_not_saved_back_through_history(world):
    """django-simple-history's revert page saves on POST after checking only the view
    permission; a read-only person record (here a competence) refuses the POST."""
    import datetime

    from members.models import Competence, CompetenceType

    kind = CompetenceType.objects.create(code="trener-1", name="Trener 1")
    competence = Competence.objects.create(
        person=world.player_a,
        competence_type=kind,
        comment="first",
        valid_from=datetime.date(2026, 1, 1),
    )
    competence.comment = "second"
    competence.save()
    first = competence.history.earliest()
    url = f"/admin/members/competence/{competence.pk}/history/{first.pk}/"
    client = world.client("federation_staff")

    page = client.get(url)
    response = client.post(
        url,
        {
            "person": world.player_a.pk,
            "competence_type": kind.pk,
            "comment": "overwritten",
            "valid_from": "2026-01-01",
        },
    )

    competence.refresh_from_db()
    assert page.status_code == 200
    assert response.status_code == 403
    assert competence.comment == "second"
