//go:build tools

// Package tools pins the Dendrite homeserver used by the rathaus tests and
// demo. It is a separate module so that Dendrite is never linked into rathaus.
package tools

import (
	_ "github.com/element-hq/dendrite/cmd/dendrite"
	_ "github.com/element-hq/dendrite/cmd/generate-keys"
)
