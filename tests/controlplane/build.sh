#!/usr/bin/env bash
# Builds the local test control plane (etcd, kube-apiserver, kubectl) from the Go module proxy
# and caches the binaries under a directory keyed by version. Prints that directory on success.
#
#   tests/controlplane/build.sh          build if missing, print the bin directory
#   CLOUDMODEL_CONTROLPLANE_DIR=...      override the cache root
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/versions.env"

cache_root=${CLOUDMODEL_CONTROLPLANE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudmodel/controlplane}
bin="$cache_root/kube-$KUBE_VERSION-etcd-$ETCD_VERSION/bin"

if [[ -x "$bin/kube-apiserver" && -x "$bin/kubectl" && -x "$bin/etcd" ]]; then
  echo "$bin"
  exit 0
fi

if ! go_bin=$("$here/../../hack/ensure-go.sh"); then
  echo "error: no Go toolchain >= 1.25 to build the test control plane (kube-apiserver, etcd, kubectl)," >&2
  echo "       and fetching one from the Go module proxy failed. Install Go >= 1.25 and run 'make controlplane'." >&2
  exit 1
fi
export PATH="$(dirname "$go_bin"):$PATH"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/kube" "$here/etcd" "$work/"
mkdir -p "$bin.partial"

start=$(date +%s)
minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

echo ">> building etcd $ETCD_VERSION" >&2
(cd "$work/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin.partial/etcd" go.etcd.io/etcd/server/v3)
echo ">> building kube-apiserver $KUBE_VERSION" >&2
(cd "$work/kube" && go build -trimpath -tags selinux,notest -ldflags "$ldflags" \
  -o "$bin.partial/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
echo ">> building kubectl $KUBE_VERSION" >&2
(cd "$work/kube" && go build -trimpath -ldflags "$ldflags" -o "$bin.partial/kubectl" k8s.io/kubernetes/cmd/kubectl)

rm -rf "$bin"
mv "$bin.partial" "$bin"
echo ">> control plane built in $(($(date +%s) - start))s" >&2
echo "$bin"
