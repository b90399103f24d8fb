// Package rathaus holds what the whole module shares and nothing else: the
// embedded example configuration (the operator documentation) and the
// version string stamped in at build time.
package rathaus

import _ "embed"

// ExampleConfig is example-config.yaml from the repository root, embedded so
// that `rathaus example-config` prints exactly what the docs describe.
//
//go:embed example-config.yaml
var ExampleConfig []byte

// Version is overridden at build time with
// -ldflags "-X github.com/rathaus-de/rathaus.Version=…".
var Version = "0.1.0-dev"
