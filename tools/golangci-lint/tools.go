//go:build tools

// Package tools pins golangci-lint, the linter `make lint` runs over rathaus.
// It is a separate module so that the linter and its dependencies are never
// linked into rathaus and never appear in rathaus's go.mod.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
