package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestCountsEvents: transactions with the hs_token are counted once per
// m.room.message, a redelivered transaction id is not counted again (mautrix
// remembers it), a wrong token is refused, and a signal stops the server.
func TestCountsEvents(t *testing.T) {
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	sigs := make(chan os.Signal, 1)
	exited := make(chan int, 1)
	go func() { exited <- run([]string{"-listen", addr, "-hs-token", "secret"}, io.Discard, sigs) }()
	base := "http://" + addr

	put := func(txnID, token string, events int) int {
		t.Helper()
		var evts []string
		for i := range events {
			evts = append(evts, fmt.Sprintf(`{"type":"m.room.message","room_id":"!r:hs","sender":"@u:hs","event_id":"$%s-%d","content":{"msgtype":"m.text","body":"hi"}}`, txnID, i))
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, base+"/_matrix/app/v1/transactions/"+txnID,
			strings.NewReader(`{"events":[`+strings.Join(evts, ",")+`]}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	count := func() int64 {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/count", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var c countResponse
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
		return c.Events
	}
	waitCount := func(want int64) {
		t.Helper()
		tesths.WaitFor(t, 10*time.Second, fmt.Sprintf("the count to reach %d", want), func() error {
			if n := count(); n != want {
				return fmt.Errorf("count is %d", n)
			}
			return nil
		})
	}

	tesths.WaitFor(t, 10*time.Second, "bareas to become ready", func() error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/_matrix/mau/ready", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})

	assert.Equal(t, http.StatusOK, put("t1", "secret", 3))
	waitCount(3)
	assert.Equal(t, http.StatusOK, put("t1", "secret", 3), "a redelivery is acknowledged")
	assert.Equal(t, http.StatusUnauthorized, put("t2", "wrong", 5))
	assert.Equal(t, http.StatusOK, put("t3", "secret", 100))
	waitCount(103)

	sigs <- syscall.SIGTERM
	select {
	case code := <-exited:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("bareas did not stop on SIGTERM")
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{name: "complete", args: []string{"-listen", "127.0.0.1:1", "-hs-token", "x"}, ok: true},
		{name: "no token", args: []string{"-listen", "127.0.0.1:1"}},
		{name: "no listen", args: []string{"-hs-token", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			assert.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}
