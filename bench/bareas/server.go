package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
)

// countResponse is the body of GET /count.
type countResponse struct {
	Events int64 `json:"events"`
}

// options are the command line.
type options struct {
	listen, hsToken, serverName, homeserverURL string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bareas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "", "host:port to serve the homeserver's transactions on (required)")
	fs.StringVar(&o.hsToken, "hs-token", "", "the registration's hs_token, which the homeserver sends (required)")
	fs.StringVar(&o.serverName, "server-name", "bench.invalid", "the homeserver's server name")
	fs.StringVar(&o.homeserverURL, "homeserver", "http://127.0.0.1:1", "the homeserver's URL (never called: the handler only counts)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.listen == "" || o.hsToken == "" {
		fs.Usage()
		return o, errors.New("-listen and -hs-token are required")
	}
	return o, nil
}

// run serves until a signal arrives and returns the exit code.
func run(args []string, stderr io.Writer, sigs <-chan os.Signal) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	log := zerolog.New(stderr).With().Timestamp().Logger().Level(zerolog.InfoLevel)
	as, count, err := newAppService(opts, log)
	if err != nil {
		log.Error().Err(err).Msg("Failed to set up the appservice")
		return 1
	}
	// Mautrix's bridges (bridgev2) run their handlers the same way: in the
	// order of the transaction, one event after the other.
	ep := mauas.NewEventProcessor(as)
	ep.ExecMode = mauas.Sync
	ep.On(event.EventMessage, func(context.Context, *event.Event) { count.Add(1) })
	ep.Start(context.Background())
	defer ep.Stop()

	stopped := make(chan struct{})
	go func() {
		<-sigs
		close(stopped)
		as.Stop()
	}()
	as.Ready = true
	as.Start() // returns once Stop shut the server down, or at once if it cannot listen
	select {
	case <-stopped:
		return 0
	default:
		return 1 // Start has logged why
	}
}

// newAppService builds the mautrix appservice with a registration made
// from opts and adds GET /count to its router.
func newAppService(opts options, log zerolog.Logger) (*mauas.AppService, *atomic.Int64, error) {
	host, portText, err := net.SplitHostPort(opts.listen)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse -listen: %w", err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, nil, fmt.Errorf("-listen needs a port, got %q", portText)
	}
	reg := &mauas.Registration{
		ID:              "bareas",
		URL:             "http://" + opts.listen,
		AppToken:        "bareas-never-calls-the-homeserver",
		ServerToken:     opts.hsToken,
		SenderLocalpart: "bareas",
	}
	as, err := mauas.CreateFull(mauas.CreateOpts{
		Registration:     reg,
		HomeserverDomain: opts.serverName,
		HomeserverURL:    opts.homeserverURL,
		HostConfig:       mauas.HostConfig{Hostname: host, Port: uint16(port)},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create the appservice: %w", err)
	}
	as.Log = log
	count := &atomic.Int64{}
	as.Router.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(countResponse{Events: count.Load()})
	})
	return as, count, nil
}
