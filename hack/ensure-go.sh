#!/usr/bin/env bash
# Prints the path of a Go toolchain new enough to build the test control plane.
# Uses the machine's `go` when it is recent enough; otherwise fetches the official toolchain
# module (golang.org/toolchain) from the Go module proxy into the user cache, once.
set -euo pipefail
want_minor=25
want_version=1.26.8
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cloudmodel/go-$want_version

if command -v go >/dev/null 2>&1; then
  minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
  if [[ "$minor" =~ ^[0-9]+$ ]] && (( minor >= want_minor )); then
    command -v go
    exit 0
  fi
fi
if [[ -x "$cache/bin/go" ]]; then
  echo "$cache/bin/go"
  exit 0
fi
arch=$(uname -m); case "$arch" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; esac
os=$(uname -s | tr '[:upper:]' '[:lower:]')
proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
url="$proxy/golang.org/toolchain/@v/v0.0.1-go$want_version.$os-$arch.zip"
echo ">> fetching Go $want_version toolchain from the module proxy" >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$url" "$tmp/go.zip" <<'PY'
import sys, urllib.request
urllib.request.urlretrieve(sys.argv[1], sys.argv[2])
PY
python3 - "$tmp/go.zip" "$tmp/x" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
mkdir -p "$(dirname "$cache")"
rm -rf "$cache"
mv "$tmp/x/golang.org/toolchain@v0.0.1-go$want_version.$os-$arch" "$cache"
echo "$cache/bin/go"
