# opscheck: `make check` runs the critical checks on this host; `make test` runs the suite's own tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: check test lint docs servers report bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## check: install the suite and run the critical checks against the inventory (default: this host)
check: $(STAMP)
	$(BIN)/pytest -m critical $(PYTEST_ARGS)

## servers: install the server binaries the self-tests start (Debian packages; needs root)
servers:
	./scripts/install-servers

## test: install everything the self-tests need, then run them
test: $(STAMP) servers
	$(BIN)/pytest tests $(PYTEST_ARGS)

## report: run the suite (PYTEST_ARGS, e.g. -m critical) and write reports/: HTML, Allure,
## JUnit, JSON and Prometheus textfile (scripts/report; REPORTS=folder to write elsewhere)
report: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" ./scripts/report $(PYTEST_ARGS)

## lint: ruff and the type checker (mypy)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## docs: build the docs site into build/site (warnings are errors); its reference is generated
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports/* .pytest_cache
