package bot

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Permission says who may run a command. The registry checks it before
// the command runs, so a command never checks its own role.
type Permission int

const (
	// Anyone in a room with the bot (citizen ghosts never issue commands).
	Anyone Permission = iota
	// Staff: configured in at least one department.
	Staff
	// Admin: configured with role admin in at least one department.
	Admin
)

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { return p >= Anyone && p <= Admin }

// helpSuffix marks restricted commands in the help text.
func (p Permission) helpSuffix() string {
	switch p {
	case Staff:
		return " (nur Mitarbeitende / staff only)"
	case Admin:
		return " (nur Administrator:innen / administrators only)"
	}
	return ""
}

// refusal is the answer to a sender who lacks the permission.
func (p Permission) refusal() string {
	switch p {
	case Staff:
		return "Dieser Befehl ist nur für Mitarbeitende einer Abteilung. / This command is for department staff only."
	case Admin:
		return "Dieser Befehl ist nur für Administrator:innen. / This command is for administrators only."
	}
	return ""
}

// Roles tells the registry who is staff and who is admin. It is asked at
// every command, so it must answer from the running config.
type Roles interface {
	// IsStaff reports whether u is on the staff of any department.
	IsStaff(u id.UserID) bool
	// IsAdmin reports whether u has the admin role in any department.
	IsAdmin(u id.UserID) bool
}

// Command is one bot command, declared once by the capability that owns
// it. The registry builds the help text from it and checks the
// permission; Run only does the work.
type Command struct {
	// Names are the words that call the command, lower case: the first is
	// shown in the help, the others (usually the German word) are aliases.
	Names []string
	// Permission is who may run it.
	Permission Permission
	// Args describes the arguments for the help text, e.g. "<Aktenzeichen>".
	// Empty means the command takes none: arguments are then refused
	// before Run is called.
	Args string
	// Help is one line, German first, then English.
	Help string
	// Run does the work and returns the answer, which the bot sends as a
	// notice in reply to the command. It may run again for the same event
	// after a crash, so its effects must be idempotent (send through the
	// outbox with a transaction id derived from Request.Event).
	Run func(ctx context.Context, req *Request) string
}

// Request is one command as a person sent it.
type Request struct {
	// Event is the message that carried the command.
	Event *event.Event
	// Sender is who sent it (Event.Sender).
	Sender id.UserID
	// Room is what rathaus knows about the room it was sent in.
	Room RoomInfo
	// Name is the command word as typed (lower case), one of Command.Names.
	Name string
	// Args are the words after the name.
	Args []string
}

// validate reports what is wrong with a declaration.
func (c *Command) validate() error {
	switch {
	case len(c.Names) == 0:
		return fmt.Errorf("%w: a command without names", ErrBadCommand)
	case c.Run == nil:
		return fmt.Errorf("%w: %q has no Run", ErrBadCommand, c.Names[0])
	case c.Help == "":
		return fmt.Errorf("%w: %q has no help text", ErrBadCommand, c.Names[0])
	case !c.Permission.Valid():
		return fmt.Errorf("%w: %q has an unknown permission", ErrBadCommand, c.Names[0])
	}
	for _, n := range c.Names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsFunc(n, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }) {
			return fmt.Errorf("%w: %q is not a lower-case word", ErrBadCommand, n)
		}
	}
	return nil
}

// helpLine is the command's line in the help text.
func (c *Command) helpLine() string {
	line := Prefix + " " + c.Names[0]
	if c.Args != "" {
		line += " " + c.Args
	}
	if len(c.Names) > 1 {
		line += " (" + strings.Join(c.Names[1:], ", ") + ")"
	}
	return line + " – " + c.Help + c.Permission.helpSuffix()
}
