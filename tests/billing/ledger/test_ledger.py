"""The ledger, its CSV export and the annual membership report (issue 6 scope 8; S-04, S-07)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.ledger import export, rules, selectors, services
from billing.models_ledger import ReportAgeBands
from members.models import FunctionType
from tests.billing.ledger.helpers import SEASON, account, invoice, pay, schedule
from tests.members.factories import FunctionFactory, PersonFactory
from tests.members.factories_memberships import MembershipFactory, default_types

pytestmark = pytest.mark.django_db


def _content(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


# ------------------------------------------------------------------ balances


def test_season_totals_and_payer_balances(world):
    payer = PersonFactory(first_name="Kari", last_name="Nordmann")
    paid = invoice(world.club_a, payer, [(payer, "membership", "", "charge", "500")])
    pay(paid)
    invoice(world.club_a, payer, [(payer, "activity", "football", "charge", "2400")])
    user = world.user("official_this_club")

    totals = selectors.season_totals(user, world.club_a)
    [row] = selectors.payer_balances(world.club_a, selectors.payer_rows(user, world.club_a))

    [season] = totals.seasons
    assert (season.season, season.invoiced, season.paid, season.balance) == (
        SEASON,
        Decimal("2900.00"),
        Decimal("500.00"),
        Decimal("2400.00"),
    )
    assert (row["name"], row["invoiced"], row["paid"], row["balance"]) == (
        "Kari Nordmann",
        Decimal("2900.00"),
        Decimal("500.00"),
        Decimal("2400.00"),
    )
    rows = selectors.ledger_rows(selectors.ledger_invoices(user, world.club_a))
    balances = {row.invoice.number: row.balance for row in rows}
    assert balances == {paid.number: Decimal("0.00"), paid.number + 1: Decimal("2400.00")}


def test_refund_paid_out_and_credit_note_balance_to_zero(world):
    schedule(world.club_a)
    person = PersonFactory()
    account(person, "86011117947")
    from billing.models import VolunteerHours

    VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=2)
    bill = invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")])
    pay(bill)
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    services.refund_approve(actor=None, refund=refund)
    services.refunds_mark_paid(actor=None, club=world.club_a, refund_ids=[refund.pk])

    [season] = selectors.season_totals(world.user("official_this_club"), world.club_a).seasons

    assert (season.invoiced, season.credited, season.paid, season.refunded, season.balance) == (
        Decimal("500.00"),
        Decimal("-200.00"),
        Decimal("500.00"),
        Decimal("200.00"),
        Decimal("0.00"),
    )


def test_ledger_page_query_count(world, client, django_assert_max_num_queries):
    for _index in range(30):
        payer = PersonFactory()
        pay(invoice(world.club_a, payer, [(payer, "membership", "", "charge", "500")]))
    client = world.client("official_this_club")
    url = reverse("billing:ledger", args=[world.club_a.pk])
    client.get(url)  # warm the grants cache

    with django_assert_max_num_queries(16):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.count(b"<tr>") >= 31


def test_payers_page_query_count(world, django_assert_max_num_queries):
    for _index in range(30):
        payer = PersonFactory()
        pay(invoice(world.club_a, payer, [(payer, "membership", "", "charge", "500")]))
    client = world.client("official_this_club")
    url = reverse("billing:ledger-payers", args=[world.club_a.pk])
    client.get(url)

    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert response.status_code == 200


# ------------------------------------------------------------------ the CSV export


def test_export_is_semicolon_decimal_comma_with_bom_and_formula_guard(world):
    payer = PersonFactory(first_name="=HYPERLINK(1)", last_name="X")
    bill = invoice(world.club_a, payer, [(payer, "membership", "", "charge", "1234.5")])
    pay(bill)
    client = world.client("official_this_club")

    invoices = _content(
        client.get(reverse("billing:ledger-export", args=[world.club_a.pk, "invoices"]))
    )
    payments = _content(
        client.get(reverse("billing:ledger-export", args=[world.club_a.pk, "payments"]))
    )
    lines = _content(client.get(reverse("billing:ledger-export", args=[world.club_a.pk, "lines"])))

    assert invoices.startswith("\ufeffnumber;kind;credits_number;")
    row = invoices.splitlines()[1].split(";")
    assert row[9] == "'=HYPERLINK(1) X"  # formula injection guarded
    assert row[10] == "1234,50"
    assert row[5] == "2027-02-01"
    assert payments.splitlines()[1].split(";")[4] == "1234,50"
    assert lines.splitlines()[1].split(";")[-1] == "1234,50"


def test_export_number_format():
    assert export.number(Decimal("-720")) == "-720,00"
    assert export.cell(Decimal("-1.5")) == "-1,50"  # a negative amount stays a number
    assert export.cell("-1") == "'-1"  # a text starting with - is guarded
    assert export.account("86011117947") == "8601.11.17947"


def test_payout_csv_for_the_bank(world):
    schedule(world.club_a)
    person = PersonFactory(first_name="Ola", last_name="Hansen")
    account(person, "86011117947")
    from billing.models import VolunteerHours

    VolunteerHours.objects.create(person=person, club=world.club_a, season=SEASON, hours=3)
    pay(invoice(world.club_a, person, [(person, "volunteer_work", "", "charge", "500")]))
    [refund] = services.refunds_propose_volunteer_work(
        actor=None, club=world.club_a, season=SEASON
    ).created
    services.refund_approve(actor=None, refund=refund)

    content = _content(
        world.client("official_this_club").get(
            reverse("billing:refund-payout-export", args=[world.club_a.pk])
        )
    )

    assert content.splitlines() == [
        "\ufeffname;account;amount;reference",
        f"Ola Hansen;8601.11.17947;300,00;REF-{refund.pk} M-15 {SEASON}",
    ]


# ------------------------------------------------------------------ S-07


def test_s07_age_bands_default_and_age_reached_in_the_year():
    bands = rules.age_bands()
    assert [band.label for band in bands] == ["0-5", "6-12", "13-19", "20-25", "26+"]
    table = rules.tally(2027, bands, [("female", 2015, 1), ("male", 2021, 2), ("male", 2022, 1)])
    # born 2015 -> 12 in 2027; born 2021 -> 6; born 2022 -> 5
    assert (table.count("female", bands[1]), table.count("male", bands[1])) == (1, 2)
    assert table.count("male", bands[0]) == 1
    assert table.total == 4
    with pytest.raises(ValueError, match="S-07"):
        rules.age_bands([1, 6])


def _member(world, types, born, gender, *, paid=True, kind="ordinary", group=None):
    person = PersonFactory(birth_date=born, gender=gender)
    MembershipFactory(
        person=person,
        club=world.club_a,
        membership_type=types[kind],
        start_date=datetime.date(2020, 1, 1),
    )
    bill = invoice(world.club_a, person, [(person, "membership", "", "charge", "500")])
    if paid:
        pay(bill)
    if group is not None:
        FunctionFactory(
            person=person,
            organisation=group,
            function_type=FunctionType.objects.get(code="player"),
            from_date=datetime.date(2020, 1, 1),
        )
    return person


def test_s07_report_counts_paid_memberships_by_gender_and_band(world):
    types = default_types(world.club_a)
    _member(world, types, datetime.date(2015, 5, 1), "female", group=world.team_a)
    _member(world, types, datetime.date(1990, 5, 1), "male")
    _member(world, types, datetime.date(1991, 5, 1), "male", paid=False)
    _member(world, types, datetime.date(1950, 5, 1), "female", kind="honorary")

    report = selectors.membership_report(world.club_a, SEASON)

    bands = report.table.bands
    assert report.table.count("female", bands[1]) == 1  # 12 in 2027
    assert report.table.count("male", bands[4]) == 1
    assert report.table.total == 2  # the unpaid and the honorary member are not paying
    assert report.honorary == 1
    assert report.sports == [(world.group_a.sport or world.group_a.name, 1)]


def test_s07_bands_configured_by_the_federation_and_summed_for_the_region(world):
    ReportAgeBands.objects.create(organisation=world.federation, band_starts=[0, 13, 20])
    types = default_types(world.club_a)
    _member(world, types, datetime.date(2015, 5, 1), "female")

    report = selectors.membership_report(world.region, SEASON)

    assert [band.label for band in report.table.bands] == ["0-12", "13-19", "20+"]
    assert report.table.count("female", report.table.bands[0]) == 1


def test_s07_report_page_svg_and_csv(world, django_assert_max_num_queries):
    types = default_types(world.club_a)
    _member(world, types, datetime.date(2015, 5, 1), "female", group=world.team_a)
    client = world.client("official_this_club")
    url = reverse("billing:membership-report", args=[world.club_a.pk]) + f"?year={SEASON}"
    client.get(url)

    with django_assert_max_num_queries(14):
        response = client.get(url)

    body = response.content.decode()
    chart = body[body.index("<svg") : body.index("</svg>")]
    assert "<script" not in chart and "style=" not in chart  # strict CSP
    assert 'class="chart-bar chart-female"' in body
    content = _content(
        client.get(
            reverse("billing:membership-report-csv", args=[world.club_a.pk]) + f"?year={SEASON}"
        )
    )
    assert content.splitlines()[0] == "\ufeffsection;age_band;female;male;unknown;total"
    assert "members;6-12;1;0;0;1" in content.splitlines()
