# clubadmin: run, test and tend the project. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Python 3.11 (pyproject.toml: requires-python >=3.11,<3.12): python3.11 when there is one,
# else python3, whose version the venv step checks.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
ONLY ?=
# pytest-xdist processes (one test database each, <TEST_DATABASE_NAME>_gw<n>): one per core.
TEST_WORKERS ?= auto
DEMO_PERSONS ?= 2000
DEMO_SEED ?= 1
WEB_PORT ?= 8000

export PYTHONUNBUFFERED := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_ROOT_USER_ACTION := ignore
export WEB_PORT

.PHONY: help run test lint format bench demo migrate services services-stop clean venv

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ------------------------------------------------------------------ environment

venv: $(STAMP) ## create .venv and install the project with its dev tools
	@:

# Reinstalls only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	  if ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	    echo "Python 3.11 is needed: '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo missing)." >&2
	    echo "Install Python 3.11 (e.g. pyenv install 3.11) or run: make PYTHON=/path/to/python3.11 ..." >&2
	    exit 1
	  fi
	  echo "Creating $(VENV) with $$($(PYTHON) --version)"
	  $(PYTHON) -m venv --clear $(VENV)
	fi
	echo "Installing the project and its dev tools into $(VENV) (pip install -e '.[dev]')"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

services: ## make sure PostgreSQL and Redis answer (starting local ones if needed), create the database
	@bash scripts/services.sh ensure

services-stop: ## stop the project-local PostgreSQL/Redis that `make services` started
	@bash scripts/services.sh stop

migrate: venv services ## apply the database migrations
	@$(BIN)/python manage.py migrate --noinput

# ------------------------------------------------------------------ running

run: migrate ## run web + Celery worker + beat with demo data on http://127.0.0.1:8000
	@$(BIN)/python manage.py seed_demo --persons $(DEMO_PERSONS) --seed $(DEMO_SEED)
	echo
	echo "  clubadmin: http://127.0.0.1:$(WEB_PORT)/   (Django admin: /admin/, API docs: /api/docs/)"
	echo "  Demo logins, password demo-passord-2026:"
	echo "    forbund (federation staff, also /admin/), dagligleder (general manager, Sagene IF),"
	echo "    lagleder (team leader), dommer (referee), forelder (parent), admin (superuser)"
	echo "  Ctrl-C stops the web server, the worker and beat."
	echo
	exec $(BIN)/honcho -f Procfile.dev start

demo: migrate ## reset the demo data and seed it again
	@$(BIN)/python manage.py seed_demo --persons $(DEMO_PERSONS) --seed $(DEMO_SEED) --reset

# ------------------------------------------------------------------ checks

# Lint errors fail the target, but pytest still runs so that one run shows both.
test: venv services ## ruff check, then pytest on every core (ARGS="...", TEST_WORKERS=0 for one process)
	@echo "ruff check ."
	lint_status=0
	$(BIN)/ruff check . || lint_status=$$?
	test_status=0
	$(BIN)/pytest -n $(TEST_WORKERS) $(ARGS) || test_status=$$?
	if [[ $$test_status -eq 5 ]]; then
	  echo "make test: pytest collected no tests (exit 5), not counted as a failure"
	  test_status=0
	fi
	if [[ $$lint_status -ne 0 ]]; then
	  echo "make test: FAILED: ruff check found lint errors (see above; 'make format' fixes many)" >&2
	  exit 1
	fi
	exit $$test_status

lint: venv ## ruff check and ruff format --check
	@status=0
	$(BIN)/ruff check . || status=1
	$(BIN)/ruff format --check . || status=1
	exit $$status

format: venv ## ruff format, then ruff check --fix
	@$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: migrate ## run tests/bench/bench_*.py (only bench_$(ONLY)*.py with ONLY=prefix)
	@shopt -s nullglob
	scripts=(tests/bench/bench_$(ONLY)*.py)
	if (( $${#scripts[@]} == 0 )); then
	  echo "No benchmark scripts tests/bench/bench_$(ONLY)*.py: nothing to run."
	  exit 0
	fi
	export PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" DJANGO_SETTINGS_MODULE=clubadmin.settings
	failed=()
	for script in "$${scripts[@]}"; do
	  echo "== $$script"
	  $(BIN)/python "$$script" || failed+=("$$script")
	done
	if (( $${#failed[@]} )); then
	  echo "Failed: $${failed[*]}" >&2
	  exit 1
	fi

clean: ## remove caches (not .venv, not .local)
	@find . -path ./.venv -prune -o -path ./.local -prune -o -path ./.git -prune -o \
	  -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache .mypy_cache .coverage htmlcov
