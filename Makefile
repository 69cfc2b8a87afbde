# The two commands: `make sandbox` (local control plane + simulator + operator + samples)
# and `make test` (lint, type-check, every test against a real kube-apiserver).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup controlplane lint test unit e2e sandbox crd lock clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml devtools/pyproject.toml requirements/test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/test.lock -e '.[test]' -e ./devtools
	touch $(STAMP)

controlplane:
	@tests/controlplane/build.sh

crd: setup
	$(BIN)/python hack/gen_crd.py

lint: setup
	$(BIN)/ruff check operator devtools tests hack
	$(BIN)/ruff format --check operator devtools tests hack
	$(BIN)/mypy
	$(BIN)/python hack/gen_crd.py --check || (echo "crds/ is out of date: run 'make crd'" >&2; exit 1)
	$(BIN)/hadolint Dockerfile

test: setup controlplane lint
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

sandbox: setup controlplane
	$(BIN)/cloudmodel-dev sandbox

# The benchmark (not part of `make test`; see docs/performance.md). ~25 minutes on 2 cores;
# `make bench ARGS=--quick` takes a few. Results and profiles go to .bench/.
bench: setup controlplane
	$(BIN)/cloudmodel-dev bench $(ARGS)

# Re-pin the runtime (container image) and test dependencies from a clean install.
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet .
	{ echo "# Runtime dependencies of the container image, pinned (pip freeze of a clean install of '.')."; \
	  echo "# Regenerate: make lock"; $(VENV)-lock/bin/pip freeze --exclude cloudmodel-operator; } > requirements/runtime.lock
	$(VENV)-lock/bin/pip install --quiet '.[test]' ./devtools
	$(VENV)-lock/bin/pip freeze --exclude cloudmodel-operator --exclude cloudmodel-dev > requirements/test.lock
	rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
