package tesths

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"maunium.net/go/mautrix/appservice"
)

const (
	startAttempts = 3
	// logTailLines is how much of the Dendrite log a failure shows.
	logTailLines = 60
)

// Options configure the homeservers of Start and StartFederated.
type Options struct {
	// Appservices returns the appservice registrations to load into the
	// homeserver named serverName. It may be nil. It is called again if a
	// start is retried with new ports, so it should only build values.
	Appservices func(serverName string) []*appservice.Registration
}

// Homeserver is one running Dendrite instance.
type Homeserver struct {
	// ServerName is "127.0.0.1:PORT", PORT being the federation port.
	ServerName string
	// URL is the plain-HTTP client-server API base, http://127.0.0.1:PORT.
	URL string
	// FederationURL is the HTTPS federation base, https://127.0.0.1:PORT,
	// with a self-signed certificate.
	FederationURL string
	// Dir is the instance's directory: config, keys, databases, logs.
	Dir string
	// SharedSecret is the registration_shared_secret of the Synapse-style
	// /_synapse/admin/v1/register endpoint.
	SharedSecret string
	// Appservices are the registrations loaded into this homeserver.
	Appservices []*appservice.Registration

	binary    string
	files     instanceFiles
	httpAddr  string
	httpsAddr string

	mu   sync.Mutex
	proc *process
	// startErrShown is set when a failed start already put the log tail
	// into the test failure, so the cleanup does not print it twice.
	startErrShown bool
}

// Start runs one Dendrite homeserver and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Homeserver {
	tb.Helper()
	return StartFederated(tb, 1, opts)[0]
}

// StartFederated runs n Dendrite homeservers that federate with each other
// over loopback, starting them in parallel, and stops them when the test
// ends.
func StartFederated(tb testing.TB, n int, opts Options) []*Homeserver {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("tesths: StartFederated needs at least one homeserver, got %d", n)
	}
	binary := DendriteBinary(tb)
	servers := make([]*Homeserver, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The test goroutine must call Fatal, so errors are collected.
			servers[i], errs[i] = start(tb, binary, opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return servers
}

func start(tb testing.TB, binary string, opts Options) (*Homeserver, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("failed to generate shared secret: %w", err)
	}
	hs := &Homeserver{
		Dir:          tb.TempDir(),
		SharedSecret: hex.EncodeToString(secret),
		binary:       binary,
	}
	hs.files = newInstanceFiles(hs.Dir)
	if err := writeSigningKey(hs.files.signingKey); err != nil {
		return nil, err
	}
	if err := writeTLSCert(hs.files.tlsCert, hs.files.tlsKey); err != nil {
		return nil, err
	}
	tb.Cleanup(func() {
		hs.Stop()
		if tb.Failed() && !hs.startErrShown {
			tb.Logf("tesths: last lines of the Dendrite log of %s (%s):\n%s",
				hs.ServerName, hs.files.console, hs.LogTail(logTailLines))
		}
	})

	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		if err = hs.configure(opts); err != nil {
			return nil, err
		}
		err = hs.run(tb.Context())
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	if err != nil {
		hs.startErrShown = true
		return nil, fmt.Errorf("failed to start Dendrite in %s: %w\n%s", hs.Dir, err, hs.LogTail(logTailLines))
	}
	return hs, nil
}

// configure picks ports and writes the config and appservice registrations.
func (hs *Homeserver) configure(opts Options) error {
	// A failed attempt may have left state under another server name.
	if err := hs.files.resetData(); err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	hs.httpAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	hs.httpsAddr = "127.0.0.1:" + strconv.Itoa(ports[1])
	hs.ServerName = hs.httpsAddr
	hs.URL = "http://" + hs.httpAddr
	hs.FederationURL = "https://" + hs.httpsAddr

	hs.Appservices = nil
	var asFiles []string
	if opts.Appservices != nil {
		hs.Appservices = opts.Appservices(hs.ServerName)
	}
	for i, reg := range hs.Appservices {
		path := filepath.Join(hs.Dir, fmt.Sprintf("appservice-%d.yaml", i))
		if err := reg.Save(path); err != nil {
			return fmt.Errorf("failed to write appservice registration %q: %w", reg.ID, err)
		}
		asFiles = append(asFiles, path)
	}
	return writeConfig(hs.files.config, dendriteConfig(hs.files, hs.ServerName, hs.SharedSecret, asFiles))
}

// run launches Dendrite and waits until it serves both APIs.
func (hs *Homeserver) run(ctx context.Context) error {
	p, err := launch(hs.binary, hs.files, hs.httpAddr, hs.httpsAddr)
	if err != nil {
		return err
	}
	hs.mu.Lock()
	hs.proc = p
	hs.mu.Unlock()
	if err := waitReady(ctx, p, hs.ServerName, hs.URL, hs.FederationURL); err != nil {
		p.stop()
		if strings.Contains(hs.LogTail(logTailLines), "address already in use") {
			return fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return err
	}
	return nil
}

// Stop shuts Dendrite down (SIGTERM, then SIGKILL after a grace period) and
// returns once it has exited. It is safe to call more than once; Start
// registers it as a test cleanup.
func (hs *Homeserver) Stop() {
	hs.mu.Lock()
	p := hs.proc
	hs.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Restart stops Dendrite and starts it again on the same ports, keys,
// databases and configuration.
func (hs *Homeserver) Restart(tb testing.TB) {
	tb.Helper()
	hs.Stop()
	if err := hs.run(tb.Context()); err != nil {
		tb.Fatalf("tesths: failed to restart Dendrite %s: %v\n%s", hs.ServerName, err, hs.LogTail(logTailLines))
	}
}

// LogTail returns the last n lines Dendrite wrote to its console, which holds
// everything from info level up plus crashes. Dendrite's own log file is
// logs/dendrite.log in Dir.
func (hs *Homeserver) LogTail(n int) string {
	return tailLines(hs.files.console, n)
}
