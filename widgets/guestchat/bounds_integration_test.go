package guestchat_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestGuestChatBounds: rathaus's own guest listener applies the bounds of
// issue 12, point 6: one address cannot create sessions without end, a
// session without a case keeps its row only an hour, a session's new
// stream replaces its oldest, and a never-finished body or
// an idle keep-alive connection is closed. Rules are the same on every
// homeserver, so Dendrite alone.
func TestGuestChatBounds(t *testing.T) {
	ge := startGuestChat(t, tesths.Dendrite, func(g *config.GuestChatConfig, _ *config.RetentionConfig) {
		g.RateLimits.SessionsPerHourPerAddress = 1
		g.Streams.PerSession = 1
		g.Timeouts = config.GuestTimeouts{ReadHeader: 500 * time.Millisecond, Body: 500 * time.Millisecond, Idle: 500 * time.Millisecond}
	})
	ctx := context.Background()
	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	resp, err := guestclient.New(ge.base).Post(ctx, "session", map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, resp.Status, "a second session from the same address")
	assert.Equal(t, "rate_limited", resp.Code())
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))

	// The session's row lives an hour while it has no case, and
	// session_lifetime once it has one.
	u, err := url.Parse(ge.base)
	require.NoError(t, err)
	cookies := citizen.HTTP.Jar.Cookies(u)
	require.Len(t, cookies, 1)
	sum := sha256.Sum256([]byte(cookies[0].Value))
	tokenHash := hex.EncodeToString(sum[:])
	row, err := ge.App.Store().GetGuestSession(ctx, tokenHash)
	require.NoError(t, err)
	require.NotNil(t, row)
	assert.WithinDuration(t, time.Now().Add(time.Hour), row.ExpiresAt, time.Minute, "a session without a case")

	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage", TxnID: "question-1"})
	require.NoError(t, err)
	row, err = ge.App.Store().GetGuestSession(ctx, tokenHash)
	require.NoError(t, err)
	require.NotNil(t, row)
	assert.WithinDuration(t, time.Now().Add(ge.Cfg.GuestChat.SessionLifetime), row.ExpiresAt, time.Minute, "a session with its case")
	first, err := citizen.Stream(ctx, c.ID, 0)
	require.NoError(t, err)
	t.Cleanup(first.Close)
	nextMessage(t, first, "citizen", "Frage")
	second, err := citizen.Stream(ctx, c.ID, 0)
	require.NoError(t, err)
	t.Cleanup(second.Close)
	_, err = first.Next(30*time.Second, func(guestclient.Event) bool { return false })
	require.ErrorContains(t, err, "stream ended", "the session's older stream is closed for the new one")
	nextMessage(t, second, "citizen", "Frage")

	addr := strings.TrimPrefix(ge.base, "http://")
	t.Run("body never finished", func(t *testing.T) {
		conn := dialGuest(t, addr)
		_, err := io.WriteString(conn, "POST /api/guest/v1/session HTTP/1.1\r\nHost: "+addr+"\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		require.NoError(t, err)
		requireServerCloses(t, conn, conn)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dialGuest(t, addr)
		_, err := io.WriteString(conn, "GET /api/guest/v1/info HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.False(t, resp.Close, "kept alive after the request")
		requireServerCloses(t, conn, br)
	})
}

func dialGuest(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// requireServerCloses reads until the server closes conn; the deadline is
// far above the timeouts under test.
func requireServerCloses(t *testing.T, conn net.Conn, r io.Reader) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
	_, err := io.Copy(io.Discard, r)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server kept the connection open")
}
