package cases

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// HandlingPowerLevel is the power level staff have in a case room once
// they claimed the case: what the ticket and video actions ask for.
const HandlingPowerLevel = 50

// JoinedWithLevel asks the homeserver, as the bot sees the room, whether
// user is joined to it with at least level. The creator's unlimited power
// of room version 12 is the bot's alone, never staff's, so the power
// levels' users map is the whole answer.
func JoinedWithLevel(ctx context.Context, bot *mauas.IntentAPI, room id.RoomID, user id.UserID, level int) (bool, error) {
	var member event.MemberEventContent
	err := bot.StateEvent(ctx, room, event.StateMember, user.String(), &member)
	if errors.Is(err, mautrix.MNotFound) || err == nil && member.Membership != event.MembershipJoin {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("failed to read the membership: %w", err)
	}
	var levels event.PowerLevelsEventContent
	if err = bot.StateEvent(ctx, room, event.StatePowerLevels, "", &levels); err != nil {
		return false, fmt.Errorf("failed to read the power levels: %w", err)
	}
	return levels.GetUserLevel(user) >= level, nil
}
