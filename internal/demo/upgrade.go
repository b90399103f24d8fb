package demo

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

// Notes heading a config.yaml that upgradeConfig rewrote, one per change.
const (
	upgradeNote = `# Upgraded by rathaus-demo: an earlier demo had kept the example's staff,
# users of other servers that the demo homeserver cannot invite. Their
# staff lists now name accounts of the demo homeserver; the previous file is
# config.yaml.old.
`
	upgradeChatNote = `# Upgraded by rathaus-demo: this file is from before the guest chat, which
# rathaus would serve on its default port; guest_chat.listen now has the
# demo's chat port. The previous file is config.yaml.old.
`
)

// chatSection is appended to a config.yaml from before the guest chat when
// the demo's chat port is not rathaus's default; %s is the listen address.
const chatSection = `
# The citizens' guest chat (docs/guest-chat.md), added by rathaus-demo for
# its chat port (RATHAUS_DEMO_CHAT_PORT). Every other key has its default;
# "rathaus example-config" shows them all.
guest_chat:
  listen: %s
`

// upgradeConfig brings a config.yaml written by an earlier demo up to date,
// in place (comments, tokens and every other line stay), keeping the
// previous file as config.yaml.old. It reports whether it rewrote the file.
//
// Earlier demos kept the example's staff (@anna:stadt.example, …): users
// that do not exist here, so rathaus's invitations failed. If every
// department the demo staffs still has exactly the example's staff, nobody
// has edited them, and they are replaced by the demo's accounts. Staff lists
// someone edited are left alone.
//
// Demos before the guest chat wrote no guest_chat section, so rathaus serves
// the chat on its default, 127.0.0.1:29332. That is the demo's default chat
// port too; for any other, guest_chat.listen is added, so that rathaus
// listens where the demo says. The demo never chose a chat port for such a
// file, so this run's is as good as any (see chatPortChosen).
//
// moves (from portMoves) put the addresses on this run's ports; they go
// into the same rewrite and backup.
func upgradeConfig(cfg *config.Config, opts Options, l layout, moves []portMove, out *console) (bool, error) {
	data, err := os.ReadFile(l.config)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	want, oldStaff := exampleStaffLeft(cfg, opts)
	chosen, err := chatPortChosen(data)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	addChat := cfg.GuestChat.Enabled && !chosen && cfg.GuestChat.Listen != opts.ChatListen()
	addPrivacy := needsPrivacyPage(cfg)
	if oldStaff == nil && !addChat && !addPrivacy && len(moves) == 0 {
		return false, nil
	}

	edited := data
	var notes, said []string
	if oldStaff != nil {
		if edited, err = editConfig(edited, nil, want); err != nil {
			return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
		}
		var deps []string
		for _, w := range want {
			deps = append(deps, string(w.department))
		}
		notes = append(notes, upgradeNote)
		said = append(said, fmt.Sprintf("the example's staff (%s) cannot be invited here, so %s now have the demo accounts as staff",
			strings.Join(oldStaff, ", "), strings.Join(deps, " and ")))
	}
	if addChat {
		if edited, err = addChatListen(edited, opts.ChatListen()); err != nil {
			return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
		}
		notes = append(notes, upgradeChatNote)
		said = append(said, fmt.Sprintf("it predates the guest chat, so guest_chat.listen is now %s, as %s asks", opts.ChatListen(), EnvChatPort))
	}
	if addPrivacy {
		if edited, err = setGuestChatKey(edited, "privacy_page", privacyPageFile); err != nil {
			return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
		}
		notes = append(notes, upgradePrivacyNote)
		said = append(said, "a guest chat needs a privacy notice now, so guest_chat.privacy_page serves the demo's own ("+privacyPageFile+")")
	}
	var moved []string
	if len(moves) > 0 {
		settings := make([]demoSetting, 0, len(moves))
		for _, m := range moves {
			settings = append(settings, demoSetting{m.key, m.new})
			moved = append(moved, fmt.Sprintf("%s is now %s (was %s), as %s asks", m.key, m.new, m.old, m.env))
		}
		if edited, err = editConfig(edited, settings, nil); err != nil {
			return false, fmt.Errorf("failed to move %s to this run's ports (set the ports as on the first run): %w", l.config, err)
		}
	}
	edited = append([]byte(strings.Join(notes, "")), edited...)

	check, err := config.Parse(edited)
	if problems := nonTokenProblems(err); len(problems) > 0 {
		return false, fmt.Errorf("upgrading %s would make it invalid (delete %s to start over): %w", l.config, l.dir, problems)
	}
	if oldStaff != nil {
		if err := checkStaff(check, want); err != nil {
			return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
		}
	}
	if addChat && check.GuestChat.Listen != opts.ChatListen() {
		return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): guest_chat.listen is %q, not %q",
			l.config, l.dir, check.GuestChat.Listen, opts.ChatListen())
	}
	if len(moves) > 0 && check != nil {
		if err := checkFits(check, opts, l, true); err != nil {
			return false, fmt.Errorf("failed to move %s to this run's ports: %w", l.config, err)
		}
	}

	backup := l.config + ".old"
	if err := os.WriteFile(backup, data, 0o600); err != nil {
		return false, fmt.Errorf("failed to keep the previous config as %s: %w", backup, err)
	}
	tmp := l.config + ".new"
	if err := os.WriteFile(tmp, edited, 0o600); err != nil {
		return false, fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, l.config); err != nil {
		return false, fmt.Errorf("failed to replace %s: %w", l.config, err)
	}
	var report []string
	if len(said) > 0 {
		report = append(report, fmt.Sprintf("Upgraded %s from an earlier demo: %s.", out.Path(l.config), strings.Join(said, "; ")))
	}
	if len(moved) > 0 {
		report = append(report, fmt.Sprintf("Moved %s to this run's ports: %s.", out.Path(l.config), strings.Join(moved, "; ")))
	}
	report = append(report, fmt.Sprintf("The previous file is %s.", out.Path(backup)))
	out.Printf("%s", wrap("", "", strings.Join(report, " "), announceWidth))
	return true, nil
}

// exampleStaffLeft returns the staff lists the demo wants and, if every
// department it staffs still has exactly the example's staff, those users;
// nil if someone edited a list (or the example cannot be read).
func exampleStaffLeft(cfg *config.Config, opts Options) (want []staffSetting, old []string) {
	example, _ := config.Parse(rathaus.ExampleConfig) // invalid as it stands, but decoded
	if example == nil {
		return nil, nil
	}
	want = demoStaff(opts.ServerName())
	for _, w := range want {
		have, ex := cfg.Department(w.department), example.Department(w.department)
		if have == nil || ex == nil || len(ex.Staff) == 0 || !slices.Equal(have.Staff, ex.Staff) {
			return want, nil
		}
		for _, s := range have.Staff {
			old = append(old, string(s.User))
		}
	}
	return want, old
}

// beyondUpgrade returns the problems of a loaded config that upgradeConfig
// does not fix: all of them, except the placeholder staff of the
// departments whose unedited example staff it replaces.
func beyondUpgrade(problems config.ValidationErrors, cfg *config.Config, opts Options) config.ValidationErrors {
	if len(problems) == 0 || cfg == nil {
		return problems
	}
	want, old := exampleStaffLeft(cfg, opts)
	if old == nil {
		return problems
	}
	replaced := map[string]bool{}
	for _, w := range want {
		for i, d := range cfg.Departments {
			if d.ID != w.department {
				continue
			}
			for j := range d.Staff {
				replaced[fmt.Sprintf("departments[%d].staff[%d].user", i, j)] = true
			}
		}
	}
	var rest config.ValidationErrors
	for _, p := range problems {
		if !replaced[p.Key] {
			rest = append(rest, p)
		}
	}
	return rest
}

// chatPortChosen reports whether the config text sets guest_chat.listen.
// Only then did a demo (or the operator) choose the chat's port; a file
// from before the guest chat has rathaus's default.
func chatPortChosen(data []byte) (bool, error) {
	root, err := parseRoot(data)
	if err != nil {
		return false, err
	}
	return lookup(root, []string{"guest_chat", "listen"}) != nil, nil
}

// addChatListen sets guest_chat.listen in a config text that lacks it,
// keeping every line. A file from before the guest chat has no guest_chat
// section: one is appended. A block section without the key (written by
// hand) gets it as its first line; any other shape goes through
// editConfig, which re-encodes.
func addChatListen(src []byte, listen string) ([]byte, error) {
	root, err := parseRoot(src)
	if err != nil {
		return nil, err
	}
	key, section := entry(root, "guest_chat")
	if section == nil {
		out := bytes.Clone(src)
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		return fmt.Appendf(out, chatSection, listen), nil
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	if section.Kind == yaml.MappingNode && section.Style&yaml.FlowStyle == 0 && len(section.Content) > 0 &&
		section.Line > key.Line && section.Line <= len(lines) {
		// The section's first key starts its first line, so that line's
		// indentation is the section's.
		at := section.Line - 1
		pad := strings.Repeat(" ", indentation(lines[at]))
		edited := slices.Concat(lines[:at], [][]byte{[]byte(pad + "listen: " + listen + "\n")}, lines[at:])
		return bytes.Join(edited, nil), nil
	}
	return editConfig(src, []demoSetting{{"guest_chat.listen", listen}}, nil)
}
