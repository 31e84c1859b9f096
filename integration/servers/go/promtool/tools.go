//go:build tools

// Pins promtool's module in go.mod so `go build` of its command resolves from this directory.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
