"""Issue 6 scope 1: the reconciler of invoicing runs, a Celery beat entry for the task
`billing.invoicing_reconcile` (billing/invoicing/tasks.py) every minute. It re-queues chunks
whose worker died (running longer than the chunk timeout) or whose message was lost (pending
in a run nothing happened to), and fails a chunk after three attempts: we do not rely on the
broker's visibility timeout. Superusers can change or disable it in the admin
(django_celery_beat)."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Invoicing runs: re-queue stalled chunks (issue 6)"


def add_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    interval, _created = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "billing.invoicing_reconcile",
            "interval": interval,
            "crontab": None,
            "kwargs": "{}",
            "enabled": True,
            "description": (
                "Re-queues chunks of invoicing runs that have been running longer than the "
                "chunk timeout or wait without a queued task; fails a chunk after three "
                "attempts (issue 6)."
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
        ("billing", "0010_refunds_and_report_bands"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
