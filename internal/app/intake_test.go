package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/ozg"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
)

// The API keys of the two online services in TestIntakeAPI.
const (
	intakeBauKey  = "rh_aW50YWtlLXRlc3QtYmF1YW50cmFnLWtleS0wMDAwMDA"
	intakeParkKey = "rh_aW50YWtlLXRlc3QtcGFya2F1c3dlaXMta2V5LTAwMDA"
	intakeOrigin  = "http://127.0.0.1:8443"
	intakeLeika   = "99108008000000"
)

// TestIntakeAPI (issue 13, acceptance 3): an online service's backend
// asks rathaus for a help link over the public listener. A missing or
// wrong key is 401, another service's key 403, a malformed body 400 with
// the field named; the same Idempotency-Key twice gives the same link,
// and opening it in the guest chat opens exactly one case, with the
// ticket, in the department of the LeiKa key; another browser is refused
// the used link.
func TestIntakeAPI(t *testing.T) {
	ctx := context.Background()
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{tesths.Dendrite}, Configure: func(hss []*tesths.Homeserver) string {
		_, uid, _ := hss[0].RegisterUser(t, "anna", false)
		return "departments:\n" +
			"  - id: bauamt\n    name: Bauamt\n    services: [\"" + intakeLeika + "\"]\n    staff:\n" +
			fmt.Sprintf("      - user: %q\n        role: caseworker\n", uid) +
			"  - id: buergerbuero\n    name: Bürgerbüro\n"
	}, Tweak: func(cfg *config.Config, opts *app.Options) {
		cfg.GuestChat.Enabled, cfg.GuestChat.Listen, cfg.GuestChat.PublicURL = true, l.Addr().String(), base
		cfg.GuestChat.PowDifficulty = 8
		cfg.Authority.PrivacyURL = "https://bad-beispielheim.de/datenschutz"
		bau := ozgtest.NewService("bauantrag", "Bauantrag online", intakeOrigin).Config()
		bau.APIKeys = []config.OZGAPIKeyConfig{{ID: "2026-11", SHA256: config.HashAPIKey(intakeBauKey)}}
		park := ozgtest.NewService("parkausweis", "Parkausweis", intakeOrigin).Config()
		park.APIKeys = []config.OZGAPIKeyConfig{{ID: "2026-11", SHA256: config.HashAPIKey(intakeParkKey)}}
		cfg.OZG = config.OZGConfig{DefaultDepartment: "buergerbuero", Services: []config.OZGServiceConfig{bau, park}}
		require.NoError(t, cfg.Validate())
		opts.GuestListener = l
	}})

	backend := guestclient.New(base)
	post := func(key, idem, body string) *guestclient.Response {
		t.Helper()
		header := map[string]string{"Authorization": "Bearer " + key, ozg.IdempotencyKeyHeader: idem}
		resp, err := backend.Do(ctx, http.MethodPost, ozg.HelpRequestsPath, "application/json", []byte(body), header)
		require.NoError(t, err)
		return resp
	}
	body := `{"service":"bauantrag","service_version":"2.4.1","leika":"` + intakeLeika + `","step":"Angaben zum Grundstück",` +
		`"err":"E-FLURSTUECK-404","trust":"substanziell"}`

	// Refusals.
	resp := post("", "order-1", body)
	assert.Equal(t, http.StatusUnauthorized, resp.Status)
	assert.Equal(t, "unauthorized", resp.Code())
	resp = post(intakeBauKey+"x", "order-1", body)
	assert.Equal(t, http.StatusUnauthorized, resp.Status)
	resp = post(intakeParkKey, "order-1", body)
	assert.Equal(t, http.StatusForbidden, resp.Status)
	assert.Equal(t, "forbidden", resp.Code())
	resp = post(intakeBauKey, "order-1", strings.Replace(body, intakeLeika, "9910800800000X", 1))
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	var fieldErr ozg.FieldErrorAnswer
	require.NoError(t, resp.JSON(&fieldErr))
	assert.Equal(t, ozg.FieldErrorAnswer{ErrCode: "invalid_field", Error: "leika has the wrong form or length", Field: "leika"}, fieldErr)
	resp = post(intakeBauKey, "", body)
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	require.NoError(t, resp.JSON(&fieldErr))
	assert.Equal(t, ozg.IdempotencyKeyHeader, fieldErr.Field)

	// The same Idempotency-Key twice: one request, one link.
	resp = post(intakeBauKey, "order-1", body)
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var first, again ozg.HelpRequestAnswer
	require.NoError(t, resp.JSON(&first))
	resp = post(intakeBauKey, "order-1", body)
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	assert.Equal(t, "true", resp.Header.Get(ozg.ReplayedHeader))
	require.NoError(t, resp.JSON(&again))
	assert.Equal(t, first, again)
	n, err := env.App.Store().CountHelpRequests(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// The citizen opens the link: the page posts the fragment's context.
	link, token, ok := strings.Cut(first.URL, "#ctx=")
	require.True(t, ok, first.URL)
	assert.Equal(t, base+"/hilfe", link)
	handOver := map[string]string{"context": token, "origin": intakeOrigin}
	citizen := guestclient.New(base)
	_, err = citizen.StartSession(ctx)
	require.NoError(t, err)
	resp, err = citizen.Post(ctx, "handover", handOver)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	assert.JSONEq(t, `{"service":{"id":"bauantrag","name":"Bauantrag online"},"step":"Angaben zum Grundstück","lang":"de",
		"department":{"id":"bauamt","name":"Bauamt"}}`, string(resp.Body))
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "buergerbuero", Question: "Welche Flurstücksnummer?",
		TxnID: "question-0001", HandOver: handOver})
	require.NoError(t, err)
	assert.Equal(t, "bauamt", c.Department.ID, "the LeiKa key routes the case")
	stored, err := env.App.Cases().Case(ctx, protocol.CaseID(c.ID))
	require.NoError(t, err)
	ticketID := "bauantrag." + first.RequestID
	assert.Equal(t, protocol.TicketID(ticketID), stored.TicketRef)
	var ticket protocol.TicketContent
	require.NoError(t, env.App.AppService().BotClient().StateEvent(ctx, stored.RoomID, protocol.TicketEventType, ticketID, &ticket))
	assert.Equal(t, protocol.TicketContent{ID: protocol.TicketID(ticketID),
		Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag online", Version: "2.4.1"},
		Leika:   intakeLeika, Step: "Angaben zum Grundstück", ErrorCode: "E-FLURSTUECK-404", Trust: protocol.TrustSubstanziell,
		Lang: "de", Status: protocol.TicketOpen, Verified: true, IssuedAt: ticket.IssuedAt}, ticket)

	// The replayed answer's link in another browser: used, nothing opened.
	_, token2, _ := strings.Cut(again.URL, "#ctx=")
	thief := guestclient.New(base)
	_, err = thief.StartSession(ctx)
	require.NoError(t, err)
	resp, err = thief.Post(ctx, "handover", map[string]string{"context": token2, "origin": intakeOrigin})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, resp.Status)
	assert.Equal(t, "context_replayed", resp.Code())
	powToken, nonce, err := thief.Solve(ctx)
	require.NoError(t, err)
	resp, err = thief.OpenCaseWith(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage", TxnID: "question-0002",
		HandOver: map[string]string{"context": token2, "origin": intakeOrigin}}, powToken, nonce)
	require.NoError(t, err)
	assert.Equal(t, "context_replayed", resp.Code())
	// The citizen's own retry of the case (a reload) is the same case.
	again2, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Welche Flurstücksnummer?",
		TxnID: "question-0001", HandOver: handOver})
	require.NoError(t, err)
	assert.Equal(t, c.ID, again2.ID)

	var cases int
	require.NoError(t, env.App.Store().DB.QueryRow(ctx, `SELECT COUNT(*) FROM citizen_case`).Scan(&cases))
	assert.Equal(t, 1, cases, "one Idempotency-Key, one case")

	// The OpenAPI document is served on the same listener, and the API's
	// other paths answer in JSON, not with the chat's page.
	resp, err = backend.Get(ctx, ozg.OpenAPIPath)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.JSONEq(t, string(ozg.OpenAPI), string(resp.Body))
	resp, err = backend.Get(ctx, ozg.HelpRequestsPath)
	require.NoError(t, err)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.Status)
	assert.Equal(t, "method_not_allowed", resp.Code())

	// The log has the ids, not the key, the body or the link's context.
	logs := env.Log()
	assert.Contains(t, logs, `"request_id":"`+first.RequestID+`"`)
	for _, secret := range []string{intakeBauKey, intakeParkKey, token, "E-FLURSTUECK-404"} {
		assert.NotContains(t, logs, secret)
	}
}
