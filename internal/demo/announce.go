package demo

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// announcement is what the demo prints once everything runs: how to log in,
// what to do next, and the DEMO READY line.
type announcement struct {
	opts Options
	cfg  *config.Config
	// accounts are the demo's accounts, the printed login first.
	accounts []account
	// Paths as shown to the user.
	config, dir, rathausLog, dendriteLog string
	rathausPid, dendritePid              int
	// path shows a path relative to the working directory where it can.
	path func(string) string
}

// step is one of the announcement's numbered steps: a paragraph, wrapped,
// and lines printed as they are. A step without text is left out.
type step struct {
	text  string
	lines []string
}

// announceWidth is where the prose of the announcement wraps.
const announceWidth = 78

func (a announcement) text() string {
	login := a.accounts[0]
	bot := a.cfg.BotUserID()
	echo := "also shown below, prefixed \"rathaus | \""
	if a.opts.Quiet {
		echo = "not echoed: -quiet"
	}
	rule := strings.Repeat("─", 72)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("%s\n  The rathaus demo is running for %s.\n\n", rule, a.cfg.Authority.Name)
	p("  Homeserver URL  %s\n", a.opts.HomeserverURL())
	p("  Server name     %s\n", a.opts.ServerName())
	p("  Staff login     %s  (%s)\n", login.localpart, login.userID)
	// The password stays in its file (mode 0600): this text goes to
	// terminals, CI logs and screen shares.
	p("  Password        in %s\n", a.path(login.passwordFile))
	p("                    show it with: cat %s\n", shellQuote(a.path(login.passwordFile)))
	if roles := a.roles(login.userID); roles != "" {
		p("  Roles           %s\n", roles)
	}
	p("  Bot             %s\n", bot)
	for i, other := range a.accounts[1:] {
		label := "More staff"
		if i > 0 {
			label = ""
		}
		p("  %-14s  %s  (%s)\n", label, other.userID, a.roles(other.userID))
		p("                    password in %s\n", a.path(other.passwordFile))
	}

	var spaces, staffRooms []string
	for _, d := range a.cfg.Departments {
		if d.Member(login.userID) != nil {
			spaces = append(spaces, quoted(d.Name))
			staffRooms = append(staffRooms, quoted(d.Name+" – Team"))
		}
	}
	steps := []step{
		{text: fmt.Sprintf("Open a Matrix client (Element Web or Desktop, FluffyChat, …), choose another homeserver and enter %s", a.opts.HomeserverURL())},
		{text: fmt.Sprintf("Log in as %s with the password in %s.", login.localpart, a.path(login.passwordFile))},
	}
	if len(spaces) > 0 {
		steps = append(steps,
			step{text: fmt.Sprintf("Accept the invitations to the spaces %s and to the staff rooms %s.",
				strings.Join(append([]string{quoted(a.cfg.Authority.Name)}, spaces...), ", "), strings.Join(staffRooms, ", "))},
			step{text: "In a staff room write", lines: []string{
				"  !rathaus departments       which department is open, who is available",
				"  !rathaus status verfügbar  you are available (beschäftigt, abwesend, …)",
				"  !rathaus help              every command",
				"After editing " + a.config + ", an admin writes  !rathaus sync",
			}},
			a.chatStep())
	} else {
		steps = append(steps,
			step{text: fmt.Sprintf("%s is on no department's staff in %s, so nothing invites it: add it there (role admin) and restart the demo.", login.localpart, a.config)},
			step{text: fmt.Sprintf("Meanwhile create a room, invite %s and write:", bot), lines: []string{"  !rathaus help"}})
	}
	steps = slices.DeleteFunc(steps, func(st step) bool { return st.text == "" })
	p("\n  Next:\n")
	const indent = "       "
	for i, st := range steps {
		p("%s", wrap(fmt.Sprintf("    %d. ", i+1), indent, st.text, announceWidth))
		for _, line := range st.lines {
			p("%s%s\n", indent, line)
		}
	}

	p("\n  Logs   rathaus   %s (%s)\n", a.rathausLog, echo)
	p("         Dendrite  %s\n", a.dendriteLog)
	p("  State  %s  (kept across runs; delete it to start over)\n", a.dir)
	p("         config.yaml, and each account's password in <name>.password\n")
	p("\n  Ctrl-C stops everything.\n%s\n", rule)
	p("%s\n", readyLine(a.opts, login, bot, a.rathausPid, a.dendritePid))
	return b.String()
}

// chatStep says how to be a citizen in the guest chat: one chat URL per
// department, as public_url says browsers reach it (the chat refuses
// requests from any other origin).
func (a announcement) chatStep() step {
	if !a.cfg.GuestChat.Enabled {
		return step{text: fmt.Sprintf("The citizens' guest chat is off: guest_chat.enabled is false in %s.", a.config)}
	}
	if len(a.cfg.Departments) == 0 {
		return step{}
	}
	width := 0
	for _, d := range a.cfg.Departments {
		width = max(width, utf8.RuneCountInString(d.Name))
	}
	var lines []string
	for _, d := range a.cfg.Departments {
		lines = append(lines, fmt.Sprintf("  %-*s  %s", width, d.Name, a.chatURL(d.ID)))
	}
	return step{
		text: "Be a citizen: open a chat below in a browser and write a question; the case appears in the department's staff room, " +
			"where you claim it with !rathaus\u00a0claim\u00a0<Aktenzeichen>.",
		lines: lines,
	}
}

// chatURL is the citizens' chat page of a department.
func (a announcement) chatURL(d protocol.DepartmentID) string {
	return strings.TrimRight(a.cfg.GuestChat.PublicURL, "/") + "/chat/" + url.PathEscape(string(d))
}

// roles says what u is in which department, e.g. "lead in Bauamt".
func (a announcement) roles(u id.UserID) string {
	var out []string
	for _, d := range a.cfg.Departments {
		if m := d.Member(u); m != nil {
			out = append(out, fmt.Sprintf("%s in %s", m.Role, d.Name))
		}
	}
	return strings.Join(out, ", ")
}

// quoted puts a name in quotes that wrap never breaks.
func quoted(name string) string {
	return "\"" + strings.ReplaceAll(name, " ", "\u00a0") + "\""
}

// wrap fills text into lines of at most width characters (longer words
// stand alone), the first starting with first, the rest with indent. Words
// are separated by spaces; a no-break space joins words and is printed as
// a space.
func wrap(first, indent, text string, width int) string {
	var b strings.Builder
	line, n := first, len([]rune(first))
	fresh := true
	// Not strings.Fields: it would split at the no-break space too.
	for _, word := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' }) {
		w := len([]rune(word))
		if !fresh && n+1+w > width {
			b.WriteString(line + "\n")
			line, n, fresh = indent, len([]rune(indent)), true
		}
		if !fresh {
			line += " "
			n++
		}
		line += word
		n += w
		fresh = false
	}
	b.WriteString(line + "\n")
	return strings.ReplaceAll(b.String(), "\u00a0", " ")
}

// readyLine is the machine-readable summary. It names the password's file,
// never the password. Values contain no spaces, except password_file: it
// is last and runs to the end of the line, since the state directory may
// have spaces in its path.
func readyLine(opts Options, login account, bot id.UserID, rathausPid, dendritePid int) string {
	return fmt.Sprintf("DEMO READY homeserver=%s server_name=%s user=%s bot=%s rathaus_pid=%d dendrite_pid=%d password_file=%s",
		opts.HomeserverURL(), opts.ServerName(), login.userID, bot, rathausPid, dendritePid, login.passwordFile)
}

// shellQuote quotes a path for a POSIX shell where it needs it.
func shellQuote(path string) string {
	if path != "" && strings.Trim(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+=:,@%") == "" {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// joinUsers lists user IDs, comma separated.
func joinUsers(users []id.UserID) string {
	s := make([]string, len(users))
	for i, u := range users {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}
