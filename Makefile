# Two entry points for people: `make run` and `make test`. Everything else is for CI and benches.
PYTHON ?= python3
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export MHF_DATABASE_URL ?= sqlite:///var/mhf.db

.PHONY: run test lint typecheck pytest openapi bench fuzz soak e2e clean sync audit-deps

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet 'uv>=0.5'

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON) --quiet
	touch $@

sync: $(VENV)/.synced

run: sync
	mkdir -p var
	$(BIN)/mhf migrate
	$(BIN)/mhf demo --if-empty
	$(BIN)/mhf serve --host 127.0.0.1 --port 8000

lint: sync
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: sync
	$(BIN)/mypy

pytest: sync
	$(BIN)/pytest -q -n 2 --dist loadgroup

test: lint typecheck pytest

openapi: sync
	$(BIN)/mhf openapi > openapi/openapi.json

bench: sync
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/pathway.py

clean:
	rm -rf $(VENV) $(UV_HOME) var .pytest_cache .mypy_cache .ruff_cache
