package widgetauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/rathaus-de/rathaus/httpapi"
)

type sessionKey struct{}

// FromContext returns the session Require checked for this request.
// Handlers take the room and the user from it, never from the URL or body.
func FromContext(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// Require guards a widget action with Options.Policy: see RequireWith.
func (a *Auth) Require(next http.Handler) http.Handler { return a.RequireWith(a.policy, next) }

// RequireWith guards a widget action: the request must carry a live session
// ("Authorization: Bearer <session>", else 401), the user must still be
// joined to the session's room (else 403 not_member) and policy must let
// them in (else 403 forbidden); membership and power level are asked again
// (cached for Options.RecheckTTL at most). next finds the session with
// FromContext, and the request's zerolog context carries user_id and
// room_id.
func (a *Auth) RequireWith(policy Policy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			httpapi.WriteError(w, errNoSession)
			return
		}
		sess, ok := a.sessions.get(token)
		if !ok {
			httpapi.WriteError(w, errNoSession)
			return
		}
		level, apiErr := a.check(r.Context(), sess.Room, sess.User, policy, false)
		if apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
		sess.PowerLevel = level
		log := a.log.With().Str("user_id", sess.User.String()).Str("room_id", sess.Room.String()).Logger()
		ctx := context.WithValue(log.WithContext(r.Context()), sessionKey{}, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// SignOut ends the session of the request's bearer token and answers 204,
// also when there was none (signing out twice is not an error). A widget
// server mounts it for DELETE beside SignIn.
func (a *Auth) SignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := bearer(r); ok {
			a.sessions.remove(token)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
