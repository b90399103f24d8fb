package tesths

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// A port taken between the probe and Dendrite's bind must be recognised, so
// that start retries on other ports instead of failing the test.
func TestRunReportsBusyPort(t *testing.T) {
	binary := DendriteBinary(t)
	// Another HTTP server holds the client port.
	busy := httptest.NewServer(http.NotFoundHandler())
	defer busy.Close()

	hs := &Homeserver{Dir: t.TempDir(), SharedSecret: "secret", binary: binary}
	hs.files = newInstanceFiles(hs.Dir)
	require.NoError(t, hs.files.resetData())
	require.NoError(t, writeSigningKey(hs.files.signingKey))
	require.NoError(t, writeTLSCert(hs.files.tlsCert, hs.files.tlsKey))
	require.NoError(t, hs.configure(Options{}))
	hs.httpAddr = busy.Listener.Addr().String()
	hs.URL = "http://" + hs.httpAddr
	t.Cleanup(hs.Stop)

	err := hs.run(t.Context())
	require.Error(t, err)
	require.True(t, errors.Is(err, errAddrInUse), "got %v\n%s", err, hs.LogTail(10))
}
