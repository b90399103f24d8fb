package guestchat

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
)

// decodeSignal reads the body of a typing or read signal, within the
// session's signal limit; it answers the request itself when it returns
// false.
func (s *Server) decodeSignal(w http.ResponseWriter, r *http.Request, gs *Session, body any) bool {
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return false
	}
	if ok, retry := s.signals.Allow(gs.TokenHash); !ok {
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return false
	}
	return true
}

func (s *Server) typing(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	var body typingRequest
	if !s.decodeSignal(w, r, gs, &body) {
		return
	}
	if c.Status.Open() {
		if err := s.cases.CitizenTyping(r.Context(), c, body.Typing); err != nil {
			zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Failed to send typing notification")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	var body readRequest
	if !s.decodeSignal(w, r, gs, &body) {
		return
	}
	e, err := s.cases.TimelineEntry(r.Context(), c.ID, body.Seq)
	if err != nil {
		s.internal(w, r, err)
		return
	} else if e == nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	if err = s.cases.CitizenRead(r.Context(), c, e.EventID); err != nil {
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Failed to send read receipt")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) alive(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &emptyRequest{}); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if c.Status.Open() {
		now := time.Now()
		if err := s.cases.TouchCitizen(r.Context(), c.ID, now); err != nil {
			s.internal(w, r, err)
			return
		}
		c.LastCitizenAt = now
		s.hub.notify(c.ID)
	}
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}
