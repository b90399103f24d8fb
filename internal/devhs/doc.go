// Package devhs runs a local homeserver, Dendrite or Synapse, for
// development and tests.
//
// Start launches one homeserver process (Options.Kind) in a state directory
// of its own: SQLite databases, a Matrix signing key, a self-signed TLS
// certificate for the federation listener, and the shared secret of the
// Synapse-style registration endpoint, which is how users are created
// (Server.RegisterUser): open registration stays closed. Rate limiting is
// off and federation is allowed to loopback with self-signed certificates,
// so several servers on one machine, of either kind, can federate with each
// other. Dendrite runs from a prebuilt binary, Synapse as
// `python -m synapse.app.homeserver` from a venv (see tools/synapse); both
// get an environment without *_proxy variables.
//
// The state directory survives a stop: starting again with the same
// directory reuses the keys, the databases and the users, which is what the
// rathaus demo needs across runs and what tests use to restart a server.
// The directory remembers its server name; starting it under another one
// fails with ErrServerNameChanged, since a homeserver's data belongs to one
// name.
//
// A fresh Synapse database applies its schema deltas on the first start and
// then runs some fifty background updates, one a second.
// MigrateSynapseDatabase makes a database with all of that done, which
// Options.DatabaseTemplate copies into a new state directory.
//
// StartProcess is the child-process handling underneath, exported for the
// demo's rathaus process: own process group (a Ctrl-C meant for the parent
// does not reach the child, so the parent decides the order of shutdown),
// death with the parent on Linux, output to a log file with an optional
// copy, and Stop as SIGTERM to the group, then SIGKILL after a grace
// period.
//
// devhs knows nothing about testing.T; internal/tesths wraps it for tests
// and internal/demo for `make run`.
//
// Layout of a state directory:
//
//	dendrite.yaml          Dendrite: written on every start from the Options
//	homeserver.yaml        Synapse: the same
//	server_name            the server name the data belongs to
//	shared_secret          registration_shared_secret, generated once
//	matrix_key.pem         Dendrite: ed25519 signing key, generated once
//	signing.key            Synapse: the same in Synapse's format
//	tls.crt, tls.key       self-signed certificate, renewed when expired
//	*.db, jetstream/, media/   Dendrite's data
//	homeserver.db, media_store/   Synapse's data
//	logs/console.log       the homeserver's stdout and stderr (all of
//	                       Synapse's log)
//	logs/dendrite.log      Dendrite's own log file
package devhs
