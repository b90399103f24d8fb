package widgetauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

func TestRequire(t *testing.T) {
	f := newFixture(t, nil)
	s := f.session(t, staffToken)
	a := do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	assert.Equal(t, string(staff), a.body["user_id"])
	assert.Equal(t, string(room), a.body["room_id"])
	assert.EqualValues(t, 50, a.body["power_level"])

	r := f.session(t, readerToken)
	assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", r, "", "").status,
		"a member passes the widget's policy")
	a = do(t, f.server.URL, http.MethodPost, "/status", r, "", "")
	assert.Equal(t, http.StatusForbidden, a.status, "a member with PL 0 passed a staff action")
	assert.Equal(t, widgetauth.CodeForbidden, a.errcode)
}

func TestRequireRefusesWithoutSession(t *testing.T) {
	f := newFixture(t, nil)
	s := f.session(t, staffToken)
	for name, header := range map[string]string{
		"none":                  "",
		"wrong scheme":          "Basic " + s,
		"scheme only":           "Bearer",
		"unknown token":         "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"short token":           "Bearer abc",
		"the OpenID token":      "Bearer " + staffToken,
		"session with a suffix": "Bearer " + s + "x",
	} {
		t.Run(name, func(t *testing.T) {
			a := do(t, f.server.URL, http.MethodGet, "/ticket", "", "", "", "Authorization", header)
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Equal(t, httpapi.CodeUnauthorized, a.errcode)
		})
	}
	// The scheme is case-insensitive (RFC 9110).
	a := do(t, f.server.URL, http.MethodGet, "/ticket", "", "", "", "Authorization", "bearer "+s)
	assert.Equal(t, http.StatusOK, a.status)
}

// TestSessionExpiresAndIsNotExtended: a session ends SessionTTL after
// sign-in however much it is used; signing in again gives a new one.
func TestSessionExpiresAndIsNotExtended(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) { o.SessionTTL = 5 * time.Minute })
	s := f.session(t, staffToken)
	for range 4 {
		f.clock.Advance(time.Minute)
		require.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	}
	f.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	s2 := f.session(t, staffToken)
	assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", s2, "", "").status)
}

// TestRequireRechecksMembership: removal from the room or a lower power
// level ends access within RecheckTTL, or at once after Forget; a burst
// of actions inside RecheckTTL asks the homeserver once.
func TestRequireRechecksMembership(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) { o.RecheckTTL = 2 * time.Second })
	s := f.session(t, staffToken)
	asked := f.rooms.questions()
	burst := func() {
		for range 5 {
			require.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodPost, "/status", s, "", "").status)
		}
	}
	burst()
	assert.Equal(t, asked, f.rooms.questions(), "the sign-in's fresh answer was not reused")
	f.clock.Advance(2 * time.Second)
	burst()
	assert.Equal(t, asked+1, f.rooms.questions(), "the burst asked the homeserver more than once")

	t.Run("kicked", func(t *testing.T) {
		f.rooms.set(room, staff, widgetauth.Member{Membership: "leave", PowerLevel: 50})
		f.clock.Advance(2 * time.Second)
		a := do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
		assert.Equal(t, http.StatusForbidden, a.status)
		assert.Equal(t, widgetauth.CodeNotMember, a.errcode)
		assert.Equal(t, http.StatusForbidden, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	})
	t.Run("rejoined", func(t *testing.T) {
		f.rooms.set(room, staff, widgetauth.Member{Membership: "join", PowerLevel: 50})
		f.auth.Forget(room, staff)
		assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodPost, "/status", s, "", "").status,
			"the session outlives a short absence; only its TTL ends it")
	})
	t.Run("demoted, forgotten at once", func(t *testing.T) {
		f.rooms.set(room, staff, widgetauth.Member{Membership: "join", PowerLevel: 0})
		f.auth.Forget(room, staff)
		a := do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
		assert.Equal(t, http.StatusForbidden, a.status)
		assert.Equal(t, widgetauth.CodeForbidden, a.errcode)
		assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	})
	t.Run("banned", func(t *testing.T) {
		f.rooms.set(room, staff, widgetauth.Member{Membership: "ban"})
		f.auth.Forget(room, staff)
		assert.Equal(t, http.StatusForbidden, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	})
	t.Run("homeserver down", func(t *testing.T) {
		f.rooms.setErr(errors.New("down"))
		f.auth.Forget(room, staff)
		a := do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "")
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
	})
}

// TestSessionScopedToRoom: the session carries its room; an action takes
// the room from the session, and a membership elsewhere does not help.
func TestSessionScopedToRoom(t *testing.T) {
	f := newFixture(t, nil)
	f.rooms.set(otherRoom, reader, widgetauth.Member{Membership: "join", PowerLevel: 100})
	s := f.session(t, readerToken)
	a := do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
	assert.Equal(t, http.StatusForbidden, a.status, "PL 100 in another room counted")
}

func TestSignOut(t *testing.T) {
	f := newFixture(t, nil)
	s := f.session(t, staffToken)
	a := do(t, f.server.URL, http.MethodDelete, "/session", s, "", "")
	assert.Equal(t, http.StatusNoContent, a.status)
	assert.Equal(t, http.StatusUnauthorized, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	assert.Equal(t, http.StatusNoContent, do(t, f.server.URL, http.MethodDelete, "/session", s, "", "").status)
	assert.Zero(t, f.auth.Sessions())
}

// TestSessionCaps: one user's sessions and the whole table are capped;
// the oldest session ends, and its widget would sign in again.
func TestSessionCaps(t *testing.T) {
	f := newFixture(t, func(o *widgetauth.Options) {
		o.MaxSessionsPerUser = 2
		o.MaxSessions = 3
		o.SignInsPerMinute = 100
	})
	first := f.session(t, staffToken)
	f.clock.Advance(time.Second)
	second := f.session(t, staffToken)
	f.clock.Advance(time.Second)
	third := f.session(t, staffToken)
	assert.Equal(t, http.StatusUnauthorized, do(t, f.server.URL, http.MethodGet, "/ticket", first, "", "").status)
	assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", second, "", "").status)
	assert.Equal(t, 2, f.auth.Sessions())

	f.clock.Advance(time.Second)
	r1 := f.session(t, readerToken)
	f.clock.Advance(time.Second)
	r2 := f.session(t, readerToken)
	assert.Equal(t, 3, f.auth.Sessions())
	assert.Equal(t, http.StatusUnauthorized, do(t, f.server.URL, http.MethodGet, "/ticket", second, "", "").status,
		"the session ending first was not dropped")
	for _, s := range []string{third, r1, r2} {
		assert.Equal(t, http.StatusOK, do(t, f.server.URL, http.MethodGet, "/ticket", s, "", "").status)
	}

	// Expired sessions are pruned by later sign-ins.
	f.clock.Advance(widgetauth.DefaultSessionTTL)
	f.session(t, staffToken)
	assert.Equal(t, 1, f.auth.Sessions())
}

func TestSessionTokenNeverLogged(t *testing.T) {
	f := newFixture(t, nil)
	s := f.session(t, staffToken)
	do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
	f.rooms.set(room, staff, widgetauth.Member{Membership: "leave"})
	f.auth.Forget(room, staff)
	do(t, f.server.URL, http.MethodPost, "/status", s, "", "")
	logs := f.logs.String()
	assert.NotContains(t, logs, s)
	assert.NotContains(t, logs, staffToken)
	assert.Contains(t, logs, "Widget signed in")
}

func TestPolicies(t *testing.T) {
	ctx := context.Background()
	a := widgetauth.Access{Room: room, User: staff, PowerLevel: 49}
	ok, err := widgetauth.MinPowerLevel(50)(ctx, a)
	require.NoError(t, err)
	assert.False(t, ok)
	a.PowerLevel = 50
	ok, _ = widgetauth.MinPowerLevel(50)(ctx, a)
	assert.True(t, ok)

	department := func(staffOf map[id.UserID]bool) widgetauth.Policy {
		return func(_ context.Context, a widgetauth.Access) (bool, error) { return staffOf[a.User], nil }
	}
	broken := func(context.Context, widgetauth.Access) (bool, error) { return false, errors.New("directory down") }
	a.PowerLevel = 0
	staffRule := widgetauth.AnyOf(widgetauth.MinPowerLevel(50), department(map[id.UserID]bool{staff: true}))
	ok, err = staffRule(ctx, a)
	require.NoError(t, err)
	assert.True(t, ok, "department staff with PL 0 refused")
	a.User = reader
	ok, err = staffRule(ctx, a)
	require.NoError(t, err)
	assert.False(t, ok)

	ok, err = widgetauth.AnyOf(broken, widgetauth.MinPowerLevel(0))(ctx, a)
	assert.NoError(t, err, "an error hid a yes")
	assert.True(t, ok)
	ok, err = widgetauth.AnyOf(broken, widgetauth.MinPowerLevel(50))(ctx, a)
	assert.Error(t, err, "an error was turned into a plain no")
	assert.False(t, ok)
}
