"""Tasks of the project itself."""

from celery import shared_task
from django.db import connection


@shared_task(name="clubadmin.health_check")
def health_check() -> dict[str, object]:
    """Proves a worker can reach the database: used by the Celery integration test and by
    operators (`celery -A clubadmin call clubadmin.health_check`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"database": value == 1}
