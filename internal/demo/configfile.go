package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

const configHeader = `# rathaus configuration of the local demo, written by rathaus-demo (make run)
# on its first run from the example below, with the example's staff replaced
# by accounts of the demo homeserver. Edit it freely; the demo writes it
# again only to move its addresses to new ports (keeping config.yaml.old),
# and on every start it creates the accounts of the staff of this server
# listed here. To start over, run the demo once with RATHAUS_DEMO_FRESH=1:
# it moves the whole demo directory aside as a backup.

`

// demoSetting is one value the demo puts into the example configuration.
type demoSetting struct{ key, value string }

func demoSettings(opts Options) []demoSetting {
	return []demoSetting{
		{"homeserver.url", opts.HomeserverURL()},
		{"homeserver.server_name", opts.ServerName()},
		{"appservice.listen", opts.ASListen()},
		{"appservice.public_url", "http://" + opts.ASListen()},
		// guest_chat.public_url stays "": rathaus derives it from a loopback
		// listener, so it always matches the port.
		{"guest_chat.listen", opts.ChatListen()},
		{"database.type", string(config.DatabaseSQLite)},
		// Relative to the state directory, where rathaus runs.
		{"database.uri", "rathaus.db"},
		{"logging.level", string(config.LogInfo)},
		{"logging.format", string(config.LogFormatConsole)},
		{"metrics.enabled", "false"},
		{"authority.name", AuthorityName},
		// The demo's own privacy notice (privacy.go); privacy_url follows.
		{"guest_chat.privacy_page", privacyPageFile},
		// Video consultations on loopback: media on a free UDP port, no
		// ICE-TCP, loopback candidates (a browser on this machine).
		{"video.enabled", "true"},
		{"video.ice.udp", "127.0.0.1:0"},
		{"video.ice.tcp", `""`},
		{"video.ice.include_loopback", "true"},
	}
}

// demoConfig returns the embedded example configuration with the demo's
// values and staff set and the tokens still "generate". It replaces the
// values and the staff lists in place, so the example's comments and layout
// stay as they are (see editConfig).
func demoConfig(opts Options) ([]byte, error) {
	data, err := editConfig(rathaus.ExampleConfig, demoSettings(opts), demoStaff(opts.ServerName()))
	if err != nil {
		return nil, fmt.Errorf("failed to make the demo config from the example: %w", err)
	}
	if data, err = withoutExampleOZGServices(data); err != nil {
		return nil, err
	}
	data = append([]byte(configHeader), data...)
	// Everything but the tokens must already be valid: this catches an
	// example config that gained a required key the demo does not set.
	cfg, err := config.Parse(data)
	if problems := nonTokenProblems(err); len(problems) > 0 {
		return nil, fmt.Errorf("the demo config would be invalid: %w", problems)
	}
	if err := checkFits(cfg, opts, layout{}, true); err != nil {
		return nil, fmt.Errorf("the demo config does not say what was meant: %w", err)
	}
	if err := checkStaff(cfg, demoStaff(opts.ServerName())); err != nil {
		return nil, fmt.Errorf("the demo config does not say what was meant: %w", err)
	}
	return data, nil
}

// checkStaff reports whether cfg has exactly the staff lists of want.
func checkStaff(cfg *config.Config, want []staffSetting) error {
	for _, w := range want {
		d := cfg.Department(w.department)
		if d == nil {
			return fmt.Errorf("no department %q", w.department)
		}
		if !slices.Equal(d.Staff, w.staff) {
			return fmt.Errorf("department %q has staff %v, not %v", w.department, d.Staff, w.staff)
		}
	}
	return nil
}

// spliceValues replaces the source text of each setting's value, which must
// be a plain or quoted scalar alone on its line after the key.
func spliceValues(src []byte, root *yaml.Node, settings []demoSetting) ([]byte, bool) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	for _, kv := range settings {
		node := lookup(root, strings.Split(kv.key, "."))
		if node == nil || node.Kind != yaml.ScalarNode || node.LineComment != "" || node.Line < 1 || node.Line > len(lines) {
			return nil, false
		}
		line := lines[node.Line-1]
		// yaml.v3 counts columns in characters, not bytes.
		col := 0
		for i := 1; i < node.Column && col < len(line); i++ {
			_, size := utf8.DecodeRune(line[col:])
			col += size
		}
		body := bytes.TrimRight(line[col:], " \t\r\n")
		switch {
		case node.Style == 0 && string(body) == node.Value:
		case node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && len(body) >= 2 && body[0] == body[len(body)-1]:
		default:
			return nil, false
		}
		newLine := append([]byte{}, line[:col]...)
		newLine = append(newLine, kv.value...)
		newLine = append(newLine, line[col+len(body):]...)
		lines[node.Line-1] = newLine
	}
	return bytes.Join(lines, nil), true
}

// lookup returns the value node at path below mapping, or nil.
func lookup(mapping *yaml.Node, path []string) *yaml.Node {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			return mapping.Content[i+1]
		}
		if mapping.Content[i+1].Kind != yaml.MappingNode {
			return nil
		}
		return lookup(mapping.Content[i+1], path[1:])
	}
	return nil
}

// setKey sets the scalar at path below mapping, creating what is missing.
// Scalars keep their comments; the value's YAML type follows from its text.
func setKey(mapping *yaml.Node, path []string, value string) {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value != path[0] {
			continue
		}
		node := mapping.Content[i+1]
		if len(path) == 1 {
			node.Kind, node.Tag, node.Value, node.Style, node.Content = yaml.ScalarNode, "", value, 0, nil
			return
		}
		if node.Kind != yaml.MappingNode {
			*node = yaml.Node{Kind: yaml.MappingNode, HeadComment: node.HeadComment}
		}
		setKey(node, path[1:], value)
		return
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Value: path[0]}
	if len(path) == 1 {
		mapping.Content = append(mapping.Content, key, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
		return
	}
	child := &yaml.Node{Kind: yaml.MappingNode}
	mapping.Content = append(mapping.Content, key, child)
	setKey(child, path[1:], value)
}

// tokenKeys are the keys generate-registration fills in.
var tokenKeys = map[string]bool{"appservice.as_token": true, "appservice.hs_token": true}

// nonTokenProblems returns the validation problems in err other than the
// tokens', or err itself if it is not a validation error.
func nonTokenProblems(err error) config.ValidationErrors {
	if err == nil {
		return nil
	}
	var problems config.ValidationErrors
	if !errors.As(err, &problems) {
		return config.ValidationErrors{{Message: err.Error()}}
	}
	var rest config.ValidationErrors
	for _, p := range problems {
		if !tokenKeys[p.Key] {
			rest = append(rest, p)
		}
	}
	return rest
}

// prepareConfig writes the config on the first run, has rathaus generate
// the registration and tokens when they are missing, and returns the
// loaded, valid config after checking that it fits opts.
func prepareConfig(ctx context.Context, opts Options, l layout, out *console) (*config.Config, error) {
	if !exists(l.config) {
		data, err := demoConfig(opts)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(l.config, data, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", l.config, err)
		}
		out.Printf("Wrote the rathaus config %s.\n", out.Path(l.config))
	}
	cfg, err := config.Load(l.config)
	// rathaus refuses the example's staff (placeholders) and a chat without
	// a privacy notice; upgradeConfig below fixes both in a demo from
	// before.
	if problems := beyondUpgrade(withoutPrivacyProblem(cfg, nonTokenProblems(err)), cfg, opts); len(problems) > 0 {
		return nil, fmt.Errorf("%s is invalid (fix it or delete %s to start over): %w", l.config, l.dir, problems)
	}
	data, err := os.ReadFile(l.config)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	chatChosen, err := chatPortChosen(data)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	moves, err := portMoves(cfg, data, opts, l, chatChosen)
	if err != nil {
		return nil, err
	}
	upgraded, uerr := upgradeConfig(cfg, opts, l, moves, out)
	if uerr != nil {
		return nil, uerr
	}
	if upgraded {
		cfg, err = config.Load(l.config)
		if problems := nonTokenProblems(err); len(problems) > 0 {
			return nil, fmt.Errorf("%s is invalid after the upgrade: %w", l.config, problems)
		}
	}
	// The homeserver pushes to the registration's url: it follows
	// appservice.public_url, also after a move that stopped half way.
	if moved, merr := moveRegistration(l, cfg.AppService.PublicURL); merr != nil {
		return nil, merr
	} else if moved {
		out.Printf("Pointed the registration %s at %s; the previous file is %s.\n",
			out.Path(l.registration), cfg.AppService.PublicURL, out.Path(l.registration+".old"))
	}
	if err != nil || !exists(l.registration) {
		if err := generateRegistration(ctx, opts, l); err != nil {
			return nil, err
		}
		out.Printf("Generated the appservice registration %s and stored its tokens in the config.\n", out.Path(l.registration))
		if cfg, err = config.Load(l.config); err != nil {
			return nil, fmt.Errorf("%s is invalid after generate-registration: %w", l.config, err)
		}
	}
	return cfg, nil
}

// checkFits compares what the config says about addresses with opts, so a
// port that was not moved (see portMoves) is reported instead of half
// applied. The guest chat's port
// counts only if the chat is on and the file sets it (chatChosen): a file
// from before the guest chat gets this run's port from upgradeConfig.
func checkFits(cfg *config.Config, opts Options, l layout, chatChosen bool) error {
	type pair struct{ key, have, want string }
	pairs := []pair{
		{"homeserver.url", cfg.Homeserver.URL, opts.HomeserverURL()},
		{"homeserver.server_name", cfg.Homeserver.ServerName, opts.ServerName()},
		{"appservice.listen", cfg.AppService.Listen, opts.ASListen()},
	}
	if cfg.GuestChat.Enabled && chatChosen {
		pairs = append(pairs, pair{"guest_chat.listen", cfg.GuestChat.Listen, opts.ChatListen()})
	}
	var diffs []string
	for _, p := range pairs {
		if p.have != p.want {
			diffs = append(diffs, fmt.Sprintf("%s is %q, this run wants %q", p.key, p.have, p.want))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: in %s %s. Set %s, %s, %s and %s as on the first run, or delete %s to start over",
		ErrConfigMismatch, l.config, strings.Join(diffs, "; "), EnvHSPort, EnvFedPort, EnvASPort, EnvChatPort, l.dir)
}

// generateRegistration runs `rathaus generate-registration`, which writes
// registration.yaml and the tokens into config.yaml.
func generateRegistration(ctx context.Context, opts Options, l layout) error {
	cmd := exec.CommandContext(ctx, opts.RathausBin, "generate-registration", "-c", l.config, "-o", l.registration)
	cmd.Dir = l.dir
	output, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("failed to run %s generate-registration: %w\n%s", opts.RathausBin, err, bytes.TrimSpace(output))
	}
	return nil
}

// withoutExampleOZGServices drops the example's online service from the
// ozg section: its key is the published example key, which rathaus
// refuses, and the demo has no online service to hand citizens over.
// docs/ozg.md says how to add one.
func withoutExampleOZGServices(data []byte) ([]byte, error) {
	text := string(data)
	section := strings.Index(text, "\nozg:\n")
	if section < 0 {
		return data, nil
	}
	start := strings.Index(text[section:], "\n  services:\n")
	if start < 0 {
		return nil, errors.New("the example's ozg section has no services list where the demo expects it")
	}
	start += section + 1
	end := len(text)
	// The list ends at the next top-level key.
	for i := start; i < len(text)-1; i++ {
		if text[i] == '\n' && text[i+1] != ' ' && text[i+1] != '#' && text[i+1] != '\n' {
			end = i + 1
			break
		}
	}
	return []byte(text[:start] + "  services: []\n" + text[end:]), nil
}
