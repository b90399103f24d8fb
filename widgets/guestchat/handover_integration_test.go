package guestchat_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
)

// handOverOrigin is the online service's origin in these tests.
const handOverOrigin = "http://127.0.0.1:8443"

// startHandOver is startGuestChat with a second department (the default
// for hand-overs) and one online service.
func startHandOver(t *testing.T, kind tesths.Kind) (*guestEnv, *ozgtest.Service) {
	t.Helper()
	svc := ozgtest.NewService("bauantrag", "Bauantrag online", handOverOrigin)
	ge := startGuestChatWith(t, kind, func(cfg *config.Config) {
		cfg.Departments = append(cfg.Departments, config.DepartmentConfig{ID: "buergerbuero", Name: "Bürgerbüro",
			ReferencePrefix: "BUE", TimeZone: config.DefaultTimeZone, Services: []string{"99102001000000", testService},
			// It serves the Bauamt's service for one other municipality.
			Municipalities: []string{"09162"}})
		cfg.OZG = config.OZGConfig{DefaultDepartment: "buergerbuero", Services: []config.OZGServiceConfig{svc.Config()}}
	})
	return ge, svc
}

// TestHandOver: an online service's signed context opens the case in the
// department of its LeiKa key with the ticket as state and the summary
// as the room's first notice, both readable by staff through the client
// API; an unknown LeiKa key goes to the default department with a note;
// a bad context is refused and opens nothing.
func TestHandOver(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) { handOver(t, kind) })
}

func handOver(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ge, svc := startHandOver(t, kind)
	ctx := context.Background()

	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	token := svc.Sign(ozgtest.Claims{"leika": testService, "ars": "081110000000", "step": "Angaben zum Grundstück",
		"err": "E-FLURSTUECK-404", "lang": "en", "trust": "substanziell",
		"submission": "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11", "jti": "integration-jti-0001"})
	handOver := map[string]string{"context": token, "origin": handOverOrigin}

	// What the page shows.
	resp, err := citizen.Post(ctx, "handover", handOver)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	assert.JSONEq(t, `{"service":{"id":"bauantrag","name":"Bauantrag online"},"step":"Angaben zum Grundstück","lang":"en",
		"department":{"id":"bauamt","name":"Bauamt"}}`, string(resp.Body))

	// The page shows the department of the ticket, whatever it says.
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "buergerbuero", Question: "Welche Flurstücksnummer?",
		TxnID: "question-0001", HandOver: handOver})
	require.NoError(t, err)
	assert.Equal(t, "bauamt", c.Department.ID)
	stored, err := ge.App.Cases().Case(ctx, protocol.CaseID(c.ID))
	require.NoError(t, err)
	assert.Equal(t, protocol.TicketID("bauantrag.integration-jti-0001"), stored.TicketRef)

	// Staff read the ticket and the summary through the client API.
	ge.claim(t, c.Reference, stored.RoomID)
	var ticket protocol.TicketContent
	require.NoError(t, ge.anna.Cli.StateEvent(ctx, stored.RoomID, protocol.TicketEventType, "bauantrag.integration-jti-0001", &ticket))
	assert.Equal(t, protocol.TicketContent{ID: "bauantrag.integration-jti-0001",
		Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag online", Version: "1.0"},
		Leika:   testService, ARS: "081110000000", Step: "Angaben zum Grundstück", ErrorCode: "E-FLURSTUECK-404",
		Trust: protocol.TrustSubstanziell, Lang: "en",
		FITConnect: protocol.FITConnectIDs{Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"},
		Status:     protocol.TicketOpen, Verified: true, IssuedAt: ticket.IssuedAt}, ticket)
	var caseState protocol.CaseContent
	require.NoError(t, ge.anna.Cli.StateEvent(ctx, stored.RoomID, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, "bauantrag.integration-jti-0001", caseState.TicketRef, "after the claim too")

	bot := roomMessages(t, ge.anna.Cli, stored.RoomID, ge.Cfg.BotUserID())
	require.NotEmpty(t, bot)
	summary := bot[0].Content.AsMessage()
	assert.Equal(t, event.MsgNotice, summary.MsgType)
	assert.Contains(t, summary.Body, "Übergabe aus dem Online-Dienst „Bauantrag online“")
	assert.Contains(t, summary.Body, "Schritt / step: Angaben zum Grundstück")
	assert.Contains(t, summary.Body, "Fehlercode / error code: E-FLURSTUECK-404")
	assert.Contains(t, summary.Body, "Vertrauensniveau / trust level: substanziell")
	assert.Contains(t, summary.FormattedBody, "<li>Schritt / step: Angaben zum Grundstück</li>")
	assert.NotContains(t, summary.Body, "Hinweis", "the department lists the LeiKa key")
	// It comes before the citizen's question, and the citizen's page
	// does not show it.
	question := roomMessages(t, ge.anna.Cli, stored.RoomID, stored.Ghost)
	require.NotEmpty(t, question)
	assert.LessOrEqual(t, bot[0].Timestamp, question[0].Timestamp, "the summary is the case's first notice")
	stream, err := citizen.Stream(ctx, c.ID, 0)
	require.NoError(t, err)
	defer stream.Close()
	first, err := stream.Next(30*time.Second, func(e guestclient.Event) bool { return e.Name == "message" })
	require.NoError(t, err)
	assert.Equal(t, "citizen", first.Data["from"], "the summary is for staff only")

	// An unknown LeiKa key: the default department, with a note.
	other := guestclient.New(ge.base)
	_, err = other.StartSession(ctx)
	require.NoError(t, err)
	c2, err := other.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage", TxnID: "question-0002",
		HandOver: map[string]string{"context": svc.Sign(ozgtest.Claims{"leika": "99999999999999"}), "origin": handOverOrigin}})
	require.NoError(t, err)
	assert.Equal(t, "buergerbuero", c2.Department.ID)
	stored2, err := ge.App.Cases().Case(ctx, protocol.CaseID(c2.ID))
	require.NoError(t, err)
	botCli := ge.App.AppService().BotClient()
	notes := roomMessages(t, botCli, stored2.RoomID, ge.Cfg.BotUserID())
	require.NotEmpty(t, notes)
	assert.Contains(t, notes[0].Content.AsMessage().Body, "Hinweis: Keine Abteilung ist für die Leistung 99999999999999 eingetragen")

	// A municipality the Bürgerbüro serves the key for: there, no note.
	munich := guestclient.New(ge.base)
	_, err = munich.StartSession(ctx)
	require.NoError(t, err)
	cm, err := munich.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage", TxnID: "question-0009",
		HandOver: map[string]string{"context": svc.Sign(ozgtest.Claims{"leika": testService, "ars": "091620000000"}), "origin": handOverOrigin}})
	require.NoError(t, err)
	assert.Equal(t, "buergerbuero", cm.Department.ID, "routed by the ARS")
	storedM, err := ge.App.Cases().Case(ctx, protocol.CaseID(cm.ID))
	require.NoError(t, err)
	notes = roomMessages(t, botCli, storedM.RoomID, ge.Cfg.BotUserID())
	require.NotEmpty(t, notes)
	assert.NotContains(t, notes[0].Content.AsMessage().Body, "Hinweis", "the Bürgerbüro lists the key")

	// The same context in another browser: replayed, nothing opened.
	thief := guestclient.New(ge.base)
	_, err = thief.StartSession(ctx)
	require.NoError(t, err)
	resp, err = thief.Post(ctx, "handover", handOver)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, resp.Status)
	assert.Equal(t, "context_replayed", resp.Code())
	token2, nonce, err := thief.Solve(ctx)
	require.NoError(t, err)
	resp, err = thief.OpenCaseWith(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage", TxnID: "question-0003",
		HandOver: handOver}, token2, nonce)
	require.NoError(t, err)
	assert.Equal(t, "context_replayed", resp.Code())

	// A context signed by someone else, and one of an unknown service.
	forger := ozgtest.NewService("bauantrag", "Bauantrag online", handOverOrigin)
	resp, err = thief.Post(ctx, "handover", map[string]string{"context": forger.Sign(ozgtest.Claims{"leika": testService})})
	require.NoError(t, err)
	assert.Equal(t, "context_invalid", resp.Code())
	unknown := ozgtest.NewService("unbekannt", "Unbekannt", handOverOrigin)
	resp, err = thief.Post(ctx, "handover", map[string]string{"context": unknown.Sign(ozgtest.Claims{"leika": testService})})
	require.NoError(t, err)
	assert.Equal(t, "context_unknown_service", resp.Code())
	session, err := thief.Resume(ctx)
	require.NoError(t, err)
	assert.Nil(t, session, "no case for the refused contexts")
	n, err := ge.App.Store().CountContextJTIs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "only the three valid contexts are recorded")

	// /hilfe without a context: an unverified ticket in the default
	// department's entry.
	plain := guestclient.New(ge.base)
	_, err = plain.StartSession(ctx)
	require.NoError(t, err)
	c3, err := plain.OpenCase(ctx, guestclient.OpenRequest{Department: "buergerbuero", Question: "Frage", TxnID: "question-0004",
		HandOver: map[string]string{"context": ""}})
	require.NoError(t, err)
	stored3, err := ge.App.Cases().Case(ctx, protocol.CaseID(c3.ID))
	require.NoError(t, err)
	var unverified protocol.TicketContent
	require.NoError(t, botCli.StateEvent(ctx, stored3.RoomID, protocol.TicketEventType, string(stored3.TicketRef), &unverified))
	assert.False(t, unverified.Verified)
	assert.Equal(t, protocol.TicketID(c3.ID), unverified.ID)
	notes = roomMessages(t, botCli, stored3.RoomID, ge.Cfg.BotUserID())
	require.NotEmpty(t, notes)
	assert.Contains(t, notes[0].Content.AsMessage().Body, "ohne gültige Übergabe")

	// The page itself is the chat page in hand-over mode.
	resp, err = plain.Get(ctx, "/hilfe")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.Contains(t, string(resp.Body), `data-handover="1"`)
}
