package guestchat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// oneCase has the queued case "c1" and nothing else.
type oneCase struct{ noCases }

func (oneCase) Case(_ context.Context, id protocol.CaseID) (*cases.Case, error) {
	if id != "c1" {
		return nil, nil
	}
	return &cases.Case{ID: "c1", Reference: "BAU-2026-00001", Department: "bauamt", Status: protocol.CaseQueued, CreatedAt: time.Now()}, nil
}

// newBoundedServer is a guest chat on loopback http with the case c1.
func newBoundedServer(t *testing.T, tweak func(g *config.GuestChatConfig)) (*Server, *memSessions) {
	t.Helper()
	cfg := config.Default()
	cfg.GuestChat.PublicURL = "http://127.0.0.1:29332"
	if tweak != nil {
		tweak(&cfg.GuestChat)
	}
	opts := testOptions(t, cfg)
	sessions := &memSessions{}
	opts.Sessions, opts.Cases = sessions, oneCase{}
	s, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s, sessions
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	require.NoError(t, (<-ch).Write(&m))
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func postSessionFrom(s *Server, addr, cookie, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, APIPrefix+"session", strings.NewReader(body))
	r.RemoteAddr = addr
	r.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func assertRateLimited(t *testing.T, code int, header http.Header, body []byte) {
	t.Helper()
	assert.Equal(t, http.StatusTooManyRequests, code, "%s", body)
	assert.NotEmpty(t, header.Get("Retry-After"))
	var e httpapi.Error
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Equal(t, httpapi.CodeRateLimited, e.ErrCode)
}

// One address creates at most sessions_per_hour_per_address sessions (each
// a database row); others are not affected, and a browser that has a
// session is not counted again.
func TestSessionCreationPerAddress(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) { g.RateLimits.SessionsPerHourPerAddress = 3 })
	var cookie string
	for i := range 3 {
		w := postSessionFrom(s, "192.0.2.1:1000", "", "{}")
		require.Equal(t, http.StatusOK, w.Code, "session %d: %s", i+1, w.Body)
		cookie = strings.Split(w.Header().Get("Set-Cookie"), ";")[0]
	}
	w := postSessionFrom(s, "192.0.2.1:1001", "", "{}")
	assertRateLimited(t, w.Code, w.Header(), w.Body.Bytes())
	assert.Empty(t, w.Header().Get("Set-Cookie"))

	w = postSessionFrom(s, "192.0.2.1:1002", cookie, "{}")
	assert.Equal(t, http.StatusOK, w.Code, "an existing session is returned, not created: %s", w.Body)
	w = postSessionFrom(s, "192.0.2.2:1000", "", "{}")
	assert.Equal(t, http.StatusOK, w.Code, "another address: %s", w.Body)

	assert.Len(t, sessions.sessions, 4)
	assert.Equal(t, 4.0, counterValue(t, s.bounds.metrics.sessionsCreated))
	assert.Equal(t, 1.0, counterValue(t, s.bounds.metrics.refused.WithLabelValues(limitSessionsPerAddress)))
}

// A refused {"new": true} keeps the old session.
func TestSessionRenewalRefusedKeepsSession(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) { g.RateLimits.SessionsPerHourPerAddress = 1 })
	w := postSessionFrom(s, "192.0.2.1:1000", "", "{}")
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	cookie := strings.Split(w.Header().Get("Set-Cookie"), ";")[0]
	w = postSessionFrom(s, "192.0.2.1:1000", cookie, `{"new": true}`)
	assertRateLimited(t, w.Code, w.Header(), w.Body.Bytes())
	assert.Len(t, sessions.sessions, 1)
	w = postSessionFrom(s, "192.0.2.1:1000", cookie, "{}")
	assert.Equal(t, http.StatusOK, w.Code, "the old session still works: %s", w.Body)
}

// All addresses together create at most sessions_per_second sessions per
// second.
func TestSessionCreationGlobal(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) { g.RateLimits.SessionsPerSecond = 2 })
	now := time.Now()
	var err error
	s.bounds.sessions, err = newSessionLimits(config.GuestRateLimits{SessionsPerHourPerAddress: 60, SessionsPerSecond: 2},
		func() time.Time { return now })
	require.NoError(t, err)
	for i := range 2 {
		w := postSessionFrom(s, fmt.Sprintf("192.0.2.%d:1000", i+1), "", "{}")
		require.Equal(t, http.StatusOK, w.Code, "session %d: %s", i+1, w.Body)
	}
	w := postSessionFrom(s, "192.0.2.3:1000", "", "{}")
	assertRateLimited(t, w.Code, w.Header(), w.Body.Bytes())
	assert.Len(t, sessions.sessions, 2)
	assert.Equal(t, 1.0, counterValue(t, s.bounds.metrics.refused.WithLabelValues(limitSessionsGlobal)))

	now = now.Add(time.Second)
	w = postSessionFrom(s, "192.0.2.3:1000", "", "{}")
	assert.Equal(t, http.StatusOK, w.Code, "a second later: %s", w.Body)
}

// sessionWithCase is a session of case c1; it returns its cookie.
func sessionWithCase(t *testing.T, sessions *memSessions) string {
	t.Helper()
	token, err := newToken()
	require.NoError(t, err)
	sessions.mu.Lock()
	defer sessions.mu.Unlock()
	if sessions.sessions == nil {
		sessions.sessions = map[string]Session{}
	}
	sessions.sessions[hashToken(token)] = Session{TokenHash: hashToken(token), CaseID: "c1", LastSeen: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	return plainCookieName + "=" + token
}

// liveStream is a stream the test opened.
type liveStream struct {
	resp  *http.Response
	ended chan struct{}
}

// openLiveStream opens c1's stream with cookie, from forwardedFor if set
// (the test server trusts 127.0.0.1 as its proxy). A 200 stream is read
// in the background; ended is closed when the server ends it.
func openLiveStream(t *testing.T, base, cookie, forwardedFor string) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+APIPrefix+"cases/c1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", cookie)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	ls := &liveStream{resp: resp, ended: make(chan struct{})}
	t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
	})
	if resp.StatusCode == http.StatusOK {
		go func() {
			defer close(ls.ended)
			_, _ = io.Copy(io.Discard, resp.Body)
		}()
	}
	return ls
}

func (ls *liveStream) close() {
	_ = ls.resp.Body.Close()
}

func assertStreamRefused(t *testing.T, ls *liveStream) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, ls.resp.StatusCode, "the stream should be refused")
	body, err := io.ReadAll(ls.resp.Body)
	require.NoError(t, err)
	assertRateLimited(t, ls.resp.StatusCode, ls.resp.Header, body)
}

func waitOpenStreams(t *testing.T, s *Server, want int) {
	t.Helper()
	tesths.WaitFor(t, 10*time.Second, fmt.Sprintf("%d open streams", want), func() error {
		if n := s.bounds.streams.len(); n != want {
			return fmt.Errorf("%d open", n)
		}
		return nil
	})
}

// A session holds at most streams.per_session streams: a new one (a
// reload) closes the session's oldest, so the citizen gets the new one.
func TestStreamsPerSession(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) { g.Streams.PerSession = 2 })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // after the streams' cleanups, which end them
	cookie := sessionWithCase(t, sessions)
	first := openLiveStream(t, srv.URL, cookie, "")
	second := openLiveStream(t, srv.URL, cookie, "")
	require.Equal(t, http.StatusOK, first.resp.StatusCode)
	require.Equal(t, http.StatusOK, second.resp.StatusCode)
	assert.Equal(t, 2, s.bounds.streams.len())

	third := openLiveStream(t, srv.URL, cookie, "")
	require.Equal(t, http.StatusOK, third.resp.StatusCode)
	select {
	case <-first.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the oldest stream of the session was not closed")
	}
	assert.Equal(t, 2, s.bounds.streams.len())
	assert.Len(t, s.bounds.streams.bySession, 1)
	assert.Equal(t, 1.0, counterValue(t, s.bounds.metrics.streamsReplaced))
	select {
	case <-second.ended:
		t.Fatal("the second stream was closed instead of only the oldest")
	case <-third.ended:
		t.Fatal("the new stream was closed")
	default:
	}

	second.close()
	third.close()
	waitOpenStreams(t, s, 0)
}

// One address holds at most streams.per_address streams, of any sessions;
// the next is refused with 429, another address is not affected, and a
// closed stream frees its place.
func TestStreamsPerAddress(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) {
		g.Streams.PerAddress = 2
		g.TrustedProxies = []string{"127.0.0.1", "::1"}
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // after the streams' cleanups, which end them
	a := openLiveStream(t, srv.URL, sessionWithCase(t, sessions), "192.0.2.1")
	b := openLiveStream(t, srv.URL, sessionWithCase(t, sessions), "192.0.2.1")
	require.Equal(t, http.StatusOK, a.resp.StatusCode)
	require.Equal(t, http.StatusOK, b.resp.StatusCode)
	cookie := sessionWithCase(t, sessions)
	assertStreamRefused(t, openLiveStream(t, srv.URL, cookie, "192.0.2.1"))
	assert.Equal(t, 1.0, counterValue(t, s.bounds.metrics.refused.WithLabelValues(limitStreamsPerAddress)))
	other := openLiveStream(t, srv.URL, sessionWithCase(t, sessions), "192.0.2.2")
	assert.Equal(t, http.StatusOK, other.resp.StatusCode, "another address")

	a.close()
	waitOpenStreams(t, s, 2)
	again := openLiveStream(t, srv.URL, cookie, "192.0.2.1")
	assert.Equal(t, http.StatusOK, again.resp.StatusCode, "after a stream of the address closed")
	assert.Equal(t, 3, s.bounds.streams.len())
}

// All addresses together hold at most streams.total streams.
func TestStreamsTotal(t *testing.T) {
	s, sessions := newBoundedServer(t, func(g *config.GuestChatConfig) {
		g.Streams.Total = 2
		g.TrustedProxies = []string{"127.0.0.1", "::1"}
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // after the streams' cleanups, which end them
	for i := range 2 {
		ls := openLiveStream(t, srv.URL, sessionWithCase(t, sessions), fmt.Sprintf("192.0.2.%d", i+1))
		require.Equal(t, http.StatusOK, ls.resp.StatusCode)
	}
	assertStreamRefused(t, openLiveStream(t, srv.URL, sessionWithCase(t, sessions), "192.0.2.3"))
	assert.Equal(t, 1.0, counterValue(t, s.bounds.metrics.refused.WithLabelValues(limitStreamsTotal)))
	assert.Equal(t, 2, s.bounds.streams.len())
}

// A session at its own limit replaces its oldest stream only if the new
// one fits the address's and the global limit; a refusal changes nothing.
func TestStreamSlots(t *testing.T) {
	tests := []struct {
		name        string
		limits      config.GuestStreamLimits
		open        [][2]string // session, address
		session     string
		address     string
		wantReplace bool
		wantRefused string
	}{
		{name: "room left", limits: config.GuestStreamLimits{PerSession: 2, PerAddress: 2, Total: 2},
			open: [][2]string{{"s1", "a"}}, session: "s1", address: "a"},
		{name: "session full replaces", limits: config.GuestStreamLimits{PerSession: 1, PerAddress: 5, Total: 5},
			open: [][2]string{{"s1", "a"}}, session: "s1", address: "a", wantReplace: true},
		{name: "session full at global limit replaces", limits: config.GuestStreamLimits{PerSession: 1, PerAddress: 5, Total: 2},
			open: [][2]string{{"s1", "a"}, {"s2", "b"}}, session: "s1", address: "c", wantReplace: true},
		{name: "address full", limits: config.GuestStreamLimits{PerSession: 3, PerAddress: 2, Total: 9},
			open: [][2]string{{"s1", "a"}, {"s2", "a"}}, session: "s3", address: "a", wantRefused: limitStreamsPerAddress},
		{name: "replacing elsewhere does not free the address", limits: config.GuestStreamLimits{PerSession: 1, PerAddress: 1, Total: 9},
			open: [][2]string{{"s1", "b"}, {"s2", "a"}}, session: "s1", address: "a", wantRefused: limitStreamsPerAddress},
		{name: "global full", limits: config.GuestStreamLimits{PerSession: 3, PerAddress: 3, Total: 2},
			open: [][2]string{{"s1", "a"}, {"s2", "b"}}, session: "s3", address: "c", wantRefused: limitStreamsTotal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slots := newStreamSlots(tc.limits)
			var held []*streamSlot
			for _, o := range tc.open {
				slot, _, refused := slots.acquire(o[0], o[1])
				require.Empty(t, refused)
				held = append(held, slot)
			}
			slot, replaced, refused := slots.acquire(tc.session, tc.address)
			assert.Equal(t, tc.wantReplace, replaced)
			assert.Equal(t, tc.wantRefused, refused)
			if tc.wantRefused != "" {
				assert.Nil(t, slot)
				assert.Equal(t, len(tc.open), slots.len(), "a refusal changes nothing")
				return
			}
			if replaced {
				assert.Equal(t, len(tc.open), slots.len())
				select {
				case <-held[0].replaced:
				default:
					t.Error("the session's oldest stream was not told to end")
				}
			} else {
				assert.Equal(t, len(tc.open)+1, slots.len())
			}
			for _, h := range held {
				h.release()
			}
			slot.release()
			slot.release()
			assert.Equal(t, 0, slots.len())
			assert.Empty(t, slots.bySession)
			assert.Empty(t, slots.byAddress)
		})
	}
}

// The bounds' metrics are registered with the registry New is given, with
// every limit's refusals at 0 from the start.
func TestBoundsMetricsRegistered(t *testing.T) {
	cfg := config.Default()
	cfg.GuestChat.PublicURL = "http://127.0.0.1:29332"
	reg := prometheus.NewRegistry()
	opts := testOptions(t, cfg)
	opts.Registry = reg
	s, err := New(opts)
	require.NoError(t, err)
	defer s.Close()
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]int{}
	for _, f := range families {
		got[f.GetName()] = len(f.GetMetric())
	}
	assert.Equal(t, map[string]int{
		"rathaus_guestchat_sessions_created_total": 1,
		"rathaus_guestchat_refused_total":          len(refusalLimits),
		"rathaus_guestchat_streams_replaced_total": 1,
		"rathaus_guestchat_streams_open":           1,
	}, got)
}

// A session without a case keeps its row an hour after its last request,
// not session_lifetime; its cookie keeps session_lifetime. Once it has a
// case, its row lives session_lifetime again.
func TestCaselessSessionExpiry(t *testing.T) {
	s, sessions := newBoundedServer(t, nil)
	lifetime := config.DefaultSessionLifetime
	w := postSessionFrom(s, "192.0.2.1:1000", "", "{}")
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	cookie := w.Result().Cookies()[0]
	assert.InDelta(t, lifetime.Seconds(), float64(cookie.MaxAge), 60, "the cookie keeps session_lifetime")
	hash := hashToken(cookie.Value)
	row := func() Session {
		sessions.mu.Lock()
		defer sessions.mu.Unlock()
		return sessions.sessions[hash]
	}
	assert.WithinDuration(t, time.Now().Add(caselessSessionLifetime), row().ExpiresAt, time.Minute, "a new session's row")

	// Used again after a while: renewed by the hour while it has no case.
	age := func() {
		sessions.mu.Lock()
		defer sessions.mu.Unlock()
		gs := sessions.sessions[hash]
		gs.LastSeen = time.Now().Add(-2 * touchEvery)
		sessions.sessions[hash] = gs
	}
	age()
	w = postSessionFrom(s, "192.0.2.1:1000", cookie.Name+"="+cookie.Value, "{}")
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	assert.WithinDuration(t, time.Now().Add(caselessSessionLifetime), row().ExpiresAt, time.Minute, "a case-less session's row, renewed")

	gs := row()
	s.keepSessionForCase(context.Background(), &gs)
	assert.WithinDuration(t, time.Now().Add(lifetime), row().ExpiresAt, time.Minute, "the row once the case is open")

	sessions.mu.Lock()
	gs = sessions.sessions[hash]
	gs.CaseID = "c1"
	sessions.sessions[hash] = gs
	sessions.mu.Unlock()
	age()
	w = postSessionFrom(s, "192.0.2.1:1000", cookie.Name+"="+cookie.Value, "{}")
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	assert.WithinDuration(t, time.Now().Add(lifetime), row().ExpiresAt, time.Minute, "a session with a case, renewed")
}
