"""P-14 (issue 4): the reconciler of duplicate detection runs, a Celery beat entry for the task
`members.detection_reconcile` (members/duplicates/tasks.py) every two minutes. It re-queues
chunks whose worker died or whose message was lost, and fails a chunk after three attempts.
Superusers can change or disable it in the admin (django_celery_beat)."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Duplicate detection: re-queue stalled chunks (P-14)"


def add_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    interval, _created = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "members.detection_reconcile",
            "interval": interval,
            "crontab": None,
            "kwargs": "{}",
            "enabled": True,
            "description": (
                "Re-queues chunks of duplicate detection runs that have been running longer "
                "than the chunk timeout or wait without a queued task; fails a chunk after "
                "three attempts (P-14)."
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
        ("members", "0012_duplicates_and_merges"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
