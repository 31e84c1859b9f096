//go:build tools

// Package tools pins the consul main package so `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/hashicorp/consul"
