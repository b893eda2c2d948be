# Every target installs what it needs first, so a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo dev test test-unit lint bench fuzz dictionary clean

install: $(STAMP)

# marketsync and its simulators (a distribution of their own, marketsync-sandbox, which the demo, the
# tests and the benchmarks need), both editable, in the one `marketsync` namespace.
$(STAMP): pyproject.toml setup.py sandbox/pyproject.toml sandbox/setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./sandbox -e '.[dev]'
	touch $(STAMP)

## Run the main job end to end: embedded Postgres, sandbox simulators, a demo store.
demo: $(STAMP)
	$(BIN)/marketsync demo

## The Dagster UI on the same setup as the demo.
dev: $(STAMP)
	$(BIN)/marketsync dev

# The UI browser test runs when chromium and node are present (.ci/run installs them), else it is skipped
# saying why; playwright-core comes from npm into tests/ui.
UI_DEPS := $(if $(shell command -v npm 2>/dev/null),tests/ui/node_modules/.installed)
test: $(STAMP) $(UI_DEPS)
	$(BIN)/python -m pytest

## Seconds: the pure-function tests only (no database, server or subprocess; conftest.py keeps them so).
test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit -q

## The gates CI runs before the tests: ruff (pyproject.toml), the import contracts (layers point one way) and
## the type checker on the domain core.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

tests/ui/node_modules/.installed: tests/ui/package.json tests/ui/package-lock.json
	cd tests/ui && npm ci --no-audit --no-fund
	touch $@

bench: $(STAMP) $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks

# dlt is a benchmark-only dependency (the feed benchmark compares against it).
$(VENV)/.bench-installed: pyproject.toml
	$(BIN)/python -m pip install --quiet -e ./sandbox -e '.[dev,bench]'
	touch $@

## Fuzzing (tests/fuzz/, README "Fuzzing"): each atheris harness for FUZZ_SECONDS (default 60) from its seed
## corpus, a table of executions, coverage and crashes; then schemathesis against the push intake's
## /openapi.json (bounded, seeded). Fails naming every crash file; both parts run either way.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP) $(VENV)/.fuzz-installed
	@status=0; \
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m tests.fuzz.run || status=1; \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_push_intake_openapi.py || status=1; \
	exit $$status

# atheris is a fuzzing-only dependency.
$(VENV)/.fuzz-installed: pyproject.toml
	$(BIN)/python -m pip install --quiet -e ./sandbox -e '.[dev,fuzz]'
	touch $@

## The README's data dictionary (between its data-dictionary markers) and assets/table_columns.json (the
## asset definitions' dagster/column_schema), generated from the comments of a migrated database: the one
## in DATABASE_URL, else the embedded one (upgraded first).
dictionary: $(STAMP)
	$(BIN)/marketsync db upgrade
	$(BIN)/marketsync db dictionary --readme README.md --asset-columns

clean:
	rm -rf $(VENV) .marketsync .fuzz
