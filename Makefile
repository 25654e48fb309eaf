# civic — two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export FLASK_APP = app.py
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: run test test-pg test-browser catalogs migrate demo lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import flask, flask_sqlalchemy, flask_babel, psycopg"
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import pytest, playwright, axe_playwright_python, hypothesis"
	touch $@

catalogs: $(VENV)/.runtime
	$(BIN)/pybabel -q compile -d translations

migrate: $(VENV)/.runtime
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask seed-demo

## make run: install, compile catalogs, migrate SQLite in instance/, load the demo, serve.
run: catalogs demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## make test: install test requirements and run the whole suite (browser lane included
## when Chromium is installed; CIVIC_REQUIRE_BROWSER=1 turns a missing Chromium into a failure).
test: $(VENV)/.dev catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-pg: the unit/integration suite against PostgreSQL (DATABASE_URL must be set);
## civic/counting touches no database, so its tests run once, in make test.
test-pg: $(VENV)/.dev catalogs
	@test -n "$$DATABASE_URL" || { echo "DATABASE_URL is not set"; exit 2; }
	$(BIN)/python -m pytest -m "not browser and not fuzz" --ignore=tests/counting $(PYTEST_ARGS)

test-browser: $(VENV)/.dev catalogs
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check civic tests
	$(BIN)/bandit -q -r civic -ll

clean:
	rm -rf $(VENV) .ci-tmp test-results
