// Package browsertest runs the Node scripts of tests/browser, which drive a
// real headless Chromium, from Go tests.
//
// An end-to-end test has two actors: the Go test (homeserver, rathaus, the
// caseworker's Matrix client) and a Node script playing the citizen in the
// browser (tests/browser/lib/harness.mjs). They meet at named steps:
//
//	s := browsertest.Start(t, "e2e/guest_chat.mjs", nil)
//	s.Expect("ready", 30*time.Second)                 // script launched Chromium
//	s.Continue("ready", map[string]any{"url": srv.URL})
//	got := s.Expect("sent", 30*time.Second)           // citizen sent a message
//	// … the caseworker answers through Matrix …
//	s.Continue("sent", nil)
//	s.Wait(30 * time.Second)                          // script exited 0
//
// The script writes one JSON object per line to stdout ({"step"}, {"log"},
// {"fail"}) and reads {"continue"} lines from stdin; its stderr (console
// output, page console messages) is streamed into the test log.
//
// # Requirements
//
// Start fails the test, never skips it, when something is missing: Node.js
// 20 or newer on PATH, tests/browser/node_modules as pinned by its
// package-lock.json, and Chromium at $RATHAUS_CHROMIUM (default
// /usr/bin/chromium, Debian's package). `make test` installs all of them.
//
// # Processes
//
// The script runs in its own process group. playwright-core starts Chromium
// in a process group of its own, so besides signalling the script's group
// the cleanup kills every process that was seen below the script (found
// through /proc) and waits until they are gone: a test leaves no browser
// behind, whether it passed, failed or timed out. When the test binary dies
// without cleanup, the script sees stdin close and closes Chromium itself.
//
// # Artifacts
//
// When the script fails, or the test fails while the script runs (the
// cleanup then stops it with SIGUSR2 instead of SIGTERM), the harness saves
// a screenshot and the HTML of every open page into an artifacts directory. It is removed after a passing
// test and kept, with its path in the log, after a failing one. Set
// RATHAUS_BROWSER_ARTIFACTS to a directory to collect them there instead
// (one subdirectory per test, never removed).
package browsertest
