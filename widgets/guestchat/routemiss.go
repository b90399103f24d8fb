package guestchat

import (
	"net/http"
	"strings"

	"github.com/rathaus-de/rathaus/httpapi"
)

// dispatch hands the request to its route. A request no route takes gets
// the answer of its kind: under the API, {"errcode", "error"} with 404, or
// 405 with Allow when the path exists for other methods; elsewhere the
// page's own 404, or the mux's 405 with Allow.
//
// The API therefore has no catch-all pattern: "/api/guest/v1/" would match
// every method and turn a wrong method into a 404 without Allow.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // sets the path values the handlers read
		return
	}
	// h is the mux's plain-text answer: 405 with Allow, or 404. Only its
	// status and Allow are kept.
	var miss missRecorder
	h.ServeHTTP(&miss, r)
	allow := miss.header.Get("Allow")
	notAllowed := miss.code == http.StatusMethodNotAllowed && allow != ""
	switch {
	case isAPIPath(r.URL.Path) && notAllowed:
		w.Header().Set("Allow", allow)
		httpapi.WriteError(w, httpapi.ErrMethodNotAllowed)
	case isAPIPath(r.URL.Path):
		httpapi.WriteError(w, httpapi.ErrNotFound)
	case notAllowed:
		h.ServeHTTP(w, r)
	default:
		s.notFoundPage(w, r)
	}
}

// isAPIPath tells whether a path is the JSON API's, whose answers are JSON
// even when no route takes them.
func isAPIPath(path string) bool {
	return strings.HasPrefix(path, APIPrefix) || path == strings.TrimSuffix(APIPrefix, "/")
}

// missRecorder keeps the status and headers of the mux's answer to a
// request no route takes, and drops its body.
type missRecorder struct {
	header http.Header
	code   int
}

func (m *missRecorder) Header() http.Header {
	if m.header == nil {
		m.header = make(http.Header)
	}
	return m.header
}

func (m *missRecorder) WriteHeader(code int) {
	if m.code == 0 {
		m.code = code
	}
}

func (m *missRecorder) Write(b []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	return len(b), nil
}
