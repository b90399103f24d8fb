package bridge

import (
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
)

// permission is who may run a command.
type permission int

const (
	// anyone in a room with the bot (citizen ghosts never issue commands).
	anyone permission = iota
	// staffOnly: configured in at least one department.
	staffOnly
	// adminOnly: configured with role admin in at least one department.
	adminOnly
)

// commandPermissions is the one place that says who may run what. A
// command missing here is unknown.
var commandPermissions = map[string]permission{
	"":            anyone,
	"help":        anyone,
	"hilfe":       anyone,
	"ping":        anyone,
	"version":     anyone,
	"departments": anyone,
	"abteilungen": anyone,
	"status":      staffOnly,
	"sync":        adminOnly,
	"claim":       staffOnly,
	"übernehmen":  staffOnly,
	// close and reopen also check the case's department (casecommands.go).
	"close":          staffOnly,
	"resolve":        staffOnly,
	"erledigt":       staffOnly,
	"schließen":      staffOnly,
	"reopen":         staffOnly,
	"wiedereröffnen": staffOnly,
	"transfer":       staffOnly,
	"abgeben":        staffOnly,
}

// refusal returns "" if sender may run cmd, otherwise the answer to give.
// Unknown commands are not refused here; the dispatcher answers them.
func refusal(cfg *config.Config, cmd string, sender id.UserID) string {
	p, known := commandPermissions[cmd]
	if !known {
		return ""
	}
	switch {
	case p == staffOnly && !cfg.IsStaff(sender):
		return "Dieser Befehl ist nur für Mitarbeitende einer Abteilung. / This command is for department staff only."
	case p == adminOnly && !cfg.IsAdmin(sender):
		return "Dieser Befehl ist nur für Administrator:innen. / This command is for administrators only."
	}
	return ""
}

// roomPolicy is the part of a managed room's power levels besides the
// users map, the same in every managed room: caseworkers and leads talk,
// leads moderate, only admins change room settings, and what rathaus
// derives from the config (department state, space links) only the bot.
// events_default is 0, or the bot's level once a room is archived
// (read-only).
func roomPolicy(archived bool) map[string]any {
	const admin, lead, bot = 100, 75, config.BotPowerLevel
	eventsDefault := 0
	if archived {
		eventsDefault = bot
	}
	return map[string]any{
		"events_default": eventsDefault,
		"state_default":  admin,
		"invite":         lead,
		"kick":           lead,
		"redact":         lead,
		"ban":            admin,
		"events": map[string]any{
			"m.room.name":               admin,
			"m.room.topic":              admin,
			"m.room.avatar":             admin,
			"m.room.canonical_alias":    admin,
			"m.room.power_levels":       admin,
			"m.room.history_visibility": admin,
			"m.room.encryption":         admin,
			"m.room.server_acl":         bot,
			"m.room.tombstone":          bot,
			"m.space.child":             bot,
			"m.space.parent":            bot,
			"de.rathaus.authority":      bot,
			"de.rathaus.department":     bot,
		},
	}
}
