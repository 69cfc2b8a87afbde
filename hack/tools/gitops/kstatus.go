package main

import (
	"context"
	"fmt"
	"os"

	fluxengine "github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	fluxreaders "github.com/fluxcd/cli-utils/pkg/kstatus/polling/statusreaders"
	fluxstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	fluxkustomize "github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// kstatusResult is upstream kstatus, as kpt and Config Sync compute it.
func kstatusResult(obj *unstructured.Unstructured) result {
	res, err := status.Compute(obj)
	if err != nil {
		return result{Error: err.Error()}
	}
	return result{Status: res.Status.String(), Message: res.Message}
}

// fluxJudge reads status through the same status readers Flux's kustomize-controller polls with
// when `wait: true`: the CEL evaluator for kinds listed in spec.healthCheckExprs, otherwise the
// generic reader over Flux's kstatus fork.
func fluxJudge(ctx context.Context, kustomizationFile string) (func(*unstructured.Unstructured) result, error) {
	var reader fluxengine.StatusReader = fluxreaders.NewGenericStatusReader(nil, fluxstatus.Compute)
	if kustomizationFile != "" {
		data, err := os.ReadFile(kustomizationFile)
		if err != nil {
			return nil, err
		}
		var ks struct {
			Spec struct {
				HealthCheckExprs []fluxkustomize.CustomHealthCheck `json:"healthCheckExprs"`
			} `json:"spec"`
		}
		// Only spec.healthCheckExprs matters here; the rest of the Kustomization is Flux's business.
		if err := yaml.Unmarshal(data, &ks); err != nil {
			return nil, err
		}
		if len(ks.Spec.HealthCheckExprs) == 0 {
			return nil, fmt.Errorf("%s has no spec.healthCheckExprs", kustomizationFile)
		}
		newReader, err := fluxcel.NewStatusReader(ks.Spec.HealthCheckExprs)
		if err != nil {
			return nil, err
		}
		reader = newReader(nil)
	}
	return func(obj *unstructured.Unstructured) result {
		res, err := reader.ReadStatusForObject(ctx, nil, obj)
		if err != nil {
			return result{Error: err.Error()}
		}
		if res.Error != nil {
			return result{Status: res.Status.String(), Error: res.Error.Error()}
		}
		return result{Status: res.Status.String(), Message: res.Message}
	}, nil
}
