//go:build tools

// Pins kube-state-metrics for hack/tools/build.sh. `go install ...@v2.16.0` cannot be used: it asks
// the module proxy for the version list, which it refuses for this module.
package tools

import _ "k8s.io/kube-state-metrics/v2"
