# Everything runs from a project-local virtualenv built from the hashed lock file.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck importlint pytest openapi lock clean bench

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

pytest: $(STAMP)
	$(PY) -m pytest

## make openapi: regenerate the committed openapi.yaml from the code
openapi: $(STAMP)
	$(PY) -m service openapi --output openapi.yaml

## make lock: re-resolve requirements.lock from pyproject.toml (needs network)
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra embedded --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
