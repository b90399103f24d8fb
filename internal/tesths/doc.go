// Package tesths runs real Dendrite homeservers for Go tests.
//
// Start launches one homeserver and StartFederated launches several that
// federate with each other over loopback. Each instance lives in its own
// temporary directory with SQLite databases, a fresh signing key and a fresh
// self-signed TLS certificate, closed registration with a shared secret (see
// Homeserver.RegisterUser), no rate limiting, and optional appservice
// registrations. Instances are stopped in tb.Cleanup, and the tail of the
// Dendrite log is printed when the test failed.
//
// tesths is the testing.TB face of internal/devhs, which does the work
// (configuration, keys, process, readiness, users) and also runs the
// homeserver of the rathaus demo. tesths adds what only tests need: finding
// or building the binary, fresh ports and directories per test, retries when
// a port was taken, failing the test instead of returning errors, and
// WaitFor.
//
// # The Dendrite binary
//
// DendriteBinary finds the homeserver binary in this order:
//
//  1. the executable named by the environment variable RATHAUS_DENDRITE_BIN
//     (EnvDendriteBin), which a Makefile sets after prebuilding it;
//  2. <repo>/.cache/dendrite/<hash>/dendrite, where <hash> is derived from
//     tools/dendrite/go.mod and go.sum. If it is missing,
//     the first test process to need it builds it from the pinned module in
//     tools/dendrite while holding a file lock, so parallel test binaries
//     build it only once.
//
// A Makefile prebuilds it with
//
//	cd tools/dendrite && go build -o ../../.cache/bin/dendrite github.com/element-hq/dendrite/cmd/dendrite
//	export RATHAUS_DENDRITE_BIN=$(CURDIR)/.cache/bin/dendrite
//
// The first build compiles Dendrite with cgo SQLite and takes a few minutes
// on two cores; later builds hit the Go build cache.
package tesths
