"""The Celery app. Broker and results on Redis; settings under CELERY_* in settings.py
(acks_late, reject_on_worker_lost). Tasks subclass Celery's DjangoTask, so
`task.delay_on_commit(...)` queues only after the surrounding transaction commits."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clubadmin.settings")

app = Celery("clubadmin", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
