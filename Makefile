# Presence: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0
PORT ?= 8000

BASE_STAMP := $(VENV)/.installed-base
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test fuzz lint format check-migrations check-deploy install install-dev freeze system-packages-run system-packages-test env clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE_STAMP): $(BIN)/python requirements/base.txt requirements/constraints.txt requirements/prod.txt requirements/nodeps.txt
	$(BIN)/pip install --quiet -r requirements/prod.txt
	$(BIN)/pip install --quiet --no-deps -r requirements/nodeps.txt
	touch $@

$(DEV_STAMP): $(BASE_STAMP) requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(BASE_STAMP)

install-dev: $(DEV_STAMP)

## Rewrite requirements/constraints.txt from the dev environment (after changing a pin).
freeze: $(DEV_STAMP)
	{ sed -n '/^#/p' requirements/constraints.txt; $(BIN)/pip freeze --exclude-editable; } > requirements/constraints.txt.new
	mv requirements/constraints.txt.new requirements/constraints.txt

## Debian packages beyond Python: installed when root with apt-get, else the exact command.
system-packages-run:
	bash .ci/system-packages run

system-packages-test:
	bash .ci/system-packages test

## Start the embedded system on http://localhost:8000 (SQLite, in-memory layers, local media).
## PRESENCE_EMBEDDED lets it make its own SECRET_KEY once, kept in var/secret-key.
run: export DEBUG ?= 1
run: export PRESENCE_SERVER = 1
run: export PRESENCE_EMBEDDED = 1
run: system-packages-run $(BASE_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py welcome --host $(HOST) --port $(PORT)
	$(BIN)/python manage.py serve --workers 1 --bind $(HOST):$(PORT)

## Run the whole test suite (against DATABASE_URL and REDIS_URL when they are set).
## Then the attendance tests once more on SQLite, the embedded run's database: its raw SQL
## differs there (no FOR UPDATE, no LIMIT in a UNION, naive datetimes from a raw cursor).
test: system-packages-test $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -q -p no:cacheprovider attendance/tests

## Fuzz the API with schemathesis against its own schema (a throwaway PostgreSQL database).
fuzz: $(DEV_STAMP)
	FUZZ_DATABASE_URL=$${FUZZ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/presence_fuzz} \
		PYTHON=$(BIN)/python bash .ci/schemathesis

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: export PRESENCE_EMBEDDED ?= 1
check-migrations: $(DEV_STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

## Django's deployment checks as production runs (DEBUG off, a real key): must be clean.
check-deploy: $(BASE_STAMP)
	DEBUG=0 SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

## Write .env for `docker compose up` with random secrets (never overwrites an existing one).
env:
	@bash .ci/make-env .env

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
