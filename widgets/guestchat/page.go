package guestchat

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/widgets/guestchat/web"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
)

// pageRoutes serves the citizen's page and its assets: the page's own
// under /assets/, the shared kit under /assets/kit/.
func (s *Server) pageRoutes(m *http.ServeMux) {
	s.assets = webkit.NewAssetServer(web.Assets, s.version)
	m.HandleFunc("GET /chat/{department}", s.page)
	m.HandleFunc("GET /chat", s.page)
	m.HandleFunc("GET /chat/", s.page)
	m.HandleFunc("GET /hilfe", s.handOverPage)
	m.Handle("GET /assets/", http.StripPrefix("/assets/", s.assets))
	m.HandleFunc("GET /{$}", s.index)
	m.HandleFunc("GET "+config.PrivacyPagePath, s.privacyPage)
}

// pageLang is "en" if asked for by ?lang=en, or if the browser prefers
// English to German; otherwise "de".
func pageLang(r *http.Request) string {
	switch r.URL.Query().Get("lang") {
	case "en":
		return "en"
	case "de":
		return "de"
	}
	best, bestQ := "de", -1.0
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		primary, _, _ := strings.Cut(tag, "-")
		if primary != "de" && primary != "en" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		q -= float64(i) * 1e-6 // earlier wins among equals
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept-Language")
	q := r.URL.Query()
	depID := r.PathValue("department")
	service := q.Get("service")
	if depID == "" {
		// /chat?service=<LeiKa key>: on to the department that handles it.
		if service == "" {
			// /chat and /chat/ without a department: let the citizen choose.
			s.index(w, r)
			return
		}
		if d, ok := s.dir.DepartmentForService(service); ok {
			target := url.URL{Path: "/chat/" + url.PathEscape(d.ID.String()), RawQuery: q.Encode()}
			http.Redirect(w, r, target.String(), http.StatusSeeOther)
			return
		}
		s.notFoundPage(w, r)
		return
	}
	d, ok := s.dir.Department(protocol.DepartmentID(depID))
	if !ok {
		s.notFoundPage(w, r)
		return
	}
	s.renderPage(w, r, web.PageData{Lang: pageLang(r), Department: d.ID.String(), DepartmentName: d.Name,
		Service: service, AuthorityName: s.dir.Authority().Name, AssetVersion: s.assets.Version()})
}

// renderPage writes the chat page.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, data web.PageData) {
	w.Header().Set("Vary", "Accept-Language")
	var buf bytes.Buffer
	if err := web.Page.Execute(&buf, data); err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

var notFoundTemplate = template.Must(template.New("404").Parse(`<!DOCTYPE html>
<html lang="{{.}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if eq . "en"}}Not found{{else}}Nicht gefunden{{end}}</title><link rel="stylesheet" href="/assets/kit/base.css"><link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="not-found"><h1>{{if eq . "en"}}This chat does not exist{{else}}Diesen Chat gibt es nicht{{end}}</h1>
<p>{{if eq . "en"}}Please check the link, or contact the authority another way.{{else}}Bitte prüfen Sie den Link oder wenden Sie sich auf anderem Weg an die Behörde.{{end}}</p>
</main></body></html>
`))

func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = notFoundTemplate.Execute(w, pageLang(r))
}
