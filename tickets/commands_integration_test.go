package tickets_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// testTicket is the hand-over the cases of these tests open with.
func testTicket() *protocol.TicketContent {
	return &protocol.TicketContent{Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag online"},
		Leika: "99108008000000", Step: "Angaben zum Grundstück", ErrorCode: "E-FLURSTUECK-404", Trust: protocol.TrustBasis,
		FITConnect: protocol.FITConnectIDs{Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"}, Status: protocol.TicketOpen, Verified: true}
}

// TestTicketCommands (issue 13, acceptance 7): a caseworker runs every
// ticket action from a plain Matrix client against a real homeserver: the
// summary, linking an external number (a bad one refused), "Rückfrage",
// a document request the citizen's page shows, "erledigt"; a stranger and a
// case without a ticket are refused.
func TestTicketCommands(t *testing.T) {
	apptest.EachHomeserver(t, ticketCommands)
}

func ticketCommands(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	env, users := apptest.StartDepartmentOn(t, kind, []apptest.Member{{Name: "anna", Role: "caseworker"}, {Name: "bernd", Role: "caseworker"}}, "")
	anna, bernd := users["anna"], users["bernd"]
	stranger, strangerID, _ := env.HS.RegisterUser(t, "stefan", false)
	bot := env.Cfg.BotUserID()
	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)

	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Ticket: testTicket()})
	require.NoError(t, err)
	plain, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Frage"})
	require.NoError(t, err)
	command := func(cli *mautrix.Client, room id.RoomID, text string) string {
		t.Helper()
		sent, err := cli.SendText(ctx, room, text)
		require.NoError(t, err)
		return apptest.BotReplyTo(t, cli, room, bot, sent.EventID)
	}
	for _, cs := range []*cases.Case{c, plain} {
		assert.Contains(t, command(anna.Cli, staffRoom.RoomID, "!rathaus claim "+cs.Reference), "ist jetzt Ihr Fall")
		tesths.WaitFor(t, 30*time.Second, "anna to join the case room of "+cs.Reference, func() error {
			_, err := anna.Cli.JoinRoomByID(ctx, cs.RoomID)
			return err
		})
	}
	room := c.RoomID

	sum := command(anna.Cli, room, "!rathaus ticket")
	for _, want := range []string{"Ticket " + c.ID.String() + " · " + c.Reference + " (Bauamt)", "Fallstatus / case status: in Bearbeitung / active",
		"Online-Dienst / online service: Bauantrag online", "Schritt / step: Angaben zum Grundstück",
		"Fehlercode / error code: E-FLURSTUECK-404", "Vertrauensniveau / trust level: basis",
		"FIT-Connect Einreichung / submission: 5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11", "Verlauf / history:",
		"wartet auf Bearbeitung / queued (Bürger:in / citizen)", "in Bearbeitung / active (" + anna.ID.String() + ")"} {
		assert.Contains(t, sum, want)
	}
	assert.NotContains(t, sum, "Externe Ticketnummer")

	// An external number: bounded and printable, stored and in the state.
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket link <b>x</b>"), "höchstens 64 Zeichen")
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket link "+strings.Repeat("9", 65)), "höchstens 64 Zeichen")
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket link INC-2026/4711"), "Ticketnummer INC-2026/4711 verknüpft")
	var ticket protocol.TicketContent
	require.NoError(t, anna.Cli.StateEvent(ctx, room, protocol.TicketEventType, c.ID.String(), &ticket))
	assert.Equal(t, "INC-2026/4711", ticket.ExternalRef)
	assert.Equal(t, "Angaben zum Grundstück", ticket.Step, "the rest of the ticket stays")
	row, err := env.App.Store().Ticket(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "INC-2026/4711", row.ExternalRef)

	caseStatus := func() protocol.CaseStatus {
		var cs protocol.CaseContent
		require.NoError(t, anna.Cli.StateEvent(ctx, room, protocol.CaseEventType, "", &cs))
		return cs.Status
	}
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket status unklar"), "Bekannte Status")
	assert.Equal(t, c.Reference+": wartet auf Antwort der Bürgerin oder des Bürgers / awaiting citizen",
		command(anna.Cli, room, "!rathaus ticket status rueckfrage"))
	assert.Equal(t, protocol.CaseAwaitingCitizen, caseStatus())

	// The document request: a notice the citizen's page shows.
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket nachfordern steuerbescheid"), "Bekannte Vorlagen / known templates: ausweis|vollmacht|nachweis")
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket nachfordern ausweis"), "Anforderung „Ausweis“ an die Bürgerin oder den Bürger gesendet")
	tesths.WaitFor(t, 30*time.Second, "the document request in the citizen's timeline", func() error {
		entries, err := env.App.Cases().Timeline(ctx, c.ID, 0, 100)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Origin == cases.OriginSystem && strings.HasPrefix(e.Body, "Bitte laden Sie hier im Chat eine Kopie Ihres Personalausweises") {
				return nil
			}
		}
		return fmt.Errorf("not in the timeline: %d entries", len(entries))
	})

	assert.Equal(t, c.Reference+": erledigt / resolved", command(anna.Cli, room, "!rathaus ticket status resolved"))
	assert.Equal(t, protocol.CaseResolved, caseStatus())
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket status erledigt"), "kann nicht erledigt werden")
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket nachfordern ausweis"), "Der Fall ist beendet")
	sum = command(anna.Cli, room, "!rathaus ticket")
	assert.Contains(t, sum, "Externe Ticketnummer / external ticket: INC-2026/4711")
	assert.Contains(t, sum, "erledigt / resolved ("+anna.ID.String()+")")

	// Refusals: a stranger and a colleague who has not claimed the case
	// (power level 0) in the room (the bot invites: Anna may not), a case
	// without a ticket, a room that is no case room.
	for _, u := range []struct {
		cli *mautrix.Client
		id  id.UserID
	}{{stranger, strangerID}, {bernd.Cli, bernd.ID}} {
		_, err = env.App.AppService().BotIntent().InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: u.id})
		require.NoError(t, err)
		_, err = u.cli.JoinRoomByID(ctx, room)
		require.NoError(t, err)
	}
	assert.Contains(t, command(stranger, room, "!rathaus ticket status rueckfrage"), "nur für Mitarbeitende")
	assert.Contains(t, command(bernd.Cli, room, "!rathaus ticket"), "Nur wer den Fall bearbeitet")
	assert.Contains(t, command(bernd.Cli, room, "!rathaus ticket link INC-1"), "Nur wer den Fall bearbeitet")
	assert.Equal(t, protocol.CaseResolved, caseStatus())
	assert.Contains(t, command(anna.Cli, plain.RoomID, "!rathaus ticket"), "Dieser Fall hat kein OZG-Ticket")
	assert.Contains(t, command(anna.Cli, staffRoom.RoomID, "!rathaus ticket"), "Das geht nur in einem Fallraum")
	assert.Contains(t, command(anna.Cli, room, "!rathaus ticket frobnicate"), "Verwendung / usage")
}
