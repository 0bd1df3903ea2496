# One job per target. Every target sets up the virtual environment itself, so each
# works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install
install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: run
run: $(STAMP)
	$(BIN)/array-emulator serve

.PHONY: test
test: $(STAMP)
	$(BIN)/pytest

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
	rm -rf $(VENV) build dist *.egg-info

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
