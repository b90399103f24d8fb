package app

import (
	"net/http"
)

// publicRoute is an HTTP route of a capability on the public listener
// (guest_chat.listen), beside the guest chat: the OZG intake API and
// status callbacks, the ticket widget. A capability's set-up adds its
// routes to App.public before serveGuestChat composes the listener.
type publicRoute struct {
	// pattern is a net/http pattern ("POST /api/ozg/v1/help-requests",
	// "/widgets/ticket/").
	pattern string
	handler http.Handler
}

// publicHandler serves the public routes and everything else from the
// guest chat, with the guest chat's listener limits (ConfigureServer).
type publicHandler struct {
	mux   *http.ServeMux
	guest interface {
		http.Handler
		serverConfigurer
	}
}

// newPublicHandler composes the public listener's handler. Without other
// routes it is the guest chat alone.
func newPublicHandler(guest interface {
	http.Handler
	serverConfigurer
}, routes []publicRoute) http.Handler {
	if len(routes) == 0 {
		return guest
	}
	mux := http.NewServeMux()
	mux.Handle("/", guest)
	for _, r := range routes {
		mux.Handle(r.pattern, r.handler)
	}
	return publicHandler{mux: mux, guest: guest}
}

func (p publicHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// ConfigureServer sets the guest chat's limits on the listener.
func (p publicHandler) ConfigureServer(srv *http.Server) { p.guest.ConfigureServer(srv) }
