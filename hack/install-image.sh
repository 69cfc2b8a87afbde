#!/bin/sh
# Install the operator into a fresh virtualenv at $1 exactly as the container image does.
# The Dockerfile runs this script; CI runs it too, so the image's install steps are tested
# without a container engine.
set -eu
prefix="${1:?usage: install-image.sh PREFIX}"
here="$(cd "$(dirname "$0")/.." && pwd)"
python3 -m venv "$prefix"
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
"$prefix/bin/pip" install --no-deps --require-virtualenv -r "$here/requirements/runtime.lock"
"$prefix/bin/pip" install --no-deps --require-virtualenv "$here"
"$prefix/bin/pip" check
# The runtime needs neither pip nor setuptools: leave them out of the final image.
"$prefix/bin/pip" uninstall --yes --quiet pip
"$prefix/bin/cloudmodel" --version
