# The two commands: `make sandbox` (local control plane + simulator + operator + samples)
# and `make test` (lint, type-check, every test against a real kube-apiserver).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup controlplane tools lint test unit e2e sandbox crd chart lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml devtools/pyproject.toml requirements/test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/test.lock -e '.[test]' -e ./devtools
	touch $(STAMP)

controlplane:
	@tests/controlplane/build.sh

# The real ecosystem tools the tests run on our output (kstatus, Flux, Argo CD Lua, promtool,
# helm, kube-state-metrics), built or extracted once and cached under ~/.cache/cloudmodel/tools.
tools:
	@hack/tools/build.sh

crd: setup
	$(BIN)/python hack/gen_crd.py

# The Helm chart is generated from manifests/ (a test fails when it is out of date).
chart: setup controlplane
	$(BIN)/python hack/gen_chart.py

lint: setup
	$(BIN)/ruff check operator devtools tests hack
	$(BIN)/ruff format --check operator devtools tests hack
	$(BIN)/mypy
	$(BIN)/python hack/gen_crd.py --check || (echo "crds/ is out of date: run 'make crd'" >&2; exit 1)
	$(BIN)/hadolint Dockerfile

test: setup controlplane tools lint
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

sandbox: setup controlplane
	$(BIN)/cloudmodel-dev sandbox

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
