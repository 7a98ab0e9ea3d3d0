# opscheck: `make check` runs the critical checks on this host; `make test` runs the suite's own tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
PYTEST_ARGS ?=
# the other supported Pythons the self-tests run on (make test-pythons; see scripts/test-python)
PYTHONS ?= 3.12 3.13
# mutation testing (make mutate): its own environment, so that the main lock stays without it
MUTATE_VENV  ?= .venv-mutate
MUTATE_STAMP := $(MUTATE_VENV)/.installed
MUTATE_LOCK  := requirements/mutate.txt
MUTATE_ARGS  ?=

.PHONY: check test test-pythons lint docs dist lock servers report bench mutate clean

# The environment holds exactly the locked versions (hashes checked), then opscheck itself.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python scripts/lock-sync $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
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

## test-pythons: the self-tests (but the slow proofs) on each of PYTHONS, each in .venv-X.Y
test-pythons: servers
	for v in $(PYTHONS); do ./scripts/test-python $$v $(PYTEST_ARGS) || exit 1; done

## lint: ruff and the type checker (mypy)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## docs: build the docs site into build/site (warnings are errors); its reference is generated
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## dist: build the wheel and the sdist into dist/
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

## mutate: mutation testing of the verdict and safety core (mutmut, scripts/mutate): the
## score per module; fails under 90 %. Not part of `make test`: about 12 min on 2 cores
## (MUTATE_ARGS: --jobs N, --keep, mutant globs; see docs/self-tests.md)
$(MUTATE_STAMP): pyproject.toml $(LOCK) $(MUTATE_LOCK)
	test -x $(MUTATE_VENV)/bin/python || $(PYTHON) -m venv $(MUTATE_VENV)
	$(MUTATE_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(MUTATE_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(MUTATE_LOCK)
	$(MUTATE_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(MUTATE_VENV)/bin/python -m pip check
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	$(MUTATE_VENV)/bin/python scripts/mutate $(MUTATE_ARGS)

## lock: refresh the locks from pyproject.toml's ranges (after changing a dependency, or to
## take newer versions on purpose), then commit them: requirements/lock.txt is everything the
## suite, its tests and its build use; requirements/runtime.txt what an installed opscheck needs
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra test --universal \
	  --python-version 3.11 --generate-hashes --quiet -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	  --quiet -o requirements/runtime.txt
	$(BIN)/uv pip compile requirements/mutate.in -c $(LOCK) --universal --python-version 3.11 \
	  --generate-hashes --quiet -o $(MUTATE_LOCK)

## report: run the suite (PYTEST_ARGS, e.g. -m critical) and write reports/: HTML, Allure,
## JUnit, JSON and Prometheus textfile (scripts/report; REPORTS=folder to write elsewhere)
report: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" ./scripts/report $(PYTEST_ARGS)

## bench: every benchmark under bench/ in turn
bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-3.* $(MUTATE_VENV) mutants dist build reports/* .pytest_cache
