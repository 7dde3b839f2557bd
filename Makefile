# Everything runs from a project-local virtualenv built from the hashed lock file.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck importlint pytest openapi lock clean bench wrk

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## make run: migrate, start the Bizon sandbox and the service, print an API key
run: $(STAMP)
	$(PY) -m service dev

## make test: lint, types, layer contracts, then the whole pytest suite
test: $(STAMP) lint typecheck importlint pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check service tests migrations
	$(VENV)/bin/ruff format --check service tests migrations

typecheck: $(STAMP)
	$(VENV)/bin/mypy

importlint: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP) wrk
	$(PY) -m pytest

## make openapi: regenerate the committed openapi.yaml from the code
openapi: $(STAMP)
	$(PY) -m service openapi --output openapi.yaml

## make lock: re-resolve requirements.lock from pyproject.toml (needs network)
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra embedded --generate-hashes --python-version 3.11 -o requirements.lock

# wrk drives the benchmark (and its smoke run in the test suite): from the distribution.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "wrk is not on PATH: installing it with apt-get"; \
	    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else \
	    echo "make bench and make test need wrk on PATH: apt-get install wrk (as root)," \
	      "brew install wrk, or build it from https://github.com/wg/wrk" >&2; \
	    exit 1; \
	  fi; }

## make bench: the benchmark harness, median of 3 runs (bench/README.md); options in
## BENCH_ARGS, e.g. make bench BENCH_ARGS="--workers 2 --scenarios create,baseline"
bench: $(STAMP) wrk
	$(PY) -m bench.run --runs 3 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
