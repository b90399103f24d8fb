package appservice

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
)

// TestPingRefusedToken: the homeserver's answer to a ping whose call to
// rathaus was refused (its hs_token is not ours) is told apart from
// rathaus being unreachable, with the error body as Synapse sends it.
func TestPingRefusedToken(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"rathaus said 403", `{"errcode":"M_BAD_STATUS","error":"Remote returned status 403","status":403,"body":"{\"errcode\":\"M_FORBIDDEN\"}"}`, true},
		{"rathaus said 401", `{"errcode":"M_BAD_STATUS","error":"Remote returned status 401","status":401}`, true},
		{"rathaus said 500", `{"errcode":"M_BAD_STATUS","error":"Remote returned status 500","status":500}`, false},
		{"rathaus unreachable", `{"errcode":"M_CONNECTION_FAILED","error":"connection refused"}`, false},
		{"not an appservice", `{"errcode":"M_FORBIDDEN","error":"not an appservice"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var respErr mautrix.RespError
			require.NoError(t, json.Unmarshal([]byte(tc.body), &respErr))
			err := fmt.Errorf("ping: %w", mautrix.HTTPError{Response: &http.Response{StatusCode: http.StatusBadGateway}, RespError: &respErr})
			assert.Equal(t, tc.want, pingRefusedToken(err))
		})
	}
	assert.False(t, pingRefusedToken(nil))
}

// TestSyncRefused: a homeserver that answers the sync with "not for you"
// (Synapse: 500 to appservice users) ends the loop; a network failure or
// a rate limit does not.
func TestSyncRefused(t *testing.T) {
	httpErr := func(status int) error {
		return fmt.Errorf("sync: %w", mautrix.HTTPError{Response: &http.Response{StatusCode: status}})
	}
	assert.True(t, syncRefused(httpErr(http.StatusInternalServerError)))
	assert.True(t, syncRefused(httpErr(http.StatusNotFound)))
	assert.False(t, syncRefused(httpErr(http.StatusTooManyRequests)))
	assert.False(t, syncRefused(httpErr(http.StatusBadGateway)))
	assert.False(t, syncRefused(fmt.Errorf("dial tcp: connection refused")))
}

// TestWaitForHomeserverSaysWhy: a URL where something answers 404 fails at
// once and says what homeserver.url must be; an unreachable homeserver
// fails at the deadline with the last real cause, not only "context
// deadline exceeded".
func TestWaitForHomeserverSaysWhy(t *testing.T) {
	newAS := func(url string) *mauas.AppService {
		as, err := mauas.CreateFull(mauas.CreateOpts{
			Registration:     &mauas.Registration{ID: "rathaus", AppToken: "a", ServerToken: "h", SenderLocalpart: "rathaus"},
			HomeserverDomain: "example.org",
			HomeserverURL:    url,
		})
		require.NoError(t, err)
		return as
	}
	notMatrix := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notMatrix.Close)
	start := time.Now()
	err := WaitForHomeserver(t.Context(), newAS(notMatrix.URL), time.Minute, zerolog.Nop())
	require.ErrorIs(t, err, ErrHomeserverUnreachable)
	assert.Contains(t, err.Error(), "answers 404")
	assert.Contains(t, err.Error(), "without /_matrix/")
	assert.Less(t, time.Since(start), 10*time.Second, "no waiting for a wrong URL")

	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	err = WaitForHomeserver(t.Context(), newAS(closed), 2*time.Second, zerolog.Nop())
	require.ErrorIs(t, err, ErrHomeserverUnreachable)
	assert.Contains(t, err.Error(), "connection refused", "the cause, not just the deadline")
}
