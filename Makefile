# ThaliMon: two commands on a fresh machine.
#   make demo   install, migrate, seed the demo, serve on http://127.0.0.1:8000 (SQLite, no service needed;
#               HOST=... PORT=... to change; Ctrl-C, or make stop from another shell, stops it)
#   make test   install and run the whole suite against PostgreSQL and Redis

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# Test services (see README): real PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/thalimon
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo stop test bench install install-test serve migrate lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check --upgrade pip
	$(PIP) install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q --disable-pip-version-check -e '.[test]'
	touch $@

# The translations (issue 17): each locale/<lang>/LC_MESSAGES/django.po compiled to its .mo
# (never committed), again whenever the .po changes. Needs GNU gettext (msgfmt).
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
%.mo: %.po $(VENV)/.installed
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules

# No settings file is written: the demo, the tests and the benchmarks set DEBUG=1 for their
# own processes only, so a gunicorn started in this folder never runs with debug on.
install: $(VENV)/.installed $(MESSAGES)
install-test: $(VENV)/.installed-test $(MESSAGES)

demo: install
	DEBUG=1 THALIMON_DEMO=1 $(PY) manage.py migrate --noinput
	DEBUG=1 THALIMON_DEMO=1 $(PY) manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) ./scripts/demo-serve.sh

# Stop a demo running in the background (`make demo &`): its server and its worker.
stop:
	./scripts/demo-serve.sh stop

test: install-test
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1 \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmarks on PostgreSQL (separate databases thalimon_bench*), printing their tables.
bench: install-test
	$(PIP) install -q --disable-pip-version-check -e '.[test,bench]'
	rm -f var/bench/results.jsonl
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) scan_reminders.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) pages.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) page_weight.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) report_timings.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) import_datasheet.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) load.py
	cd bench && DEBUG=1 CELERY_TASK_ALWAYS_EAGER=1 ../$(PY) network_scale.py
	cd bench && DEBUG=1 ../$(PY) soak.py
	cd bench && ../$(PY) summary.py

lint: install-test
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var
