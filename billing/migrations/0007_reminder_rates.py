"""S-06: the dated tables of the reminder fee (NOK 35) and the late-interest rate (12.5 % a
year from 1 January 2025, policy rate + 8 points, set per half-year), as DOMAIN.md gives
them. New values are added as new rows (valid_from), never by editing these."""

import datetime
from decimal import Decimal

from django.db import migrations

FEES = [(datetime.date(2025, 1, 1), Decimal("35.00"), "DOMAIN S-06")]
INTEREST = [(datetime.date(2025, 1, 1), Decimal("12.50"), "DOMAIN S-06: policy rate + 8 points")]


def seed(apps, schema_editor):
    ReminderFeeRate = apps.get_model("billing", "ReminderFeeRate")
    LateInterestRate = apps.get_model("billing", "LateInterestRate")
    for valid_from, amount, source in FEES:
        ReminderFeeRate.objects.get_or_create(
            valid_from=valid_from,
            defaults={"amount": amount, "amount_currency": "NOK", "source": source},
        )
    for valid_from, rate, source in INTEREST:
        LateInterestRate.objects.get_or_create(
            valid_from=valid_from, defaults={"rate_percent": rate, "source": source}
        )


def unseed(apps, schema_editor):
    apps.get_model("billing", "ReminderFeeRate").objects.filter(
        valid_from__in=[row[0] for row in FEES]
    ).delete()
    apps.get_model("billing", "LateInterestRate").objects.filter(
        valid_from__in=[row[0] for row in INTEREST]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_delivery_and_reminders")]

    operations = [migrations.RunPython(seed, unseed)]
