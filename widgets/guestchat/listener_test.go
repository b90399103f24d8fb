package guestchat

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

// tinyTimeouts make the listener's timeouts short enough for a test.
func tinyTimeouts(g *config.GuestChatConfig) {
	g.Timeouts = config.GuestTimeouts{ReadHeader: 200 * time.Millisecond, Body: 200 * time.Millisecond, Idle: 200 * time.Millisecond}
}

// serveLoopback serves h on a loopback listener configured by s, as
// internal/app does, and returns its address.
func serveLoopback(t *testing.T, s *Server, h http.Handler) string {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h} //nolint:gosec // ConfigureServer sets the timeouts under test
	s.ConfigureServer(srv)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// requireClosedByServer reads until the server closes conn. The deadline
// is far above the timeouts under test; reaching it means the server kept
// the connection.
func requireClosedByServer(t *testing.T, conn net.Conn, r io.Reader) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, r)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server kept the connection open")
}

// The chat's listener closes connections that send their headers or body
// too slowly, or sit idle between requests.
func TestListenerTimeouts(t *testing.T) {
	s, _ := newBoundedServer(t, tinyTimeouts)
	addr := serveLoopback(t, s, s)

	t.Run("headers never finished", func(t *testing.T) {
		conn := dial(t, addr)
		_, err := io.WriteString(conn, "GET /api/guest/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		require.NoError(t, err)
		requireClosedByServer(t, conn, conn)
	})
	t.Run("body never finished", func(t *testing.T) {
		conn := dial(t, addr)
		_, err := io.WriteString(conn, "POST /api/guest/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
			"Origin: http://127.0.0.1:29332\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"new\":")
		require.NoError(t, err)
		requireClosedByServer(t, conn, conn)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial(t, addr)
		_, err := io.WriteString(conn, "GET /api/guest/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.False(t, resp.Close, "the connection is kept alive after the request")
		requireClosedByServer(t, conn, br)
	})
	t.Run("headers too large", func(t *testing.T) {
		conn := dial(t, addr)
		_, err := io.WriteString(conn, "GET /api/guest/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "+
			strings.Repeat("a", 2*maxHeaderBytes)+"\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
}

// The body deadline ends with the body: a handler that works on after
// reading the whole body keeps its context, although the server reads on
// in the background (a deadline passing there would cancel it). The wait
// is the deadline passing, which is the point.
func TestBodyDeadlineLiftedAfterBody(t *testing.T) {
	s, _ := newBoundedServer(t, func(g *config.GuestChatConfig) {
		tinyTimeouts(g)
		g.Timeouts.Body = 50 * time.Millisecond
	})
	addr := serveLoopback(t, s, s.withBodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
		case <-time.After(6 * s.timeouts.body):
			w.WriteHeader(http.StatusNoContent)
		}
	})))
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/", strings.NewReader("{}"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}

// An upload gets time by the size it declares, up to the largest allowed.
func TestBodyTimeout(t *testing.T) {
	lt := newListenerTimeouts(config.GuestChatConfig{MaxAttachmentBytes: 10 << 20, Timeouts: config.GuestTimeouts{Body: 30 * time.Second}})
	for _, tc := range []struct {
		name   string
		length int64
		want   time.Duration
	}{
		{"unknown length", -1, 30 * time.Second},
		{"small JSON", 200, 30 * time.Second},
		{"10 MiB file", 10 << 20, 30*time.Second + 320*time.Second},
		{"over the largest allowed", 1 << 40, 30*time.Second + 322*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, lt.bodyTimeout(tc.length))
		})
	}
}
