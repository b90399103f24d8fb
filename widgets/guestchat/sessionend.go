package guestchat

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/httpapi"
)

// A session lives no longer than its case needs it (issue 12, point 5):
// on a library or kiosk computer the next person must not read the
// conversation. So a session ends with the citizen's own close and with
// "Sitzung beenden", and once staff or retention ended the case it is no
// longer renewed and lasts guest_chat.session_after_case_end at most.

// clearCookie tells the browser to forget the session cookie: the same
// name, path and flags as setCookie (else the browser keeps it), expired.
func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// endSession forgets the session and clears its cookie: this browser can
// no longer read the case. The case itself is not touched.
func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, gs *Session) error {
	if err := s.sessions.DeleteSession(ctx, gs.TokenHash); err != nil {
		return fmt.Errorf("failed to end guest session: %w", err)
	}
	s.clearCookie(w)
	return nil
}

// sessionEndAfterCase is when a session whose case ended at end expires:
// grace after the end, and never later than it would have anyway.
func sessionEndAfterCase(expires, end time.Time, grace time.Duration) time.Time {
	if until := end.Add(grace); until.Before(expires) {
		return until
	}
	return expires
}

// caseEnded looks at the session's case. ended: the case is over, so the
// session must not be renewed. ok: the session is still valid. When the
// session still had longer to live than the case allows, its expiry is
// cut, in the database and in the cookie (token is the cookie's value).
//
// The case's end is its last status change (UpdatedAt). A resolved case
// that is closed later would move it on; by then the cut has been made if
// the browser came back at all, and a browser that did not come back
// lost the session after session_lifetime, which is shorter than
// retention.close_resolved_after by default.
func (s *Server) caseEnded(w http.ResponseWriter, r *http.Request, gs *Session, token string) (ended, ok bool, err error) {
	ctx := r.Context()
	c, err := s.cases.Case(ctx, gs.CaseID)
	if err != nil {
		return false, false, fmt.Errorf("failed to load the session's case: %w", err)
	} else if c == nil || c.Status.Open() {
		return false, true, nil
	}
	until := sessionEndAfterCase(gs.ExpiresAt, c.UpdatedAt, s.config().GuestChat.SessionAfterCaseEnd)
	switch {
	case !time.Now().Before(until):
		// Forget it now rather than at the next prune, and the cookie too.
		return true, false, s.endSession(ctx, w, gs)
	case until.Before(gs.ExpiresAt):
		if err := s.sessions.TouchSession(ctx, gs.TokenHash, until); err != nil {
			return true, false, fmt.Errorf("failed to shorten guest session: %w", err)
		}
		gs.ExpiresAt = until
		s.setCookie(w, token, until)
	}
	return true, true, nil
}

// postSessionEnd is "Sitzung beenden": the browser forgets the session.
// The page offers it once the case has ended; closing the case ends the
// session anyway (closeCase).
func (s *Server) postSessionEnd(w http.ResponseWriter, r *http.Request) {
	gs := s.authed(w, r, true)
	if gs == nil {
		return
	}
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &emptyRequest{}); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if err := s.endSession(r.Context(), w, gs); err != nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, &sessionJSON{})
}
