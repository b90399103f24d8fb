package widgetauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
	"github.com/rathaus-de/rathaus/internal/syncbuf"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

// fakeVerifier answers Verify from a table of tokens.
type fakeVerifier struct {
	mu     sync.Mutex
	users  map[string]id.UserID // server name + "|" + token
	errs   map[string]error     // token → error
	called int
}

func newFakeVerifier() *fakeVerifier {
	return &fakeVerifier{users: map[string]id.UserID{}, errs: map[string]error{}}
}

func (f *fakeVerifier) vouch(server, token string, user id.UserID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[server+"|"+token] = user
}

func (f *fakeVerifier) fail(token string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[token] = err
}

func (f *fakeVerifier) Verify(_ context.Context, server, token string) (id.UserID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called++
	if err := f.errs[token]; err != nil {
		return "", fmt.Errorf("fake: %w", err)
	}
	if u, ok := f.users[server+"|"+token]; ok {
		return u, nil
	}
	return "", fmt.Errorf("fake: unknown token")
}

// fakeRooms answers Member from a table and counts the questions.
type fakeRooms struct {
	mu      sync.Mutex
	members map[id.RoomID]map[id.UserID]widgetauth.Member
	err     error
	asked   int
}

func newFakeRooms() *fakeRooms {
	return &fakeRooms{members: map[id.RoomID]map[id.UserID]widgetauth.Member{}}
}

func (f *fakeRooms) set(room id.RoomID, user id.UserID, m widgetauth.Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members[room] == nil {
		f.members[room] = map[id.UserID]widgetauth.Member{}
	}
	f.members[room][user] = m
}

func (f *fakeRooms) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeRooms) questions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

func (f *fakeRooms) Member(_ context.Context, room id.RoomID, user id.UserID) (widgetauth.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	if f.err != nil {
		return widgetauth.Member{}, f.err
	}
	return f.members[room][user], nil
}

const (
	server    = "stadt.example"
	room      = id.RoomID("!fall:stadt.example")
	otherRoom = id.RoomID("!anderer:stadt.example")
	staff     = id.UserID("@anna:stadt.example")
	reader    = id.UserID("@ben:stadt.example")
	ghost     = id.UserID("@_rathaus_guest_abc:stadt.example")
	// Tokens are long and distinctive, so a log line holding one is found.
	staffToken  = "staff-openid-token-4f9c2a7e1b"
	readerToken = "reader-openid-token-8d3e5f0a2c"
	ghostToken  = "ghost-openid-token-1a2b3c4d5e"
)

// fixture is an Auth with fakes: staff has PL 50 in room, reader PL 0,
// the ghost is joined too.
type fixture struct {
	auth   *widgetauth.Auth
	ver    *fakeVerifier
	rooms  *fakeRooms
	clock  *fakeclock.Clock
	logs   *syncbuf.Buffer
	server *httptest.Server
}

func newFixture(t *testing.T, modify func(*widgetauth.Options)) *fixture {
	t.Helper()
	f := &fixture{ver: newFakeVerifier(), rooms: newFakeRooms(), clock: fakeclock.New(), logs: &syncbuf.Buffer{}}
	f.ver.vouch(server, staffToken, staff)
	f.ver.vouch(server, readerToken, reader)
	f.ver.vouch(server, ghostToken, ghost)
	f.rooms.set(room, staff, widgetauth.Member{Membership: "join", PowerLevel: 50})
	f.rooms.set(room, reader, widgetauth.Member{Membership: "join", PowerLevel: 0})
	f.rooms.set(room, ghost, widgetauth.Member{Membership: "join", PowerLevel: 0})
	opts := widgetauth.Options{
		Widget:   "test",
		Verifier: f.ver,
		Rooms:    f.rooms,
		IsAppserviceUser: func(u id.UserID) bool {
			return strings.HasPrefix(u.Localpart(), "_rathaus_") || u.Localpart() == "rathaus"
		},
		Policy: widgetauth.AnyMember,
		Log:    zerolog.New(f.logs).Level(zerolog.DebugLevel),
		Now:    f.clock.Now,
	}
	if modify != nil {
		modify(&opts)
	}
	var err error
	f.auth, err = widgetauth.New(opts)
	require.NoError(t, err)
	f.server = httptest.NewServer(routes(f.auth))
	t.Cleanup(f.server.Close)
	return f
}

// routes mounts the sign-in and two actions as a widget server would: one
// for every member, one for staff.
func routes(a *widgetauth.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /session", a.SignIn())
	mux.Handle("DELETE /session", a.SignOut())
	action := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := widgetauth.FromContext(r.Context())
		if !ok {
			http.Error(w, "no session in context", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"user_id": s.User, "room_id": s.Room, "power_level": s.PowerLevel})
	})
	mux.Handle("GET /ticket", a.Require(action))
	mux.Handle("POST /status", a.RequireWith(widgetauth.MinPowerLevel(50), action))
	return mux
}

type answer struct {
	status  int
	errcode string
	body    map[string]any
	header  http.Header
}

func do(t *testing.T, base, method, path, bearer, contentType, body string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	if code, ok := a.body["errcode"].(string); ok {
		a.errcode = code
	}
	return a
}

func signInBody(token, serverName string, r id.RoomID) string {
	b, _ := json.Marshal(map[string]any{"access_token": token, "matrix_server_name": serverName, "room_id": r,
		"token_type": "Bearer", "expires_in": 3600})
	return string(b)
}

// signIn signs in and returns the answer.
func (f *fixture) signIn(t *testing.T, token, serverName string, r id.RoomID) answer {
	t.Helper()
	return do(t, f.server.URL, http.MethodPost, "/session", "", "application/json", signInBody(token, serverName, r))
}

// session signs in and requires success.
func (f *fixture) session(t *testing.T, token string) string {
	t.Helper()
	a := f.signIn(t, token, server, room)
	require.Equal(t, http.StatusOK, a.status, "sign-in: %v", a.body)
	s, _ := a.body["session"].(string)
	require.Len(t, s, 43)
	return s
}
