"""Issue 6 scopes 4 and 5: Celery beat entries (django_celery_beat) for
- `billing.deliveries_dispatch` every 2 minutes: plan the deliveries of finished invoicing
  runs, take back outbox rows of dead workers, send;
- `billing.reminders_daily` (D-03) every day at 07:00 Oslo time.
Superusers can change or disable them in the admin."""

from django.db import migrations
from django.utils import timezone

DISPATCH_NAME = "Invoice and reminder delivery (issue 6)"
REMINDERS_NAME = "Reminders of unpaid invoices (D-03, S-06)"


def add_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_two_minutes, _created = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=DISPATCH_NAME,
        defaults={
            "task": "billing.deliveries_dispatch",
            "interval": every_two_minutes,
            "crontab": None,
            "enabled": True,
            "description": "Sends the e-mail outbox of invoices, reminders and team lists.",
        },
    )
    daily, _created = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="7",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Oslo",
    )
    PeriodicTask.objects.update_or_create(
        name=REMINDERS_NAME,
        defaults={
            "task": "billing.reminders_daily",
            "crontab": daily,
            "interval": None,
            "enabled": True,
            "description": (
                "Reminds unpaid invoices the club's number of days after the due date and "
                "sends team leaders their team's unpaid list (D-03, S-06)."
            ),
        },
    )
    # Tell a running beat to reload its schedule (signals do not run in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[DISPATCH_NAME, REMINDERS_NAME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_reminder_rates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
