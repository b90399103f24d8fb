package cases_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestStaffAnnouncement: the staff room learns what a new case is about —
// the first lines of the citizen's question, quoted as the citizen's and
// escaped, that the citizen asked just now, and the exact command to
// claim it; a reply to the announcement claims the case, also from a
// client that still sends the old reply fallback. The question is never
// logged.
func TestStaffAnnouncement(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) { staffAnnouncement(t, kind) })
}

func staffAnnouncement(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	env, users := apptest.StartDepartmentOn(t, kind, []apptest.Member{{Name: "anna", Role: "caseworker"}}, "")
	anna := users["anna"]
	bot := env.Cfg.BotUserID()
	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)

	question := "Guten Tag,\n\nich möchte einen Carport <b>bauen</b>.\u202e\nBrauche ich eine Baugenehmigung?\nVierte Zeile mit dem Geheimnis."
	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", DisplayName: "Maria", Question: question})
	require.NoError(t, err)

	ann := waitAnnouncement(t, anna.Cli, staffRoom.RoomID, bot, c.Reference)
	msg := ann.Content.AsMessage()
	lines := strings.Split(msg.Body, "\n")
	assert.Equal(t, []string{
		"Neuer Fall " + c.Reference + " (allgemeine Anfrage) / new case",
		"Gefragt: gerade eben / asked just now",
		"Die Bürgerin oder der Bürger schreibt / the citizen writes:",
		"> Guten Tag,",
		"> ich möchte einen Carport <b>bauen</b>.",
		"> Brauche ich eine Baugenehmigung? …",
	}, lines[:len(lines)-1])
	assert.Contains(t, lines[len(lines)-1], "Übernehmen: !rathaus übernehmen "+c.Reference)
	assert.Contains(t, lines[len(lines)-1], "auf diese Nachricht antworten")
	assert.NotContains(t, msg.Body, "Geheimnis", "three lines at most")
	assert.NotContains(t, msg.Body, "\u202e", "no bidi overrides")
	assert.Equal(t, event.FormatHTML, msg.Format)
	assert.Contains(t, msg.FormattedBody, "<blockquote><p>Guten Tag,<br>ich möchte einen Carport &lt;b&gt;bauen&lt;/b&gt;.<br>")
	assert.Contains(t, msg.FormattedBody, "<code>!rathaus übernehmen "+c.Reference+"</code>")
	require.NotNil(t, msg.Mentions, "the citizen's words mention nobody")
	assert.Empty(t, msg.Mentions.UserIDs)

	// Claimed by a reply, as a client with the old reply fallback sends it.
	reply := &event.MessageEventContent{MsgType: event.MsgText,
		Body:      fmt.Sprintf("> <%s> Neuer Fall %s (allgemeine Anfrage) / new case\n\n!rathaus übernehmen", bot, c.Reference),
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: ann.ID}}}
	sent, err := anna.Cli.SendMessageEvent(ctx, staffRoom.RoomID, event.EventMessage, reply)
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, anna.Cli, staffRoom.RoomID, bot, sent.EventID), c.Reference+" ist jetzt Ihr Fall")
	got, err := env.App.Store().GetCase(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, protocol.CaseActive, got.Status)

	// A claim that names no case and answers nothing says how to claim.
	sent, err = anna.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus übernehmen")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, anna.Cli, staffRoom.RoomID, bot, sent.EventID), "Aufruf: !rathaus übernehmen <Aktenzeichen>")

	for _, secret := range []string{"Carport", "Baugenehmigung", "Geheimnis"} {
		assert.NotContains(t, env.Log(), secret, "the question is never logged")
	}
}

// waitAnnouncement waits for the bot's announcement of a case in a staff
// room and returns it.
func waitAnnouncement(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, ref string) *event.Event {
	t.Helper()
	var found *event.Event
	tesths.WaitFor(t, 30*time.Second, "the announcement of "+ref, func() error {
		resp, err := cli.Messages(context.Background(), room, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			return err
		}
		for _, evt := range resp.Chunk {
			if evt.Sender != bot || evt.Type != event.EventMessage {
				continue
			}
			if announced, _ := evt.Content.Raw[protocol.AnnouncedCaseKey].(string); announced == ref {
				_ = evt.Content.ParseRaw(evt.Type)
				found = evt
				return nil
			}
		}
		return fmt.Errorf("no announcement of %s", ref)
	})
	return found
}
