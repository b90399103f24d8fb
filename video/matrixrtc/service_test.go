package matrixrtc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
)

// fakeVerifier knows tokens by value; the real check runs in
// TestOnRealHomeservers.
type fakeVerifier map[string]id.UserID

func (f fakeVerifier) Verify(_ context.Context, serverName, token string) (id.UserID, error) {
	if u, ok := f[token]; ok && u.Homeserver() == serverName {
		return u, nil
	}
	return "", openid.ErrInvalidToken
}

type fakeMembers map[id.RoomID][]id.UserID

func (f fakeMembers) Joined(_ context.Context, room id.RoomID, user id.UserID) (bool, error) {
	for _, u := range f[room] {
		if u == user {
			return true, nil
		}
	}
	return false, nil
}

// TestTokenEndpoint checks the endpoint's answers on a real LiveKit, with
// the OpenID check and membership stood in: the test vector's room alias,
// the token's grants and lifetime, the legacy endpoint, and every refusal
// with its Matrix error.
func TestTokenEndpoint(t *testing.T) {
	const room = id.RoomID("!roomid:example.com")
	anna := id.UserID("@anna:example.com")
	calls := &testCalls{rooms: map[id.RoomID]video.CallID{room: "case-1"}, closed: map[id.RoomID]bool{}}
	_, backend := newBackend(t, calls)
	svc, err := matrixrtc.New(matrixrtc.Options{
		Verifier: fakeVerifier{"tok-anna": anna, "tok-ben": "@ben:example.com", "tok-bot": "@rathaus:example.com"},
		Members:  fakeMembers{room: {anna, "@rathaus:example.com"}, "!closed:example.com": {anna}},
		Calls:    calls, Granter: backend,
		IsAppserviceUser: func(u id.UserID) bool { return u.Localpart() == "rathaus" },
		ServiceURL:       "https://rathaus.example.com/matrixrtc",
		Log:              zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)

	// The test vector: a call in slot1234 of !roomid:example.com.
	calls.addSlot(room, "slot1234")
	a := post(t, srv, "/get_token", tokenRequest(room, "slot1234", "tok-anna", "example.com", anna, "ANNAPHONE"))
	if a.status != http.StatusOK {
		t.Fatalf("get_token: %d %v", a.status, a.body)
	}
	if a.body["url"] != backend.ClientURL() {
		t.Errorf("url %v, want %s", a.body["url"], backend.ClientURL())
	}
	c := claims(t, a.body["jwt"].(string))
	if c.Video.Room != "O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc" {
		t.Errorf("room %q is not Element Call's alias of [%s, slot1234]", c.Video.Room, room)
	}
	if c.Video.RoomCreate || !c.Video.RoomJoin || c.Subject != "@anna:example.com:ANNAPHONE" {
		t.Errorf("claims %+v", c)
	}
	if ttl := time.Until(time.Unix(c.Expires, 0)); ttl > time.Hour || ttl < 50*time.Minute {
		t.Errorf("token valid for %s; at most (and about) an hour", ttl)
	}
	if len(a.body) != 2 {
		t.Errorf("answer has more than url and jwt: %v", a.body)
	}
	if a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS header: browser clients cannot read the answer")
	}

	// The main call, by the current and the legacy endpoint: one
	// LiveKit room.
	a = post(t, srv, "/get_token", tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "ANNAPHONE"))
	if a.status != http.StatusOK {
		t.Fatalf("get_token: %d %v", a.status, a.body)
	}
	c = claims(t, a.body["jwt"].(string))
	a = post(t, srv, "/sfu/get", map[string]any{"room": room, "device_id": "ANNAWEB",
		"openid_token": map[string]any{"access_token": "tok-anna", "token_type": "Bearer", "matrix_server_name": "example.com", "expires_in": 3600}})
	if a.status != http.StatusOK {
		t.Fatalf("sfu/get: %d %v", a.status, a.body)
	}
	if lc := claims(t, a.body["jwt"].(string)); lc.Video.Room != c.Video.Room || lc.Subject != "@anna:example.com:ANNAWEB" ||
		c.Video.Room == "O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc" {
		t.Errorf("legacy claims %+v", lc)
	}

	calls.closed["!closed:example.com"] = true
	calls.add("!closed:example.com", "case-2")
	for _, tc := range []struct {
		name    string
		path    string
		body    any
		status  int
		errcode string
	}{
		{"not JSON", "/get_token", "room_id=!roomid", 400, "M_NOT_JSON"},
		{"truncated JSON", "/get_token", `{"room_id": "!roomid:example.com"`, 400, "M_NOT_JSON"},
		{"unknown field", "/get_token", with(tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "D"), "livekit_room", "x"), 400, "M_BAD_JSON"},
		{"no member", "/get_token", without(tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "D"), "member"), 400, "M_BAD_JSON"},
		{"device with a colon", "/get_token", tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "A:B"), 400, "M_BAD_JSON"},
		{"half a delayed leave", "/get_token", with(tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "D"), "delay_id", "x"), 400, "M_BAD_JSON"},
		{"unknown token", "/get_token", tokenRequest(room, "m.call#ROOM", "tok-nobody", "example.com", anna, "D"), 401, "M_UNAUTHORIZED"},
		{"claimed another user", "/get_token", tokenRequest(room, "m.call#ROOM", "tok-ben", "example.com", anna, "D"), 401, "M_UNAUTHORIZED"},
		{"non-member", "/get_token", tokenRequest(room, "m.call#ROOM", "tok-ben", "example.com", "@ben:example.com", "D"), 403, "M_FORBIDDEN"},
		{"rathaus's own user", "/get_token", tokenRequest(room, "m.call#ROOM", "tok-bot", "example.com", "@rathaus:example.com", "D"), 403, "M_FORBIDDEN"},
		{"other slot", "/get_token", tokenRequest(room, "m.call#breakout", "tok-anna", "example.com", anna, "D"), 400, "M_INVALID_PARAM"},
		{"closed case", "/get_token", tokenRequest("!closed:example.com", "m.call#ROOM", "tok-anna", "example.com", anna, "D"), 403, "M_FORBIDDEN"},
		{"legacy unknown field", "/sfu/get", map[string]any{"room": room, "device_id": "D", "openid_token": map[string]any{
			"access_token": "tok-anna", "matrix_server_name": "example.com"}, "extra": 1}, 400, "M_BAD_JSON"},
		{"delegation without configuration", "/delegate_delayed_leave", with(with(with(tokenRequest(room, "m.call#ROOM", "tok-anna", "example.com", anna, "D"),
			"delay_id", "syd_x"), "delay_timeout", 8000), "delay_cs_api_url", "https://example.com"), 501, "M_UNRECOGNIZED"},
	} {
		a := post(t, srv, tc.path, tc.body)
		if a.status != tc.status || a.errcode() != tc.errcode {
			t.Errorf("%s: %d %s, want %d %s (%v)", tc.name, a.status, a.errcode(), tc.status, tc.errcode, a.body)
		}
	}

	// The preflight, the health check and the .well-known fragment.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, srv.URL+"/get_token", nil)
	req.Header.Set("Origin", "https://call.element.io")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	for path, want := range map[string]int{"/healthz": 200, "/well-known": 200} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if got := matrixrtc.WellKnown("https://rathaus.example.com/matrixrtc"); got["org.matrix.msc4143.rtc_foci"] == nil {
		t.Errorf("well-known fragment %v", got)
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}
