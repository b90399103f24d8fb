package main_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/ozg/fitconnect"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/tickets"
)

// TestBrowserHandOver (issue 13, acceptance 1 and 2): in real Chromium,
// against the real binary and Dendrite. An online service's page on
// another loopback origin links "Hilfe" with a context signed here; the
// citizen's page says "Ihre Anfrage zu: Bauantrag online" and the step,
// opens the case in the Bauamt (the department of the LeiKa key), and a
// caseworker reads the ticket and its summary through the client API.
// A FIT-Connect status callback then shows the application's status on
// the open page. An expired and a replayed link are refused with their
// own text; axe checks each state.
func TestBrowserHandOver(t *testing.T) {
	const (
		submission     = "f39ab143-d91a-474a-b69f-b00f1a1873c2"
		callbackSecret = "Vq8mZ3rT0xK5nB7wL2pD9sF4hJ6cG1yE"
	)
	var links atomic.Pointer[string]
	online := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, *links.Load())
	}))
	t.Cleanup(online.Close)
	svc := ozgtest.NewService("bauantrag", "Bauantrag online", online.URL)
	key := svc.Config().ContextKey.Ed25519
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{
		Departments: "  - id: buergerbuero\n    name: Bürgerbüro\n",
		Extra: fmt.Sprintf("ozg:\n  default_department: buergerbuero\n  services:\n    - id: bauantrag\n      name: Bauantrag online\n"+
			"      origins: [%q]\n      context_key:\n        ed25519: %q\n      fit_connect:\n        callback_secret: %q\n",
			online.URL, key, callbackSecret),
	})

	claims := func(jti, lang string, iat time.Time) ozgtest.Claims {
		return ozgtest.Claims{"leika": "99108008000000", "step": "Angaben zum Grundstück", "err": "E-FLURSTUECK-404",
			"trust": "basis", "lang": lang, "jti": jti, "iat": iat.Unix(), "exp": iat.Add(5 * time.Minute).Unix(),
			"submission": submission}
	}
	now := time.Now()
	link := func(id, text, token string) string {
		return fmt.Sprintf(`<li><a id="%s" href="%s">%s</a></li>`, id, html.EscapeString(g.base+"/hilfe#ctx="+token), text)
	}
	page := `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Bauantrag online</title></head><body><main>` +
		`<h1>Bauantrag online</h1><ul>` +
		link("hilfe", "Hilfe", svc.Sign(claims("browser-jti-0000001", "de", now))) +
		link("hilfe-en", "Help", svc.Sign(claims("browser-jti-0000002", "en", now))) +
		link("hilfe-abgelaufen", "Hilfe (alt)", svc.Sign(claims("browser-jti-0000003", "de", now.Add(-20*time.Minute)))) +
		`</ul></main></body></html>`
	links.Store(&page)

	s := browsertest.Start(t, "e2e/handover.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"service": online.URL + "/"})

	opened := s.Expect("opened", 2*time.Minute)
	ref, _ := opened["reference"].(string)
	require.True(t, strings.HasPrefix(ref, "BAU-"), "the case opened in the Bauamt: %q", ref)
	room := g.claim(t, ref)
	ctx := context.Background()
	var ticket protocol.TicketContent
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.TicketEventType, "bauantrag.browser-jti-0000001", &ticket))
	assert.True(t, ticket.Verified)
	assert.Equal(t, "Bauantrag online", ticket.Service.Name)
	assert.Equal(t, "Angaben zum Grundstück", ticket.Step)
	assert.Equal(t, protocol.TrustBasis, ticket.Trust)
	summary := false
	for body := range g.roomBodies(t, room, "") {
		if strings.HasPrefix(body, "Übergabe aus dem Online-Dienst „Bauantrag online“") &&
			strings.Contains(body, "Fehlercode / error code: E-FLURSTUECK-404") {
			summary = true
		}
	}
	assert.True(t, summary, "the summary in the case room")
	// The online service reports that the application was forwarded; the
	// open page shows it live.
	body := fmt.Sprintf(`{"type":%q,"submissions":[{"submissionId":%q,"status":"forwarded"}]}`, tickets.TypeSubmissionStatus, submission)
	ts, auth := fitconnect.Sign([]byte(callbackSecret), time.Now(), []byte(body))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+"/api/ozg/v1/fit-connect/callbacks/bauantrag", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(fitconnect.HeaderTimestamp, ts)
	req.Header.Set(fitconnect.HeaderAuthentication, auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s.Continue("opened", nil)

	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-48s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(browserStep)
}
