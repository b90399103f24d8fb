package widgetauth_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

// TestClientRoomsCreatorPower: in a room of version 12 the creator's power
// comes from creating the room, not from m.room.power_levels, and
// ClientRooms must see it. Synapse only: Dendrite v0.15.2 has no room
// version 12.
func TestClientRoomsCreatorPower(t *testing.T) {
	hs := tesths.Start(t, tesths.Options{Kind: tesths.Synapse})
	ctx := t.Context()
	creator, creatorID, _ := hs.RegisterUser(t, "lead", false)
	bot, botID, _ := hs.RegisterUser(t, "rathaus", false)
	_, memberID, _ := hs.RegisterUser(t, "ben", false)

	created, err := creator.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: id.RoomV12,
		Invite: []id.UserID{botID}})
	require.NoError(t, err)
	_, err = bot.JoinRoomByID(ctx, created.RoomID)
	require.NoError(t, err)
	var pl event.PowerLevelsEventContent
	require.NoError(t, creator.StateEvent(ctx, created.RoomID, event.StatePowerLevels, "", &pl))
	require.NotContains(t, pl.Users, creatorID, "room version 12 lists the creator in power levels")

	rooms := widgetauth.ClientRooms{Client: bot}
	m, err := rooms.Member(ctx, created.RoomID, creatorID)
	require.NoError(t, err)
	assert.Equal(t, event.MembershipJoin, m.Membership)
	assert.Equal(t, math.MaxInt, m.PowerLevel)

	m, err = rooms.Member(ctx, created.RoomID, botID)
	require.NoError(t, err)
	assert.Equal(t, widgetauth.Member{Membership: event.MembershipJoin, PowerLevel: 0}, m)

	m, err = rooms.Member(ctx, created.RoomID, memberID)
	require.NoError(t, err)
	assert.Equal(t, widgetauth.Member{}, m, "a user never in the room")
}
