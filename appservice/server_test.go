package appservice_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/store"
)

type fakeQueries struct{}

func (fakeQueries) QueryUser(_ context.Context, u id.UserID) (bool, error) {
	return u == "@rathaus:hs", nil
}
func (fakeQueries) QueryAlias(_ context.Context, a id.RoomAlias) (bool, error) {
	return a == "#_rathaus_bauamt:hs", nil
}

type harness struct {
	srv       *httptest.Server
	store     *store.Store
	rec       *recorder
	ephemeral *ephemeralRecorder
}

// ephemeralRecorder keeps the ephemeral events handed on.
type ephemeralRecorder struct {
	mu     sync.Mutex
	events []*event.Event
}

func (e *ephemeralRecorder) HandleEphemeral(_ context.Context, events []*event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, events...)
}

func (e *ephemeralRecorder) all() []*event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with a last look at the dispatcher's options.
func newHarnessWith(t *testing.T, mod func(*appservice.DispatcherOptions)) *harness {
	t.Helper()
	st := newStore(t)
	rec := newRecorder()
	eph := &ephemeralRecorder{}
	d := startDispatcher(t, st, rec, mod)
	s, err := appservice.NewServer(appservice.ServerOptions{
		Log: zerolog.Nop(), HSToken: hsToken, Inbox: st, Dispatcher: d, Queries: fakeQueries{}, Ephemeral: eph,
		IsOurUser: func(u id.UserID) bool {
			return strings.HasPrefix(string(u), "@rathaus") || strings.HasPrefix(string(u), "@_rathaus_")
		},
		IsOurAlias:          func(a id.RoomAlias) bool { return strings.HasPrefix(string(a), "#_rathaus_") },
		MaxTransactionBytes: 4096,
	})
	require.NoError(t, err)
	s.SetReady(true)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &harness{srv: srv, store: st, rec: rec, ephemeral: eph}
}

// do sends a request; auth is "" (none), "header:<tok>", "query:<tok>" or
// both joined with a space.
func (h *harness) do(t *testing.T, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	url := h.srv.URL + path
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	for _, a := range strings.Fields(auth) {
		kind, tok, _ := strings.Cut(a, ":")
		if kind == "header" {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else {
			q := req.URL.Query()
			q.Set("access_token", tok)
			req.URL.RawQuery = q.Encode()
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func (h *harness) inboxRows(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, h.store.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM inbox_event`).Scan(&n))
	var txns int
	require.NoError(t, h.store.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM as_transaction`).Scan(&txns))
	return n + txns
}

func TestTransactionAuth(t *testing.T) {
	h := newHarness(t)
	body := txnJSON(messageJSON("!r:hs", "$e1", "hello"))
	for _, tc := range []struct {
		name, auth string
	}{
		{"missing token", ""},
		{"wrong header token", "header:wrong"},
		{"wrong query token only", "query:wrong"},
		{"right header, wrong query", "header:" + hsToken + " query:wrong"},
		{"wrong header, right query", "header:wrong query:" + hsToken},
		{"empty bearer", "header:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/t-"+tc.name, tc.auth, body)
			assert.Equal(t, http.StatusForbidden, status)
			assert.Equal(t, "M_FORBIDDEN", resp["errcode"])
			assert.Zero(t, h.inboxRows(t), "a rejected transaction writes no row")
		})
	}
	t.Run("legacy query token accepted", func(t *testing.T) {
		status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/q1", "query:"+hsToken, body)
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("header and query both right", func(t *testing.T) {
		status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/q2", "header:"+hsToken+" query:"+hsToken, txnJSON())
		assert.Equal(t, http.StatusOK, status)
	})
}

func TestTransactionBadBodies(t *testing.T) {
	h := newHarness(t)
	auth := "header:" + hsToken
	for _, tc := range []struct {
		name, body string
		status     int
		errcode    string
	}{
		{"empty", "", http.StatusBadRequest, "M_NOT_JSON"},
		{"not json", "{events:", http.StatusBadRequest, "M_NOT_JSON"},
		{"events not a list", `{"events":{}}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"events missing", `{}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"null", `null`, http.StatusBadRequest, "M_BAD_JSON"},
		{"oversized", txnJSON(messageJSON("!r:hs", "$big", strings.Repeat("x", 5000))), http.StatusRequestEntityTooLarge, "M_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/"+strings.ReplaceAll(tc.name, " ", "-"), auth, tc.body)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.errcode, resp["errcode"])
			assert.Zero(t, h.inboxRows(t))
		})
	}
}

// TestTransactionDropsOnlyMalformedEvents: an event the inbox cannot key
// is dropped, the rest of the transaction is kept (a 400 would make the
// homeserver retry the transaction for ever).
func TestTransactionDropsOnlyMalformedEvents(t *testing.T) {
	h := newHarness(t)
	status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/mixed", "header:"+hsToken,
		`{"events":[42, {"event_id":7,"room_id":"!r:hs","type":"m.room.message"}, {"room_id":"!r:hs"}, `+messageJSON("!r:hs", "$ok", "x")+`]}`)
	require.Equal(t, http.StatusOK, status)
	waitFor(t, "the valid event handled", 5*time.Second, func() bool { return h.rec.timesHandled("$ok") == 1 })
	assert.Equal(t, 1, h.rec.total())
}

func TestTransactionHandledOnce(t *testing.T) {
	h := newHarness(t)
	auth := "header:" + hsToken
	first := txnJSON(messageJSON("!r:hs", "$e1", "one"), messageJSON("!r:hs", "$e2", "two"))
	for i := 0; i < 3; i++ {
		status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/same", auth, first)
		require.Equal(t, http.StatusOK, status)
	}
	// Same event ids under a new transaction id (Synapse after a restart).
	status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/other", auth,
		txnJSON(messageJSON("!r:hs", "$e2", "two"), messageJSON("!r:hs", "$e3", "three")))
	require.Equal(t, http.StatusOK, status)

	waitFor(t, "three distinct events handled", 5*time.Second, func() bool { return h.rec.total() >= 3 })
	waitFor(t, "inbox drained", 5*time.Second, func() bool {
		n, _ := h.store.CountInbox(context.Background(), store.InboxPending)
		return n == 0
	})
	for _, e := range []id.EventID{"$e1", "$e2", "$e3"} {
		assert.Equal(t, 1, h.rec.timesHandled(e), "event %s", e)
	}
	assert.Equal(t, []id.EventID{"$e1", "$e2", "$e3"}, h.rec.byRoom["!r:hs"])
}

// TestReusedTransactionID: Synapse on SQLite starts its transaction ids at 1
// again after a restart, so an id rathaus has seen can carry new events.
// They are stored and handled at once: the dispatcher is woken for them,
// not found by its next poll (an hour here).
func TestReusedTransactionID(t *testing.T) {
	h := newHarnessWith(t, func(o *appservice.DispatcherOptions) { o.PollInterval = time.Hour })
	auth := "header:" + hsToken
	status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/1", auth, txnJSON(messageJSON("!r:hs", "$before", "vorher")))
	require.Equal(t, http.StatusOK, status)
	waitFor(t, "the first transaction's event handled", 5*time.Second, func() bool { return h.rec.timesHandled("$before") == 1 })

	status, _ = h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/1", auth,
		txnJSON(messageJSON("!r:hs", "$after-1", "nachher"), messageJSON("!other:hs", "$after-2", "auch")))
	require.Equal(t, http.StatusOK, status)
	waitFor(t, "the new events behind the reused id handled", 5*time.Second, func() bool {
		return h.rec.timesHandled("$after-1") == 1 && h.rec.timesHandled("$after-2") == 1
	})
	assert.Equal(t, 1, h.rec.timesHandled("$before"), "the old event is not handled again")
}

// TestTransactionEphemeral: typing and receipts pushed with
// receive_ephemeral (and under MSC2409's unstable key) are handed on,
// parsed, and never stored.
func TestTransactionEphemeral(t *testing.T) {
	h := newHarness(t)
	body := `{"events":[],"ephemeral":[{"type":"m.typing","room_id":"!r:hs","content":{"user_ids":["@anna:hs"]}}],` +
		`"de.sorunome.msc2409.ephemeral":[{"type":"m.receipt","room_id":"!r:hs","content":{"$e":{"m.read":{"@anna:hs":{"ts":1}}}}},` +
		`{"type":"m.typing","content":{"user_ids":[]}}]}`
	status, _ := h.do(t, http.MethodPut, "/_matrix/app/v1/transactions/eph", "header:"+hsToken, body)
	require.Equal(t, http.StatusOK, status)
	got := h.ephemeral.all()
	require.Len(t, got, 2, "the event without a room is dropped")
	assert.Equal(t, []id.UserID{"@anna:hs"}, got[0].Content.AsTyping().UserIDs)
	assert.Equal(t, id.RoomID("!r:hs"), got[1].RoomID)
	assert.Contains(t, *got[1].Content.AsReceipt(), id.EventID("$e"))
	n, err := h.store.CountInbox(context.Background(), store.InboxPending)
	require.NoError(t, err)
	assert.Zero(t, n, "ephemeral events are not stored")
}

func TestQueriesPingAndHealth(t *testing.T) {
	h := newHarness(t)
	auth := "header:" + hsToken
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
	}{
		{"known bot user", "GET", "/_matrix/app/v1/users/@rathaus:hs", auth, "", 200},
		{"unknown ghost", "GET", "/_matrix/app/v1/users/@_rathaus_nobody:hs", auth, "", 404},
		{"foreign user", "GET", "/_matrix/app/v1/users/@alice:hs", auth, "", 404},
		{"user query without token", "GET", "/_matrix/app/v1/users/@rathaus:hs", "", "", 403},
		{"known alias", "GET", "/_matrix/app/v1/rooms/%23_rathaus_bauamt:hs", auth, "", 200},
		{"unknown alias", "GET", "/_matrix/app/v1/rooms/%23_rathaus_nope:hs", auth, "", 404},
		{"foreign alias", "GET", "/_matrix/app/v1/rooms/%23lobby:hs", auth, "", 404},
		{"ping", "POST", "/_matrix/app/v1/ping", auth, `{"transaction_id":"p1"}`, 200},
		{"ping not json", "POST", "/_matrix/app/v1/ping", auth, `nope`, 400},
		{"ping wrong token", "POST", "/_matrix/app/v1/ping", "header:bad", `{}`, 403},
		{"live", "GET", "/_matrix/mau/live", "", "", 200},
		{"unknown endpoint", "GET", "/_matrix/app/v1/thirdparty/protocol/x", auth, "", 404},
		{"wrong method", "GET", "/_matrix/app/v1/transactions/x", auth, "", 405},
		{"ready", "GET", "/_matrix/mau/ready", "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _ := h.do(t, tc.method, tc.path, tc.auth, tc.body)
			assert.Equal(t, tc.status, status)
		})
	}
}

func TestNotReadyUntilStarted(t *testing.T) {
	st := newStore(t)
	d := startDispatcher(t, st, newRecorder(), nil)
	s, err := appservice.NewServer(appservice.ServerOptions{
		HSToken: hsToken, Inbox: st, Dispatcher: d, Queries: fakeQueries{},
		IsOurUser: func(id.UserID) bool { return false }, IsOurAlias: func(id.RoomAlias) bool { return false },
		MaxTransactionBytes: 4096,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ready := func() int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/_matrix/mau/ready", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusServiceUnavailable, ready())
	s.SetReady(true)
	assert.Equal(t, http.StatusOK, ready())
}

// TestTransactionStoresUnwantedEventsDone: events the handler's Selector
// declines are stored done, without payload, when the transaction comes
// in; only the others are dispatched.
func TestTransactionStoresUnwantedEventsDone(t *testing.T) {
	st := newStore(t)
	h := &selective{recorder: newRecorder(), room: "!mine:hs"}
	metrics := appservice.NewMetrics(nil)
	d := startDispatcher(t, st, h, func(o *appservice.DispatcherOptions) { o.Metrics = metrics })
	s, err := appservice.NewServer(appservice.ServerOptions{
		Log: zerolog.Nop(), HSToken: hsToken, Inbox: st, Dispatcher: d, Queries: fakeQueries{},
		IsOurUser: func(id.UserID) bool { return false }, IsOurAlias: func(id.RoomAlias) bool { return false },
		MaxTransactionBytes: 4096, Metrics: metrics,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	hn := &harness{srv: srv, store: st}
	code, _ := hn.do(t, http.MethodPut, "/_matrix/app/v1/transactions/t1", "header:"+hsToken, txnJSON(
		messageJSON("!other:hs", "$chat1", "Guten Morgen"),
		messageJSON("!mine:hs", "$mine", "x"),
		messageJSON("!other:hs", "$chat2", "Mahlzeit"),
	))
	require.Equal(t, http.StatusOK, code)
	waitFor(t, "the wanted event handled", 5*time.Second, func() bool { return h.timesHandled("$mine") == 1 })
	var skipped, withPayload int
	require.NoError(t, st.DB.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(payload) FROM inbox_event WHERE event_id IN ('$chat1', '$chat2') AND state = 'done'`).Scan(&skipped, &withPayload))
	assert.Equal(t, 2, skipped)
	assert.Zero(t, withPayload, "declined events are stored without their content")
	assert.Equal(t, 1, h.total())
	assert.Equal(t, 2.0, counterValue(metrics.EventsSkipped))
	waitFor(t, "all three counted as processed", 5*time.Second, func() bool { return counterValue(metrics.EventsProcessed) == 3 })
}

// TestTransactionBeforeStartKeepsEverything: before the dispatcher starts
// (rathaus is still loading the rooms it manages) no event is declined at
// the door: all wait for the dispatcher, which asks again.
func TestTransactionBeforeStartKeepsEverything(t *testing.T) {
	st := newStore(t)
	h := &selective{recorder: newRecorder(), room: "!mine:hs"}
	d, err := appservice.NewDispatcher(appservice.DispatcherOptions{Log: zerolog.Nop(), Inbox: st, Handler: h})
	require.NoError(t, err)
	s, err := appservice.NewServer(appservice.ServerOptions{
		Log: zerolog.Nop(), HSToken: hsToken, Inbox: st, Dispatcher: d, Queries: fakeQueries{},
		IsOurUser: func(id.UserID) bool { return false }, IsOurAlias: func(id.RoomAlias) bool { return false },
		MaxTransactionBytes: 4096,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	hn := &harness{srv: srv, store: st}
	code, _ := hn.do(t, http.MethodPut, "/_matrix/app/v1/transactions/t1", "header:"+hsToken, txnJSON(
		messageJSON("!other:hs", "$chat1", "Guten Morgen"), messageJSON("!mine:hs", "$mine", "x")))
	require.Equal(t, http.StatusOK, code)
	n, err := st.CountInbox(t.Context(), store.InboxPending)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "nothing declined before Start")
	assert.Zero(t, h.looked.Load())
}
