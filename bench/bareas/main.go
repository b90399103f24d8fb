// Command bareas is the comparator of the ingest benchmark (bench/ingest):
// a bare maunium.net/go/mautrix appservice whose only event handler counts
// the events, the program a developer would write instead of using
// rathaus. mautrix itself serves the homeserver's transactions (its router
// and http.Server via AppService.Start); GET /count says how many events
// the handler has seen, as JSON {"events": n}.
//
//	bareas -listen 127.0.0.1:29340 -hs-token TOKEN
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stderr, sigs))
}
