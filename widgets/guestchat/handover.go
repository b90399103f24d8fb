package guestchat

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/widgets/guestchat/web"
)

// The hand-over from an OZG online service (docs/ozg.md): the service
// opens /hilfe#ctx=<signed context>; the fragment never reaches a server
// log. The page posts the context to POST handover, which verifies it
// (HandOvers) and tells the page the service, the step and the
// department; POST cases verifies it again and opens the case with its
// ticket. A /hilfe without a context is the default department's entry,
// and the case it opens is marked unverified for staff.

// handOverPage serves /hilfe: the chat page in hand-over mode, for the
// default department until the context says otherwise.
func (s *Server) handOverPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.defaultDepartment()
	if s.handOvers == nil || !ok || len(s.config().OZG.Services) == 0 {
		s.notFoundPage(w, r)
		return
	}
	s.renderPage(w, r, web.PageData{Lang: pageLang(r), Department: d.ID.String(), DepartmentName: d.Name,
		AuthorityName: s.dir.Authority().Name, AssetVersion: s.assets.Version(), HandOver: true})
}

// defaultDepartment is ozg.default_department.
func (s *Server) defaultDepartment() (departments.Department, bool) {
	id := s.config().OZG.DefaultDepartment
	if id == "" {
		return departments.Department{}, false
	}
	return s.dir.Department(id)
}

// routeHandOver is the department a ticket's case opens in: the one that
// lists its LeiKa key (for its ARS, where departments serve different
// municipalities), else ozg.default_department.
func (s *Server) routeHandOver(t *protocol.TicketContent) (departments.Department, bool) {
	if t.Leika != "" {
		if d, ok := s.dir.DepartmentForServiceIn(t.Leika, t.ARS); ok {
			return d, true
		}
	}
	return s.defaultDepartment()
}

// verifyHandOver verifies a context for the session; the *httpapi.Error
// is the answer to a refusal or a fault (logged).
func (s *Server) verifyHandOver(ctx context.Context, gs *Session, req handOverRequest) (*protocol.TicketContent, departments.Department, *httpapi.Error) {
	if s.handOvers == nil {
		return nil, departments.Department{}, httpapi.ErrNotFound
	}
	t, err := s.handOvers.VerifyHandOver(ctx, req.Context, gs.TokenHash, req.Origin)
	if err != nil {
		if apiErr := handOverError(err); apiErr != nil {
			return nil, departments.Department{}, apiErr
		}
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to verify a hand-over context")
		return nil, departments.Department{}, errUnavailable
	}
	d, ok := s.routeHandOver(t)
	if !ok {
		zerolog.Ctx(ctx).Error().Str("ozg_service", t.Service.ID).Msg("No department for a hand-over: ozg.default_department is unset")
		return nil, departments.Department{}, httpapi.ErrInternal
	}
	return t, d, nil
}

// handOver is POST handover.
func (s *Server) handOver(w http.ResponseWriter, r *http.Request) {
	gs := s.authed(w, r, true)
	if gs == nil {
		return
	}
	if ok, retry := s.handOverLim.Allow(ratelimit.IPKey(s.proxies.ClientIP(r), 0)); !ok {
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return
	}
	var body handOverRequest
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if body.Context == "" {
		httpapi.WriteError(w, httpapi.BadRequest("context is required"))
		return
	}
	t, d, apiErr := s.verifyHandOver(r.Context(), gs, body)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	var out handOverJSON
	out.Service.ID, out.Service.Name = t.Service.ID, t.Service.Name
	out.Step, out.Lang = t.Step, t.Lang
	out.Department = departmentRef{ID: d.ID, Name: d.Name}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// unverifiedTicket marks a case opened from /hilfe without a valid
// context; its id becomes the case's.
func unverifiedTicket() *protocol.TicketContent {
	return &protocol.TicketContent{Status: protocol.TicketOpen, Verified: false}
}

// handOverCase sets the ticket and the department of a case opened from
// the hand-over page. A session that has its case already gets it back
// even if the context no longer verifies (it may have expired since):
// the ticket only matters when the case opens.
func (s *Server) handOverCase(ctx context.Context, gs *Session, req *cases.CitizenOpen, body handOverRequest) *httpapi.Error {
	if body.Context == "" {
		req.Ticket = unverifiedTicket()
		return nil
	}
	t, d, apiErr := s.verifyHandOver(ctx, gs, body)
	switch {
	case apiErr != nil && gs.CaseID != "":
		return nil
	case apiErr != nil:
		return apiErr
	}
	req.Ticket, req.Department, req.Service = t, d.ID, ""
	return nil
}
