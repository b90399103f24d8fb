package main_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"maunium.net/go/mautrix/id"
)

// forgedOpenIDServer is the "homeserver" of a forged OpenID token: over
// federation it vouches for *who, a user of another server
// (CVE-2023-38691). The widgets' sign-in must refuse it.
func forgedOpenIDServer(t *testing.T, who *id.UserID) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_matrix/federation/v1/openid/userinfo" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": who.String()})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// widgetHost serves the Matrix client's side of room widgets on its own
// origin: tests/browser/e2e/widgethost with matrix-widget-api's bundle.
func widgetHost(t *testing.T) *httptest.Server {
	t.Helper()
	host := http.NewServeMux()
	host.HandleFunc("GET /{$}", serveFile("../../tests/browser/e2e/widgethost/index.html", "text/html; charset=utf-8"))
	host.HandleFunc("GET /host.js", serveFile("../../tests/browser/e2e/widgethost/host.js", "text/javascript"))
	host.HandleFunc("GET /mxwidgets.js", serveFile("../../tests/browser/node_modules/matrix-widget-api/dist/api.js", "text/javascript"))
	srv := httptest.NewServer(host)
	t.Cleanup(srv.Close)
	return srv
}
