package devhs_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// options returns Options for a server on two free loopback ports in dir.
func options(t *testing.T, dir string) devhs.Options {
	t.Helper()
	ports, err := devhs.FreePorts(2)
	require.NoError(t, err)
	return devhs.Options{
		Binary:         tesths.DendriteBinary(t),
		Dir:            dir,
		ClientAddr:     "127.0.0.1:" + strconv.Itoa(ports[0]),
		FederationAddr: "127.0.0.1:" + strconv.Itoa(ports[1]),
	}
}

// start starts a server and stops it when the test ends.
func start(t *testing.T, opts devhs.Options) *devhs.Server {
	t.Helper()
	srv, err := devhs.Start(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// serverKeyIDs returns the ids of the signing keys the server publishes.
func serverKeyIDs(t *testing.T, srv *devhs.Server) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/_matrix/key/v2/server", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var keys struct {
		VerifyKeys map[string]struct {
			Key string `json:"key"`
		} `json:"verify_keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&keys))
	var ids []string
	for id, k := range keys.VerifyKeys {
		ids = append(ids, id+"="+k.Key)
	}
	return ids
}

// A second start on the same directory keeps keys, databases and users, as
// the demo relies on; registering the same user again says so.
func TestRestartKeepsState(t *testing.T) {
	opts := options(t, t.TempDir())
	opts.ServerName = "localhost:" + opts.FederationAddr[len("127.0.0.1:"):]
	srv := start(t, opts)
	assert.Equal(t, opts.ServerName, srv.ServerName)
	assert.Equal(t, "http://"+opts.ClientAddr, srv.URL)
	keys := serverKeyIDs(t, srv)
	require.NotEmpty(t, keys)

	creds, err := srv.RegisterUser(t.Context(), "sachbearbeiterin", "geheim-1234", false)
	require.NoError(t, err)
	assert.Equal(t, srv.UserID("sachbearbeiterin"), creds.UserID)
	secret := srv.SharedSecret
	require.NoError(t, srv.Stop(), "Dendrite must exit cleanly on SIGTERM")
	<-srv.Done()
	require.NoError(t, srv.Err())

	srv = start(t, opts)
	assert.Equal(t, secret, srv.SharedSecret, "the shared secret is kept in the directory")
	assert.Equal(t, keys, serverKeyIDs(t, srv), "the signing key is kept in the directory")
	_, err = srv.RegisterUser(t.Context(), "sachbearbeiterin", "anders-5678", false)
	require.ErrorIs(t, err, devhs.ErrUserInUse)
	again, err := srv.Login(t.Context(), "sachbearbeiterin", "geheim-1234")
	require.NoError(t, err, "the user and password survive the restart")
	cli, err := srv.Client(again)
	require.NoError(t, err)
	whoami, err := cli.Whoami(t.Context())
	require.NoError(t, err)
	assert.Equal(t, creds.UserID, whoami.UserID)
	assert.NotEqual(t, creds.DeviceID, again.DeviceID)
}

func TestStartRefusesOtherServerName(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, options(t, dir))
	require.NoError(t, srv.Stop())

	_, err := devhs.Start(t.Context(), options(t, dir))
	require.ErrorIs(t, err, devhs.ErrServerNameChanged)
}

// A port taken between the probe and Dendrite's bind must be recognised, so
// that callers can retry on other ports.
func TestStartReportsBusyPort(t *testing.T) {
	busy := httptest.NewServer(http.NotFoundHandler())
	defer busy.Close()
	opts := options(t, t.TempDir())
	opts.ClientAddr = busy.Listener.Addr().String()

	_, err := devhs.Start(t.Context(), opts)
	require.Error(t, err)
	assert.True(t, errors.Is(err, devhs.ErrAddrInUse), "got %v", err)
}

func TestStartRejectsMissingOptions(t *testing.T) {
	full := devhs.Options{Binary: "/bin/false", Dir: t.TempDir(), ClientAddr: "127.0.0.1:1", FederationAddr: "127.0.0.1:2"}
	for _, tc := range []struct {
		name  string
		clear func(*devhs.Options)
	}{
		{"binary", func(o *devhs.Options) { o.Binary = "" }},
		{"dir", func(o *devhs.Options) { o.Dir = "" }},
		{"client address", func(o *devhs.Options) { o.ClientAddr = "" }},
		{"federation address", func(o *devhs.Options) { o.FederationAddr = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := full
			tc.clear(&opts)
			_, err := devhs.Start(context.Background(), opts)
			require.ErrorIs(t, err, devhs.ErrMissingOption)
		})
	}
}

// A binary that exits at once is reported with its log, not waited for
// until the timeout.
func TestStartReportsEarlyExit(t *testing.T) {
	opts := options(t, t.TempDir())
	opts.Binary = "/bin/false"
	_, err := devhs.Start(t.Context(), opts)
	require.ErrorIs(t, err, devhs.ErrExited)
}
