package departments

import (
	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
)

// CallMemberEventType is MatrixRTC's call membership state event.
const CallMemberEventType = "org.matrix.msc3401.call.member"

// RoomPolicy is the part of a managed room's power levels besides the
// users map, the same in every room rathaus manages (spaces, staff rooms,
// case rooms): caseworkers and leads talk, leads moderate, only admins
// change room settings, and what rathaus derives from the config
// (department state, space links, case state) only the bot.
// events_default is 0, or the bot's level once a room is archived or a
// case room is being purged (read-only). Everyone who may talk may also
// publish their MatrixRTC call membership (org.matrix.msc3401.call.member),
// so staff can place calls from Element; a read-only room has no calls.
func RoomPolicy(archived bool) appservice.PowerPolicy {
	const bot = config.BotPowerLevel
	adminLevel, leadLevel := config.RoleAdmin.PowerLevel(), config.RoleLead.PowerLevel()
	eventsDefault := 0
	if archived {
		eventsDefault = bot
	}
	callMember := eventsDefault
	return appservice.PowerPolicy{
		EventsDefault: eventsDefault,
		StateDefault:  adminLevel,
		Invite:        leadLevel,
		Kick:          leadLevel,
		Redact:        leadLevel,
		Ban:           adminLevel,
		Events: map[string]int{
			"m.room.name":               adminLevel,
			"m.room.topic":              adminLevel,
			"m.room.avatar":             adminLevel,
			"m.room.canonical_alias":    adminLevel,
			"m.room.power_levels":       adminLevel,
			"m.room.history_visibility": adminLevel,
			"m.room.encryption":         adminLevel,
			"m.room.server_acl":         bot,
			"m.room.tombstone":          bot,
			"m.space.child":             bot,
			"m.space.parent":            bot,
			"de.rathaus.authority":      bot,
			"de.rathaus.department":     bot,
			// MatrixRTC (MSC3401/MSC4143): state, but a member's own.
			CallMemberEventType: callMember,
		},
	}
}
