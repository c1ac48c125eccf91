# The two commands: `make run` (everything, on demo data) and `make test` (every check).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test lint typecheck djcheck security pytest e2e bench clean install

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

# A development .env on first run: DEBUG on, second factor off (the login page says so).
.env:
	@printf '%s\n' "# Made by 'make run' for local use; see .env.example for every setting." \
	  "DEBUG=true" "PORTAL_REQUIRE_2FA=false" > .env
	@echo "Wrote .env (DEBUG=true, PORTAL_REQUIRE_2FA=false) for local use."

run: $(STAMP) .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py run_portal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy .

djcheck: $(STAMP)
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run

# bandit: zero findings (each exception is a `# nosec` with its reason nearby, or a skip
# explained in pyproject.toml); pip-audit where its service is reachable, else "NOT RUN".
security: $(STAMP)
	@$(BIN)/bandit -q -c pyproject.toml -r portal grants ninox_backend 2> >(grep -v "WARNING" >&2)
	@bash .ci/pip-audit.sh

pytest: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

test: lint typecheck djcheck security pytest

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .coverage htmlcov
