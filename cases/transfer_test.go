package cases_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestCaseTransfer: a caseworker hands a case to another department; it
// waits there, linked to the new space; the old team leaves the room and
// the new team is told.
func TestCaseTransfer(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) { caseTransfer(t, kind) })
}

func caseTransfer(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	users := map[string]apptest.StaffUser{}
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{kind}, Configure: func(hss []*tesths.Homeserver) string {
		for _, name := range []string{"anna", "dora"} {
			cli, uid, _ := hss[0].RegisterUser(t, name, false)
			users[name] = apptest.StaffUser{Cli: cli, ID: uid}
		}
		return "departments:\n" +
			fmt.Sprintf("  - id: bauamt\n    name: Bauamt\n    staff:\n      - user: %q\n", users["anna"].ID) +
			fmt.Sprintf("  - id: buergerbuero\n    name: Bürgerbüro\n    staff:\n      - user: %q\n", users["dora"].ID)
	}})
	anna, dora := users["anna"], users["dora"]
	bot := env.Cfg.BotUserID()
	botCli := env.App.AppService().BotClient()
	resolve := func(local string) id.RoomID {
		resp, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias(local, env.Cfg.Homeserver.ServerName))
		require.NoError(t, err)
		return resp.RoomID
	}
	bauStaff, bbStaff := resolve("_rathaus_bauamt"), resolve("_rathaus_buergerbuero")
	bauSpace, bbSpace := resolve("_rathaus_bauamt_space"), resolve("_rathaus_buergerbuero_space")
	_, err := anna.Cli.JoinRoomByID(ctx, bauStaff)
	require.NoError(t, err)
	_, err = dora.Cli.JoinRoomByID(ctx, bbStaff)
	require.NoError(t, err)

	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Bauantrag"})
	require.NoError(t, err)
	say := func(u apptest.StaffUser, room id.RoomID, body string) string {
		sent, err := u.Cli.SendText(ctx, room, body)
		require.NoError(t, err)
		return apptest.BotReplyTo(t, u.Cli, room, bot, sent.EventID)
	}
	// The citizen asked three hours ago.
	require.NoError(t, env.App.Cases().SendCitizenMessage(ctx, c, "question-0001", "Frage zum Carport"))
	tesths.WaitFor(t, 30*time.Second, "the question in the timeline", func() error {
		entries, err := env.App.Cases().Timeline(ctx, c.ID, 0, 10)
		if err != nil || len(entries) == 0 {
			return fmt.Errorf("timeline %v: %w", entries, err)
		}
		return nil
	})
	_, err = env.App.Store().DB.Exec(ctx, `UPDATE citizen_case SET created_at = $2 WHERE id = $1`,
		c.ID, time.Now().Add(-3*time.Hour-time.Minute).UnixMilli())
	require.NoError(t, err)
	require.Contains(t, say(anna, bauStaff, "!rathaus claim "+c.Reference), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c.RoomID)
		return err
	})
	assert.Contains(t, say(anna, c.RoomID, "!rathaus transfer standesamt"), "keine Abteilung")
	assert.Contains(t, say(anna, c.RoomID, "!rathaus transfer bauamt"), "schon in dieser Abteilung")
	// The transfer removes anna from the room before the answer comes;
	// read it as the bot.
	sent, err := anna.Cli.SendText(ctx, c.RoomID, "!rathaus transfer buergerbuero")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, botCli, c.RoomID, bot, sent.EventID), "an Bürgerbüro abgegeben")

	got, err := env.App.Store().GetCase(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, protocol.DepartmentID("buergerbuero"), got.Department)
	assert.Equal(t, protocol.CaseQueued, got.Status)
	var caseState protocol.CaseContent
	require.NoError(t, botCli.StateEvent(ctx, c.RoomID, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.DepartmentID("buergerbuero"), caseState.Department)
	assert.Equal(t, protocol.CaseQueued, caseState.Status)
	assert.Empty(t, caseState.Assignees)
	var gone event.MemberEventContent
	require.NoError(t, botCli.StateEvent(ctx, c.RoomID, event.StateMember, anna.ID.String(), &gone))
	assert.Equal(t, event.MembershipLeave, gone.Membership, "the old team leaves the room")
	assert.Contains(t, gone.Reason, "abgegeben")
	var link map[string]any
	require.NoError(t, botCli.StateEvent(ctx, bauSpace, event.StateSpaceChild, c.RoomID.String(), &link))
	assert.Empty(t, link, "unlinked from the old space")
	require.NoError(t, botCli.StateEvent(ctx, bbSpace, event.StateSpaceChild, c.RoomID.String(), &link))
	assert.NotEmpty(t, link["via"], "linked into the new space")
	require.NoError(t, findMessage(ctx, botCli, c.RoomID, bot, "weitergegeben"))

	// The new team is told how long the citizen has waited, and what
	// they asked, read from the case's timeline.
	ann := waitAnnouncement(t, dora.Cli, bbStaff, bot, c.Reference).Content.AsMessage().Body
	assert.Contains(t, ann, "Neuer Fall "+c.Reference+" (abgegeben von Bauamt)")
	assert.Contains(t, ann, "Gefragt: vor 3 Stunden (")
	assert.Contains(t, ann, "\n> Frage zum Carport\n")
	assert.Contains(t, say(dora, bbStaff, "!rathaus claim "+c.Reference), "ist jetzt Ihr Fall")
	assert.Contains(t, env.Log(), `"from_department":"bauamt","to_department":"buergerbuero","message":"Transferred case"`)
}
