package guestchat

import "net/http"

// pageRoutes serves the citizen's page and its assets.
func (s *Server) pageRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /chat/{department}", s.page)
	m.HandleFunc("GET /chat", s.page)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	writeError(w, errNotFound)
}
