package guestchat

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

func (s *Server) caseView(ctx context.Context, c *cases.Case) *caseJSON {
	v := &caseJSON{ID: c.ID, Reference: c.Reference, Status: c.Status, Open: c.Status.Open(),
		Department: departmentRef{ID: c.Department, Name: c.Department.String()}, CreatedAt: c.CreatedAt.UTC()}
	if d, ok := s.dir.Department(c.Department); ok {
		v.Department.Name = d.Name
	}
	if !c.LastCitizenAt.IsZero() {
		t := c.LastCitizenAt.UTC()
		v.LastCitizenAt = &t
	}
	if v.Open {
		t := s.abandonAt(c)
		v.AbandonAt = &t
	}
	if c.Status == protocol.CaseQueued {
		if pos, err := s.cases.QueuePosition(ctx, c.ID); err == nil {
			v.QueuePosition = pos
		}
	}
	return v
}

// abandonAt is when an open case will be abandoned without activity, by
// the running config's retention.abandon_after.
func (s *Server) abandonAt(c *cases.Case) time.Time {
	return c.AbandonAt(s.config().Retention.AbandonAfter).UTC()
}

func (s *Server) openCase(w http.ResponseWriter, r *http.Request) {
	gs := s.authed(w, r, true)
	if gs == nil {
		return
	}
	var body openCaseBody
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	ctx := r.Context()
	req := cases.CitizenOpen{Session: gs.TokenHash, Department: body.Department, Service: body.Service,
		Name: plaintext.Line(body.Name, 0), Question: plaintext.Text(body.Question), TxnID: body.TxnID}
	// Only a service of the config (a LeiKa key one department handles)
	// reaches staff, also on a retry: the field is the citizen's input,
	// and free text in it would be posted under the bot's name (issue 12,
	// point 1).
	if _, ok := s.dir.DepartmentForService(req.Service); req.Service != "" && !ok {
		httpapi.WriteError(w, httpapi.BadRequest("service is not a service of this authority"))
		return
	}
	if body.HandOver != nil {
		if apiErr := s.handOverCase(ctx, gs, &req, *body.HandOver); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
	}
	if gs.CaseID == "" {
		if apiErr := s.checkOpen(ctx, r, &req, body); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
	}
	c, created, err := s.cases.OpenForCitizen(ctx, req)
	switch {
	case errors.Is(err, departments.ErrUnknownDepartment):
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	case err != nil:
		// The homeserver failed on the way; if the case exists, the page's
		// retry finishes what is missing.
		s.unavailable(w, r, err)
		return
	}
	if gs.CaseID == "" {
		s.keepSessionForCase(ctx, gs)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, s.caseView(ctx, c))
}

// checkOpen validates a request for a new case and redeems its challenge.
func (s *Server) checkOpen(ctx context.Context, r *http.Request, req *cases.CitizenOpen, body openCaseBody) *httpapi.Error {
	if req.Department == "" && req.Service != "" {
		if d, ok := s.dir.DepartmentForService(req.Service); ok {
			req.Department = d.ID
		}
	}
	if _, ok := s.dir.Department(req.Department); !ok {
		return httpapi.ErrNotFound
	}
	if !txnIDRegex.MatchString(req.TxnID) {
		return errBadTxnID
	}
	if !plaintext.Visible(req.Question) {
		return httpapi.BadRequest("question is required")
	} else if utf8.RuneCountInString(req.Question) > s.config().GuestChat.MaxMessageLength {
		return httpapi.NewError(http.StatusRequestEntityTooLarge, codeTooLong, "the question is too long")
	}
	if utf8.RuneCountInString(req.Name) > 64 {
		return httpapi.BadRequest("name is longer than 64 characters")
	}
	// The proof of work first: only verified attempts count against the
	// address's quota, so fake proofs cannot spend it for everyone behind
	// the same address (issue 12, point 2).
	err := s.pow.Verify(ctx, body.Pow.Token, body.Pow.Nonce, powPurpose)
	switch {
	case err == nil:
		if ok, retry := s.openLim.Allow(ratelimit.IPKey(s.proxies.ClientIP(r), 0)); !ok {
			return httpapi.RateLimited(retry)
		}
		return nil
	case errors.Is(err, pow.ErrExpired):
		return errPowExpired
	case errors.Is(err, pow.ErrReplayed):
		return errPowReplayed
	case errors.Is(err, pow.ErrInvalidToken), errors.Is(err, pow.ErrInsufficientWork), errors.Is(err, pow.ErrWrongPurpose):
		return errPowInvalid
	default:
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to verify challenge")
		return errUnavailable
	}
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}

// closeCase is the citizen's "Gespräch beenden". It ends the session too
// (issue 12, point 5): the answer clears the cookie, so a shared computer
// does not keep the conversation readable for the next person.
func (s *Server) closeCase(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &emptyRequest{}); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if c.Status.Open() {
		if err := s.cases.CloseByCitizen(r.Context(), c); err != nil && !errors.Is(err, cases.ErrCaseNotOpen) {
			s.unavailable(w, r, err)
			return
		}
	}
	c, err := s.cases.Case(r.Context(), c.ID)
	if err != nil || c == nil {
		s.internal(w, r, err)
		return
	}
	if err := s.endSession(r.Context(), w, gs); err != nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}
