package guestchat

import (
	"bytes"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/widgets/guestchat/web"
)

// index lists the departments a citizen can write to, with whether each is
// open, at / and /chat/: one address for a portal to link. It is
// server-rendered and works without script.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept-Language")
	lang := pageLang(r)
	data := web.IndexData{Lang: lang, AssetVersion: s.assets.Version()}
	if q := r.URL.Query().Get("lang"); q == lang {
		data.LangQuery = "?lang=" + lang
	}
	a := s.dir.Authority()
	data.AuthorityName, data.PrivacyURL, data.ContactURL = a.Name, webURL(a.PrivacyURL), webURL(a.ContactURL)
	now := time.Now()
	// The guest chat is on for the whole authority (guest_chat.enabled),
	// so every department of the config can be written to.
	for _, d := range s.dir.Departments() {
		e := web.IndexDepartment{ID: d.ID.String(), Name: d.Name, Description: d.Description, Open: d.Open,
			OfficeHours: d.OfficeHours}
		if !d.Open && !d.NextOpening.IsZero() {
			e.NextOpening = openingText(lang, d.NextOpening, now)
		}
		data.Departments = append(data.Departments, e)
	}
	var buf bytes.Buffer
	if err := web.Index.Execute(&buf, data); err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Open or closed changes with the clock.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
