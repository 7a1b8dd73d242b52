# Two commands for a newcomer: `make run` (the app with demo data) and `make test` (the suite).
# Only Python 3.11+ and make are needed; everything else goes into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup test lint format clean

# Links in the emails the demo sends (surveys, blueprints) point where `make run` serves, so
# `make run PORT=8055` gets links to port 8055. An explicit SITE_URL wins.
setup run: export SITE_URL ?= http://$(HOST):$(PORT)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@touch $(STAMP)

# Everything `make run` does before serving; CI runs it on a fresh checkout as a smoke test.
setup: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run_nightly

run: setup
	@echo ""
	@echo "  CSM is running at http://$(HOST):$(PORT)/"
	@echo "  Demo login: maya@demo.example / demo (a CSM)   or   sam@demo.example / demo (a manager)"
	@echo ""
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
