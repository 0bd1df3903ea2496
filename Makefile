# One job per target. Every target sets up the virtual environment itself, so each
# works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# cinder is a large install: it gets its own environment, apart from the test extra.
CINDER_VENV ?= .venv-cinder
CINDER_STAMP := $(CINDER_VENV)/.installed

.PHONY: install
install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: run serve
run serve: $(STAMP)
	$(BIN)/array-emulator serve

.PHONY: test
test: $(STAMP)
	$(BIN)/pytest

$(CINDER_STAMP): pyproject.toml
	$(PYTHON) -m venv $(CINDER_VENV)
	$(CINDER_VENV)/bin/pip install --quiet --upgrade pip
	$(CINDER_VENV)/bin/pip install --quiet -e . pytest hypothesis cinder
	touch $(CINDER_STAMP)

# The contract suite against the emulator it starts itself (TLS, a free port).
.PHONY: contract
contract: $(STAMP)
	$(BIN)/array-contract

.PHONY: test-cinder
test-cinder: $(CINDER_STAMP)
	ARRAY_EMULATOR_CINDER=1 $(CINDER_VENV)/bin/pytest -m cinder tests/test_cinder_client.py

.PHONY: lint
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: clean
clean:
	rm -rf $(VENV) $(CINDER_VENV) build dist *.egg-info

# Build the wheel and check that an installed (not editable) emulator finds its
# fixtures.
.PHONY: wheel-check
wheel-check: $(STAMP)
	rm -rf build dist $(VENV)-wheel
	$(BIN)/pip wheel --quiet --no-deps . -w dist
	$(PYTHON) -m venv $(VENV)-wheel
	$(VENV)-wheel/bin/pip install --quiet dist/*.whl
	cd /tmp && $(CURDIR)/$(VENV)-wheel/bin/array-emulator profiles | grep vsp-e990 >/dev/null
	cd /tmp && $(CURDIR)/$(VENV)-wheel/bin/python -c "from emulator.server import create_app; create_app('vsp-g900-old')"
	rm -rf build dist $(VENV)-wheel
	@echo "wheel-check: the installed wheel finds its fixtures"

# Benchmarks: never part of `make test`. wrk comes from Debian, Prism from npm into
# bench/.node, moto and py-spy from PyPI (the `bench` extra).
NODE_DIR := bench/.node
PRISM := $(NODE_DIR)/node_modules/.bin/prism
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

$(PRISM):
	mkdir -p $(NODE_DIR)
	npm install --prefix $(NODE_DIR) --no-audit --no-fund --silent @stoplight/prism-cli@5

.PHONY: bench-tools
bench-tools: $(BENCH_STAMP) $(PRISM)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

.PHONY: bench
bench: bench-tools
	@if [ -f bench/results/latest.json ]; then \
		cp bench/results/latest.json bench/results/previous.json; fi
	$(BIN)/python bench/run.py

# Compare the latest run with a saved one: make bench-compare [SAVED=file].
SAVED ?= bench/results/previous.json
.PHONY: bench-compare
bench-compare: $(STAMP)
	$(BIN)/python bench/compare.py $(SAVED) bench/results/latest.json

# Where the emulator's time goes under a benchmark's load: make bench-profile [KIND=get|backup|startup].
KIND ?= get
.PHONY: bench-profile
bench-profile: bench-tools
	$(BIN)/python bench/profile.py $(KIND)
