// Command grafana-dashboard-check validates Grafana dashboard JSON against the dashboard schema
// of the Grafana Foundation SDK (generated from Grafana's own schemas): unknown fields, wrong
// types and missing required fields are errors, and so are panel options, field configs and
// Prometheus queries that do not match their plugin's schema.
//
//	grafana-dashboard-check DASHBOARD.json...
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: grafana-dashboard-check DASHBOARD.json...")
		os.Exit(2)
	}
	// Panel options, field configs and data queries are decoded by their plugin's own types.
	plugins.RegisterDefaultPlugins()
	failed := false
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			fmt.Printf("%s: %v\n", path, err)
			failed = true
			continue
		}
		fmt.Printf("%s: ok\n", path)
	}
	if failed {
		os.Exit(1)
	}
}

func check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var board dashboard.Dashboard
	if err := nonEmpty(board.UnmarshalJSONStrict(raw)); err != nil {
		return fmt.Errorf("does not match the dashboard schema: %w", err)
	}
	if err := nonEmpty(board.Validate()); err != nil {
		return fmt.Errorf("invalid: %w", err)
	}
	if board.Title == nil || *board.Title == "" || board.Uid == nil || *board.Uid == "" {
		return errors.New("a dashboard needs a title and a uid")
	}
	return nil
}

// nonEmpty drops the empty error list the SDK returns (a nil cog.BuildErrors in a non-nil error) when
// nested decoding found nothing wrong.
func nonEmpty(err error) error {
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}
