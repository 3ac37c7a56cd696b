"""Licences (P-12): the pure rules, the services, the Licences tab and the API."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from clubadmin.capabilities import Capability
from members import licence_rules
from members.api.common import FIELD_CANNOT_BE_CHANGED
from members.licence_rules import LicenceAction
from members.models import (
    ContactSet,
    Function,
    FunctionType,
    Licence,
    LicenceEvent,
    LicenceStatus,
)
from members.services import licences as services
from tests.members.factories import ContactSetFactory, FunctionFactory, PersonFactory
from tests.members.factories_licences import (
    LicencePeriodFactory,
    LicenceTypeFactory,
    licensed_player_type,
    official,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_interface(settings):
    """These tests read the interface's English texts (the default language is bokmål)."""
    settings.LANGUAGE_CODE = "en"


TODAY = timezone.localdate()
NOK = "NOK"


def nok(amount: str) -> Money:
    return Money(Decimal(amount), NOK)


def _state():
    licences = sorted(
        Licence.objects.values_list(
            "pk",
            "status",
            "licence_type_id",
            "function_id",
            "amount_due",
            "amount_paid",
            "sending_method",
            "delivery_contact_set_id",
        )
    )
    functions = sorted(Function.objects.values_list("pk", "to_date"))
    return licences, functions, LicenceEvent.objects.count()


@pytest.fixture
def catalogue(world):
    period = LicencePeriodFactory(organisation=world.federation, name="Fotball 2026")
    basic = LicenceTypeFactory(period=period, code="basis", name="Basislisens", price=nok("450"))
    extended = LicenceTypeFactory(
        period=period, code="utvidet", name="Utvidet lisens", price=nok("800")
    )
    return period, basic, extended


@pytest.fixture
def licensed_function(world):
    """Åse's licensed player function in Sagene IF Fotball (below club A)."""
    return FunctionFactory(
        person=world.player_a,
        organisation=world.group_a,
        function_type=licensed_player_type(),
        is_licensed=True,
    )


@pytest.fixture
def editor(world):
    return official(
        world.club_a,
        Capability.PERSONS_VIEW,
        Capability.PERSONS_EDIT,
        Capability.FUNCTIONS_MANAGE,
    )


def _register(world, editor, licence_type, **kwargs):
    return services.licence_register(
        actor=editor,
        person=world.player_a,
        licence_type=licence_type,
        organisation=kwargs.pop("organisation", world.club_a),
        **kwargs,
    )


def _events(licence):
    return list(
        LicenceEvent.objects.filter(licence=licence).values_list(
            "action", "from_status", "to_status", "actor_id"
        )
    )


# --- pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("registered", {"add_payment", "issue", "edit_function", "change_delivery"}),
        (
            "issued",
            {
                "change_type",
                "add_payment",
                "return_payment",
                "resend",
                "edit_function",
                "change_delivery",
            },
        ),
        ("paid", {"return_payment", "edit_function"}),
        ("cancelled", set()),
    ],
)
def test_p12_actions_allowed_by_status(status, expected):
    assert licence_rules.allowed_actions(status, function_is_active=True) == expected


def test_p12_a_licence_with_a_passive_function_only_offers_reactivation():
    for status in ("registered", "issued", "paid"):
        assert licence_rules.allowed_actions(status, function_is_active=False) == {
            LicenceAction.REACTIVATE
        }
    assert licence_rules.allowed_actions("cancelled", function_is_active=False) == set()


def test_p12_type_can_change_until_paid_only():
    assert LicenceAction.CHANGE_TYPE in licence_rules.allowed_actions(
        "issued", function_is_active=True
    )
    assert LicenceAction.CHANGE_TYPE not in licence_rules.allowed_actions(
        "paid", function_is_active=True
    )


@pytest.mark.parametrize(
    ("email", "allowed"), [("kari@example.org", True), ("", False), (" ", False)]
)
def test_p12_email_only_with_an_address(email, allowed):
    assert licence_rules.email_sending_allowed(email) is allowed


@pytest.mark.parametrize(
    ("status", "due", "paid", "was_issued", "expected"),
    [
        ("issued", "450", "449.99", True, "issued"),
        ("issued", "450", "450", True, "paid"),
        ("registered", "450", "500", False, "paid"),
        ("paid", "450", "200", True, "issued"),
        ("paid", "450", "0", False, "registered"),
        ("cancelled", "450", "450", True, "cancelled"),
    ],
)
def test_p12_status_after_payments(status, due, paid, was_issued, expected):
    assert (
        licence_rules.status_after_payments(
            status=status,
            amount_due=Decimal(due),
            amount_paid=Decimal(paid),
            was_issued=was_issued,
        )
        == expected
    )


def test_p10_p12_function_ended_today_is_passive():
    today = datetime.date(2026, 5, 1)
    assert licence_rules.function_is_passive(None, today) is False
    assert licence_rules.function_is_passive(today, today) is True
    assert licence_rules.function_is_passive(datetime.date(2026, 5, 2), today) is False


# --- register --------------------------------------------------------------------------------


def test_p12_register_needs_a_matching_function_and_records_an_event(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    licence.refresh_from_db()
    assert (licence.status, licence.function, licence.organisation) == (
        LicenceStatus.REGISTERED,
        licensed_function,
        world.club_a,
    )
    assert (licence.amount_due, licence.amount_paid) == (nok("450.00"), nok("0.00"))
    assert isinstance(licence.amount_due.amount, Decimal)
    assert _events(licence) == [("registered", "", "registered", editor.pk)]
    event = licence.events.get()
    assert event.detail == {
        "licence_type": "basis",
        "function": licensed_function.pk,
        "amount_due": "450.00",
    }


def test_p12_without_a_matching_function_nothing_is_registered(world, catalogue, editor):
    _, basic, _ = catalogue
    before = _state()
    with pytest.raises(ValidationError) as error:
        _register(world, editor, basic)
    assert error.value.message_dict == {
        "organisation": [
            str(services.NO_MATCHING_FUNCTION)
            % {"function_type": "Lisensspiller", "organisation": "Sagene IF"}
        ]
    }
    assert services.needs_function_activation(error.value) is False
    assert _state() == before


def test_p12_an_ended_matching_function_is_activated_only_when_asked(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    Function.objects.filter(pk=licensed_function.pk).update(to_date=datetime.date(2025, 12, 31))
    before = _state()
    with pytest.raises(ValidationError) as error:
        _register(world, editor, basic)
    assert services.needs_function_activation(error.value) is True
    assert error.value.message_dict == {
        "organisation": [
            str(services.MATCHING_FUNCTION_INACTIVE)
            % {"function_type": "Lisensspiller", "organisation": "Sagene IF"}
        ]
    }
    assert _state() == before

    licence = _register(world, editor, basic, activate_function=True)
    assert licence.function.pk == licensed_function.pk
    assert Function.objects.get(pk=licensed_function.pk).to_date is None


def test_p12_registering_an_activation_needs_functions_manage(world, catalogue, licensed_function):
    _, basic, _ = catalogue
    editor_only = official(world.club_a, Capability.PERSONS_EDIT)
    Function.objects.filter(pk=licensed_function.pk).update(to_date=datetime.date(2025, 12, 31))
    before = _state()
    with pytest.raises(PermissionDenied):
        _register(world, editor_only, basic, activate_function=True)
    assert _state() == before


def test_p12_period_must_be_issued_above_the_organisation(world, licensed_function, editor):
    foreign = LicenceTypeFactory(period=LicencePeriodFactory(organisation=world.federation_2))
    before = _state()
    with pytest.raises(ValidationError) as error:
        _register(world, editor, foreign)
    assert error.value.message_dict == {"organisation": [str(services.PERIOD_NOT_FOR_ORGANISATION)]}
    assert _state() == before


def test_p12_one_licence_per_person_and_period(world, catalogue, licensed_function, editor):
    _, basic, extended = catalogue
    first = _register(world, editor, basic)
    before = _state()
    with pytest.raises(ValidationError) as error:
        _register(world, editor, extended)
    assert error.value.message_dict == {"licence_type": [str(services.LICENCE_EXISTS_IN_PERIOD)]}
    assert _state() == before

    Licence.objects.filter(pk=first.pk).update(status=LicenceStatus.CANCELLED)
    assert _register(world, editor, extended).licence_type == extended


@pytest.mark.parametrize("closed", ["type", "period"])
def test_p12_closed_types_and_periods_are_not_offered(
    world, catalogue, licensed_function, editor, closed
):
    period, basic, _ = catalogue
    target = basic if closed == "type" else period
    type(target).objects.filter(pk=target.pk).update(is_active=False)
    message = (
        services.LICENCE_TYPE_INACTIVE if closed == "type" else services.LICENCE_PERIOD_INACTIVE
    )
    with pytest.raises(ValidationError) as error:
        _register(world, editor, basic)
    assert error.value.message_dict == {"licence_type": [str(message)]}
    assert Licence.objects.count() == 0


@pytest.mark.parametrize(
    "capabilities",
    [
        {"club": "b", "caps": (Capability.PERSONS_EDIT, Capability.PERSONS_VIEW)},
        {"club": "a", "caps": (Capability.PERSONS_VIEW, Capability.FUNCTIONS_MANAGE)},
    ],
    ids=["persons.edit in another club", "no persons.edit"],
)
def test_p12_licence_actions_need_persons_edit_there(
    world, catalogue, licensed_function, editor, capabilities
):
    _, basic, _ = catalogue
    organisation = world.club_b if capabilities["club"] == "b" else world.club_a
    user = official(organisation, *capabilities["caps"])
    before = _state()
    with pytest.raises(PermissionDenied):
        _register(world, user, basic)
    licence = _register(world, editor, basic)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.licence_issue(actor=user, licence=licence)
    with pytest.raises(PermissionDenied):
        services.licence_add_payment(actor=user, licence=licence, amount=nok("450"))
    assert _state() == before


# --- sending and delivery (P-12: e-mail only with an address) -------------------------------


def test_p12_email_is_refused_without_an_address(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    ContactSet.objects.filter(person=world.player_a, is_standard=True).update(email="")
    before = _state()
    with pytest.raises(ValidationError) as error:
        _register(world, editor, basic, sending_method="email")
    assert error.value.message_dict == {"sending_method": [str(services.EMAIL_NEEDS_ADDRESS)]}
    assert _state() == before

    work = ContactSetFactory(person=world.player_a, email="ase@jobb.no")
    licence = _register(world, editor, basic, sending_method="email", delivery_contact_set=work)
    assert (licence.sending_method, licence.delivery_contact_set) == ("email", work)


def test_p12_delivery_address_must_be_the_persons_own(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_change_delivery(
            actor=editor,
            licence=licence,
            delivery_contact_set=ContactSetFactory(person=PersonFactory()),
        )
    assert error.value.message_dict == {
        "delivery_contact_set": [str(services.DELIVERY_SET_OF_ANOTHER_PERSON)]
    }
    assert _state() == before


# --- issue, change of type, payments --------------------------------------------------------


@pytest.fixture
def charges(monkeypatch):
    """The billing hook's calls (billing has no service yet: issue 3)."""
    calls = []
    original = services.licence_create_charge

    def record(*, actor, licence):
        calls.append((licence.pk, licence.licence_type.code, licence.amount_due))
        return original(actor=actor, licence=licence)

    monkeypatch.setattr(services, "licence_create_charge", record)
    return calls


def test_p12_issue_sets_amount_due_and_creates_the_charge(
    world, catalogue, licensed_function, editor, charges
):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    LicenceTypeFactory._meta.model.objects.filter(pk=basic.pk).update(price=Decimal("475.00"))
    issued = services.licence_issue(actor=editor, licence=licence, sending_method="email")
    issued.refresh_from_db()
    assert (issued.status, issued.sending_method, issued.amount_due) == (
        "issued",
        "email",
        nok("475.00"),
    )
    assert issued.issued_at is not None and issued.issued_at <= timezone.now()
    assert charges == [(licence.pk, "basis", nok("475.00"))]
    assert _events(licence)[-1] == ("issued", "registered", "issued", editor.pk)

    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_issue(actor=editor, licence=licence)
    assert error.value.messages == [
        str(services.ACTION_NOT_ALLOWED) % {"status": LicenceStatus.ISSUED.label.lower()}
    ]
    assert _state() == before


def test_p12_change_type_until_paid_reissues_with_a_new_invoice(
    world, catalogue, licensed_function, editor, charges
):
    _, basic, extended = catalogue
    licence = _register(world, editor, basic)
    before = _state()
    with pytest.raises(ValidationError):  # registered: issue first
        services.licence_change_type(actor=editor, licence=licence, licence_type=extended)
    assert _state() == before

    services.licence_issue(actor=editor, licence=licence)
    changed = services.licence_change_type(actor=editor, licence=licence, licence_type=extended)
    changed.refresh_from_db()
    assert (changed.licence_type, changed.amount_due, changed.status) == (
        extended,
        nok("800.00"),
        "issued",
    )
    assert charges == [
        (licence.pk, "basis", nok("450.00")),
        (licence.pk, "utvidet", nok("800.00")),
    ]
    event = licence.events.last()
    assert (event.action, event.from_status, event.to_status) == (
        "type_changed",
        "issued",
        "issued",
    )
    assert event.detail == {
        "from_type": "basis",
        "to_type": "utvidet",
        "amount_due": "800.00",
        "new_invoice": True,
    }

    services.licence_add_payment(actor=editor, licence=licence, amount=nok("800"))
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_change_type(actor=editor, licence=licence, licence_type=basic)
    assert error.value.messages == [
        str(services.ACTION_NOT_ALLOWED) % {"status": LicenceStatus.PAID.label.lower()}
    ]
    assert _state() == before


def test_p12_change_type_stays_in_the_period_and_needs_its_own_matching_function(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    licence = services.licence_issue(actor=editor, licence=_register(world, editor, basic))
    other_period = LicenceTypeFactory(period=LicencePeriodFactory(organisation=world.federation))
    coach_licence = LicenceTypeFactory(
        period=basic.period, code="trener", function_type=FunctionType.objects.get(code="coach")
    )
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_change_type(actor=editor, licence=licence, licence_type=other_period)
    assert error.value.message_dict == {"licence_type": [str(services.TYPE_OF_ANOTHER_PERIOD)]}
    with pytest.raises(ValidationError) as error:
        services.licence_change_type(actor=editor, licence=licence, licence_type=coach_licence)
    assert list(error.value.message_dict) == ["organisation"]
    assert _state() == before

    coach = FunctionFactory(
        person=world.player_a,
        organisation=world.team_a,
        function_type=FunctionType.objects.get(code="coach"),
    )
    changed = services.licence_change_type(
        actor=editor, licence=licence, licence_type=coach_licence
    )
    assert changed.function == coach


def test_p12_payments_in_nok_make_the_licence_paid_and_returns_undo_it(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    licence = services.licence_issue(actor=editor, licence=_register(world, editor, basic))

    part = services.licence_add_payment(actor=editor, licence=licence, amount=nok("200.50"))
    assert (part.status, part.amount_paid, part.paid_at) == ("issued", nok("200.50"), None)
    paid = services.licence_add_payment(actor=editor, licence=licence, amount=Decimal("249.50"))
    paid.refresh_from_db()
    assert (paid.status, paid.amount_paid) == ("paid", nok("450.00"))
    assert paid.paid_at is not None

    returned = services.licence_return_payment(actor=editor, licence=licence, amount=nok("50"))
    returned.refresh_from_db()
    assert (returned.status, returned.amount_paid, returned.paid_at) == (
        "issued",
        nok("400.00"),
        None,
    )
    assert [e[:3] for e in _events(licence)] == [
        ("registered", "", "registered"),
        ("issued", "registered", "issued"),
        ("payment_added", "issued", "issued"),
        ("payment_added", "issued", "paid"),
        ("payment_returned", "paid", "issued"),
    ]
    assert licence.events.last().detail == {"amount": "-50.00", "amount_paid": "400.00"}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (nok("0"), services.PAYMENT_NOT_POSITIVE),
        (nok("-10"), services.PAYMENT_NOT_POSITIVE),
        (Money("10", "EUR"), services.PAYMENT_NOT_NOK),
    ],
)
def test_p12_payment_amounts_are_positive_nok(
    world, catalogue, licensed_function, editor, amount, message
):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_add_payment(actor=editor, licence=licence, amount=amount)
    assert error.value.message_dict == {"amount": [str(message)]}
    assert _state() == before


def test_p12_no_more_than_paid_can_be_returned(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    licence = services.licence_issue(actor=editor, licence=_register(world, editor, basic))
    services.licence_add_payment(actor=editor, licence=licence, amount=nok("100"))
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_return_payment(actor=editor, licence=licence, amount=nok("100.01"))
    assert error.value.message_dict == {"amount": [str(services.RETURN_MORE_THAN_PAID)]}
    assert _state() == before


def test_p12_a_registered_licence_can_be_paid_directly(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    licence = services.licence_add_payment(
        actor=editor, licence=_register(world, editor, basic), amount=nok("450")
    )
    assert licence.status == "paid"
    assert licence.issued_at is None


# --- passive function and reactivation ------------------------------------------------------


def test_p12_a_licence_with_a_passive_function_is_reactivated_with_its_function(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    Function.objects.filter(pk=licensed_function.pk).update(to_date=TODAY)
    before = _state()
    with pytest.raises(ValidationError) as error:
        services.licence_issue(actor=editor, licence=licence)
    assert error.value.messages == [str(services.FUNCTION_PASSIVE)]
    assert _state() == before

    reactivated = services.licence_reactivate(actor=editor, licence=licence)
    assert reactivated.function.to_date is None
    assert Function.objects.get(pk=licensed_function.pk).to_date is None
    event = licence.events.last()
    assert (event.action, event.actor) == ("reactivated", editor)
    assert services.licence_issue(actor=editor, licence=licence).status == "issued"

    with pytest.raises(ValidationError):  # the function is active again: nothing to do
        services.licence_reactivate(actor=editor, licence=licence)


def test_p12_p15_reactivation_moves_to_a_current_matching_function(
    world, catalogue, licensed_function, editor
):
    """After the person moved within the club the old licensed function cannot be active again
    (P-15): the licence follows the current one."""
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    Function.objects.filter(pk=licensed_function.pk).update(to_date=TODAY - datetime.timedelta(1))
    current = FunctionFactory(
        person=world.player_a,
        organisation=world.club_a,
        function_type=licensed_player_type(),
        is_licensed=True,
        from_date=TODAY,
    )
    reactivated = services.licence_reactivate(actor=editor, licence=licence)
    assert reactivated.function == current
    assert Function.objects.get(pk=licensed_function.pk).to_date == TODAY - datetime.timedelta(1)
    assert licence.events.last().detail == {
        "function": current.pk,
        "previous_function": licensed_function.pk,
    }


def test_p12_delivery_changes_while_registered_or_issued_not_when_paid(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    home = ContactSetFactory(person=world.player_a, label="Hytta")
    changed = services.licence_change_delivery(
        actor=editor, licence=licence, delivery_contact_set=home, sending_method="post"
    )
    assert changed.delivery_contact_set == home
    services.licence_add_payment(actor=editor, licence=licence, amount=nok("450"))
    before = _state()
    with pytest.raises(ValidationError):
        services.licence_change_delivery(actor=editor, licence=licence, delivery_contact_set=None)
    assert _state() == before


# --- views ------------------------------------------------------------------------------------


def _licences_url(world):
    return reverse("members:person-licences", args=[world.player_a.pk])


def test_p12_licences_tab_shows_licences_passive_functions_and_open_periods(
    world, catalogue, licensed_function, editor
):
    _, basic, _ = catalogue
    next_year = LicenceTypeFactory(
        period=LicencePeriodFactory(organisation=world.federation, name="Fotball 2027")
    )
    _register(world, editor, basic)
    Function.objects.filter(pk=licensed_function.pk).update(to_date=TODAY)
    response = world.client("official_this_club").get(_licences_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Basislisens" in html and "passive function" in html
    assert [t.pk for t in response.context["open_types"]] == [next_year.pk]


def test_licences_tab_query_count_does_not_grow_with_licences(world, licensed_function, editor):
    client = world.client("official_this_club")
    client.get(_licences_url(world))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_licences_url(world)).status_code == 200
        return len(queries)

    def add(year: int) -> None:
        licence_type = LicenceTypeFactory(
            period=LicencePeriodFactory(organisation=world.federation, name=f"Fotball {year}")
        )
        licence = _register(world, editor, licence_type)
        services.licence_change_delivery(
            actor=editor,
            licence=licence,
            delivery_contact_set=ContactSetFactory(person=world.player_a),
        )

    add(2030)
    few = count()
    for year in range(2031, 2036):
        add(year)
    assert count() == few


def test_p12_register_through_the_form_asks_to_activate_an_ended_function(
    world, catalogue, licensed_function
):
    _, basic, _ = catalogue
    Function.objects.filter(pk=licensed_function.pk).update(to_date=datetime.date(2025, 1, 1))
    client = world.client("official_this_club")
    url = reverse("members:person-licence-add", args=[world.player_a.pk])
    page = client.get(f"{url}?licence_type={basic.pk}")
    assert page.context["form"].initial["licence_type"] == basic.pk
    data = {"licence_type": basic.pk, "organisation": world.club_a.pk, "sending_method": "post"}
    before = _state()
    asked = client.post(url, data)
    assert asked.status_code == 200
    assert asked.context["ask_activation"] is True
    assert 'name="activate_function"' in asked.content.decode()
    assert _state() == before

    done = client.post(url, {**data, "activate_function": "on"})
    licence = Licence.objects.get(person=world.player_a)
    assert done.status_code == 302
    assert done.url == reverse(
        "members:person-licence-detail", args=[world.player_a.pk, licence.pk]
    )
    assert Function.objects.get(pk=licensed_function.pk).to_date is None


def test_p12_email_is_not_offered_without_an_address(world, catalogue, licensed_function):
    ContactSet.objects.filter(person=world.player_a, is_standard=True).update(email="")
    client = world.client("official_this_club")
    form = client.get(reverse("members:person-licence-add", args=[world.player_a.pk])).context[
        "form"
    ]
    assert form.fields["sending_method"].choices == [("post", "Post")]


def test_p12_detail_offers_the_actions_of_the_status_and_runs_them(
    world, catalogue, licensed_function, editor
):
    _, basic, extended = catalogue
    licence = _register(world, editor, basic)
    client = world.client("official_this_club")
    detail = reverse("members:person-licence-detail", args=[world.player_a.pk, licence.pk])

    def action(name):
        return reverse("members:person-licence-action", args=[world.player_a.pk, licence.pk, name])

    assert set(client.get(detail).context["forms"]) == {"issue", "add_payment", "change_delivery"}
    assert client.post(action("issue"), {"sending_method": "post"}).status_code == 302
    assert set(client.get(detail).context["forms"]) == {
        "change_type",
        "add_payment",
        "return_payment",
        "resend",
        "change_delivery",
    }
    assert client.post(action("change_type"), {"licence_type": extended.pk}).status_code == 302
    assert client.post(action("add_payment"), {"amount": "800.00"}).status_code == 302
    licence.refresh_from_db()
    assert (licence.status, licence.licence_type, licence.amount_paid) == (
        "paid",
        extended,
        nok("800.00"),
    )
    page = client.get(detail)
    assert set(page.context["forms"]) == {"return_payment"}
    assert "Type changed, new invoice" in page.content.decode()

    before = _state()
    refused = client.post(action("change_type"), {"licence_type": basic.pk})
    assert refused.status_code == 200
    assert refused.context["forms"]["change_type"].non_field_errors() == [
        str(services.ACTION_NOT_ALLOWED) % {"status": LicenceStatus.PAID.label.lower()}
    ]
    assert _state() == before


def test_p12_detail_is_read_only_without_persons_edit(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    viewer = world.client("official_without_capability", Capability.PERSONS_EDIT)
    detail = reverse("members:person-licence-detail", args=[world.player_a.pk, licence.pk])
    assert viewer.get(detail).context["forms"] == {}
    before = _state()
    response = viewer.post(
        reverse("members:person-licence-action", args=[world.player_a.pk, licence.pk, "issue"]),
        {"sending_method": "post"},
    )
    assert response.status_code == 404
    assert _state() == before


# --- API --------------------------------------------------------------------------------------


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_p12_api_register_issue_change_type_pay_and_return(world, catalogue, licensed_function):
    _, basic, extended = catalogue
    client = world.client("official_this_club")
    Function.objects.filter(pk=licensed_function.pk).update(to_date=datetime.date(2025, 1, 1))
    data = {"person": world.player_a.pk, "licence_type": basic.pk, "organisation": world.club_a.pk}
    before = _state()
    asked = _post(client, "/api/v1/licences/", data)
    assert asked.status_code == 400
    assert list(asked.json()) == ["organisation"]
    assert _state() == before

    created = _post(client, "/api/v1/licences/", {**data, "activate_function": True})
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["amount_due"], body["currency"]) == ("registered", "450.00", NOK)
    assert body["allowed_actions"] == ["add_payment", "change_delivery", "edit_function", "issue"]
    url = f"/api/v1/licences/{body['id']}/"

    assert _post(client, url + "issue/", {"sending_method": "email"}).json()["status"] == "issued"
    changed = _post(client, url + "change-type/", {"licence_type": extended.pk}).json()
    assert (changed["licence_type"], changed["amount_due"]) == (extended.pk, "800.00")
    assert _post(client, url + "pay/", {"amount": "800.00"}).json()["status"] == "paid"
    back = _post(client, url + "return-payment/", {"amount": "0.50"}).json()
    assert (back["status"], back["amount_paid"]) == ("issued", "799.50")


def test_p12_api_rejects_moving_a_licence_and_names_the_rule(
    world, catalogue, licensed_function, editor
):
    _, basic, extended = catalogue
    licence = services.licence_issue(actor=editor, licence=_register(world, editor, basic))
    client = world.client("official_this_club")
    before = _state()
    moved = _post(
        client,
        f"/api/v1/licences/{licence.pk}/change-type/",
        {"licence_type": extended.pk, "organisation": world.club_b.pk, "person": 1},
    )
    assert moved.status_code == 400
    assert moved.json() == {
        "organisation": [str(FIELD_CANNOT_BE_CHANGED)],
        "person": [str(FIELD_CANNOT_BE_CHANGED)],
    }
    services.licence_add_payment(actor=editor, licence=licence, amount=nok("450"))
    before = _state()
    paid = _post(
        client, f"/api/v1/licences/{licence.pk}/change-type/", {"licence_type": extended.pk}
    )
    assert paid.status_code == 400
    assert paid.json() == {
        "non_field_errors": [
            str(services.ACTION_NOT_ALLOWED) % {"status": LicenceStatus.PAID.label.lower()}
        ]
    }
    assert _state() == before


def test_p12_api_email_without_address_names_the_field(world, catalogue, licensed_function):
    _, basic, _ = catalogue
    ContactSet.objects.filter(person=world.player_a, is_standard=True).update(email="")
    response = _post(
        world.client("official_this_club"),
        "/api/v1/licences/",
        {
            "person": world.player_a.pk,
            "licence_type": basic.pk,
            "organisation": world.club_a.pk,
            "sending_method": "email",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"sending_method": [str(services.EMAIL_NEEDS_ADDRESS)]}
    assert Licence.objects.count() == 0


def test_p12_api_reactivate(world, catalogue, licensed_function, editor):
    _, basic, _ = catalogue
    licence = _register(world, editor, basic)
    Function.objects.filter(pk=licensed_function.pk).update(to_date=TODAY)
    client = world.client("official_this_club")
    assert client.get(f"/api/v1/licences/{licence.pk}/").json()["allowed_actions"] == ["reactivate"]
    body = _post(client, f"/api/v1/licences/{licence.pk}/reactivate/").json()
    assert (body["function_is_passive"], body["allowed_actions"][0]) == (False, "add_payment")


def test_licence_api_list_query_count_does_not_grow(world, licensed_function, editor):
    client = world.client("official_this_club")
    url = f"/api/v1/licences/?person={world.player_a.pk}"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add(year: int) -> None:
        period = LicencePeriodFactory(organisation=world.federation, name=f"Håndball {year}")
        _register(world, editor, LicenceTypeFactory(period=period))

    add(2030)
    few = count()
    for year in range(2031, 2037):
        add(year)
    assert count() == few
    assert client.get(url).json()["count"] == 7


def test_p12_api_catalogues_are_read_only_and_scoped_to_the_issuing_organisations(world, catalogue):
    period, _, _ = catalogue
    LicencePeriodFactory(organisation=world.federation_2, name="Andreforbund 2026")
    client = world.client("official_this_club")
    periods = client.get("/api/v1/licence-periods/").json()["results"]
    assert [row["name"] for row in periods] == ["Fotball 2026"]
    types = client.get(f"/api/v1/licence-types/?period={period.pk}").json()["results"]
    assert [(row["code"], row["price"], row["currency"]) for row in types] == [
        ("basis", "450.00", NOK),
        ("utvidet", "800.00", NOK),
    ]
    assert _post(client, "/api/v1/licence-periods/", {"name": "x"}).status_code == 405
    assert client.get("/api/v1/licence-periods/").status_code == 200
    assert world.client("member").get("/api/v1/licence-periods/").json()["results"] == []
