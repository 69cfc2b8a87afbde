#!/bin/sh
# Install the operator into a fresh virtualenv at $1 exactly as the container image does.
# The Dockerfile runs this script; CI runs it too (tests/packaging, `make sbom`), so the image's
# install steps are tested without a container engine.
#
# Supply chain: every third-party file comes from the index as a wheel and is checked against a
# hash pinned in requirements/*.lock (--require-hashes --only-binary); nothing is resolved, so
# nothing outside the lock can arrive (--no-deps). The operator's own wheel is built here from
# this source tree and installed with --no-deps. The result has neither pip nor setuptools: a
# throwaway build environment installs into it (pip --python).
set -eu
prefix="${1:?usage: install-image.sh PREFIX}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
pinned="--require-hashes --no-deps --only-binary :all:"

python3 -m venv "$work/build"
pip="$work/build/bin/pip"
# shellcheck disable=SC2086 # $pinned is a list of flags
"$pip" install --quiet $pinned -r "$here/requirements/build.lock"

# Build from a copy holding only what the wheel is made of, so the checkout is left untouched.
mkdir "$work/src"
cp -R "$here/pyproject.toml" "$here/README.md" "$here/LICENSE" "$here/operator" "$work/src/"
"$pip" wheel --quiet --no-deps --no-build-isolation --wheel-dir "$work/dist" "$work/src"

python3 -m venv --without-pip "$prefix"
# shellcheck disable=SC2086
"$pip" --python "$prefix/bin/python" install --quiet $pinned -r "$here/requirements/runtime.lock"
"$pip" --python "$prefix/bin/python" install --quiet --no-deps "$work"/dist/cloudmodel_operator-*.whl
"$pip" --python "$prefix/bin/python" check
"$prefix/bin/cloudmodel" --version
