# Two commands do all set-up: `make demo` and `make test`. Each creates or reuses .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check clean bench bench-store

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mtus evaluate examples/seed-imr-case.yaml --format letter

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/mtus lint

# Performance benchmark (not part of the tests): reference path, fast path, naive baseline and
# floor on generated cases, batch throughput with 1 and 2 workers, then the differential check
# of the fast path on 10,000 generated cases (bench/run.py; about 25 minutes on two cores).
# BENCH_ARGS="--quick" for a short run.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Store benchmark (not part of the tests): load and query 100,000 determinations on the
# embedded store and on a local Oxigraph server. BENCH_ARGS="--determinations 10000" for a quick run.
bench-store: $(STAMP)
	$(BIN)/python bench/bench_store.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info

check: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy types-PyYAML
	$(BIN)/ruff check reasoner tests
	$(BIN)/mypy reasoner
