package main_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// portalPage is a page that embeds the chat.
func portalPage(chatURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Portal</title></head>
<body><main><h1>Bauantrag online</h1><iframe id="chat" src=%q title="Chat mit dem Bauamt" width="420" height="640"></iframe></main></body></html>`, chatURL)
	})
}

// TestBrowserEmbedding: guest_chat.embed_origins decides who may show the
// chat in an iframe (CSP frame-ancestors); inside an allowed portal on the
// same site the session cookie (SameSite=Strict) works.
func TestBrowserEmbedding(t *testing.T) {
	var chatURL string
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { portalPage(chatURL).ServeHTTP(w, r) }))
	defer portal.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { portalPage(chatURL).ServeHTTP(w, r) }))
	defer other.Close()
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{ChatYAML: fmt.Sprintf("  embed_origins: [%q]\n", portal.URL)})
	chatURL = g.base + "/chat/bauamt"

	script := browsertest.Start(t, "e2e/embed.mjs", nil)
	script.Expect("ready", time.Minute)
	script.Continue("ready", map[string]any{"portal": portal.URL, "other": other.URL})
	done := script.Expect("done", 2*time.Minute)
	script.Continue("done", nil)
	script.Wait(time.Minute)
	ref, _ := done["reference"].(string)
	assert.True(t, strings.HasPrefix(ref, "BAU-"), ref)
}
