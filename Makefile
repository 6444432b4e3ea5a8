# Two commands: `make run` (set up everything, run the portal, worker and beat on
# embedded defaults) and `make test` (the whole suite). See README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: run setup test lint messages bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=python3.x)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py load_demo

# The web server, a Celery worker and Celery beat run together under run_portal, which
# stops all three on Ctrl-C, SIGTERM to make or to its process group, or when one of
# them ends; one beat at a time per var/ (see registry/management/commands/run_portal.py).
# `exec` makes it make's own child, so the SIGTERM make passes on reaches it.
run: setup
	@echo ""
	@echo "  Portal:    http://$(HOST):$(PORT)/"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/"
	@echo "  Staff:     http://$(HOST):$(PORT)/staff/"
	@echo ""
	@DJANGO_DEBUG=1 exec $(BIN)/python manage.py run_portal --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff, and the layers of pyproject's [tool.importlinter] contracts (README: "How it
# is built").
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --cache-dir var/import_linter_cache

# Rebuild the Indonesian translations after changing user-facing text.
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l id --no-obsolete --ignore=.venv --ignore=tests
	$(BIN)/python manage.py compilemessages -l id --ignore=.venv

# `make bench` lists the benchmarks; `make bench B="appointments_booking --runs 3"` runs
# one (most need DATABASE_URL set to PostgreSQL; see README.md).
bench: $(VENV)/.installed
	$(BIN)/python -m tests.benchmarks $(B)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
