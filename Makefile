# The two commands of the README: `make run` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: run test install system-deps test-sqlite test-postgresql docs lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: install, migrate, seed the demo data, print demo tokens, serve on http://127.0.0.1:8000
run: install
	$(BIN)/datacommons init
	$(BIN)/datacommons demo
	$(BIN)/datacommons serve

## test: install (with the Debian packages the tests need), lint and type-check, run the suite on SQLite, then PostgreSQL
test: install system-deps
	$(MAKE) --no-print-directory lint test-sqlite test-postgresql

system-deps:
	sh scripts/system-deps.sh

test-sqlite: install
	$(BIN)/python -m pytest --db=sqlite $(PYTEST_ARGS)

test-postgresql: install
	$(BIN)/python -m pytest --db=postgresql $(PYTEST_ARGS)

## docs: regenerate the generated references (CLI, configuration)
docs: install
	$(BIN)/python scripts/gen_docs.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache
