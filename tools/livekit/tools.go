//go:build tools

// Package tools pins LiveKit's server, the peer the embedded media server
// is measured against (bench/video, docs/performance.md). It is built by
// `make livekit` into .cache/bin/livekit-server and never linked into
// rathaus: LiveKit carries its own forks of pion.
package tools

import _ "github.com/livekit/livekit-server/cmd/server"
