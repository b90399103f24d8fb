package matrixrtc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
)

var lkCreds = livekit.Credentials{Key: livekittest.Key, Secret: []byte(livekittest.Secret)}

// slotKey is a room's slot.
type slotKey struct {
	room id.RoomID
	slot string
}

// testCalls stands in for the call service: the rooms with calls (the
// main slot, and slot1234 of the test vector's room), and optionally who
// counts as staff.
type testCalls struct {
	backend *livekit.Backend
	mu      sync.Mutex
	rooms   map[id.RoomID]video.CallID
	slots   map[video.CallID]slotKey
	closed  map[id.RoomID]bool
	staff   map[id.UserID]bool // nil: every joined user
}

func (c *testCalls) NativeJoin(ctx context.Context, room id.RoomID, slot string, user id.UserID) (video.CallID, error) {
	c.mu.Lock()
	call, ok := c.rooms[room]
	if slot != matrixrtc.MainSlot {
		call = video.CallID(string(call) + "/" + slot)
		if c.slots[call] != (slotKey{room, slot}) {
			c.mu.Unlock()
			return "", matrixrtc.ErrSlot
		}
	}
	closed := c.closed[room]
	notStaff := c.staff != nil && !c.staff[user]
	c.mu.Unlock()
	switch {
	case !ok:
		return "", matrixrtc.ErrNotCallRoom
	case closed:
		return "", video.ErrCaseClosed
	case notStaff:
		return "", video.ErrNotStaff
	}
	return call, c.backend.EnsureCall(ctx, call, video.Limits{})
}

// roomName is the production mapping: a case's call runs in the LiveKit
// room Element Call computes for the case room's main slot.
func (c *testCalls) roomName(call video.CallID) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for room, cl := range c.rooms {
		if cl == call {
			return livekit.RoomAlias(string(room), matrixrtc.MainSlot), nil
		}
	}
	if k, ok := c.slots[call]; ok {
		return livekit.RoomAlias(string(k.room), k.slot), nil
	}
	return "", matrixrtc.ErrNotCallRoom
}

func (c *testCalls) add(room id.RoomID, call video.CallID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rooms[room] = call
}

func (c *testCalls) addSlot(room id.RoomID, slot string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots == nil {
		c.slots = map[video.CallID]slotKey{}
	}
	c.slots[video.CallID(string(c.rooms[room])+"/"+slot)] = slotKey{room, slot}
}

// newBackend is a LiveKit backend on a fresh LiveKit whose webhooks it
// takes, its room names from calls.
func newBackend(t *testing.T, calls *testCalls) (*livekittest.Server, *livekit.Backend) {
	t.Helper()
	var hook atomic.Pointer[http.Handler]
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := hook.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(hooks.Close)
	srv := livekittest.Start(t, livekittest.Options{WebhookURL: hooks.URL})
	b, err := livekit.New(livekit.Options{URL: srv.URL, Credentials: lkCreds, RoomName: calls.roomName,
		Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	h := b.WebhookHandler()
	hook.Store(&h)
	calls.backend = b
	return srv, b
}

// livekitAlias is Element Call's LiveKit room of a room's main call.
func livekitAlias(room id.RoomID) string { return livekit.RoomAlias(string(room), matrixrtc.MainSlot) }

type answer struct {
	status int
	body   map[string]any
	header http.Header
}

func (a answer) errcode() string {
	s, _ := a.body["errcode"].(string)
	return s
}

func post(t *testing.T, srv *httptest.Server, path string, body any) answer {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(data, &a.body)
	return a
}

// tokenRequest is a /get_token body as Element Call sends it.
func tokenRequest(room id.RoomID, slot, accessToken, serverName string, user id.UserID, device string) map[string]any {
	return map[string]any{
		"room_id": room, "slot_id": slot,
		"openid_token": map[string]any{"access_token": accessToken, "token_type": "Bearer",
			"matrix_server_name": serverName, "expires_in": 3600},
		"member": map[string]any{"id": "member-" + device, "claimed_user_id": user, "claimed_device_id": device},
	}
}

// claims decodes and verifies a minted token.
func claims(t *testing.T, jwt string) livekit.Claims {
	t.Helper()
	c, err := livekit.Verify(lkCreds, jwt, time.Now())
	if err != nil {
		t.Fatalf("the minted token does not verify: %v", err)
	}
	return c
}
