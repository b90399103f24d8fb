package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"
)

// Registry holds every bot command. Capabilities add theirs at start-up;
// the registry answers help, refuses senders without the permission and
// arguments to commands that take none, and runs the rest.
type Registry struct {
	mu     sync.RWMutex
	order  []*Command
	byName map[string]*Command
}

// NewRegistry returns a registry with the built-in help command.
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Command{}}
	r.MustRegister(Command{
		Names: []string{"help", "hilfe"}, Permission: Anyone,
		Help: "zeigt diese Hilfe / shows this help",
		Run:  func(context.Context, *Request) string { return r.Help() },
	})
	return r
}

// Register adds commands. A name that is already taken, or a declaration
// that is incomplete, is refused (ErrBadCommand) and nothing is added.
func (r *Registry) Register(cmds ...Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for i := range cmds {
		if err := cmds[i].validate(); err != nil {
			return err
		}
		for _, n := range cmds[i].Names {
			if r.byName[n] != nil || seen[n] {
				return fmt.Errorf("%w: %q is declared twice", ErrBadCommand, n)
			}
			seen[n] = true
		}
	}
	for i := range cmds {
		c := cmds[i]
		r.order = append(r.order, &c)
		for _, n := range c.Names {
			r.byName[n] = &c
		}
	}
	return nil
}

// MustRegister is Register for declarations fixed at compile time; it
// panics on a programming error.
func (r *Registry) MustRegister(cmds ...Command) {
	if err := r.Register(cmds...); err != nil {
		panic(err)
	}
}

// Lookup returns the command a name calls, or nil.
func (r *Registry) Lookup(name string) *Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

// Commands returns every command, in the order they were registered.
func (r *Registry) Commands() []Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	cmds := make([]Command, len(r.order))
	for i, c := range r.order {
		cmds[i] = *c
	}
	return cmds
}

// Help lists every command in the order they were registered.
func (r *Registry) Help() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	lines := make([]string, 0, len(r.order)+1)
	lines = append(lines, "rathaus – Befehle / commands:")
	for _, c := range r.order {
		lines = append(lines, c.helpLine())
	}
	return strings.Join(lines, "\n")
}

// Answer returns the answer to a parsed command: help for the bare
// prefix, a refusal for a sender without the permission or for arguments
// to a command that takes none, "unknown command", or what the command's
// Run says.
func (r *Registry) Answer(ctx context.Context, roles Roles, req *Request) string {
	name := req.Name
	if name == "" {
		name = "help"
	}
	c := r.Lookup(name)
	if c == nil {
		return fmt.Sprintf("Unbekannter Befehl „%s“. „%s hilfe“ zeigt alle Befehle. / Unknown command; %s help shows all commands.",
			Truncate(req.Name, 32), Prefix, Prefix)
	}
	if no := r.Refusal(roles, name, req.Sender); no != "" {
		return no
	}
	if c.Args == "" && len(req.Args) > 0 {
		return fmt.Sprintf("„%s %s“ erwartet keine weiteren Angaben. / %q takes no arguments.", Prefix, req.Name, req.Name)
	}
	return c.Run(ctx, req)
}

// Refusal returns "" if sender may run the command called name, otherwise
// the answer to give. Unknown commands are not refused here; Answer
// answers them.
func (r *Registry) Refusal(roles Roles, name string, sender id.UserID) string {
	c := r.Lookup(name)
	switch {
	case c == nil:
		return ""
	case c.Permission == Staff && !roles.IsStaff(sender),
		c.Permission == Admin && !roles.IsAdmin(sender):
		return c.Permission.refusal()
	}
	return ""
}

// Truncate shortens what a person typed to n characters for an answer.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}
