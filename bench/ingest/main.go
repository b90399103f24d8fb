// Command ingest is the ingest benchmark: rathaus against a bare mautrix
// appservice, both as real processes, the same appservice transactions
// pushed to each. See bench/internal/ingest, or run it with -h.
//
//	go run ./bench/ingest [flags]     # make bench-ingest BENCH_ARGS='...'
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rathaus-de/rathaus/bench/internal/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ingest.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
