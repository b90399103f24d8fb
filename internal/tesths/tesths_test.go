package tesths_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

const waitTimeout = 30 * time.Second

// findText looks for a text message with body in the latest events of roomID
// as seen by cli through /messages.
func findText(t *testing.T, cli *mautrix.Client, roomID id.RoomID, sender id.UserID, body string) error {
	t.Helper()
	resp, err := cli.Messages(t.Context(), roomID, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return fmt.Errorf("failed to get messages: %w", err)
	}
	for _, evt := range resp.Chunk {
		if evt.Type != event.EventMessage || evt.Sender != sender {
			continue
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return fmt.Errorf("failed to parse %s: %w", evt.ID, err)
		}
		if msg := evt.Content.AsMessage(); msg.Body == body {
			return nil
		}
	}
	return fmt.Errorf("not among the %d latest events", len(resp.Chunk))
}

// inviteArrived reports whether cli's sync shows an invite to roomID.
func inviteArrived(t *testing.T, cli *mautrix.Client, roomID id.RoomID) error {
	t.Helper()
	resp, err := cli.SyncRequest(t.Context(), 0, "", "", false, event.PresenceOffline)
	if err != nil {
		return fmt.Errorf("failed to sync: %w", err)
	}
	if _, ok := resp.Rooms.Invite[roomID]; !ok {
		return fmt.Errorf("%d invites, none to the room", len(resp.Rooms.Invite))
	}
	return nil
}

// eachKind runs body once per homeserver kind, as subtests named by it.
func eachKind(t *testing.T, body func(t *testing.T, kind tesths.Kind)) {
	t.Helper()
	for _, kind := range tesths.Kinds() {
		t.Run(string(kind), func(t *testing.T) { body(t, kind) })
	}
}

func TestSingleServerConversation(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		singleServerConversation(t, tesths.Start(t, tesths.Options{Kind: kind}))
	})
}

// singleServerConversation has two users of hs talk in a room.
func singleServerConversation(t *testing.T, hs *tesths.Homeserver) {
	t.Helper()
	ctx := t.Context()

	alice, aliceID, _ := hs.RegisterUser(t, "alice", false)
	bob, bobID, bobPassword := hs.RegisterUser(t, "bob", false)
	assert.Equal(t, hs.UserID("alice"), aliceID)

	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "private_chat",
		Name:   "Bürgeramt",
		Invite: []id.UserID{bobID},
	})
	require.NoError(t, err)
	_, err = bob.JoinRoomByID(ctx, room.RoomID)
	require.NoError(t, err)

	sent, err := alice.SendText(ctx, room.RoomID, "Guten Tag, Bob")
	require.NoError(t, err)
	assert.Equal(t, tesths.DefaultRoomVersion, roomVersion(t, alice, room.RoomID), "the pinned default room version")
	require.NotEmpty(t, sent.EventID)
	tesths.WaitFor(t, waitTimeout, "bob reads alice's message via /messages", func() error {
		return findText(t, bob, room.RoomID, aliceID, "Guten Tag, Bob")
	})

	// A password login gives a second, working device.
	bob2 := hs.Login(t, "bob", bobPassword)
	whoami, err := bob2.Whoami(ctx)
	require.NoError(t, err)
	assert.Equal(t, bobID, whoami.UserID)
	assert.NotEqual(t, bob.DeviceID, bob2.DeviceID)
}

func TestFederatedConversation(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		servers := tesths.StartFederated(t, 2, tesths.Options{Kind: kind})
		assert.Equal(t, []tesths.Kind{kind, kind}, []tesths.Kind{servers[0].Kind, servers[1].Kind})
		federatedConversation(t, servers[0], servers[1])
	})
}

// Synapse and Dendrite federate with each other, in both directions: each
// side's user creates a room and invites the other.
func TestMixedFederation(t *testing.T) {
	servers := tesths.StartMixed(t, tesths.Options{Kind: tesths.Synapse}, tesths.Options{Kind: tesths.Dendrite})
	require.Equal(t, []tesths.Kind{tesths.Synapse, tesths.Dendrite}, []tesths.Kind{servers[0].Kind, servers[1].Kind})
	t.Run("synapse invites", func(t *testing.T) { federatedConversation(t, servers[0], servers[1]) })
	t.Run("dendrite invites", func(t *testing.T) { federatedConversation(t, servers[1], servers[0]) })
}

// federatedConversation has a user of hs1 create a room and invite a user
// of hs2, who joins; each reads the other's message.
func federatedConversation(t *testing.T, hs1, hs2 *tesths.Homeserver) {
	t.Helper()
	require.NotEqual(t, hs1.ServerName, hs2.ServerName)
	ctx := t.Context()

	alice, aliceID, _ := hs1.RegisterUser(t, "alice-"+string(hs1.Kind), false)
	bob, bobID, _ := hs2.RegisterUser(t, "bob-"+string(hs2.Kind), false)
	assert.Equal(t, hs2.ServerName, bobID.Homeserver())

	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "private_chat",
		Name:   "Interkommunal",
		Invite: []id.UserID{bobID},
	})
	require.NoError(t, err)
	tesths.WaitFor(t, waitTimeout, "bob's invite to arrive on server 2 over federation", func() error {
		return inviteArrived(t, bob, room.RoomID)
	})
	_, err = bob.JoinRoom(ctx, room.RoomID.String(), &mautrix.ReqJoinRoom{Via: []string{hs1.ServerName}})
	require.NoError(t, err)

	_, err = alice.SendText(ctx, room.RoomID, "Hallo aus Server 1")
	require.NoError(t, err)
	_, err = bob.SendText(ctx, room.RoomID, "Hallo aus Server 2")
	require.NoError(t, err)

	tesths.WaitFor(t, waitTimeout, "bob on server 2 reads alice's message", func() error {
		return findText(t, bob, room.RoomID, aliceID, "Hallo aus Server 1")
	})
	tesths.WaitFor(t, waitTimeout, "alice on server 1 reads bob's message", func() error {
		return findText(t, alice, room.RoomID, bobID, "Hallo aus Server 2")
	})
}

// roomVersion reads the version of roomID from its create event.
func roomVersion(t *testing.T, cli *mautrix.Client, roomID id.RoomID) string {
	t.Helper()
	var create event.CreateEventContent
	require.NoError(t, cli.StateEvent(t.Context(), roomID, event.StateCreate, "", &create))
	return string(create.RoomVersion)
}

// The appservice token works, and a restart keeps users, tokens, rooms and
// their history: what a test of "the homeserver restarts between a send
// and its retry" stands on.
func TestAppserviceAndRestart(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		const asToken = "as-token-for-tesths"
		var gotServerName string
		hs := tesths.Start(t, tesths.Options{
			Kind: kind,
			Appservices: func(serverName string) []*appservice.Registration {
				gotServerName = serverName
				reg := &appservice.Registration{
					ID:              "rathaus",
					URL:             "http://127.0.0.1:9", // never called in this test
					AppToken:        asToken,
					ServerToken:     "hs-token-for-tesths",
					SenderLocalpart: "rathausbot",
				}
				reg.Namespaces.UserIDs.Register(regexp.MustCompile(`@_rathaus_.*:`+regexp.QuoteMeta(serverName)), true)
				return []*appservice.Registration{reg}
			},
		})
		ctx := t.Context()
		assert.Equal(t, hs.ServerName, gotServerName)
		require.Len(t, hs.Appservices, 1)

		bot, err := mautrix.NewClient(hs.URL, "", asToken)
		require.NoError(t, err)
		whoami, err := bot.Whoami(ctx)
		require.NoError(t, err, "the appservice token must be accepted")
		assert.Equal(t, hs.UserID("rathausbot"), whoami.UserID)

		alice, aliceID, alicePassword := hs.RegisterUser(t, "alice", true)
		bob, bobID, _ := hs.RegisterUser(t, "bob", false)
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bobID}})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room.RoomID)
		require.NoError(t, err)
		_, err = alice.SendText(ctx, room.RoomID, "vor dem Neustart")
		require.NoError(t, err)

		hs.Restart(t)

		whoami, err = alice.Whoami(ctx)
		require.NoError(t, err, "the access token must survive a restart")
		assert.Equal(t, aliceID, whoami.UserID)
		assert.NotNil(t, hs.Login(t, "alice", alicePassword), "the password survives a restart")
		whoami, err = bot.Whoami(ctx)
		require.NoError(t, err, "the appservice is registered again")
		assert.Equal(t, hs.UserID("rathausbot"), whoami.UserID)
		members, err := bob.JoinedMembers(ctx, room.RoomID)
		require.NoError(t, err, "the room survives a restart")
		assert.Len(t, members.Joined, 2)
		tesths.WaitFor(t, waitTimeout, "bob reads the message sent before the restart", func() error {
			return findText(t, bob, room.RoomID, aliceID, "vor dem Neustart")
		})
		_, err = bob.SendText(ctx, room.RoomID, "nach dem Neustart")
		require.NoError(t, err)
		tesths.WaitFor(t, waitTimeout, "alice reads bob's message sent after the restart", func() error {
			return findText(t, alice, room.RoomID, bobID, "nach dem Neustart")
		})
	})
}
