package guestchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// storeCases reads the timeline from a real store, as cases.Service does;
// every case is active.
type storeCases struct {
	noCases
	st *store.Store
}

func (c storeCases) Case(_ context.Context, caseID protocol.CaseID) (*cases.Case, error) {
	return &cases.Case{ID: caseID, Department: "bauamt", Status: protocol.CaseActive}, nil
}

func (c storeCases) Timeline(ctx context.Context, caseID protocol.CaseID, after int64, limit int) ([]cases.TimelineEntry, error) {
	rows, err := c.st.CaseEventsAfter(ctx, caseID, after, limit)
	out := make([]cases.TimelineEntry, len(rows))
	for i, r := range rows {
		out[i] = cases.TimelineEntry{Seq: r.Seq, EventID: r.EventID, Kind: cases.EntryKind(r.Kind), Origin: cases.Origin(r.Origin),
			Body: r.Body, MediaURI: r.MediaURI, MediaType: r.MediaType, MediaName: r.MediaName, TS: r.TS, TargetSeq: r.TargetSeq}
	}
	return out, err
}

// seqStreamEvent is one stored event of a stream: its SSE id and the seq
// in its data.
type seqStreamEvent struct {
	name    string
	id, seq int64
	url     string
}

var sseStored = regexp.MustCompile(`event: (\w+)\nid: (\d+)\ndata: (.*)\n`)

// A case's stream numbers its events from 1 without gaps, whatever other
// cases do, and resumes from Last-Event-ID or ?after= in that count.
func TestStreamSeqsCountPerCase(t *testing.T) {
	cfg := config.Default()
	cfg.GuestChat.PublicURL = "http://127.0.0.1:29332"
	opts := testOptions(t, cfg)
	st := opts.Spent.(*store.Store)
	opts.Cases = storeCases{st: st}
	sessions := &memSessions{}
	opts.Sessions = sessions
	s, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	ctx := context.Background()

	newCase := func(ghost string) (protocol.CaseID, string) {
		c, err := st.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bauamt", Status: "active",
			Ghost: id.UserID(ghost), Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
		require.NoError(t, err)
		token, err := newToken()
		require.NoError(t, err)
		require.NoError(t, sessions.CreateSession(ctx, hashToken(token), time.Now().Add(time.Hour)))
		sessions.mu.Lock()
		gs := sessions.sessions[hashToken(token)]
		gs.CaseID = c.ID
		sessions.sessions[hashToken(token)] = gs
		sessions.mu.Unlock()
		return c.ID, token
	}
	a, tokenA := newCase("@_rathaus_guest_a:hs")
	b, tokenB := newCase("@_rathaus_guest_b:hs")
	n := 0
	add := func(c protocol.CaseID, e store.CaseEvent) {
		n++
		e.CaseID, e.EventID, e.TS = c, id.EventID(fmt.Sprintf("$e%d", n)), time.Now()
		added, err := st.AddCaseEvent(ctx, e)
		require.NoError(t, err)
		require.True(t, added)
	}
	// The cases' events interleave, as busy days make them.
	add(a, store.CaseEvent{Kind: "text", Origin: "citizen", Body: "Frage A"})
	add(b, store.CaseEvent{Kind: "text", Origin: "citizen", Body: "Frage B"})
	add(b, store.CaseEvent{Kind: "staff_joined", Origin: "system", Body: "Bauamt"})
	add(a, store.CaseEvent{Kind: "status", Origin: "system", Body: "active"})
	add(b, store.CaseEvent{Kind: "file", Origin: "staff", Body: "plan.pdf", MediaURI: "mxc://hs/plan",
		MediaType: "application/pdf", MediaName: "plan.pdf"})
	add(a, store.CaseEvent{Kind: "text", Origin: "staff", Body: "Antwort A"})

	stream := func(c protocol.CaseID, token, query, lastEventID string) []seqStreamEvent {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		r := httptest.NewRequestWithContext(rctx, http.MethodGet, "/api/guest/v1/cases/"+c.String()+"/events"+query, nil)
		r.AddCookie(&http.Cookie{Name: s.cookieName(), Value: token})
		if lastEventID != "" {
			r.Header.Set("Last-Event-ID", lastEventID)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var out []seqStreamEvent
		for _, m := range sseStored.FindAllStringSubmatch(w.Body.String(), -1) {
			var data struct {
				Seq        int64 `json:"seq"`
				Attachment *struct {
					URL string `json:"url"`
				} `json:"attachment"`
			}
			require.NoError(t, json.Unmarshal([]byte(m[3]), &data))
			sseID, err := strconv.ParseInt(m[2], 10, 64)
			require.NoError(t, err)
			e := seqStreamEvent{name: m[1], id: sseID, seq: data.Seq}
			if data.Attachment != nil {
				e.url = data.Attachment.URL
			}
			out = append(out, e)
		}
		return out
	}

	assert.Equal(t, []seqStreamEvent{{"message", 1, 1, ""}, {"status", 2, 2, ""}, {"message", 3, 3, ""}},
		stream(a, tokenA, "", ""))
	assert.Equal(t, []seqStreamEvent{{"message", 1, 1, ""}, {"staff_joined", 2, 2, ""},
		{"message", 3, 3, "/api/guest/v1/cases/" + b.String() + "/media/3"}}, stream(b, tokenB, "", ""))

	// Resuming counts in the case's own numbers.
	assert.Equal(t, []seqStreamEvent{{"status", 2, 2, ""}, {"message", 3, 3, ""}}, stream(a, tokenA, "", "1"))
	assert.Equal(t, []seqStreamEvent{{"message", 3, 3, "/api/guest/v1/cases/" + b.String() + "/media/3"}},
		stream(b, tokenB, "?after=2", ""))
	assert.Empty(t, stream(a, tokenA, "", "3"), "nothing after the last event")
}
