package widgetauth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

// maxRoomIDLength is the spec's limit on identifiers.
const maxRoomIDLength = 255

// SignIn is the sign-in handler. A widget server mounts it for POST at its
// own path; the body is a SignInRequest, the answer a SignInResponse or an
// httpapi error (400, 401, 403, 415, 429, 502, 503).
func (a *Auth) SignIn() http.Handler { return http.HandlerFunc(a.signIn) }

func (a *Auth) signIn(w http.ResponseWriter, r *http.Request) {
	if ok, retry := a.signInRate.Allow(ratelimit.IPKey(a.proxies.ClientIP(r), 0)); !ok {
		a.log.Info().Msg("Widget sign-in rate limited")
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return
	}
	var req SignInRequest
	if apiErr := httpapi.DecodeJSON(w, r, maxSignInBody, &req); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if apiErr := req.validate(); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	a.maybePrune()
	ctx := r.Context()
	log := a.log.With().Str("room_id", req.RoomID.String()).Str("server_name", req.MatrixServerName).Logger()

	user, err := a.verifier.Verify(ctx, req.MatrixServerName, req.AccessToken)
	if err != nil {
		apiErr := verifyError(err)
		ev := log.Info()
		if apiErr.Status >= 500 || errors.Is(err, openid.ErrSubMismatch) {
			ev = log.Warn()
		}
		ev.Err(err).Int("status", apiErr.Status).Msg("Widget sign-in refused: OpenID token not verified")
		httpapi.WriteError(w, apiErr)
		return
	}
	log = log.With().Str("user_id", user.String()).Logger()
	if user.Homeserver() != req.MatrixServerName {
		// openid.Verifier guarantees this; a Verifier that did not would
		// let any homeserver vouch for anyone (CVE-2023-38691).
		log.Warn().Msg("Widget sign-in refused: verified user is not on the claimed server")
		httpapi.WriteError(w, errForbidden)
		return
	}
	if a.isAS(user) {
		log.Info().Msg("Widget sign-in refused: rathaus's own user")
		httpapi.WriteError(w, errForbidden)
		return
	}
	level, apiErr := a.check(ctx, req.RoomID, user, a.policy, true)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	token, sess, err := a.sessions.add(user, req.RoomID, a.ttl)
	if err != nil {
		log.Error().Err(err).Msg("Failed to create widget session")
		httpapi.WriteError(w, httpapi.ErrInternal)
		return
	}
	log.Info().Msg("Widget signed in")
	httpapi.WriteJSON(w, http.StatusOK, SignInResponse{Session: token, ExpiresInMS: a.ttl.Milliseconds(),
		UserID: sess.User, RoomID: sess.Room, PowerLevel: level})
}

// validate checks the fields' presence and form; the token's and server
// name's grammar is the Verifier's.
func (req *SignInRequest) validate() *httpapi.Error {
	switch {
	case req.AccessToken == "":
		return httpapi.BadRequest("access_token is required")
	case req.MatrixServerName == "":
		return httpapi.BadRequest("matrix_server_name is required")
	case !validRoomID(req.RoomID):
		return httpapi.BadRequest("room_id must be a Matrix room id (!…)")
	}
	return nil
}

// validRoomID accepts "!" and up to 254 printable ASCII characters without
// spaces: room ids with a server part ("!opaque:server") and without one
// (room version 12).
func validRoomID(room id.RoomID) bool {
	s := string(room)
	if len(s) < 2 || len(s) > maxRoomIDLength || s[0] != '!' {
		return false
	}
	return !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c > '~' })
}

// verifyError maps an error of Verifier.Verify to the answer, as
// appservice/openid/errors.go says.
func verifyError(err error) *httpapi.Error {
	switch {
	case errors.Is(err, openid.ErrInvalidServerName):
		return httpapi.BadRequest("matrix_server_name is not a valid server name")
	case errors.Is(err, openid.ErrInvalidToken):
		return errTokenRefused
	case errors.Is(err, openid.ErrForbiddenTarget):
		return errServerNotAllowed
	case errors.Is(err, openid.ErrSubMismatch):
		return errForbidden
	}
	// ErrUnreachable, ErrBadResponse, a cancelled request and anything a
	// Verifier adds.
	return errHomeserver
}

// check asks whether user may act in room under policy and returns their
// power level, or the answer to give. fresh skips the cache (sign-in). It
// logs refusals and failures.
func (a *Auth) check(ctx context.Context, room id.RoomID, user id.UserID, policy Policy, fresh bool) (int, *httpapi.Error) {
	log := a.log.With().Str("room_id", room.String()).Str("user_id", user.String()).Logger()
	m, cached := Member{}, false
	if !fresh {
		m, cached = a.members.get(room, user)
	}
	if !cached {
		var err error
		if m, err = a.rooms.Member(ctx, room, user); err != nil {
			log.Warn().Err(err).Msg("Failed to check widget user's membership")
			return 0, errUnavailable
		}
		a.members.put(room, user, m)
	}
	if m.Membership != event.MembershipJoin {
		log.Info().Str("membership", string(m.Membership)).Msg("Widget request refused: not joined to the room")
		return 0, errNotMember
	}
	ok, err := policy(ctx, Access{Room: room, User: user, PowerLevel: m.PowerLevel})
	if err != nil {
		log.Warn().Err(err).Msg("Failed to decide widget access")
		return 0, errUnavailable
	}
	if !ok {
		log.Info().Int("power_level", m.PowerLevel).Msg("Widget request refused by the widget's policy")
		return 0, errForbidden
	}
	return m.PowerLevel, nil
}
