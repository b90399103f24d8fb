package demo

import (
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"
)

// announce prints what to do next and the DEMO READY line.
func announce(out *console, opts Options, l layout, authority string, staff id.UserID, password, bot string, kids children) {
	echo := "also shown below, prefixed \"rathaus | \""
	if opts.Quiet {
		echo = "not echoed: -quiet"
	}
	rule := strings.Repeat("─", 72)
	out.Printf(`%[1]s
  The rathaus demo is running for %[2]s.

  Homeserver URL  %[3]s
  Server name     %[4]s
  Staff login     %[5]s  (%[6]s)
  Password        %[7]s
  Bot             %[8]s

  Next:
    1. Open a Matrix client (Element Web or Desktop, FluffyChat, …), choose
       another homeserver and enter %[3]s
    2. Log in as %[5]s with the password above.
    3. Create a room, invite %[8]s and write:  !rathaus help
       (!rathaus ping is answered with "Pong").

  Logs   rathaus   %[9]s (%[10]s)
         Dendrite  %[11]s
  State  %[12]s  (kept across runs; the password is in %[13]s;
         delete the directory to start over)

  Ctrl-C stops everything.
%[1]s
`, rule, authority, opts.HomeserverURL(), opts.ServerName(), StaffLocalpart, staff, password, bot,
		out.Path(l.rathausLog), echo, out.Path(kids.dendrite.ConsoleLog), out.Path(l.dir), out.Path(l.password))
	out.Printf("%s\n", readyLine(opts, staff, password, bot, kids))
}

// readyLine is the machine-readable summary; values never contain spaces.
func readyLine(opts Options, staff id.UserID, password, bot string, kids children) string {
	return fmt.Sprintf("DEMO READY homeserver=%s server_name=%s user=%s password=%s bot=%s rathaus_pid=%d dendrite_pid=%d",
		opts.HomeserverURL(), opts.ServerName(), staff, password, bot, kids.rathaus.Pid(), kids.dendrite.Pid())
}
