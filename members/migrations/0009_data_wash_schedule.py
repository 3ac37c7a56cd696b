"""P-07: the scheduled data wash against the population register: a Celery beat entry for the
task `members.data_wash` (members/datawash.py), Sundays 02:30 Oslo time. Superusers can change
or disable it in the admin (django_celery_beat)."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Data wash against the population register (P-07)"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="0",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Oslo",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "members.data_wash",
            "crontab": crontab,
            "kwargs": '{"batch_size": 500}',
            "enabled": True,
            "description": (
                "Compares persons who did not reserve themselves with the population register "
                "file of POPULATION_REGISTER_FILE and corrects outdated values (P-07)."
            ),
        },
    )
    # Tell a running beat to reload its schedule (signals do not run in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_memberships_and_families"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
