// Package devhs runs a local Dendrite homeserver for development and tests.
//
// Start launches one Dendrite process from a prebuilt binary in a state
// directory of its own: SQLite databases, a Matrix signing key, a
// self-signed TLS certificate for the federation listener, and the shared
// secret of the Synapse-style registration endpoint, which is how users are
// created (Server.RegisterUser): open registration stays closed. Rate
// limiting is off and federation is allowed to loopback, so several servers
// on one machine can federate with each other.
//
// The state directory survives a stop: starting again with the same
// directory reuses the keys, the databases and the users, which is what the
// rathaus demo needs across runs and what tests use to restart a server.
// The directory remembers its server name; starting it under another one
// fails with ErrServerNameChanged, since Dendrite's data belongs to one name.
//
// StartProcess is the child-process handling underneath, exported for the
// demo's rathaus process: own process group (a Ctrl-C meant for the parent
// does not reach the child, so the parent decides the order of shutdown),
// death with the parent on Linux, output to a log file with an optional
// copy, and Stop as SIGTERM, then SIGKILL after a grace period.
//
// devhs knows nothing about testing.T; internal/tesths wraps it for tests
// and internal/demo for `make run`.
//
// Layout of a state directory:
//
//	dendrite.yaml          written on every start from the Options
//	server_name            the server name the data belongs to
//	shared_secret          registration_shared_secret, generated once
//	matrix_key.pem         ed25519 signing key, generated once
//	tls.crt, tls.key       self-signed certificate, renewed when expired
//	*.db, jetstream/, media/   Dendrite's data
//	logs/console.log       Dendrite's stdout and stderr
//	logs/dendrite.log      Dendrite's own log file
package devhs
