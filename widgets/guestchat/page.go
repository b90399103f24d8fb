package guestchat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/rathaus-de/rathaus/widgets/guestchat/web"
)

// pageRoutes serves the citizen's page and its assets.
func (s *Server) pageRoutes(m *http.ServeMux) {
	s.assetETags, s.assetVersion = assetETags(web.Assets, s.version)
	m.HandleFunc("GET /chat/{department}", s.page)
	m.HandleFunc("GET /chat", s.page)
	m.HandleFunc("GET /chat/", s.page)
	files := http.FileServerFS(web.Assets)
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, ok := s.assetETags[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// Modules import each other without a version, so browsers must
		// revalidate every time; the ETag makes that cheap.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", tag)
		files.ServeHTTP(w, r)
	})))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { s.notFoundPage(w, r) })
}

// assetETags hashes every asset once; the version for asset URLs is the
// build's version plus a hash of all of them.
func assetETags(files fs.FS, version string) (map[string]string, string) {
	tags := map[string]string{}
	all := sha256.New()
	var names []string
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, path)
		}
		return nil
	})
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(files, name)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		tags[name] = `"` + hex.EncodeToString(sum[:8]) + `"`
		all.Write(sum[:])
	}
	return tags, version + "-" + hex.EncodeToString(all.Sum(nil)[:4])
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
		if id, ok := s.backend.DepartmentForService(service); ok {
			target := url.URL{Path: "/chat/" + url.PathEscape(id), RawQuery: q.Encode()}
			http.Redirect(w, r, target.String(), http.StatusSeeOther)
			return
		}
		s.notFoundPage(w, r)
		return
	}
	d, ok := s.backend.Department(depID)
	if !ok {
		s.notFoundPage(w, r)
		return
	}
	var buf bytes.Buffer
	err := web.Page.Execute(&buf, web.PageData{Lang: pageLang(r), Department: d.ID, DepartmentName: d.Name,
		Service: service, AuthorityName: s.backend.Authority().Name, AssetVersion: s.assetVersion})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

var notFoundTemplate = template.Must(template.New("404").Parse(`<!DOCTYPE html>
<html lang="{{.}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if eq . "en"}}Not found{{else}}Nicht gefunden{{end}}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="not-found"><h1>{{if eq . "en"}}This chat does not exist{{else}}Diesen Chat gibt es nicht{{end}}</h1>
<p>{{if eq . "en"}}Please check the link, or contact the authority another way.{{else}}Bitte prüfen Sie den Link oder wenden Sie sich auf anderem Weg an die Behörde.{{end}}</p>
</main></body></html>
`))

func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = notFoundTemplate.Execute(w, pageLang(r))
}
