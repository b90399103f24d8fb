// Package demo runs rathaus with a local Dendrite homeserver for `make run`:
// the orchestration behind cmd/rathaus-demo.
//
// It keeps everything in one state directory (default .demo, or
// RATHAUS_DEMO_DIR). On the first run it writes a rathaus config.yaml from
// the embedded example (SQLite in the directory, authority "Stadt
// Demoheim", console logs) and has `rathaus generate-registration` fill in
// the tokens and write registration.yaml. Every run then starts Dendrite
// (internal/devhs) with that registration, makes sure the staff account
// sachbearbeiterin exists with the password kept in the directory, starts
// `rathaus run` as a child process, waits until both are ready and prints
// how to log in and talk to the bot, followed by a machine-readable line:
//
//	DEMO READY homeserver=http://127.0.0.1:8008 server_name=localhost:8448 user=@sachbearbeiterin:localhost:8448 password=… bot=@rathaus:localhost:8448 rathaus_pid=… dendrite_pid=…
//
// SIGINT, SIGTERM or SIGHUP stop rathaus, then Dendrite, and the demo exits
// 0. If either child dies, the demo stops the other, prints the tail of the
// dead child's log and exits 1. The last line is always
//
//	DEMO STOPPED exit=<code>
//
// # Ports and names
//
// Everything listens on 127.0.0.1 only:
//
//	RATHAUS_DEMO_HS_PORT   8008   Dendrite client API (plain HTTP): the homeserver URL
//	RATHAUS_DEMO_FED_PORT  8448   Dendrite federation API (HTTPS, self-signed)
//	RATHAUS_DEMO_AS_PORT   29330  rathaus appservice listener
//
// The server name is localhost:<RATHAUS_DEMO_FED_PORT>, so user IDs read
// @sachbearbeiterin:localhost:8448 and the server name points at the
// federation listener, as the widgets' OpenID check needs. Dendrite's data
// belongs to that name: changing RATHAUS_DEMO_FED_PORT (or the other ports,
// which are written into config.yaml) on an existing directory is refused
// with a message; delete the directory to start over.
//
// The binaries come from flags, else from the environment
// (RATHAUS_DEMO_RATHAUS_BIN, RATHAUS_DENDRITE_BIN), else rathaus next to
// the demo executable and .cache/bin/dendrite.
package demo
