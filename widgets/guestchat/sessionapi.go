package guestchat

import (
	"context"
	"net/http"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/protocol"
)

func (s *Server) sessionView(ctx context.Context, gs *Session) (*sessionJSON, error) {
	out := &sessionJSON{CSRFToken: s.csrf.Token(gs.TokenHash)}
	if gs.CaseID != "" {
		c, err := s.cases.Case(ctx, gs.CaseID)
		if err != nil {
			return nil, err
		}
		if c != nil && c.Status != protocol.CasePurged {
			out.Case = s.caseView(ctx, c)
		}
	}
	return out, nil
}

// getSession answers the page's first question: is there a session, and
// a case to come back to? Without a cookie that is a normal answer (200,
// no token, no case); a cookie that is wrong or expired is 401.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	gs, err := s.session(w, r)
	if err != nil {
		s.internal(w, r, err)
		return
	} else if gs == nil {
		if _, cookieErr := r.Cookie(s.cookieName()); cookieErr == nil {
			httpapi.WriteError(w, errUnauthorized)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, &sessionJSON{})
		return
	}
	view, err := s.sessionView(r.Context(), gs)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, view)
}

// postSession makes a session, or returns the current one. {"new": true}
// replaces a session whose case is over, for a new question.
func (s *Server) postSession(w http.ResponseWriter, r *http.Request) {
	if !httpapi.SameOrigin(r, s.origin) {
		httpapi.WriteError(w, errCSRF)
		return
	}
	var body sessionRequest
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	ctx := r.Context()
	gs, err := s.session(w, r)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if gs == nil || body.New {
		// Before the old session is deleted, so a refusal keeps it.
		if apiErr := s.admitSession(r); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
	}
	if gs != nil && body.New {
		if gs.CaseID != "" {
			c, err := s.cases.Case(ctx, gs.CaseID)
			if err != nil {
				s.internal(w, r, err)
				return
			} else if c != nil && c.Status.Open() {
				httpapi.WriteError(w, errCaseOpen)
				return
			}
		}
		if err = s.sessions.DeleteSession(ctx, gs.TokenHash); err != nil {
			s.internal(w, r, err)
			return
		}
		gs = nil
	}
	if gs == nil {
		if gs, err = s.newSession(ctx, w); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	view, err := s.sessionView(ctx, gs)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, view)
}
