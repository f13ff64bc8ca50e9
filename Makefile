# The two commands of the README: `make run` and `make test`. Both work on a fresh clone.
#
# Installs go through uv (pinned, itself installed from PyPI into .uv/) at exactly the versions of
# constraints.txt, the project's lock: `make run` installs what the commons needs, `make test` adds
# the test and lint tools. uv uses the machine's python3; it never downloads an interpreter.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
PYTEST_ARGS ?= -n 2
export UV_PYTHON_DOWNLOADS := never
INSTALL = $(UV) pip install --quiet --python $(BIN)/python -c constraints.txt

.PHONY: run test install install-run system-deps test-sqlite test-postgresql docs lint clean

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .uv uv==$(UV_VERSION)

$(BIN)/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(INSTALL) -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(INSTALL) -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

install: $(STAMP)

install-run: $(RUN_STAMP)

## run: install, migrate, seed the demo data, print demo tokens, serve on http://127.0.0.1:8000
run: install-run
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
	rm -rf $(VENV) .uv var .pytest_cache
