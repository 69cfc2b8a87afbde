// Command gitops-health judges Kubernetes objects the way GitOps tools do, with their own code:
//
//	gitops-health kstatus                      sigs.k8s.io/cli-utils kstatus (kpt, Config Sync)
//	gitops-health flux [--kustomization FILE]  Flux's status readers: its kstatus fork (which Helm 4's
//	                                           --wait also uses), or the CEL healthCheckExprs of a
//	                                           Kustomization (fluxcd/pkg/runtime/cel)
//	gitops-health argocd --script FILE         an Argo CD health Lua script, in gopher-lua, run the way
//	                                           Argo CD's util/lua runs a resource.customizations.health script
//
// Objects are read from stdin as a JSON array; one JSON result per object is written to stdout, in order.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// result is what a tool decided about one object. Error is set when the tool itself failed
// (for Argo CD that is a script error, which Argo CD shows as health status Unknown with the error).
type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	// Results go to the real stdout; anything a script prints (Lua's print writes to stdout, as
	// it does in the Argo CD controller) goes to stderr so it cannot corrupt them.
	out := os.Stdout
	os.Stdout = os.Stderr
	if len(os.Args) < 2 {
		fail(errors.New("usage: gitops-health kstatus|flux|argocd [flags] < objects.json"))
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kustomization := flags.String("kustomization", "", "Flux Kustomization (YAML or JSON) whose spec.healthCheckExprs apply")
	script := flags.String("script", "", "Argo CD health Lua script")
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	objects, err := readObjects(os.Stdin)
	if err != nil {
		fail(err)
	}

	var judge func(*unstructured.Unstructured) result
	switch os.Args[1] {
	case "kstatus":
		judge = kstatusResult
	case "flux":
		judge, err = fluxJudge(context.Background(), *kustomization)
	case "argocd":
		judge, err = argocdJudge(*script)
	default:
		err = fmt.Errorf("unknown tool %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}

	results := make([]result, 0, len(objects))
	for _, obj := range objects {
		results = append(results, judge(obj))
	}
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(results); err != nil {
		fail(err)
	}
}

// readObjects decodes objects the way client-go hands them to the tools: unstructured, with
// JSON integers as int64 and other numbers as float64 (this matters for the Lua decoding).
func readObjects(r io.Reader) ([]*unstructured.Unstructured, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("stdin must be a JSON array of objects: %w", err)
	}
	objects := make([]*unstructured.Unstructured, 0, len(raw))
	for i, item := range raw {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(item); err != nil {
			return nil, fmt.Errorf("object %d: %w", i, err)
		}
		objects = append(objects, obj)
	}
	return objects, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gitops-health:", err)
	os.Exit(2)
}
