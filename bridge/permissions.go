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
