# Two commands do all set-up: `make demo` and `make test`. Each creates or reuses .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check clean bench bench-store bench-users system-packages serve fuzz counterfactuals

# Debian packages the service needs: pango for WeasyPrint (letters as PDF), fonts, and chromium
# for the browser tests (Playwright's own browser download is not used). Installed when missing,
# as root with apt-get; elsewhere a message says what to install (the browser tests then skip).
DEBIAN_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "make: could not install$$missing (the browser and PDF tests will skip)"; \
	else echo "make: please install the Debian packages$$missing (the browser and PDF tests skip without them)"; fi

$(STAMP): pyproject.toml
	$(MAKE) --no-print-directory system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mtus evaluate examples/seed-imr-case.yaml --format letter

# The suite in TEST_WORKERS processes (pytest-xdist; 2 by default, the CI machine's cores):
# 1,130 tests in 578 s with 2 against 869 s in one (same checkout, quiet machine).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The service and web UI on http://127.0.0.1:8000 (see README, "Service")
serve: $(STAMP)
	$(BIN)/mtus serve

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

# The mutation corpus of case files (tests/fuzzcorpus.py, issue 16), all of it: 1,050 files in 21
# categories through `mtus evaluate`, batch's fast rounds and (every 10th) the reference path;
# reports crashes, hangs, echoed values, engine disagreements, connections or file opens, files
# wrongly accepted, counts by category, the peak memory, and the time and memory of the largest
# accepted case (1,000 requests). Exit 1 if any count is not 0. FUZZ_ARGS="--count 2100 --seed 7".
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz $(FUZZ_ARGS)

# Every reported counterfactual of every case of tests/cases/ turns its item and none is a
# superset of another (`make test` checks the seed case and a sample; about 10 minutes on two cores).
counterfactuals: $(STAMP)
	MTUS_COUNTERFACTUALS_ALL=1 $(BIN)/python -m pytest tests/test_counterfactuals.py -q

# What users run, side by side in one run (not part of the tests): `mtus batch --store` with 1 and
# 2 jobs (N=1,000 and 10,000; BENCH_ARGS="--big" adds 100,000), `mtus evaluate` cold and of 100
# files, reasoner.evaluate warm, POST /evaluate, every named query over the batch's store, the
# floor and the naive baseline (bench/users.py; --variants before=DIR compares another checkout).
bench-users: $(STAMP)
	$(BIN)/python bench/users.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info

check: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy types-PyYAML
	$(BIN)/ruff check reasoner tests
	$(BIN)/mypy reasoner
