package apptest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

const waitTimeout = 30 * time.Second

// joined reports whether user is a joined member of room, as cli sees it.
func joined(ctx context.Context, cli *mautrix.Client, room id.RoomID, user id.UserID) error {
	members, err := cli.JoinedMembers(ctx, room)
	if err != nil {
		return err
	}
	if _, ok := members.Joined[user]; !ok {
		return fmt.Errorf("%s not among the %d members", user, len(members.Joined))
	}
	return nil
}

// ping sends `!rathaus ping` as cli and waits for the bot's answer.
func ping(t *testing.T, env *apptest.Env, cli *mautrix.Client, room id.RoomID) {
	t.Helper()
	sent, err := cli.SendText(t.Context(), room, "!rathaus ping")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, cli, room, env.Cfg.BotUserID(), sent.EventID), "Pong")
}

// messageFrom reports whether cli sees a text message body from sender in
// the latest events of room.
func messageFrom(ctx context.Context, cli *mautrix.Client, room id.RoomID, sender id.UserID, body string) error {
	resp, err := cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return err
	}
	for _, evt := range resp.Chunk {
		if evt.Sender != sender || evt.Type != event.EventMessage {
			continue
		}
		_ = evt.Content.ParseRaw(evt.Type)
		if evt.Content.AsMessage().Body == body {
			return nil
		}
	}
	return fmt.Errorf("no %q from %s among %d events", body, sender, len(resp.Chunk))
}

// rathaus on each homeserver: the bot accepts a local user's invite and
// answers `!rathaus ping` (transactions pushed to rathaus, the bot acting
// through the appservice token); a ghost of the user namespace registers,
// joins and speaks (registration and masquerading with ?user_id=); after a
// restart of the homeserver the bot still answers, although Synapse starts
// its transaction ids again at 1 (rathaus de-duplicates by event id).
func TestRathausOnEachHomeserver(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) {
		require.Equal(t, "TestRathausOnEachHomeserver/"+string(kind), t.Name())
		env, hss := apptest.StartOn(t, kind, 1)
		require.Len(t, hss, 1)
		require.Equal(t, kind, env.HS.Kind)
		ctx := t.Context()

		bob, _, _ := env.HS.RegisterUser(t, "bob", false)
		room, err := bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{env.Cfg.BotUserID()}})
		require.NoError(t, err)
		tesths.WaitFor(t, waitTimeout, "the bot to accept bob's invite", func() error {
			return joined(ctx, bob, room.RoomID, env.Cfg.BotUserID())
		})
		ping(t, env, bob, room.RoomID)

		ghostID := env.Cfg.GhostUserID("guest_apptest")
		ghost := env.App.AppService().Intent(ghostID)
		require.NoError(t, ghost.EnsureRegistered(ctx))
		_, err = bob.InviteUser(ctx, room.RoomID, &mautrix.ReqInviteUser{UserID: ghostID})
		require.NoError(t, err)
		require.NoError(t, ghost.EnsureJoined(ctx, room.RoomID))
		_, err = ghost.SendText(ctx, room.RoomID, "Hallo vom Geist")
		require.NoError(t, err)
		tesths.WaitFor(t, waitTimeout, "bob to read the ghost's message", func() error {
			return messageFrom(ctx, bob, room.RoomID, ghostID, "Hallo vom Geist")
		})

		env.HS.Restart(t)
		ping(t, env, bob, room.RoomID)
	})
}

// rathaus on Synapse serves a citizen of a federated Dendrite: the bot
// invites a Dendrite user into a room on Synapse and answers there.
func TestRathausOnSynapseWithDendritePeer(t *testing.T) {
	env, hss := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{tesths.Synapse, tesths.Dendrite}})
	require.Len(t, hss, 2)
	require.Same(t, hss[0], env.HS, "rathaus is registered on the first homeserver")
	require.Equal(t, tesths.Synapse, env.HS.Kind)
	require.Equal(t, tesths.Dendrite, hss[1].Kind)
	assert.Empty(t, hss[1].Appservices)
	ctx := t.Context()

	carol, carolID, _ := hss[1].RegisterUser(t, "carol", false)
	bot := env.App.AppService().BotIntent()
	room, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{carolID}})
	require.NoError(t, err)
	tesths.WaitFor(t, 60*time.Second, "carol on Dendrite to join the room on Synapse", func() error {
		_, err := carol.JoinRoom(ctx, room.RoomID.String(), &mautrix.ReqJoinRoom{Via: []string{env.HS.ServerName}})
		return err
	})
	ping(t, env, carol, room.RoomID)
}
