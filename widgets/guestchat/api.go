package guestchat

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

// maxJSONBody bounds JSON request bodies; the longest is a message.
const maxJSONBody = 256 << 10

var txnIDRegex = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// caseJSON is a case as the page sees it.
type caseJSON struct {
	ID            string        `json:"id"`
	Reference     string        `json:"reference"`
	Department    departmentRef `json:"department"`
	Status        string        `json:"status"`
	Open          bool          `json:"open"`
	QueuePosition int           `json:"queue_position,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	LastCitizenAt *time.Time    `json:"last_citizen_at,omitempty"`
	AbandonAt     *time.Time    `json:"abandon_at,omitempty"`
}

type departmentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type sessionJSON struct {
	CSRFToken string    `json:"csrf_token"`
	Case      *caseJSON `json:"case"`
}

func (s *Server) caseView(ctx context.Context, c *store.Case) *caseJSON {
	v := &caseJSON{ID: c.ID, Reference: c.Reference, Status: c.Status, Open: protocol.CaseStatus(c.Status).Open(),
		Department: departmentRef{ID: c.Department, Name: c.Department}, CreatedAt: c.CreatedAt.UTC()}
	if d, ok := s.backend.Department(c.Department); ok {
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
	if c.Status == "queued" {
		if pos, err := s.store.QueuePosition(ctx, c.ID); err == nil {
			v.QueuePosition = pos
		}
	}
	return v
}

// abandonAt is when an open case will be abandoned without activity.
func (s *Server) abandonAt(c *store.Case) time.Time {
	last := c.CreatedAt
	if c.LastCitizenAt.After(last) {
		last = c.LastCitizenAt
	}
	return last.Add(s.retention.AbandonAfter).UTC()
}

func (s *Server) sessionView(ctx context.Context, gs *store.GuestSession) (*sessionJSON, error) {
	out := &sessionJSON{CSRFToken: s.csrf.Token(gs.TokenHash)}
	if gs.CaseID != "" {
		c, err := s.store.GetCase(ctx, gs.CaseID)
		if err != nil {
			return nil, err
		}
		if c != nil && c.Status != "purged" {
			out.Case = s.caseView(ctx, c)
		}
	}
	return out, nil
}

// getSession answers the page's first question: is there a session, and
// a case to come back to? Without a cookie that is a normal answer (200,
// no token, no case); a cookie that is wrong or expired is 401.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	gs, err := s.session(r)
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
	var body struct {
		New bool `json:"new"`
	}
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	ctx := r.Context()
	gs, err := s.session(r)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if gs != nil && body.New {
		if gs.CaseID != "" {
			c, err := s.store.GetCase(ctx, gs.CaseID)
			if err != nil {
				s.internal(w, r, err)
				return
			} else if c != nil && protocol.CaseStatus(c.Status).Open() {
				httpapi.WriteError(w, errCaseOpen)
				return
			}
		}
		if err = s.store.DeleteGuestSession(ctx, gs.TokenHash); err != nil {
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

type infoJSON struct {
	Authority struct {
		Name       string `json:"name"`
		PrivacyURL string `json:"privacy_url,omitempty"`
		ContactURL string `json:"contact_url,omitempty"`
	} `json:"authority"`
	Department struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		Description string     `json:"description,omitempty"`
		Open        bool       `json:"open"`
		NextOpening *time.Time `json:"next_opening,omitempty"`
		OfficeHours string     `json:"office_hours,omitempty"`
	} `json:"department"`
	Limits struct {
		MaxMessageLength   int      `json:"max_message_length"`
		MaxAttachmentBytes int64    `json:"max_attachment_bytes"`
		AttachmentTypes    []string `json:"attachment_types"`
	} `json:"limits"`
	Idle struct {
		AbandonAfterSeconds int64 `json:"abandon_after_seconds"`
		WarnBeforeSeconds   int64 `json:"warn_before_seconds"`
	} `json:"idle"`
}

// departmentOf resolves ?department= or ?service=.
func (s *Server) departmentOf(q interface{ Get(string) string }) (Department, bool) {
	id := q.Get("department")
	if id == "" && q.Get("service") != "" {
		id, _ = s.backend.DepartmentForService(q.Get("service"))
	}
	if id == "" {
		return Department{}, false
	}
	return s.backend.Department(id)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	d, ok := s.departmentOf(r.URL.Query())
	if !ok {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	var out infoJSON
	a := s.backend.Authority()
	out.Authority.Name, out.Authority.PrivacyURL, out.Authority.ContactURL = a.Name, a.PrivacyURL, a.ContactURL
	out.Department.ID, out.Department.Name, out.Department.Description = d.ID, d.Name, d.Description
	out.Department.Open, out.Department.OfficeHours = d.Open, d.OfficeHours
	if !d.Open && !d.NextOpening.IsZero() {
		t := d.NextOpening
		out.Department.NextOpening = &t
	}
	out.Limits.MaxMessageLength = s.cfg.MaxMessageLength
	out.Limits.MaxAttachmentBytes = s.cfg.MaxAttachmentBytes
	out.Limits.AttachmentTypes = s.cfg.AttachmentTypes
	out.Idle.AbandonAfterSeconds = int64(s.retention.AbandonAfter.Seconds())
	out.Idle.WarnBeforeSeconds = int64(s.retention.IdleWarning.Seconds())
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	if !httpapi.SameOrigin(r, s.origin) {
		httpapi.WriteError(w, errCSRF)
		return
	}
	if ok, retry := s.challenges.Allow(ratelimit.IPKey(s.proxies.ClientIP(r), 0)); !ok {
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return
	}
	c, err := s.pow.Issue(powPurpose)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"token": c.Token, "difficulty": c.Difficulty, "expires_at": c.ExpiresAt.UTC()})
}

type openCaseBody struct {
	Department string `json:"department"`
	Service    string `json:"service"`
	Name       string `json:"name"`
	Question   string `json:"question"`
	TxnID      string `json:"txn_id"`
	Pow        struct {
		Token string `json:"token"`
		Nonce string `json:"nonce"`
	} `json:"pow"`
}

// authed returns the request's session if it may change state: a valid
// session (401 otherwise) and the CSRF token from the same origin (403).
func (s *Server) authed(w http.ResponseWriter, r *http.Request, state bool) *store.GuestSession {
	gs, err := s.session(r)
	if err != nil {
		s.internal(w, r, err)
		return nil
	} else if gs == nil {
		httpapi.WriteError(w, errUnauthorized)
		return nil
	}
	if state && (!httpapi.SameOrigin(r, s.origin) || !s.csrf.Check(r, gs.TokenHash)) {
		httpapi.WriteError(w, errCSRF)
		return nil
	}
	return gs
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
	req := OpenRequest{SessionHash: gs.TokenHash, Department: body.Department, Service: body.Service,
		Name: strings.TrimSpace(body.Name), Question: strings.TrimSpace(body.Question), TxnID: body.TxnID}
	if gs.CaseID == "" {
		if apiErr := s.checkOpen(ctx, r, &req, body); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
	}
	c, created, err := s.backend.OpenCase(ctx, req)
	switch {
	case errors.Is(err, ErrUnknownDepartment):
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	case err != nil:
		// The homeserver failed on the way; if the case exists, the page's
		// retry finishes what is missing.
		s.unavailable(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, s.caseView(ctx, c))
}

// checkOpen validates a request for a new case and redeems its challenge.
func (s *Server) checkOpen(ctx context.Context, r *http.Request, req *OpenRequest, body openCaseBody) *httpapi.Error {
	if req.Department == "" && req.Service != "" {
		req.Department, _ = s.backend.DepartmentForService(req.Service)
	}
	if _, ok := s.backend.Department(req.Department); !ok {
		return httpapi.ErrNotFound
	}
	if !txnIDRegex.MatchString(req.TxnID) {
		return errBadTxnID
	}
	if req.Question == "" {
		return httpapi.BadRequest("question is required")
	} else if utf8.RuneCountInString(req.Question) > s.cfg.MaxMessageLength {
		return httpapi.NewError(http.StatusRequestEntityTooLarge, codeTooLong, "the question is too long")
	}
	if utf8.RuneCountInString(req.Name) > 64 {
		return httpapi.BadRequest("name is longer than 64 characters")
	}
	if ok, retry := s.openLim.Allow(ratelimit.IPKey(s.proxies.ClientIP(r), 0)); !ok {
		return httpapi.RateLimited(retry)
	}
	err := s.pow.Verify(ctx, body.Pow.Token, body.Pow.Nonce, powPurpose)
	switch {
	case err == nil:
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

// withCase resolves {id} to the session's own case: any other id is 404,
// whether it exists or not.
func (s *Server) withCase(state bool, next func(http.ResponseWriter, *http.Request, *store.GuestSession, *store.Case)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		gs := s.authed(w, r, state)
		if gs == nil {
			return
		}
		if gs.CaseID == "" || r.PathValue("id") != gs.CaseID {
			httpapi.WriteError(w, httpapi.ErrNotFound)
			return
		}
		c, err := s.store.GetCase(r.Context(), gs.CaseID)
		if err != nil {
			s.internal(w, r, err)
			return
		} else if c == nil || c.Status == "purged" {
			httpapi.WriteError(w, httpapi.ErrNotFound)
			return
		}
		next(w, r, gs, c)
	}
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request, _ *store.GuestSession, c *store.Case) {
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}

// allowMessage applies the message limits; it answers the request and
// returns false when one is exceeded.
func (s *Server) allowMessage(w http.ResponseWriter, r *http.Request, gs *store.GuestSession) bool {
	ok, retry, which := s.messages.Allow(map[string]string{
		"session": gs.TokenHash, "address": ratelimit.IPKey(s.proxies.ClientIP(r), 0), "global": "all"})
	if !ok {
		zerolog.Ctx(r.Context()).Info().Str("limit", which).Msg("Guest message rate limited")
		httpapi.WriteError(w, httpapi.RateLimited(retry))
	}
	return ok
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, gs *store.GuestSession, c *store.Case) {
	var body struct {
		TxnID string `json:"txn_id"`
		Body  string `json:"body"`
	}
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	text := strings.TrimRight(body.Body, " \t\r\n")
	switch {
	case !txnIDRegex.MatchString(body.TxnID):
		httpapi.WriteError(w, errBadTxnID)
		return
	case strings.TrimSpace(text) == "":
		httpapi.WriteError(w, httpapi.BadRequest("body is empty"))
		return
	case utf8.RuneCountInString(text) > s.cfg.MaxMessageLength:
		httpapi.WriteError(w, httpapi.NewError(http.StatusRequestEntityTooLarge, codeTooLong,
			"the message is longer than "+strconv.Itoa(s.cfg.MaxMessageLength)+" characters"))
		return
	case !protocol.CaseStatus(c.Status).Open():
		httpapi.WriteError(w, errCaseClosed)
		return
	}
	if !s.allowMessage(w, r, gs) {
		return
	}
	if err := s.backend.SendMessage(r.Context(), c, body.TxnID, text); err != nil {
		if errors.Is(err, ErrCaseNotOpen) {
			httpapi.WriteError(w, errCaseClosed)
			return
		}
		s.unavailable(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"txn_id": body.TxnID})
}

func (s *Server) sendAttachment(w http.ResponseWriter, r *http.Request, gs *store.GuestSession, c *store.Case) {
	q := r.URL.Query()
	txn := q.Get("txn_id")
	if !txnIDRegex.MatchString(txn) {
		httpapi.WriteError(w, errBadTxnID)
		return
	}
	if s.cfg.MaxAttachmentBytes == 0 {
		httpapi.WriteError(w, errAttachmentsOff)
		return
	}
	if !protocol.CaseStatus(c.Status).Open() {
		httpapi.WriteError(w, errCaseClosed)
		return
	}
	declared, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !s.allowedType(declared) {
		httpapi.WriteError(w, errTypeNotAllowed)
		return
	}
	if r.ContentLength > s.cfg.MaxAttachmentBytes {
		httpapi.WriteError(w, errFileTooLarge)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxAttachmentBytes+1))
	if err != nil {
		httpapi.WriteError(w, httpapi.BadRequest("could not read the file"))
		return
	} else if int64(len(data)) > s.cfg.MaxAttachmentBytes {
		httpapi.WriteError(w, errFileTooLarge)
		return
	} else if len(data) == 0 {
		httpapi.WriteError(w, httpapi.BadRequest("the file is empty"))
		return
	}
	if sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data)); sniffed != declared {
		httpapi.WriteError(w, httpapi.UnsupportedType("the file's content is not "+declared))
		return
	}
	if !s.allowMessage(w, r, gs) {
		return
	}
	err = s.backend.SendAttachment(r.Context(), c, txn, Attachment{Name: cleanFileName(q.Get("name"), declared), Type: declared, Data: data})
	if errors.Is(err, ErrCaseNotOpen) {
		httpapi.WriteError(w, errCaseClosed)
		return
	} else if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"txn_id": txn})
}

func (s *Server) allowedType(t string) bool {
	for _, a := range s.cfg.AttachmentTypes {
		if a == t {
			return true
		}
	}
	return false
}

// cleanFileName keeps a file name displayable and harmless: no path, no
// control characters, at most 100 characters.
func cleanFileName(name, mediaType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" || name == "." || name == ".." {
		name = "datei"
		if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
			name += exts[0]
		}
	}
	return name
}

func (s *Server) media(w http.ResponseWriter, r *http.Request, _ *store.GuestSession, c *store.Case) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	e, err := s.store.GetCaseEvent(r.Context(), c.ID, seq)
	if err != nil {
		s.internal(w, r, err)
		return
	} else if e == nil || e.MediaURI == "" {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	body, err := s.backend.Media(r.Context(), e.MediaURI)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	defer body.Close()
	h := w.Header()
	typ, disposition := "application/octet-stream", "attachment"
	if strings.HasPrefix(e.MediaType, "image/") && s.allowedType(e.MediaType) || e.MediaType == "application/pdf" {
		typ = e.MediaType
		if strings.HasPrefix(typ, "image/") {
			disposition = "inline"
		}
	}
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": cleanFileName(e.MediaName, e.MediaType)}))
	h.Set("Content-Security-Policy", mediaCSP)
	h.Set("Cache-Control", "private, max-age=3600")
	if e.MediaSize > 0 {
		h.Set("Content-Length", strconv.FormatInt(e.MediaSize, 10))
	}
	if _, err = io.Copy(w, body); err != nil {
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Media download interrupted")
	}
}

// decodeSignal reads the body of a typing or read signal, within the
// session's signal limit; it answers the request itself when it returns
// false.
func (s *Server) decodeSignal(w http.ResponseWriter, r *http.Request, gs *store.GuestSession, body any) bool {
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

func (s *Server) typing(w http.ResponseWriter, r *http.Request, gs *store.GuestSession, c *store.Case) {
	var body struct {
		Typing bool `json:"typing"`
	}
	if !s.decodeSignal(w, r, gs, &body) {
		return
	}
	if protocol.CaseStatus(c.Status).Open() {
		if err := s.backend.Typing(r.Context(), c, body.Typing); err != nil {
			zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Failed to send typing notification")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, gs *store.GuestSession, c *store.Case) {
	var body struct {
		Seq int64 `json:"seq"`
	}
	if !s.decodeSignal(w, r, gs, &body) {
		return
	}
	e, err := s.store.GetCaseEvent(r.Context(), c.ID, body.Seq)
	if err != nil {
		s.internal(w, r, err)
		return
	} else if e == nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	if err = s.backend.MarkRead(r.Context(), c, e.EventID); err != nil {
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Failed to send read receipt")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) alive(w http.ResponseWriter, r *http.Request, _ *store.GuestSession, c *store.Case) {
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &struct{}{}); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if protocol.CaseStatus(c.Status).Open() {
		now := time.Now()
		if err := s.store.TouchCitizen(r.Context(), c.ID, now); err != nil {
			s.internal(w, r, err)
			return
		}
		c.LastCitizenAt = now
		s.hub.notify(c.ID)
	}
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}

func (s *Server) closeCase(w http.ResponseWriter, r *http.Request, _ *store.GuestSession, c *store.Case) {
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &struct{}{}); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	if protocol.CaseStatus(c.Status).Open() {
		if err := s.backend.CloseCase(r.Context(), c); err != nil && !errors.Is(err, ErrCaseNotOpen) {
			s.unavailable(w, r, err)
			return
		}
	}
	c, err := s.store.GetCase(r.Context(), c.ID)
	if err != nil || c == nil {
		s.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.caseView(r.Context(), c))
}
