package main_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/ozg/fitconnect"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestBrowserTicketWidget (issue 13, acceptance 6): in real Chromium,
// against the real binary and Dendrite. A citizen's hand-over opens a
// ticketed case, which gets the ticket widget as room state; a host page
// on another loopback origin embeds the widget with matrix-widget-api's
// real ClientWidgetApi, as Element Web does, and answers get_openid with
// an OpenID token the caseworker got from the homeserver. The caseworker
// sets "Rückfrage" and "erledigt", links a ticket number and requests a
// document, each checked here through the client API. A citizen ghost's
// token, a non-member's token and a token of another server that claims
// the caseworker's id are refused; axe checks the widget.
func TestBrowserTicketWidget(t *testing.T) {
	const origin = "http://127.0.0.1:8443"
	var annaID id.UserID
	evil := forgedOpenIDServer(t, &annaID)

	svc := ozgtest.NewService("bauantrag", "Bauantrag online", origin)
	const callbackSecret = "Wq3v8Zr1Lk5Tn0Hx7Bc2Mf9Pd4Js6Ga1Ye8Ru3Io5"
	const submission = "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{
		Departments: "  - id: buergerbuero\n    name: Bürgerbüro\n",
		Extra: fmt.Sprintf("ozg:\n  default_department: buergerbuero\n  services:\n    - id: bauantrag\n      name: Bauantrag online\n"+
			"      origins: [%q]\n      context_key:\n        ed25519: %q\n      fit_connect:\n        callback_secret: %q\n",
			origin, svc.Config().ContextKey.Ed25519, callbackSecret) +
			"widgets:\n  openid:\n    allow_networks: [\"127.0.0.0/8\"]\n    insecure_skip_verify_loopback: true\n",
	})
	annaID = g.anna.UserID
	ctx := context.Background()

	// The citizen hands over from the online service.
	citizen := guestclient.New(g.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	handOver := map[string]string{"origin": origin, "context": svc.Sign(ozgtest.Claims{"leika": "99108008000000",
		"step": "Angaben zum Grundstück", "err": "E-FLURSTUECK-404", "trust": "basis", "submission": submission, "jti": "widget-jti-0000001"})}
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Welche Flurstücksnummer?",
		TxnID: "question-0001", HandOver: handOver})
	require.NoError(t, err)
	room := g.claim(t, c.Reference)

	// The online service reports the submission's course: the widget's
	// timeline shows it beside the case's.
	for _, status := range []string{"submitted", "forwarded"} {
		body := fmt.Sprintf(`{"type":"urn:de:rathaus:fit-connect:callbacks:submission-status","submissions":[{"submissionId":%q,"status":%q}]}`,
			submission, status)
		ts, auth := fitconnect.Sign([]byte(callbackSecret), time.Now(), []byte(body))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+"/api/ozg/v1/fit-connect/callbacks/bauantrag", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(fitconnect.HeaderTimestamp, ts)
		req.Header.Set(fitconnect.HeaderAuthentication, auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "the %s callback", status)
	}

	// The widget state, as Element reads it.
	var widget protocol.WidgetContent
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.WidgetEventType, protocol.TicketWidgetID, &widget))
	widgetBase := g.base + "/widgets/ticket/"
	require.True(t, strings.HasPrefix(widget.URL, widgetBase+"?"), widget.URL)
	assert.Contains(t, widget.URL, "roomId=$matrix_room_id")
	assert.Equal(t, "m.custom", widget.Type)
	assert.False(t, widget.WaitForIframeLoad)

	// The tokens: Anna's, the citizen ghost's (the appservice asks for it
	// as the ghost), a non-member's, and the forged server's.
	openID := func(cli *mautrix.Client) map[string]any {
		resp, err := cli.RequestOpenIDToken(ctx)
		require.NoError(t, err)
		return map[string]any{"access_token": resp.AccessToken, "token_type": "Bearer",
			"matrix_server_name": resp.MatrixServerName, "expires_in": 3600}
	}
	members, err := g.anna.JoinedMembers(ctx, room)
	require.NoError(t, err)
	var ghost id.UserID
	for u := range members.Joined {
		if strings.HasPrefix(u.Localpart(), "_rathaus_guest_") {
			ghost = u
		}
	}
	require.NotEmpty(t, ghost, "the citizen's ghost in the room")
	ghostCli, err := mautrix.NewClient(g.hs.URL, ghost, asToken(t, g.cfgPath))
	require.NoError(t, err)
	ghostCli.SetAppServiceUserID = true
	stranger, _, _ := g.hs.RegisterUser(t, "stefan", false)
	tokens := map[string]any{"anna": openID(g.anna), "ghost": openID(ghostCli), "stranger": openID(stranger),
		"evil": map[string]any{"access_token": "forged-token-0001", "token_type": "Bearer",
			"matrix_server_name": strings.TrimPrefix(evil.URL, "https://"), "expires_in": 3600}}

	// The host page, on its own origin, with matrix-widget-api's bundle.
	hostSrv := widgetHost(t)

	caseStatus := func() protocol.CaseStatus {
		var cs protocol.CaseContent
		require.NoError(t, g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &cs))
		return cs.Status
	}
	require.Equal(t, protocol.CaseActive, caseStatus())

	s := browsertest.Start(t, "e2e/ticketwidget.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"host": hostSrv.URL + "/", "widget": widget, "widgetBase": widgetBase,
		"room": room, "userId": g.anna.UserID, "reference": c.Reference, "tokens": tokens})

	s.Expect("awaiting", 2*time.Minute)
	assert.Equal(t, protocol.CaseAwaitingCitizen, caseStatus(), "the widget set Rückfrage")
	s.Continue("awaiting", nil)

	s.Expect("linked", browserStep)
	var ticket protocol.TicketContent
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.TicketEventType, "bauantrag.widget-jti-0000001", &ticket))
	assert.Equal(t, "INC-2026/4711", ticket.ExternalRef)
	s.Continue("linked", nil)

	s.Expect("requested", browserStep)
	tesths.WaitFor(t, 30*time.Second, "the document request in the case room", func() error {
		if g.roomBodies(t, room, "")["Bitte laden Sie hier im Chat eine Kopie Ihres Personalausweises oder Reisepasses hoch "+
			"(Vorder- und Rückseite). / Please upload a copy of your identity card or passport here in the chat (front and back)."] == 0 {
			return fmt.Errorf("not sent yet")
		}
		return nil
	})
	s.Continue("requested", nil)

	s.Expect("resolved", browserStep)
	assert.Equal(t, protocol.CaseResolved, caseStatus(), "the widget resolved the case")
	s.Continue("resolved", nil)

	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-40s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(browserStep)

	// The forged token was refused for the reason that matters: the
	// server it named vouched for a user of another server.
	log := g.proc.log()
	assert.Contains(t, log, "homeserver vouched for a user of another server", "the sub/server binding refused the forged token")
	assert.Contains(t, log, "Widget sign-in refused: rathaus's own user", "the ghost's refusal")
	for _, secret := range []string{"forged-token-0001", tokens["anna"].(map[string]any)["access_token"].(string)} {
		assert.NotContains(t, log, secret, "no token in the log")
	}
}

// serveFile serves one file of the repository.
func serveFile(path, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		data, err := os.ReadFile(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(data)
	}
}

// asToken reads the as_token the CLI generated into rathaus's config.
func asToken(t *testing.T, cfgPath string) string {
	t.Helper()
	data, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*as_token:\s*"?([^"\s]+)"?`).FindSubmatch(data)
	require.NotNil(t, m, "as_token in the config")
	return string(m[1])
}
