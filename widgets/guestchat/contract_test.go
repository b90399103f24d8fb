package guestchat

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/cases"
)

// The answers and events that were written from maps are structs now; each
// must encode to exactly the bytes its map did.
func TestContractStructsEncodeLikeTheMaps(t *testing.T) {
	ts := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		was, isNow any
	}{
		{name: "challenge", was: map[string]any{"token": "tok", "difficulty": 18, "expires_at": ts},
			isNow: challengeJSON{Token: "tok", Difficulty: 18, ExpiresAt: ts}},
		{name: "txn", was: map[string]string{"txn_id": "w0123456789"}, isNow: txnJSON{TxnID: "w0123456789"}},
		{name: "status", was: map[string]any{"seq": int64(13), "status": "active", "open": true, "ts": ts},
			isNow: statusEventJSON{Seq: 13, Status: "active", Open: true, TS: ts}},
		{name: "staff joined", was: map[string]any{"seq": int64(14), "team": "Bauamt", "ts": ts},
			isNow: staffJoinedEventJSON{Seq: 14, Team: "Bauamt", TS: ts}},
		{name: "typing", was: map[string]bool{"typing": true}, isNow: typingEventJSON{Typing: true}},
		{name: "read", was: map[string]int64{"seq": 12}, isNow: readEventJSON{Seq: 12}},
		{name: "queue", was: map[string]int{"position": 0}, isNow: queueEventJSON{}},
		{name: "idle", was: map[string]time.Time{"abandon_at": ts}, isNow: idleEventJSON{AbandonAt: ts}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			was, err := json.Marshal(tc.was)
			require.NoError(t, err)
			isNow, err := json.Marshal(tc.isNow)
			require.NoError(t, err)
			assert.Equal(t, string(was), string(isNow))
		})
	}
}

func TestStoredEventsOnTheStream(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	ts := time.Date(2026, 11, 23, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		event      cases.TimelineEntry
		name, json string
	}{
		{event: cases.TimelineEntry{Seq: 13, Kind: "status", Body: "awaiting_citizen", TS: ts}, name: "status",
			json: `{"open":true,"seq":13,"status":"awaiting_citizen","ts":"2026-11-23T07:00:00Z"}`},
		{event: cases.TimelineEntry{Seq: 14, Kind: "status", Body: "closed", TS: ts}, name: "status",
			json: `{"open":false,"seq":14,"status":"closed","ts":"2026-11-23T07:00:00Z"}`},
		{event: cases.TimelineEntry{Seq: 15, Kind: "staff_joined", Body: "Bauamt", TS: ts}, name: "staff_joined",
			json: `{"seq":15,"team":"Bauamt","ts":"2026-11-23T07:00:00Z"}`},
		{event: cases.TimelineEntry{Seq: 16, Kind: "text", Origin: "citizen", Body: "Hallo", TxnID: "w01234567", TS: ts}, name: "message",
			json: `{"seq":16,"from":"citizen","kind":"text","body":"Hallo","txn_id":"w01234567","ts":"2026-11-23T07:00:00Z"}`},
	} {
		name, data, err := s.eventJSON(context.Background(), "case-1", tc.event)
		require.NoError(t, err)
		assert.Equal(t, tc.name, name)
		b, err := json.Marshal(data)
		require.NoError(t, err)
		assert.Equal(t, tc.json, string(b))
	}
}

// POST challenge answers in the map's key order, as before.
func TestChallengeAnswer(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	w := do(s, http.MethodPost, "/api/guest/v1/challenge", map[string]string{"Content-Type": "application/json"}, "{}")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Regexp(t, `^\{"difficulty":\d+,"expires_at":"[^"]+Z","token":"[^"]+"\}\n$`, w.Body.String())
}
