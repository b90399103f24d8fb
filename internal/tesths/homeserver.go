package tesths

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/appservice"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

const (
	startAttempts = 3
	// logTailLines is how much of the homeserver log a failure shows.
	logTailLines = 60
	// stopGrace is how long Stop waits after SIGTERM before it kills.
	stopGrace = 5 * time.Second
)

// Options configure one homeserver of Start, StartFederated or StartMixed.
type Options struct {
	// Kind is the implementation. Default: Dendrite.
	Kind Kind
	// RoomVersion is the version of rooms created without one. Default:
	// DefaultRoomVersion.
	RoomVersion string
	// Appservices returns the appservice registrations to load into the
	// homeserver named serverName. It may be nil. It is called again if a
	// start is retried with new ports, so it should only build values.
	Appservices func(serverName string) []*appservice.Registration
	// RTCTransports are the MatrixRTC transports (LiveKit service URLs)
	// a Synapse names to its clients (devhs.Options.RTCTransports).
	RTCTransports []string
}

// Homeserver is one running Dendrite or Synapse instance.
type Homeserver struct {
	// Kind is the implementation.
	Kind Kind
	// ServerName is "127.0.0.1:PORT", PORT being the federation port.
	ServerName string
	// URL is the plain-HTTP client-server API base, http://127.0.0.1:PORT.
	URL string
	// FederationURL is the HTTPS federation base, https://127.0.0.1:PORT,
	// with a self-signed certificate.
	FederationURL string
	// Dir is the instance's directory: config, keys, databases, logs
	// (layout: package devhs).
	Dir string
	// SharedSecret is the registration_shared_secret of the Synapse-style
	// /_synapse/admin/v1/register endpoint.
	SharedSecret string
	// Appservices are the registrations loaded into this homeserver.
	Appservices []*appservice.Registration

	opts devhs.Options // what the running server was started with

	mu  sync.Mutex
	srv *devhs.Server
}

// Start runs one homeserver and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Homeserver {
	tb.Helper()
	return StartMixed(tb, opts)[0]
}

// StartFederated runs n homeservers of the same options that federate with
// each other over loopback, starting them in parallel, and stops them when
// the test ends.
func StartFederated(tb testing.TB, n int, opts Options) []*Homeserver {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("tesths: StartFederated needs at least one homeserver, got %d", n)
	}
	servers := make([]Options, n)
	for i := range servers {
		servers[i] = opts
	}
	return StartMixed(tb, servers...)
}

// StartMixed runs one homeserver per Options, of any kinds, that federate
// with each other over loopback. It starts them in parallel, returns them
// in the order of servers once every one is ready, and stops them when the
// test ends.
func StartMixed(tb testing.TB, servers ...Options) []*Homeserver {
	tb.Helper()
	if len(servers) == 0 {
		tb.Fatalf("tesths: StartMixed needs at least one homeserver")
	}
	type prog struct{ binary, template string }
	progs := map[Kind]prog{}
	for i := range servers {
		if servers[i].Kind == "" {
			servers[i].Kind = Dendrite
		}
		if servers[i].RoomVersion == "" {
			servers[i].RoomVersion = DefaultRoomVersion
		}
		kind := servers[i].Kind
		if _, ok := progs[kind]; ok {
			continue
		}
		binary, template, err := program(tb, kind)
		if err != nil {
			tb.Fatalf("tesths: %v", err)
		}
		progs[kind] = prog{binary, template}
	}
	started := make([]*Homeserver, len(servers))
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, opts := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The test goroutine must call Fatal, so errors are collected.
			p := progs[opts.Kind]
			started[i], errs[i] = start(tb, p.binary, p.template, opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return started
}

// start runs one homeserver on fresh ports in a fresh directory, retrying
// with new ones if a port was taken between the probe and the bind. The
// server name contains the port, so a retry cannot reuse the directory.
func start(tb testing.TB, binary, template string, opts Options) (*Homeserver, error) {
	tb.Helper()
	hs := &Homeserver{Kind: opts.Kind}
	// The directory is made before the cleanup that stops the server is
	// registered: cleanups run last-in first-out, so the server has exited
	// before the testing package removes its files. The other way round,
	// Dendrite's JetStream may still write while the directory is removed.
	base := tb.TempDir()
	tb.Cleanup(func() {
		hs.Stop()
		hs.mu.Lock()
		srv := hs.srv
		hs.mu.Unlock()
		// A failed start already carries the log tail in its error.
		if tb.Failed() && srv != nil {
			tb.Logf("tesths: last lines of the %s log of %s (%s):\n%s",
				hs.Kind, hs.ServerName, srv.ConsoleLog, srv.LogTail(logTailLines))
		}
	})
	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		err = hs.startFresh(tb, base, binary, template, opts)
		if !errors.Is(err, devhs.ErrAddrInUse) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return hs, nil
}

func (hs *Homeserver) startFresh(tb testing.TB, base, binary, template string, opts Options) error {
	tb.Helper()
	ports, err := devhs.FreePorts(2)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(base, "hs-")
	if err != nil {
		return err
	}
	serverName := "127.0.0.1:" + strconv.Itoa(ports[1])
	var regs []*appservice.Registration
	if opts.Appservices != nil {
		regs = opts.Appservices(serverName)
	}
	var asFiles []string
	for i, reg := range regs {
		path := filepath.Join(dir, fmt.Sprintf("appservice-%d.yaml", i))
		if err := reg.Save(path); err != nil {
			return fmt.Errorf("failed to write appservice registration %q: %w", reg.ID, err)
		}
		asFiles = append(asFiles, path)
	}
	devOpts := devhs.Options{
		Kind:             opts.Kind,
		Binary:           binary,
		RoomVersion:      opts.RoomVersion,
		RTCTransports:    opts.RTCTransports,
		DatabaseTemplate: template,
		Dir:              dir,
		ClientAddr:       "127.0.0.1:" + strconv.Itoa(ports[0]),
		FederationAddr:   serverName,
		ServerName:       serverName,
		AppserviceFiles:  asFiles,
		StopTimeout:      stopGrace,
	}
	srv, err := devhs.Start(tb.Context(), devOpts)
	if err != nil {
		return err
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.srv = srv
	hs.opts = devOpts
	hs.ServerName = srv.ServerName
	hs.URL = srv.URL
	hs.FederationURL = srv.FederationURL
	hs.Dir = srv.Dir
	hs.SharedSecret = srv.SharedSecret
	hs.Appservices = regs
	return nil
}

// Stop shuts the homeserver down (SIGTERM, then SIGKILL after a grace
// period) and returns once it has exited. It is safe to call more than once; Start
// registers it as a test cleanup.
func (hs *Homeserver) Stop() {
	hs.mu.Lock()
	srv := hs.srv
	hs.mu.Unlock()
	if srv != nil {
		_ = srv.Stop()
	}
}

// Restart stops the homeserver and starts it again on the same ports,
// keys, databases and configuration; what it had not yet sent (federation,
// appservice transactions) it sends after the restart.
func (hs *Homeserver) Restart(tb testing.TB) {
	tb.Helper()
	hs.Stop()
	srv, err := devhs.Start(tb.Context(), hs.opts)
	if err != nil {
		tb.Fatalf("tesths: failed to restart %s %s: %v", hs.Kind, hs.ServerName, err)
	}
	hs.mu.Lock()
	hs.srv = srv
	hs.mu.Unlock()
}

// LogTail returns the last n lines the homeserver wrote to its console,
// which holds everything from info level up plus crashes (since the last
// start). Dendrite's own log file is logs/dendrite.log in Dir; Synapse logs
// only to the console.
func (hs *Homeserver) LogTail(n int) string {
	hs.mu.Lock()
	srv := hs.srv
	hs.mu.Unlock()
	if srv == nil {
		return "(not started)"
	}
	return srv.LogTail(n)
}

// server returns the running devhs server or fails the test.
func (hs *Homeserver) server(tb testing.TB) *devhs.Server {
	tb.Helper()
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.srv == nil {
		tb.Fatalf("tesths: homeserver not started")
	}
	return hs.srv
}
