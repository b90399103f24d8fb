package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/config"
)

// A changed port is one of two kinds. The client API, appservice and chat
// ports only say where something listens: config.yaml (and, for the
// appservice, registration.yaml) name them, so the demo moves those lines to
// the new port. The federation port is part of the server name
// (localhost:<port>), and Dendrite's accounts, rooms and signing key belong
// to that name: such a directory cannot serve another name, so the demo
// refuses and says how to go on.

// portMove is one address in config.yaml that follows a changed port.
type portMove struct {
	env      string // the variable that changed, e.g. RATHAUS_DEMO_HS_PORT
	key      string // the config key
	old, new string
}

// portMoves compares the addresses in cfg (read from data) with opts and
// returns the moves that bring the file to this run's ports. An address
// that a person edited (not the demo's 127.0.0.1 form) is not moved but
// refused, as is a changed server name (see serverNameChanged).
func portMoves(cfg *config.Config, data []byte, opts Options, l layout, chatChosen bool) ([]portMove, error) {
	if cfg.Homeserver.ServerName != opts.ServerName() {
		return nil, serverNameChanged(l, cfg.Homeserver.ServerName, opts)
	}
	var moves []portMove
	var refused []string
	move := func(env, key, have, want string, demoForm bool) {
		switch {
		case have == want:
		case demoForm:
			moves = append(moves, portMove{env: env, key: key, old: have, new: want})
		default:
			refused = append(refused, fmt.Sprintf("%s is %q, not an address the demo wrote; set it to %q", key, have, want))
		}
	}
	move(EnvHSPort, "homeserver.url", cfg.Homeserver.URL, opts.HomeserverURL(), isDemoAddr(cfg.Homeserver.URL, "http://"))
	as := cfg.AppService
	if as.Listen != opts.ASListen() {
		// The registration's URL is public_url; the demo wrote it from
		// listen, and moves both or neither.
		demoForm := isDemoAddr(as.Listen, "") && as.PublicURL == "http://"+as.Listen
		move(EnvASPort, "appservice.listen", as.Listen, opts.ASListen(), demoForm)
		move(EnvASPort, "appservice.public_url", as.PublicURL, "http://"+opts.ASListen(), demoForm)
	}
	if chat := cfg.GuestChat; chat.Enabled && chatChosen && chat.Listen != opts.ChatListen() {
		// The demo leaves public_url to be derived from listen; a public_url
		// of one's own would no longer match the new port.
		publicSet, err := chatPublicURLSet(data)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", l.config, err)
		}
		move(EnvChatPort, "guest_chat.listen", chat.Listen, opts.ChatListen(), isDemoAddr(chat.Listen, "") && !publicSet)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("%w: in %s %s. Set %s, %s and %s as on the first run, or correct the file",
			ErrConfigMismatch, l.config, strings.Join(refused, "; "), EnvHSPort, EnvASPort, EnvChatPort)
	}
	return moves, nil
}

// isDemoAddr reports whether addr is scheme followed by 127.0.0.1:<port>,
// the form in which the demo writes every address.
func isDemoAddr(addr, scheme string) bool {
	rest, ok := strings.CutPrefix(addr, scheme+"127.0.0.1:")
	if !ok {
		return false
	}
	port, err := strconv.Atoi(rest)
	return err == nil && port >= 1 && port <= 65535 && strconv.Itoa(port) == rest
}

// chatPublicURLSet reports whether the config text sets a non-empty
// guest_chat.public_url.
func chatPublicURLSet(data []byte) (bool, error) {
	root, err := parseRoot(data)
	if err != nil {
		return false, err
	}
	node := lookup(root, []string{"guest_chat", "public_url"})
	return node != nil && node.Value != "", nil
}

// serverNameChanged is the refusal for a directory made for another server
// name: it names the ways on, each as a command to copy.
func serverNameChanged(l layout, have string, opts Options) error {
	keep := fmt.Sprintf("set %s as on the first run", EnvFedPort)
	aside := l.dir + ".old"
	if port, ok := strings.CutPrefix(have, "localhost:"); ok {
		keep = fmt.Sprintf("keep the old port: %s=%s", EnvFedPort, port)
		aside += "-" + port
	}
	return fmt.Errorf("%w: %s holds the demo homeserver %q, and this run's %s=%d wants %q. "+
		"The server name is part of every account, room and key the homeserver stored, so the directory cannot move to another one. "+
		"Either %s; or start a new demo and keep this one as a backup: %s=1 (or -fresh) moves %s to %s.old-<time>; "+
		"or move it aside yourself: mv %s %s",
		ErrConfigMismatch, l.dir, have, EnvFedPort, opts.FedPort, opts.ServerName(),
		keep, EnvFresh, l.dir, l.dir, l.dir, aside)
}

// moveRegistration points registration.yaml at publicURL, the appservice
// URL of config.yaml, keeping the previous file as registration.yaml.old.
// It reports whether it changed the file. A missing registration, or one
// without a url, is left to generate-registration.
func moveRegistration(l layout, publicURL string) (bool, error) {
	data, err := os.ReadFile(l.registration)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", l.registration, err)
	}
	root, err := parseRoot(data)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", l.registration, err)
	}
	if node := lookup(root, []string{"url"}); node == nil || node.Value == publicURL {
		return false, nil
	}
	edited, ok := spliceValues(data, root, []demoSetting{{"url", publicURL}})
	if !ok {
		return false, fmt.Errorf("failed to set the url in %s; set it to %s", l.registration, publicURL)
	}
	if err := os.WriteFile(l.registration+".old", data, 0o600); err != nil {
		return false, fmt.Errorf("failed to keep the previous registration: %w", err)
	}
	tmp := l.registration + ".new"
	if err := os.WriteFile(tmp, edited, 0o600); err != nil {
		return false, fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, l.registration); err != nil {
		return false, fmt.Errorf("failed to replace %s: %w", l.registration, err)
	}
	return true, nil
}

// moveAside renames a state directory that holds anything to
// <dir>.old-<time>, so that a new demo starts from nothing and the old
// one is kept. It holds the directory's lock while renaming, so a running
// demo is never pulled away. It returns the new name, or "" if there was
// nothing to keep.
func (l layout) moveAside(now time.Time) (string, error) {
	entries, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("failed to read the state directory: %w", err)
	}
	unlock, err := l.lockDir()
	if err != nil {
		return "", err
	}
	defer unlock()
	base := l.dir + ".old-" + now.Format("20060102-150405")
	backup := base
	for i := 2; exists(backup); i++ {
		backup = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(l.dir, backup); err != nil {
		return "", fmt.Errorf("failed to move the state directory aside: %w", err)
	}
	return filepath.Clean(backup), nil
}
