package widgetauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

func TestSignIn(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) { o.SignInsPerMinute = 1000 })
	a := f.signIn(t, staffToken, server, room)
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	assert.Equal(t, string(staff), a.body["user_id"])
	assert.Equal(t, string(room), a.body["room_id"])
	assert.EqualValues(t, 50, a.body["power_level"])
	assert.EqualValues(t, widgetauth.DefaultSessionTTL.Milliseconds(), a.body["expires_in_ms"])
	assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
	assert.Equal(t, 1, f.auth.Sessions())

	// Two sign-ins, two distinct sessions.
	b := f.signIn(t, staffToken, server, room)
	require.Equal(t, http.StatusOK, b.status)
	assert.NotEqual(t, a.body["session"], b.body["session"])
}

// TestSignInRefusals covers every way a sign-in is refused, with the
// answer a widget acts on.
func TestSignInRefusals(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) {
		o.SignInsPerMinute = 1000
		o.Policy = widgetauth.MinPowerLevel(50)
	})
	const (
		strangerToken = "stranger-openid-token-77aa"
		leftToken     = "left-openid-token-88bb"
		remoteToken   = "remote-openid-token-99cc"
	)
	f.ver.vouch(server, strangerToken, "@carla:stadt.example")
	f.ver.vouch(server, leftToken, "@dora:stadt.example")
	f.rooms.set(room, "@dora:stadt.example", widgetauth.Member{Membership: "leave", PowerLevel: 50})
	// A (broken) Verifier vouching for a user of another server.
	f.ver.vouch(server, remoteToken, "@anna:nachbar.example")
	// A ghost with power must still be refused on its id.
	f.rooms.set(room, ghost, widgetauth.Member{Membership: "join", PowerLevel: 100})
	for token, err := range map[string]error{
		"invalid":         openid.ErrInvalidToken,
		"bad-server-name": openid.ErrInvalidServerName,
		"forbidden":       openid.ErrForbiddenTarget,
		"mismatch":        openid.ErrSubMismatch,
		"unreachable":     openid.ErrUnreachable,
		"bad-response":    openid.ErrBadResponse,
	} {
		f.ver.fail(token, err)
	}

	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		errcode     string
	}{
		{"not JSON", "text/plain", signInBody(staffToken, server, room), http.StatusUnsupportedMediaType, httpapi.CodeBadRequest},
		{"broken JSON", "application/json", `{"access_token":`, http.StatusBadRequest, httpapi.CodeBadRequest},
		{"key twice", "application/json", `{"access_token":"x","access_token":"` + staffToken + `","matrix_server_name":"` + server + `","room_id":"` + string(room) + `"}`, http.StatusBadRequest, httpapi.CodeBadRequest},
		{"key in wrong case", "application/json", `{"Access_Token":"` + staffToken + `","matrix_server_name":"` + server + `","room_id":"` + string(room) + `"}`, http.StatusBadRequest, httpapi.CodeBadRequest},
		{"too large", "application/json", `{"access_token":"` + strings.Repeat("a", 5000) + `"}`, http.StatusRequestEntityTooLarge, httpapi.CodeTooLarge},
		{"no token", "application/json", signInBody("", server, room), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"no server name", "application/json", signInBody(staffToken, "", room), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"no room", "application/json", signInBody(staffToken, server, ""), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"room alias instead of id", "application/json", signInBody(staffToken, server, "#fall:stadt.example"), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"room id with a space", "application/json", signInBody(staffToken, server, "!fa ll:stadt.example"), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"token unknown to its homeserver", "application/json", signInBody("invalid", server, room), http.StatusUnauthorized, httpapi.CodeUnauthorized},
		{"invalid server name", "application/json", signInBody("bad-server-name", server, room), http.StatusBadRequest, httpapi.CodeBadRequest},
		{"homeserver at a forbidden address", "application/json", signInBody("forbidden", server, room), http.StatusForbidden, widgetauth.CodeServerNotAllowed},
		{"homeserver vouches for another server's user", "application/json", signInBody("mismatch", server, room), http.StatusForbidden, widgetauth.CodeForbidden},
		{"homeserver unreachable", "application/json", signInBody("unreachable", server, room), http.StatusBadGateway, widgetauth.CodeHomeserver},
		{"homeserver answers nonsense", "application/json", signInBody("bad-response", server, room), http.StatusBadGateway, widgetauth.CodeHomeserver},
		{"verified user not on the claimed server", "application/json", signInBody(remoteToken, server, room), http.StatusForbidden, widgetauth.CodeForbidden},
		{"citizen ghost", "application/json", signInBody(ghostToken, server, room), http.StatusForbidden, widgetauth.CodeForbidden},
		{"never a member", "application/json", signInBody(strangerToken, server, room), http.StatusForbidden, widgetauth.CodeNotMember},
		{"left the room", "application/json", signInBody(leftToken, server, room), http.StatusForbidden, widgetauth.CodeNotMember},
		{"member of another room only", "application/json", signInBody(staffToken, server, otherRoom), http.StatusForbidden, widgetauth.CodeNotMember},
		{"power level below the policy", "application/json", signInBody(readerToken, server, room), http.StatusForbidden, widgetauth.CodeForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, f.server.URL, http.MethodPost, "/session", "", tc.contentType, tc.body)
			assert.Equal(t, tc.status, a.status, "%v", a.body)
			assert.Equal(t, tc.errcode, a.errcode)
			assert.NotEmpty(t, a.body["error"])
			assert.Nil(t, a.body["session"])
		})
	}
	assert.Zero(t, f.auth.Sessions(), "a refused sign-in left a session")

	logs := f.logs.String()
	for _, secret := range []string{staffToken, readerToken, ghostToken, strangerToken, leftToken, remoteToken} {
		assert.NotContains(t, logs, secret, "a token was logged")
	}
	// Refusals name the user and the room, at info level.
	assert.Regexp(t, `"level":"info".*"room_id":"!fall:stadt.example".*"user_id":"@carla:stadt.example".*not joined`, logs)
	assert.Regexp(t, `"level":"info".*"user_id":"@ben:stadt.example".*"power_level":0.*policy`, logs)
	assert.Regexp(t, `"level":"info".*"user_id":"@_rathaus_guest_abc:stadt.example".*own user`, logs)
}

// TestSignInGhostNeverAsksRooms: a citizen ghost is refused on its id
// alone, before any membership question.
func TestSignInGhostNeverAsksRooms(t *testing.T) {
	f := newFixture(t, nil)
	a := f.signIn(t, ghostToken, server, room)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Zero(t, f.rooms.questions())
}

func TestSignInRoomsFailing(t *testing.T) {
	f := newFixture(t, nil)
	f.rooms.setErr(errors.New("homeserver down"))
	a := f.signIn(t, staffToken, server, room)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, httpapi.CodeUnavailable, a.errcode)
}

func TestSignInPolicyFailing(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) {
		o.Policy = func(ctx context.Context, a widgetauth.Access) (bool, error) {
			return false, errors.New("directory down")
		}
	})
	a := f.signIn(t, staffToken, server, room)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
}

// TestSignInRateLimit: sign-ins are limited per client address, behind a
// trusted proxy by the address it names.
func TestSignInRateLimit(t *testing.T) {
	proxies, err := httpapi.ParseTrustedProxies([]string{"127.0.0.1"})
	require.NoError(t, err)
	f := newFixture(t, func(o *widgetauth.Options) {
		o.SignInsPerMinute = 3
		o.Proxies = proxies
	})
	body := signInBody(staffToken, server, room)
	from := func(addr string) answer {
		return do(t, f.server.URL, http.MethodPost, "/session", "", "application/json", body, "X-Forwarded-For", addr)
	}
	for range 3 {
		require.Equal(t, http.StatusOK, from("203.0.113.7").status)
	}
	a := from("203.0.113.7")
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, httpapi.CodeRateLimited, a.errcode)
	assert.Equal(t, "20", a.header.Get("Retry-After"))
	calls := f.ver.called
	// Refused before the token is checked.
	assert.Equal(t, 3, calls)

	assert.Equal(t, http.StatusOK, from("198.51.100.1").status, "another address has its own budget")
	f.clock.Advance(20 * time.Second)
	assert.Equal(t, http.StatusOK, from("203.0.113.7").status, "the budget refills")
}

func TestNewRejectsMissingOptions(t *testing.T) {
	_, err := widgetauth.New(widgetauth.Options{})
	require.ErrorIs(t, err, widgetauth.ErrMissingOption)

	f := newFakeVerifier()
	base := widgetauth.Options{Verifier: f, Rooms: newFakeRooms(), IsAppserviceUser: func(id.UserID) bool { return false },
		Policy: widgetauth.AnyMember}
	_, err = widgetauth.New(base)
	require.NoError(t, err)
	for name, mod := range map[string]func(*widgetauth.Options){
		"session TTL over an hour": func(o *widgetauth.Options) { o.SessionTTL = 2 * time.Hour },
		"recheck TTL too long":     func(o *widgetauth.Options) { o.RecheckTTL = time.Minute },
		"negative cap":             func(o *widgetauth.Options) { o.MaxSessions = -1 },
		"no policy":                func(o *widgetauth.Options) { o.Policy = nil },
	} {
		o := base
		mod(&o)
		_, err := widgetauth.New(o)
		assert.ErrorIs(t, err, widgetauth.ErrMissingOption, name)
	}
}
