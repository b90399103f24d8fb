package guestchat

import (
	"net/http"

	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/protocol"
)

// departmentOf resolves ?department= or ?service=.
func (s *Server) departmentOf(q interface{ Get(string) string }) (departments.Department, bool) {
	if id := q.Get("department"); id != "" {
		return s.dir.Department(protocol.DepartmentID(id))
	} else if service := q.Get("service"); service != "" {
		return s.dir.DepartmentForService(service)
	}
	return departments.Department{}, false
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	d, ok := s.departmentOf(r.URL.Query())
	if !ok {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	var out infoJSON
	a := s.dir.Authority()
	out.Authority.Name, out.Authority.PrivacyURL, out.Authority.ContactURL = a.Name, a.PrivacyURL, a.ContactURL
	out.Department.ID, out.Department.Name, out.Department.Description = d.ID, d.Name, d.Description
	out.Department.Open, out.Department.OfficeHours = d.Open, d.OfficeHours
	if !d.Open && !d.NextOpening.IsZero() {
		t := d.NextOpening
		out.Department.NextOpening = &t
	}
	cfg := s.config()
	out.Limits.MaxMessageLength = cfg.GuestChat.MaxMessageLength
	out.Limits.MaxAttachmentBytes = cfg.GuestChat.MaxAttachmentBytes
	out.Limits.AttachmentTypes = cfg.GuestChat.AttachmentTypes
	out.Idle.AbandonAfterSeconds = int64(cfg.Retention.AbandonAfter.Seconds())
	out.Idle.WarnBeforeSeconds = int64(cfg.Retention.IdleWarning.Seconds())
	out.Video = s.video != nil
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
