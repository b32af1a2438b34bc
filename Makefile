# JBTestSuite — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/jbtestsuite
TEST_REDIS_URL ?= redis://127.0.0.1:6379/13
PYTEST_ARGS ?=
export SE_OFFLINE := true

.PHONY: run test lint bench venv

$(VENV)/bin/python:
	bash scripts/ensure-system-packages.sh
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

venv: $(VENV)/.runtime-installed

## make run: install everything, migrate, create the admin user and the demo project, start web + worker + beat.
run: $(VENV)/.runtime-installed
	bash scripts/ensure-system-packages.sh
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py load_demo --base-url http://127.0.0.1:$(PORT)/demo/
	@echo
	@echo "JBTestSuite is starting on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/, Ctrl-C stops it)"
	@echo
	PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile start

## make test: the whole suite against PostgreSQL and Redis (started or installed when needed).
test: $(VENV)/.dev-installed
	bash scripts/ensure-system-packages.sh --test
	bash scripts/ensure-selenium-grid.sh
	bash scripts/ensure-services.sh
	ENVIRONMENT=testing DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest $(PYTEST_ARGS)

## make bench: every benchmark, or one (BENCH=api|engine|peer|throughput|distribution|dispatch|soak|timings|live); BENCH_QUICK=1 for a smoke run.
bench: $(VENV)/.dev-installed
	bash scripts/ensure-system-packages.sh --test
	bash scripts/ensure-services.sh
	$(PY) -m bench $(BENCH)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
