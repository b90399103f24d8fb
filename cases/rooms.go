package cases

import (
	"context"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
)

// caseworkerPowerLevel is a caseworker's level in a case room they
// claimed: they talk and may invite, as in their staff room.
const caseworkerPowerLevel = 50

// serverName is our homeserver's name, for space links.
func (s *Service) serverName() string { return s.config().Homeserver.ServerName }

// linkCaseRoom adds a case room to a department space, or removes it.
func (s *Service) linkCaseRoom(ctx context.Context, space, room id.RoomID, linked bool) error {
	return appservice.LinkSpaceChild(ctx, s.opts.AS.BotIntent(), space, room, s.serverName(), linked)
}

// caseRoomUsers is the users map of a case room: the bot and the
// caseworkers who claimed it.
func caseRoomUsers(bot id.UserID, assignees []id.UserID) map[id.UserID]int {
	users := map[id.UserID]int{bot: config.BotPowerLevel}
	for _, a := range assignees {
		users[a] = caseworkerPowerLevel
	}
	return users
}

// convergeCaseRoomLevels gives a case room the managed rooms' policy
// (departments.RoomPolicy) and the users, comparing with the room's state
// as read before; locked makes it read-only for everyone but the bot.
func (s *Service) convergeCaseRoomLevels(ctx context.Context, room id.RoomID, state mautrix.RoomStateMap, users map[id.UserID]int, locked bool) error {
	_, err := appservice.ConvergePowerLevels(ctx, s.opts.AS.BotIntent(), room, state, departments.RoomPolicy(locked), users)
	return err
}
