package appservice_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/store"
)

const hsToken = "hs-token-hs-token-hs-token-hs-token-0123"

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		Type: store.TypeSQLite, URI: filepath.Join(t.TempDir(), "rathaus.db"), Log: zerolog.Nop(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recorder is a Handler that remembers what it was given, per room.
type recorder struct {
	mu     sync.Mutex
	byRoom map[id.RoomID][]id.EventID
	count  map[id.EventID]int
	delay  func() time.Duration
	fail   func(evt *event.Event) error
}

func newRecorder() *recorder {
	return &recorder{byRoom: map[id.RoomID][]id.EventID{}, count: map[id.EventID]int{}}
}

func (r *recorder) HandleEvent(ctx context.Context, evt *event.Event) error {
	if r.delay != nil {
		select {
		case <-time.After(r.delay()):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.fail != nil {
		if err := r.fail(evt); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byRoom[evt.RoomID] = append(r.byRoom[evt.RoomID], evt.ID)
	r.count[evt.ID]++
	return nil
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.count {
		n += c
	}
	return n
}

func (r *recorder) timesHandled(evt id.EventID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[evt]
}

// waitFor polls cond until it holds, failing with what it waited for.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	tesths.WaitFor(tb, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

var errNotYet = errors.New("not yet")

func startDispatcher(t *testing.T, inbox appservice.Inbox, h appservice.Handler, mod func(*appservice.DispatcherOptions)) *appservice.Dispatcher {
	t.Helper()
	opts := appservice.DispatcherOptions{Log: zerolog.Nop(), Inbox: inbox, Handler: h, PollInterval: 50 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	d, err := appservice.NewDispatcher(opts)
	require.NoError(t, err)
	d.Start(context.Background())
	t.Cleanup(d.Stop)
	return d
}

func messageJSON(room id.RoomID, evt id.EventID, body string) string {
	return fmt.Sprintf(`{"event_id":%q,"room_id":%q,"type":"m.room.message","sender":"@u:hs","origin_server_ts":1,"content":{"msgtype":"m.text","body":%q}}`,
		evt, room, body)
}

func txnJSON(events ...string) string {
	return `{"events":[` + strings.Join(events, ",") + `]}`
}
