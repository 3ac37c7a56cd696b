#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that clubadmin talks to are there.
#
#   scripts/services.sh [ensure]   check DATABASE_URL's PostgreSQL and REDIS_URL's Redis; start a
#                                  project-local server under .local/ for one that does not answer
#                                  (when the server programs are installed), then create the
#                                  database named in DATABASE_URL if it is missing
#   scripts/services.sh stop       stop the project-local servers that this script started
#   scripts/services.sh status     say what answers where
#
# Defaults: DATABASE_URL=postgres://postgres@127.0.0.1:5432/clubadmin,
#           REDIS_URL=redis://127.0.0.1:6379/0 (the same as clubadmin/settings.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_HOME="$LOCAL/postgres"
PG_DATA="$PG_HOME/data"
PG_LOG="$PG_HOME/postgres.log"
REDIS_HOME="$LOCAL/redis"
REDIS_PIDFILE="$REDIS_HOME/redis.pid"
REDIS_LOG="$REDIS_HOME/redis.log"

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clubadmin}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

# A Python for parsing URLs and for the fallback checks: the project's, else the system's.
if [[ -x "$ROOT/.venv/bin/python" ]]; then
    PY="$ROOT/.venv/bin/python"
elif command -v python3 >/dev/null 2>&1; then
    PY="$(command -v python3)"
else
    die "python3 is needed to read DATABASE_URL and REDIS_URL"
fi

# Read the parts of both URLs (set by the eval below).
PG_HOST="" PG_PORT="" PG_USER="" PG_PASSWORD="" PG_DB="" REDIS_HOST="" REDIS_PORT="" REDIS_PASSWORD=""
eval "$("$PY" - "$DATABASE_URL" "$REDIS_URL" <<'PYEOF'
import shlex
import sys
from urllib.parse import unquote, urlsplit

database, redis = (urlsplit(url) for url in sys.argv[1:3])
values = {
    "PG_HOST": unquote(database.hostname or "") or "127.0.0.1",
    "PG_PORT": str(database.port or 5432),
    "PG_USER": unquote(database.username or "") or "postgres",
    "PG_PASSWORD": unquote(database.password or ""),
    "PG_DB": unquote(database.path.lstrip("/")) or "clubadmin",
    "REDIS_HOST": unquote(redis.hostname or "") or "127.0.0.1",
    "REDIS_PORT": str(redis.port or 6379),
    "REDIS_PASSWORD": unquote(redis.password or ""),
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
PYEOF
)"

is_local_host() {
    case "$1" in
        127.0.0.1 | localhost | ::1 | 0.0.0.0) return 0 ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- checks

# A TCP-level check in Python, for machines without the client programs. For PostgreSQL it
# sends an SSLRequest, which every server answers with one byte; for Redis a PING.
python_probe() { # kind host port
    "$PY" - "$@" <<'PYEOF'
import socket
import sys

kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    with socket.create_connection((host, port), timeout=3) as conn:
        if kind == "postgres":
            conn.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))
            answered = conn.recv(1) in (b"S", b"N")
        else:
            conn.sendall(b"PING\r\n")
            answered = conn.recv(64)[:1] in (b"+", b"-")  # -NOAUTH also means it answers
except OSError:
    answered = False
sys.exit(0 if answered else 1)
PYEOF
}

postgres_answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
    else
        python_probe postgres "$PG_HOST" "$PG_PORT"
    fi
}

redis_answers() {
    if command -v redis-cli >/dev/null 2>&1; then
        local reply
        reply="$(REDISCLI_AUTH="$REDIS_PASSWORD" timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null || true)"
        [[ "$reply" == PONG ]]
    else
        python_probe redis "$REDIS_HOST" "$REDIS_PORT"
    fi
}

wait_for() { # check-function seconds
    local check="$1" seconds="$2" i
    for ((i = 0; i < seconds * 5; i++)); do
        if "$check"; then return 0; fi
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------- PostgreSQL

PG_BIN=""
find_postgres_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN="$(dirname "$(command -v pg_ctl)")"
        return 0
    fi
    local dir
    # Newest version first.
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            PG_BIN="$dir"
            return 0
        fi
    done
    return 1
}

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
as_postgres() {
    if [[ "$(id -u)" -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

local_postgres_running() {
    [[ -n "$PG_BIN" && -f "$PG_DATA/postmaster.pid" ]] && as_postgres "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

start_local_postgres() {
    if ! is_local_host "$PG_HOST"; then
        die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT (from DATABASE_URL); that host is not this machine, so start it there or fix DATABASE_URL"
    fi
    if ! find_postgres_bin; then
        die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT and its server is not installed: apt-get install postgresql (or point DATABASE_URL at a running server)"
    fi
    if [[ "$(id -u)" -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        die "running as root, PostgreSQL needs a 'postgres' system user to run as; none exists (apt-get install postgresql creates it)"
    fi
    if local_postgres_running; then
        local running_port
        running_port="$(sed -n 4p "$PG_DATA/postmaster.pid")"
        die "the project-local PostgreSQL in .local/postgres runs on port $running_port, but DATABASE_URL asks for $PG_HOST:$PG_PORT: run 'scripts/services.sh stop' first"
    fi

    mkdir -p "$PG_HOME"
    # The server's unix socket lives inside .local unless that path is too long for a socket.
    local socket_dir="$PG_HOME/run"
    if ((${#socket_dir} + 20 > 100)); then
        socket_dir="/tmp/clubadmin-pg-$(id -u)-$PG_PORT"
    fi
    mkdir -p "$socket_dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown -R postgres: "$PG_HOME" "$socket_dir"
        if ! runuser -u postgres -- test -w "$PG_HOME" 2>/dev/null; then
            die "the postgres user cannot write to $PG_HOME (a parent folder is closed to it); run as a normal user or open the folders"
        fi
    fi

    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        say "creating a project-local PostgreSQL cluster in .local/postgres ($PG_BIN)"
        local locale_option=(--locale=C.UTF-8)
        if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
            locale_option=(--no-locale)
        fi
        as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
            "${locale_option[@]}" >"$PG_HOME/initdb.log" 2>&1 \
            || die "initdb failed; see .local/postgres/initdb.log"
        cat >>"$PG_DATA/postgresql.conf" <<'EOF'

# Project-local development server (scripts/services.sh); host, port and socket folder are
# given on the pg_ctl command line, from DATABASE_URL.
synchronous_commit = off
max_connections = 100
EOF
    fi
    if [[ "$PG_USER" != postgres ]]; then
        say "note: the local cluster's superuser is 'postgres'; creating role '$PG_USER' once it runs"
    fi

    local listen="$PG_HOST"
    [[ "$listen" == 0.0.0.0 ]] && listen=127.0.0.1
    say "starting project-local PostgreSQL on $listen:$PG_PORT (log: .local/postgres/postgres.log)"
    if ! as_postgres "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
        -o "-c listen_addresses='$listen' -c port=$PG_PORT -c unix_socket_directories='$socket_dir'" >/dev/null; then
        tail -n 20 "$PG_LOG" >&2 || true
        die "the project-local PostgreSQL did not start (is port $PG_PORT taken by something else?)"
    fi
    wait_for postgres_answers 30 || die "the project-local PostgreSQL started but does not answer on $PG_HOST:$PG_PORT"
    if [[ "$PG_USER" != postgres ]] && command -v psql >/dev/null 2>&1; then
        psql_as_superuser -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER//\'/\'\'}') THEN CREATE ROLE \"${PG_USER//\"/\"\"}\" LOGIN SUPERUSER; END IF; END\$\$;" >/dev/null
    fi
}

stop_local_postgres() {
    find_postgres_bin || return 0
    if local_postgres_running; then
        say "stopping project-local PostgreSQL (.local/postgres)"
        as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w >/dev/null
    else
        say "no project-local PostgreSQL is running"
    fi
}

psql_as_superuser() {
    PGHOST="$PG_HOST" PGPORT="$PG_PORT" PGUSER=postgres PGPASSWORD="" PGDATABASE=postgres psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# Create the database named in DATABASE_URL when it is missing.
ensure_database() {
    if command -v psql >/dev/null 2>&1; then
        export PGHOST="$PG_HOST" PGPORT="$PG_PORT" PGUSER="$PG_USER" PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5
        local maintenance_db exists=""
        for maintenance_db in postgres template1; do
            if exists="$(psql -X -d "$maintenance_db" -tAc "SELECT 1 FROM pg_database WHERE datname = '${PG_DB//\'/\'\'}'" 2>/dev/null)"; then
                if [[ "$exists" != 1 ]]; then
                    say "creating database $PG_DB"
                    psql -X -q -d "$maintenance_db" -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${PG_DB//\"/\"\"}\"" \
                        || die "could not create database $PG_DB"
                fi
                return 0
            fi
        done
        die "PostgreSQL answers at $PG_HOST:$PG_PORT but user '$PG_USER' cannot log in (check DATABASE_URL and the server's pg_hba.conf)"
    elif "$PY" -c "import psycopg" 2>/dev/null; then
        "$PY" - "$DATABASE_URL" "$PG_DB" <<'PYEOF' || die "could not check or create database $PG_DB"
import sys

import psycopg
from psycopg import sql

url, name = sys.argv[1:3]
maintenance = url.rsplit("/", 1)[0] + "/postgres"
with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        print(f"services: creating database {name}")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PYEOF
    else
        say "neither psql nor psycopg is available: not checking that database $PG_DB exists"
    fi
}

# ---------------------------------------------------------------- Redis

local_redis_pid() {
    [[ -f "$REDIS_PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$REDIS_PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis-server || return 1
    echo "$pid"
}

start_local_redis() {
    if ! is_local_host "$REDIS_HOST"; then
        die "Redis is not reachable at $REDIS_HOST:$REDIS_PORT (from REDIS_URL); that host is not this machine, so start it there or fix REDIS_URL"
    fi
    command -v redis-server >/dev/null 2>&1 \
        || die "Redis is not reachable at $REDIS_HOST:$REDIS_PORT and its server is not installed: apt-get install redis-server (or point REDIS_URL at a running server)"
    if local_redis_pid >/dev/null; then
        die "the project-local Redis (.local/redis, pid $(local_redis_pid)) runs but does not answer at $REDIS_HOST:$REDIS_PORT: run 'scripts/services.sh stop' first"
    fi
    mkdir -p "$REDIS_HOME"
    local bind="$REDIS_HOST"
    [[ "$bind" == localhost || "$bind" == 0.0.0.0 ]] && bind=127.0.0.1
    local auth=()
    [[ -n "$REDIS_PASSWORD" ]] && auth=(--requirepass "$REDIS_PASSWORD")
    say "starting project-local Redis on $bind:$REDIS_PORT (log: .local/redis/redis.log)"
    redis-server --daemonize yes --bind "$bind" --port "$REDIS_PORT" --dir "$REDIS_HOME" \
        --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --save "" --appendonly no "${auth[@]}" \
        || die "redis-server did not start; see .local/redis/redis.log"
    if ! wait_for redis_answers 15; then
        tail -n 20 "$REDIS_LOG" >&2 || true
        die "the project-local Redis started but does not answer on $REDIS_HOST:$REDIS_PORT (is the port taken?)"
    fi
}

stop_local_redis() {
    local pid
    if pid="$(local_redis_pid)"; then
        say "stopping project-local Redis (.local/redis, pid $pid)"
        kill "$pid"
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        rm -f "$REDIS_PIDFILE"
    else
        say "no project-local Redis is running"
    fi
}

# ---------------------------------------------------------------- modes

ensure() {
    if postgres_answers; then
        say "PostgreSQL answers at $PG_HOST:$PG_PORT"
    else
        start_local_postgres
    fi
    if redis_answers; then
        say "Redis answers at $REDIS_HOST:$REDIS_PORT"
    else
        start_local_redis
    fi
    ensure_database
}

status() {
    local code=0
    if postgres_answers; then say "PostgreSQL answers at $PG_HOST:$PG_PORT"; else say "PostgreSQL does NOT answer at $PG_HOST:$PG_PORT"; code=1; fi
    if redis_answers; then say "Redis answers at $REDIS_HOST:$REDIS_PORT"; else say "Redis does NOT answer at $REDIS_HOST:$REDIS_PORT"; code=1; fi
    if find_postgres_bin && local_postgres_running; then say "project-local PostgreSQL runs (.local/postgres)"; fi
    if local_redis_pid >/dev/null; then say "project-local Redis runs (.local/redis)"; fi
    return "$code"
}

case "${1:-ensure}" in
    ensure) ensure ;;
    stop)
        stop_local_postgres
        stop_local_redis
        ;;
    status) status ;;
    *) die "usage: $0 [ensure|stop|status]" ;;
esac
