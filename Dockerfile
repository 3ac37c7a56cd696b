# clubadmin production image: gunicorn on :8000; the same image runs the Celery worker and beat
# (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# WeasyPrint (invoice PDFs) needs Pango and HarfBuzz and a font; gettext for messages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Static files are collected into the image (STATIC_ROOT, served by WhiteNoise). The key and
# hosts are build-time dummies: the real ones come from the environment at run time.
RUN DJANGO_ENV=production SECRET_KEY=build-only-dummy-key-not-used-at-run-time \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && mkdir -p /data/media && chown app:app /data/media

ENV DJANGO_ENV=production \
    MEDIA_ROOT=/data/media \
    WEB_CONCURRENCY=3 \
    FORWARDED_ALLOW_IPS=*

USER app
EXPOSE 8000
CMD ["gunicorn", "clubadmin.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
