package livekit

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video"
)

func signedWebhook(t *testing.T, c Credentials, body string, now time.Time) *http.Request {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	tok, err := mint(c, Claims{Sha256: base64.StdEncoding.EncodeToString(sum[:])}, 5*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhook", strings.NewReader(body))
	r.Header.Set("Authorization", tok)
	return r
}

// TestWebhookSignature: only a body signed with rathaus's key, unchanged,
// and recent, becomes an event.
func TestWebhookSignature(t *testing.T) {
	now := time.Now()
	b, err := New(Options{URL: "http://127.0.0.1:1", Credentials: creds, Now: func() time.Time { return now },
		Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	b.calls["case-1"] = &lkCall{room: "room-1", rights: map[video.Identity]video.Rights{}, kicked: map[video.Identity]bool{}, quiet: map[string]bool{},
		aliases: map[string]video.Identity{}}
	b.byRoom["room-1"] = "case-1"
	var got []video.Event
	b.Subscribe(func(e video.Event) { got = append(got, e) })
	body := `{"event":"participant_left","id":"EV_1","room":{"name":"room-1"},"participant":{"identity":"guest-1","state":"DISCONNECTED","joinedAt":"1795920000"}}`
	h := b.WebhookHandler()

	other := Credentials{Key: creds.Key, Secret: []byte(strings.Repeat("o", 40))}
	tampered := signedWebhook(t, creds, body, now)
	tampered.Body = http.NoBody
	stale := signedWebhook(t, creds, body, now.Add(-time.Hour))
	for name, r := range map[string]*http.Request{
		"unsigned":     httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhook", strings.NewReader(body)),
		"other secret": signedWebhook(t, other, body, now),
		"body changed": tampered,
		"expired":      stale,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	if len(got) != 0 {
		t.Fatalf("refused webhooks made events: %+v", got)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedWebhook(t, creds, body, now))
	if w.Code != http.StatusOK {
		t.Fatalf("signed webhook: %d", w.Code)
	}
	if len(got) != 1 || got[0].Kind != video.EventLeft || got[0].Identity != "guest-1" || got[0].Call != "case-1" {
		t.Fatalf("events %+v", got)
	}
}
