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

# The web server, a Celery worker and beat run together; Ctrl-C, or SIGTERM to make,
# stops all three. The server runs in the background too, so that the shell, waiting
# for it, acts on the signal at once (a foreground command would hold it back). The
# worker is stopped first and on its own: it stops its pool itself, which a signal to
# the whole process group could leave waiting for ever (see tests/worker.py).
run: setup
	@echo ""
	@echo "  Portal:    http://$(HOST):$(PORT)/"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/"
	@echo "  Staff:     http://$(HOST):$(PORT)/staff/"
	@echo ""
	@trap 'trap - INT TERM EXIT; kill $$worker 2>/dev/null; wait $$worker; kill 0' \
		INT TERM EXIT; \
	DJANGO_DEBUG=1 $(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
		--schedule=var/celerybeat-schedule & worker=$$!; \
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT) & \
	wait $$!

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

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
