// Package tesths runs real homeservers, Dendrite and Synapse, for Go tests.
//
// Start launches one homeserver, StartFederated several of the same
// options, and StartMixed one per Options, of any kinds (Options.Kind:
// Dendrite, the default, or Synapse), all federating with each other over
// loopback. Each instance lives in its own temporary directory with SQLite
// databases, a fresh signing key and a fresh self-signed TLS certificate,
// closed registration with a shared secret (see Homeserver.RegisterUser),
// no rate limiting, room version DefaultRoomVersion unless
// Options.RoomVersion says otherwise, and optional appservice
// registrations. Homeserver.Restart stops one and starts it again on the
// same ports and data. Instances are stopped in tb.Cleanup, and the tail of
// the homeserver's log is printed when the test failed.
//
// tesths is the testing.TB face of internal/devhs, which does the work
// (configuration, keys, process, readiness, users) and also runs the
// homeserver of the rathaus demo. tesths adds what only tests need: finding
// or building Dendrite and installing Synapse, fresh ports and directories
// per test, retries when a port was taken, failing the test instead of
// returning errors, and WaitFor.
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
//
// # Synapse
//
// SynapsePython finds the python that runs Synapse by the same rule:
//
//  1. the interpreter named by RATHAUS_SYNAPSE_PYTHON (EnvSynapsePython),
//     which `make test` sets after `make synapse`;
//  2. <repo>/.cache/synapse-<hash>/bin/python, <hash> being the first 16
//     hex digits of the SHA-256 of tools/synapse/requirements.txt. If it is
//     missing, the first test process to need it runs
//     tools/synapse/install.sh under a file lock (about a minute; it needs
//     python3 with venv support and PyPI).
//
// Each venv also gets a migrated, empty database the first time a test
// needs one (<venv>/rathaus-template/homeserver.db, made under a file
// lock), which every new Synapse instance starts from instead of migrating
// its own.
package tesths
