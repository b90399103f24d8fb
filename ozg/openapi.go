package ozg

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 document of the OZG API (every route under
// APIPrefix). A route added under APIPrefix is added here too; the test
// TestOpenAPIMatchesRoutes fails until it is.
//
//go:embed openapi.json
var OpenAPI []byte

// serveOpenAPI is GET openapi.json.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(OpenAPI)
}
