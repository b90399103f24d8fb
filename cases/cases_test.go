package cases_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestCaseOpenAndClaim: a case gets a ghost, a private room in the
// department's space and an announcement; staff claim it, one at a time,
// within their case limit.
func TestCaseOpenAndClaim(t *testing.T) {
	apptest.EachVariant(t, func(t *testing.T, v apptest.Variant) { caseOpenAndClaim(t, v) })
}

func caseOpenAndClaim(t *testing.T, v apptest.Variant) {
	t.Helper()
	ctx := context.Background()
	env, users := apptest.StartDepartmentIn(t, v.Options(), []apptest.Member{
		{Name: "anna", Role: "caseworker", Extra: "max_cases: 1"}, {Name: "bernd", Role: "caseworker"}}, "")
	anna, bernd := users["anna"], users["bernd"]
	bot := env.Cfg.BotUserID()
	botCli := env.App.AppService().BotClient()
	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	space, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt_space", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	for _, u := range []apptest.StaffUser{anna, bernd} {
		_, err = u.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
		require.NoError(t, err)
	}

	first, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", DisplayName: "  Maria  ", Topic: "Bauantrag"})
	require.NoError(t, err)
	assert.Regexp(t, `^BAU-\d{4}-00001$`, first.Reference)
	assert.True(t, strings.HasPrefix(first.Ghost.String(), "@_rathaus_guest_"), first.Ghost)
	require.NotEmpty(t, first.RoomID)

	// The room: private, history for members, no guests, in the space.
	var name event.MemberEventContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, event.StateMember, first.Ghost.String(), &name))
	assert.Equal(t, event.MembershipJoin, name.Membership)
	assert.Equal(t, "Maria (Gast)", name.Displayname)
	var hv event.HistoryVisibilityEventContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, event.StateHistoryVisibility, "", &hv))
	assert.Equal(t, event.HistoryVisibilityShared, hv.HistoryVisibility)
	var ga event.GuestAccessEventContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, event.StateGuestAccess, "", &ga))
	assert.Equal(t, event.GuestAccessForbidden, ga.GuestAccess)
	var jr event.JoinRulesEventContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, event.StateJoinRules, "", &jr))
	assert.Equal(t, event.JoinRuleInvite, jr.JoinRule)
	var caseState protocol.CaseContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.CaseQueued, caseState.Status)
	assert.Equal(t, first.Reference, caseState.Reference)
	var child event.SpaceChildEventContent
	require.NoError(t, botCli.StateEvent(ctx, space.RoomID, event.StateSpaceChild, first.RoomID.String(), &child))
	assert.NotEmpty(t, child.Via)

	// The announcement in the staff room.
	tesths.WaitFor(t, 30*time.Second, "the announcement", func() error {
		return findMessage(ctx, anna.Cli, staffRoom.RoomID, bot, first.Reference+" (Bauantrag)")
	})

	claim := func(u apptest.StaffUser, ref string) string {
		sent, err := u.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus claim "+strings.ToLower(ref))
		require.NoError(t, err)
		return apptest.BotReplyTo(t, u.Cli, staffRoom.RoomID, bot, sent.EventID)
	}
	assert.Contains(t, claim(anna, first.Reference), "ist jetzt Ihr Fall")
	assert.Contains(t, claim(bernd, first.Reference), "cannot be claimed", "the second claim loses")

	// Anna is invited, the case is active with her as assignee, the
	// citizen is told that a person is there (team name only).
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, first.RoomID)
		return err
	})
	require.NoError(t, anna.Cli.StateEvent(ctx, first.RoomID, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.CaseActive, caseState.Status)
	assert.Equal(t, []id.UserID{anna.ID}, caseState.Assignees)
	tesths.WaitFor(t, 30*time.Second, "the citizen to be told a person is there", func() error {
		return findMessage(ctx, anna.Cli, first.RoomID, bot, "Jemand aus dem Team „Bauamt“ ist jetzt für Sie da")
	})
	got, err := env.App.Store().GetCase(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, protocol.CaseActive, got.Status)
	// The case room's power levels: the caseworker talks; the bot, its
	// creator, is listed at 101 up to room version 11 and left out from 12.
	wantLevels := map[id.UserID]int{anna.ID: 50, bot: 101}
	if v.RoomVersion == "12" {
		delete(wantLevels, bot)
	}
	tesths.WaitFor(t, 30*time.Second, "the caseworker's power level in the case room", func() error {
		var pl event.PowerLevelsEventContent
		if err := botCli.StateEvent(ctx, first.RoomID, event.StatePowerLevels, "", &pl); err != nil {
			return err
		} else if !maps.Equal(pl.Users, wantLevels) {
			return fmt.Errorf("users are %v", pl.Users)
		}
		return nil
	})
	// Anna may publish her MatrixRTC call membership: a call from Element.
	var levels event.PowerLevelsEventContent
	require.NoError(t, botCli.StateEvent(ctx, first.RoomID, event.StatePowerLevels, "", &levels))
	callMember := event.Type{Type: departments.CallMemberEventType, Class: event.StateEventType}
	assert.Equal(t, 0, levels.GetEventLevel(callMember), "call.member needs power level 0")
	_, err = anna.Cli.SendStateEvent(ctx, first.RoomID, callMember, "_"+anna.ID.String()+"_ANNADEV", map[string]any{})
	assert.NoError(t, err, "a caseworker publishes her call membership")

	// Anna's limit is one open case; Bernd takes the next one.
	second, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt"})
	require.NoError(t, err)
	assert.Regexp(t, `^BAU-\d{4}-00002$`, second.Reference)
	require.NoError(t, botCli.StateEvent(ctx, second.RoomID, event.StateMember, second.Ghost.String(), &name))
	assert.Equal(t, "Bürger:in", name.Displayname)
	assert.Contains(t, claim(anna, second.Reference), "höchstens 1")
	assert.Contains(t, claim(bernd, second.Reference), "ist jetzt Ihr Fall")
	assert.Contains(t, claim(bernd, "BAU-1999-00001"), "keinen Fall")

	_, err = env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "nope"})
	assert.ErrorIs(t, err, departments.ErrUnknownDepartment)

	// In the case room: close, refuse to close twice, reopen.
	inCase := func(u apptest.StaffUser, body string) string {
		sent, err := u.Cli.SendText(ctx, first.RoomID, body)
		require.NoError(t, err)
		return apptest.BotReplyTo(t, u.Cli, first.RoomID, bot, sent.EventID)
	}
	assert.Contains(t, inCase(anna, "!rathaus close"), "geschlossen / closed")
	require.NoError(t, anna.Cli.StateEvent(ctx, first.RoomID, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.CaseClosed, caseState.Status)
	assert.Contains(t, inCase(anna, "!rathaus close"), "cannot be closed")
	tesths.WaitFor(t, 30*time.Second, "the closing notice", func() error {
		return findMessage(ctx, anna.Cli, first.RoomID, bot, "Dieser Fall ist jetzt geschlossen")
	})
	assert.Contains(t, inCase(anna, "!rathaus reopen"), "in Bearbeitung / active")
	history, err := env.App.Store().CaseHistory(ctx, first.ID)
	require.NoError(t, err)
	var actions []string
	for _, h := range history {
		actions = append(actions, h.Action)
	}
	assert.Equal(t, []string{"open", "claim", "close", "reopen"}, actions, "every transition is a row")
	for _, action := range []string{"claim", "close", "reopen"} {
		assert.Contains(t, env.Log(), `"action":"`+action+`"`, "every transition is logged")
	}
	assert.Contains(t, env.Log(), `"message":"Case status changed"`)
	sent, err := anna.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus close")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, anna.Cli, staffRoom.RoomID, bot, sent.EventID), "nur in einem Fallraum")

	// Reconciling the departments leaves case rooms in their space.
	report, err := env.App.Departments().Reconcile(ctx)
	require.NoError(t, err)
	assert.Zero(t, report.Changes(), "%+v", report)
	require.NoError(t, botCli.StateEvent(ctx, space.RoomID, event.StateSpaceChild, first.RoomID.String(), &child))
	assert.NotEmpty(t, child.Via, "the case room is still linked")
}

// findMessage looks for a message of sender containing text.
func findMessage(ctx context.Context, cli *mautrix.Client, room id.RoomID, sender id.UserID, text string) error {
	resp, err := cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return err
	}
	for _, evt := range resp.Chunk {
		if evt.Sender == sender && evt.Type == event.EventMessage {
			_ = evt.Content.ParseRaw(evt.Type)
			if strings.Contains(evt.Content.AsMessage().Body, text) {
				return nil
			}
		}
	}
	return fmt.Errorf("no message containing %q", text)
}
