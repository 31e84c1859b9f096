//go:build tools

// Pins istio's module in go.mod so `go build` of pilot-discovery (istiod) resolves from this directory.
package tools

import _ "istio.io/istio/pilot/cmd/pilot-discovery"
