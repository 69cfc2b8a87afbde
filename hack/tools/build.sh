#!/usr/bin/env bash
# Builds (or extracts) the real ecosystem tools the tests run on the operator's output and caches
# each under a directory keyed by its version, like tests/controlplane/build.sh does for the
# control plane. Instant when cached.
#
#   hack/tools/build.sh              build every missing tool, print one "name=path" line per tool
#   hack/tools/build.sh TOOL         build TOOL if missing, print the path of its binary
#                                    (TOOL: gitops-health, grafana-dashboard-check, helm,
#                                    kube-state-metrics, promtool)
#   CLOUDMODEL_TOOLS_DIR=...         override the cache root
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=/dev/null
source "$here/versions.env"
cache_root=${CLOUDMODEL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudmodel/tools}
all_tools=(gitops-health grafana-dashboard-check promtool helm kube-state-metrics)
# Our own Go programs: tool name -> module directory under hack/tools.
declare -A own_modules=([gitops-health]=gitops [grafana-dashboard-check]=grafana)

log() { echo ">> $*" >&2; }

go_env() {
  local go_bin
  if ! go_bin=$("$repo/hack/ensure-go.sh"); then
    echo "error: no Go toolchain >= 1.25 to build $1, and fetching one from the Go module proxy failed." >&2
    echo "       Install Go >= 1.25 and run 'make tools'." >&2
    exit 1
  fi
  PATH="$(dirname "$go_bin"):$PATH"
  export PATH GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
}

# The directory a tool is cached in; keyed by everything that decides what gets built.
tool_dir() {
  case "$1" in
    gitops-health | grafana-dashboard-check)
      local module="$here/${own_modules[$1]}"
      echo "$cache_root/$1-$(cat "$module/go.mod" "$module/go.sum" "$module"/*.go | sha256sum | cut -c1-12)" ;;
    helm) echo "$cache_root/helm-$HELM_VERSION" ;;
    kube-state-metrics) echo "$cache_root/kube-state-metrics-$KUBE_STATE_METRICS_VERSION" ;;
    promtool)
      # Whichever of the two sources was used first stays in use (the pointer file says which).
      if [[ -f "$cache_root/promtool.current" ]]; then cat "$cache_root/promtool.current"; else echo ""; fi ;;
    *) echo "error: unknown tool '$1' (known: ${all_tools[*]})" >&2; exit 2 ;;
  esac
}

# Builds into "$dir.partial" and moves it into place only when complete.
finish() {
  local dir=$1 start=$2 name=$3
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  log "$name ready in $(($(date +%s) - start))s: $dir/bin"
}

build_own() {
  local name=$1 dir=$2 start
  start=$(date +%s)
  go_env "$name"
  log "building $name (hack/tools/${own_modules[$name]})"
  mkdir -p "$dir.partial/bin"
  (cd "$here/${own_modules[$name]}" && go build -trimpath -ldflags "-s -w" -o "$dir.partial/bin/$name" .)
  finish "$dir" "$start" "$name"
}

build_helm() {
  local dir=$1 start
  start=$(date +%s)
  go_env helm
  log "building helm $HELM_VERSION"
  mkdir -p "$dir.partial/bin"
  GOBIN="$dir.partial/bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  finish "$dir" "$start" helm
}

build_kube_state_metrics() {
  local dir=$1 start
  start=$(date +%s)
  go_env kube-state-metrics
  log "building kube-state-metrics $KUBE_STATE_METRICS_VERSION"
  mkdir -p "$dir.partial/bin"
  # The checksum database has no entry for these two; go.sum in hack/tools/kube-state-metrics pins them.
  (cd "$here/kube-state-metrics" &&
    GONOSUMDB=k8s.io/kube-state-metrics,k8s.io/sample-controller go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$KUBE_STATE_METRICS_VERSION" \
      -o "$dir.partial/bin/kube-state-metrics" k8s.io/kube-state-metrics/v2)
  finish "$dir" "$start" kube-state-metrics
}

build_promtool() {
  local start deb_version dir tmp
  start=$(date +%s)
  tmp=$(mktemp -d)
  # apt-get download needs package lists; a fresh machine may have none yet.
  if command -v apt-get >/dev/null 2>&1 && { apt-cache show prometheus >/dev/null 2>&1 ||
    { [[ $(id -u) == 0 ]] && apt-get update -qq >/dev/null 2>&1 && apt-cache show prometheus >/dev/null 2>&1; }; }; then
    deb_version=$(apt-cache policy prometheus | awk '/Candidate:/ {print $2}')
    dir="$cache_root/promtool-deb-${deb_version//[^A-Za-z0-9.+-]/_}"
    log "extracting promtool from Debian's prometheus $deb_version (nothing is installed or started)"
    (cd "$tmp" && apt-get download -q "prometheus=$deb_version" >/dev/null 2>&1 && dpkg-deb -x prometheus_*.deb x)
    mkdir -p "$dir.partial/bin"
    cp "$tmp/x/usr/bin/promtool" "$dir.partial/bin/promtool"
  else
    go_env promtool
    dir="$cache_root/promtool-$PROMETHEUS_MODULE_VERSION"
    log "no Debian prometheus package: building promtool from github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION"
    mkdir -p "$dir.partial/bin"
    GOBIN="$dir.partial/bin" go install -trimpath -ldflags "-s -w" \
      "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  fi
  rm -rf "$tmp"
  finish "$dir" "$start" promtool
  echo "$dir" > "$cache_root/promtool.current"
}

# Prints the binary's path, building the tool first when it is not cached.
ensure() {
  local name=$1 dir
  dir=$(tool_dir "$name")
  if [[ -z "$dir" || ! -x "$dir/bin/$name" ]]; then
    mkdir -p "$cache_root"
    case "$name" in
      gitops-health | grafana-dashboard-check) build_own "$name" "$dir" ;;
      helm) build_helm "$dir" ;;
      kube-state-metrics) build_kube_state_metrics "$dir" ;;
      promtool) build_promtool; dir=$(tool_dir promtool) ;;
    esac
  fi
  if [[ ! -x "$dir/bin/$name" ]]; then
    echo "error: $name is missing in $dir/bin after building it; see the messages above" >&2
    exit 1
  fi
  echo "$dir/bin/$name"
}

if [[ $# -eq 1 ]]; then
  ensure "$1"
  exit 0
fi
start=$(date +%s)
for name in "${all_tools[@]}"; do
  echo "$name=$(ensure "$name")"
done
log "tools ready in $(($(date +%s) - start))s"
