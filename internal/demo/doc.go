// Package demo runs rathaus with a local Dendrite homeserver for `make run`:
// the orchestration behind cmd/rathaus-demo.
//
// It keeps everything in one state directory (default .demo, or
// RATHAUS_DEMO_DIR). On the first run it writes a rathaus config.yaml from
// the embedded example (SQLite in the directory, authority "Stadt
// Demoheim", console logs) and has `rathaus generate-registration` fill in
// the tokens and write registration.yaml. The example's two departments,
// bauamt ("Bauamt") and buergerbuero ("Bürgerbüro"), keep their services,
// office hours and closed dates, but their staff become accounts of the
// demo homeserver:
//
//	sachbearbeiterin   admin of both departments (the printed login; may run !rathaus sync)
//	bauamt-leitung     lead in bauamt
//	buergerbuero-team  caseworker in buergerbuero
//
// The config is edited in the text, so the example's comments and layout
// stay; only the changed values and staff lists differ. A public chat needs
// a privacy notice, so the config sets guest_chat.privacy_page to
// privacy.html, a German and English notice for the demo authority that the
// demo writes into the directory on every start (privacy.go) and the chat
// serves at /datenschutz; authority.privacy_url follows from it. A
// directory of an earlier demo without a privacy notice gets the key too.
//
// Every run then starts Dendrite (internal/devhs) with that registration and
// creates, through shared-secret registration, every staff member of the
// demo server that config.yaml lists, and always sachbearbeiterin. Each
// password is made on the first run and kept in <localpart>.password in the
// directory; later runs find the account and check that the password still
// logs in. Staff of the demo server added to config.yaml later get their
// account on the next start of the demo (not from !rathaus sync). This happens before rathaus starts, because rathaus invites the
// staff to the authority space, the department spaces and the staff rooms as
// it starts. Then the demo starts `rathaus run` as a child process, waits
// until both are ready and prints how to log in and what to try, among it
// each department's citizen chat (http://127.0.0.1:29332/chat/bauamt, …:
// write as a citizen, then claim the case in the staff room), followed by
// a machine-readable line:
//
//	DEMO READY homeserver=http://127.0.0.1:8008 server_name=localhost:8448 user=@sachbearbeiterin:localhost:8448 bot=@rathaus:localhost:8448 rathaus_pid=… dendrite_pid=… password_file=/…/.demo/sachbearbeiterin.password
//
// No password is ever printed: the output ends up in terminals' scrollback,
// CI logs and screen shares. The announcement and the DEMO READY line name
// the file instead; password_file is absolute, last, and runs to the end of
// the line (the path may contain spaces).
//
// # Directories of earlier demos
//
// Demos before the guest chat wrote no guest_chat section, so rathaus
// serves the chat on its default 127.0.0.1:29332, the demo's default chat
// port. With another chat port the demo appends guest_chat.listen to such a
// file (keeping config.yaml.old); from then on that port is the directory's.
//
// Demos before the departments kept the example's staff
// (@anna:stadt.example, …), users the demo homeserver cannot invite. If both
// departments still have exactly the example's staff, nobody edited them:
// the demo replaces them with the accounts above in place (tokens, comments
// and all other lines stay), keeps the previous file as config.yaml.old and
// says so. Staff lists that were edited are left alone; staff of other
// servers are named in a note, since their invitations fail. Example staff
// left in an edited list are placeholders that rathaus refuses: the demo
// names each one and stops. Delete the directory to start over from the
// current example.
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
//	RATHAUS_DEMO_CHAT_PORT 29332  rathaus guest chat for citizens (guest_chat.listen; public_url is derived)
//
// The server name is localhost:<RATHAUS_DEMO_FED_PORT>, so user IDs read
// @sachbearbeiterin:localhost:8448 and the server name points at the
// federation listener, as the widgets' OpenID check needs.
//
// The other three ports are only addresses. When one changes on an existing
// directory (say, because the demo found the old one taken and suggested
// another), the demo moves homeserver.url, appservice.listen and
// public_url, or guest_chat.listen in config.yaml to the new port, and the
// registration's url with the appservice, keeping config.yaml.old and
// registration.yaml.old and saying what moved. An address someone edited
// (not the demo's 127.0.0.1 form) is not moved: the demo says what to set.
//
// Dendrite's data (accounts, rooms, signing key) belongs to the server
// name, so a directory cannot follow a new RATHAUS_DEMO_FED_PORT. The demo
// refuses and names the ways on: keep the old port
// (RATHAUS_DEMO_FED_PORT=<old>); start a new demo with RATHAUS_DEMO_FRESH=1
// (or -fresh), which moves the whole directory aside to <dir>.old-<time>
// rather than deleting it; or move it aside by hand
// (mv .demo .demo.old-<old port>). RATHAUS_DEMO_FRESH moves the directory
// aside on every run it is set for, so set it for one run only.
//
// To apply an edited config.yaml without a restart, write !rathaus sync as
// an admin (sachbearbeiterin), or send SIGHUP to rathaus (its rathaus_pid),
// not to the demo.
//
// The binaries come from flags, else from the environment
// (RATHAUS_DEMO_RATHAUS_BIN, RATHAUS_DENDRITE_BIN), else rathaus next to
// the demo executable and .cache/bin/dendrite.
package demo
