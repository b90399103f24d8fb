package guestchat

import (
	"net/http"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

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
	httpapi.WriteJSON(w, http.StatusOK, challengeJSON{Token: c.Token, Difficulty: c.Difficulty, ExpiresAt: c.ExpiresAt.UTC()})
}
