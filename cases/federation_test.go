package cases_test

import (
	"context"
	"fmt"
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

// TestCaseWorkedOverFederation: a caseworker whose account is on a
// neighbouring authority's homeserver, of the other kind, works a case:
// joins the staff room, claims the case, is invited into the case room
// over federation, reads the citizen and answers, and the answer reaches
// the citizen's timeline. Both ways: rathaus on Synapse with the
// caseworker on Dendrite, and the other way round.
func TestCaseWorkedOverFederation(t *testing.T) {
	for _, pair := range [][2]tesths.Kind{{tesths.Synapse, tesths.Dendrite}, {tesths.Dendrite, tesths.Synapse}} {
		t.Run(string(pair[0])+"-"+string(pair[1]), func(t *testing.T) { caseWorkedOverFederation(t, pair) })
	}
}

func caseWorkedOverFederation(t *testing.T, pair [2]tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	var carol apptest.StaffUser
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: pair[:], Configure: func(hss []*tesths.Homeserver) string {
		cli, uid, _ := hss[1].RegisterUser(t, "carol", false)
		carol = apptest.StaffUser{Cli: cli, ID: uid}
		return "departments:\n  - id: bauamt\n    name: Bauamt\n    staff:\n" +
			fmt.Sprintf("      - user: %q\n        role: caseworker\n", uid)
	}})
	server := env.Cfg.Homeserver.ServerName
	bot := env.Cfg.BotUserID()
	joinOverFederation := func(room id.RoomID) {
		tesths.WaitFor(t, 60*time.Second, "carol to join "+room.String()+" over federation", func() error {
			_, err := carol.Cli.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{server}})
			return err
		})
	}
	staffRoom, err := env.App.AppService().BotClient().ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", server))
	require.NoError(t, err)
	joinOverFederation(staffRoom.RoomID)

	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", DisplayName: "Maria"})
	require.NoError(t, err)
	require.NoError(t, env.App.Cases().SendCitizenMessage(ctx, c, "question-0001", "Brauche ich für einen Carport eine Genehmigung?"))

	sent, err := carol.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus claim "+c.Reference)
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, carol.Cli, staffRoom.RoomID, bot, sent.EventID), "ist jetzt Ihr Fall")
	joinOverFederation(c.RoomID)
	tesths.WaitFor(t, 60*time.Second, "carol to read the citizen's question", func() error {
		return findMessage(ctx, carol.Cli, c.RoomID, c.Ghost, "Brauche ich für einen Carport")
	})
	_, err = carol.Cli.SendText(ctx, c.RoomID, "Bis 30 m² nicht, bitte beachten Sie die Abstandsflächen.")
	require.NoError(t, err)
	tesths.WaitFor(t, 60*time.Second, "the answer in the citizen's timeline", func() error {
		entries, err := env.App.Cases().Timeline(ctx, c.ID, 0, 100)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Origin == cases.OriginStaff && e.Body == "Bis 30 m² nicht, bitte beachten Sie die Abstandsflächen." {
				return nil
			}
		}
		return fmt.Errorf("%d entries, no answer yet", len(entries))
	})
	got, err := env.App.Cases().Case(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, protocol.CaseActive, got.Status)
}
