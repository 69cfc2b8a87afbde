# The two commands: `make sandbox` (local control plane + simulator + operator + samples)
# and `make test` (lint, type-check, every test against a real kube-apiserver).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Supply chain artifacts (CI keeps them): the image's install tree, its SBOM, the audit report.
IMAGE_ROOT := build/image/opt/cloudmodel
SBOM := build/sbom/cloudmodel-operator.cdx.json
AUDIT_REPORT := build/audit/runtime.json
AUDIT_FLAGS ?=
# e.g. make sandbox SANDBOX_FLAGS="--simulator-port 8788 --metrics-port 9090"
SANDBOX_FLAGS ?=
# One resolver for every lock: Python 3.11 on Linux, the image's platform.
COMPILE := $(BIN)/uv pip compile --quiet --python-version 3.11 --python-platform linux --custom-compile-command "make lock"

.PHONY: setup controlplane tools lint test unit e2e sandbox crd chart lock image-root sbom audit clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml devtools/pyproject.toml requirements/test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements/test.lock pip
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
	$(BIN)/cloudmodel-dev sandbox $(SANDBOX_FLAGS)

# Re-pin every lock to the newest releases pyproject allows: the image's runtime set and the
# wheel build's setuptools with hashes (the image installs them with --require-hashes), the
# development set with the runtime packages held at their runtime.lock versions.
lock: setup
	$(COMPILE) --upgrade --generate-hashes pyproject.toml -o requirements/runtime.lock
	$(COMPILE) --upgrade --generate-hashes requirements/build.in -o requirements/build.lock
	$(COMPILE) --upgrade requirements/test.in -c requirements/runtime.lock \
	  --no-emit-package cloudmodel-operator --no-emit-package cloudmodel-dev -o requirements/test.lock

# The image's /opt/cloudmodel, installed by the same script the Dockerfile runs.
image-root:
	rm -rf build/image
	sh hack/install-image.sh $(IMAGE_ROOT)

# CycloneDX SBOM of exactly what the image installs, checked against requirements/runtime.lock.
sbom: setup image-root
	$(BIN)/python -m hack.sbom $(IMAGE_ROOT) $(SBOM)

# Known vulnerabilities in the pinned runtime set (pip-audit, PyPI's advisory data); see
# docs/operations.md for what an incomplete audit means. AUDIT_FLAGS=--strict fails on it.
audit: setup
	$(BIN)/python -m hack.audit requirements/runtime.lock --report $(AUDIT_REPORT) $(AUDIT_FLAGS)

# The benchmark (not part of `make test`; see docs/performance.md). ~25 minutes on 2 cores;
# `make bench ARGS=--quick` takes a few. Results and profiles go to .bench/.
bench: setup controlplane
	$(BIN)/cloudmodel-dev bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
