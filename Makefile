# The two commands: `make sandbox` (local control plane + simulator + operator + samples)
# and `make test` (lint, type-check, every test against a real kube-apiserver).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup controlplane lint test unit e2e sandbox crd clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/test.lock -e '.[test]'
	touch $(STAMP)

controlplane:
	@tests/controlplane/build.sh

crd: setup
	$(BIN)/python hack/gen_crd.py

lint: setup
	$(BIN)/ruff check operator tests hack
	$(BIN)/ruff format --check operator tests hack
	$(BIN)/mypy
	$(BIN)/python hack/gen_crd.py --check || (echo "crds/ is out of date: run 'make crd'" >&2; exit 1)

test: setup controlplane lint
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

sandbox: setup controlplane
	$(BIN)/cloudmodel sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
