# Presence: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0
PORT ?= 8000

BASE_STAMP := $(VENV)/.installed-base
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format check-migrations install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE_STAMP): $(BIN)/python requirements/base.txt requirements/prod.txt requirements/nodeps.txt
	$(BIN)/pip install --quiet -r requirements/prod.txt
	$(BIN)/pip install --quiet --no-deps -r requirements/nodeps.txt
	touch $@

$(DEV_STAMP): $(BASE_STAMP) requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(BASE_STAMP)

install-dev: $(DEV_STAMP)

## Start the embedded system on http://localhost:8000 (SQLite, in-memory layers, local media).
run: export DEBUG ?= 1
run: export PRESENCE_SERVER = 1
run: $(BASE_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py seed_demo
	$(BIN)/daphne --bind $(HOST) --port $(PORT) config.asgi:application

## Run the whole test suite (against DATABASE_URL and REDIS_URL when they are set).
test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: $(DEV_STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
