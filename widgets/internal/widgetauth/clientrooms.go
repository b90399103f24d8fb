package widgetauth

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// ClientRooms is a Rooms that asks the homeserver through a Matrix client
// that is in the room: the bot's in production, so a case room's state is
// read as the bot sees it.
type ClientRooms struct {
	Client *mautrix.Client
}

var _ Rooms = ClientRooms{}

// Member reads the user's m.room.member event and, for a joined user, the
// room's power levels. Rooms whose creators have power by their role
// (room version 12) or that have no power levels event need the create
// event's sender, which only the full state carries; only those read it.
func (c ClientRooms) Member(ctx context.Context, room id.RoomID, user id.UserID) (Member, error) {
	var mem event.MemberEventContent
	err := c.Client.StateEvent(ctx, room, event.StateMember, user.String(), &mem)
	if errors.Is(err, mautrix.MNotFound) {
		return Member{}, nil
	} else if err != nil {
		return Member{}, fmt.Errorf("failed to get membership: %w", err)
	}
	if mem.Membership != event.MembershipJoin {
		return Member{Membership: mem.Membership}, nil
	}
	var create event.CreateEventContent
	if err = c.Client.StateEvent(ctx, room, event.StateCreate, "", &create); err != nil {
		return Member{}, fmt.Errorf("failed to get room creation: %w", err)
	}
	var pl event.PowerLevelsEventContent
	err = c.Client.StateEvent(ctx, room, event.StatePowerLevels, "", &pl)
	noLevels := errors.Is(err, mautrix.MNotFound)
	if err != nil && !noLevels {
		return Member{}, fmt.Errorf("failed to get power levels: %w", err)
	}
	if !noLevels && !create.SupportsCreatorPower() {
		return Member{Membership: mem.Membership, PowerLevel: pl.GetUserLevel(user)}, nil
	}
	state, err := c.Client.State(ctx, room)
	if err != nil {
		return Member{}, fmt.Errorf("failed to get room state: %w", err)
	}
	createEvt := state[event.StateCreate][""]
	if createEvt == nil {
		return Member{}, errors.New("room state has no create event")
	}
	if noLevels {
		// Without power levels the creator has 100 and everyone else 0
		// (spec: m.room.power_levels).
		level := 0
		if createEvt.Sender == user || create.SupportsCreatorPower() && isAdditionalCreator(&create, user) {
			level = 100
		}
		return Member{Membership: mem.Membership, PowerLevel: level}, nil
	}
	pl.CreateEvent = createEvt
	return Member{Membership: mem.Membership, PowerLevel: pl.GetUserLevel(user)}, nil
}

func isAdditionalCreator(c *event.CreateEventContent, user id.UserID) bool {
	for _, u := range c.AdditionalCreators {
		if u == user {
			return true
		}
	}
	return false
}
