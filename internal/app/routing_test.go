package app

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bot"
)

// queryCounter counts the statements that touch the case table.
type queryCounter struct {
	dbutil.DatabaseLogger
	mu    sync.Mutex
	cases int
}

func (q *queryCounter) QueryTiming(ctx context.Context, method, query string, args []any, nrows int, d time.Duration, err error) {
	if strings.Contains(query, "citizen_case") {
		q.mu.Lock()
		q.cases++
		q.mu.Unlock()
	}
	q.DatabaseLogger.QueryTiming(ctx, method, query, args, nrows, d, err)
}

func (q *queryCounter) take() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.cases
	q.cases = 0
	return n
}

// TestRoutingCostsNoCaseQuery: the router resolves a room's kind from the
// in-memory index, so an event in a room that is not a case room (a staff
// room, the authority space, a room the bot was merely invited to) never
// queries the case table; an event in a case room does. The events are
// handled by the same handler the dispatcher calls, wired as in
// production, on a real SQLite database.
func TestRoutingCostsNoCaseQuery(t *testing.T) {
	a := built(t)
	counter := &queryCounter{DatabaseLogger: a.store.DB.Log}
	a.store.DB.Log = counter
	const staffRoom, caseRoom, otherRoom = id.RoomID("!staff:rathaus.test"), id.RoomID("!case:rathaus.test"), id.RoomID("!other:rathaus.test")
	a.rooms.Set(staffRoom, bot.RoomInfo{Kind: bot.RoomStaff, Key: "bauamt"})
	a.rooms.Set(caseRoom, bot.RoomInfo{Kind: bot.RoomCase, Key: "no-such-case"})

	message := func(room id.RoomID, n int) *event.Event {
		evt := &event.Event{Type: event.EventMessage, RoomID: room, ID: id.EventID("$" + string(room[1:3]) + string(rune('a'+n))),
			Sender: "@bernd:rathaus.test", Timestamp: time.Now().UnixMilli(),
			Content: event.Content{VeryRaw: json.RawMessage(`{"msgtype":"m.text","body":"Guten Tag"}`)}}
		require.NoError(t, evt.Content.ParseRaw(evt.Type))
		return evt
	}
	ctx := context.Background()
	for n := range 10 {
		for _, room := range []id.RoomID{staffRoom, otherRoom} {
			require.NoError(t, a.router.HandleEvent(ctx, message(room, n)))
		}
	}
	assert.Zero(t, counter.take(), "case queries for 20 events in a staff room and an unknown room")

	// The counter sees case queries where they belong, so a zero above
	// means something.
	require.NoError(t, a.router.HandleEvent(ctx, message(caseRoom, 0)))
	assert.Equal(t, 1, counter.take(), "one case query for an event in a case room")
}

// BenchmarkRouteEvent measures what routing costs an event in a room that
// is not a case room (a staff room message, not a command), on SQLite:
// "index" is the router as it is; "case-query" adds the case lookup by
// room that every event cost before the room index (issue 8), for the
// ratio in docs/performance.md.
func BenchmarkRouteEvent(b *testing.B) {
	for _, tc := range []struct {
		name      string
		caseQuery bool
	}{{"index", false}, {"case-query", true}} {
		b.Run(tc.name, func(b *testing.B) {
			a := built(b)
			const staffRoom = id.RoomID("!staff:rathaus.test")
			a.rooms.Set(staffRoom, bot.RoomInfo{Kind: bot.RoomStaff, Key: "bauamt"})
			evt := &event.Event{Type: event.EventMessage, RoomID: staffRoom, ID: "$route", Sender: "@bernd:rathaus.test",
				Content: event.Content{VeryRaw: json.RawMessage(`{"msgtype":"m.text","body":"Guten Tag"}`)}}
			require.NoError(b, evt.Content.ParseRaw(evt.Type))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if tc.caseQuery {
					if _, err := a.store.GetCaseByRoom(ctx, staffRoom); err != nil {
						b.Fatal(err)
					}
				}
				if err := a.router.HandleEvent(ctx, evt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
