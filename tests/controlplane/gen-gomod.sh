#!/usr/bin/env bash
# Writes kube/go.mod and etcd/go.mod from versions.env.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/versions.env"
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
{
  echo "module cloudmodel.invalid/controlplane/kube"
  echo
  echo "go 1.25.0"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $KUBE_STAGING_VERSION"; done
  echo ")"
} >"$here/kube/go.mod"
{
  echo "module cloudmodel.invalid/controlplane/etcd"
  echo
  echo "go 1.25.0"
  echo
  echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
} >"$here/etcd/go.mod"
