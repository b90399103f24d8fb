package demo

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/config"
)

// The demo's privacy notice. A public chat must link one (check-config
// refuses it otherwise), and the demo authority has no website, so the demo
// writes its own page into the state directory and has the guest chat serve
// it (guest_chat.privacy_page; authority.privacy_url then defaults to
// <chat>/datenschutz). It is written again on every start from the loaded
// config, so the retention periods it names are the ones that apply.

// privacyPageFile is the page's name in the state directory, where rathaus
// runs: the config names it relative to that.
const privacyPageFile = "privacy.html"

//go:embed privacy.html
var privacyHTML string

var privacyTemplate = template.Must(template.New(privacyPageFile).Parse(privacyHTML))

// privacyData fills privacy.html.
type privacyData struct {
	Authority                                string
	SessionDE, AbandonDE, ResolvedDE, KeepDE string
	SessionEN, AbandonEN, ResolvedEN, KeepEN string
	AfterEndDE, AfterEndEN                   string
	Attachments                              bool
	TypesDE, TypesEN, MaxSize                string
}

// PrivacyPage renders the demo's privacy notice for cfg (exported for the
// browser test of widgets/guestchat, which serves it as the chat does).
func PrivacyPage(cfg *config.Config) ([]byte, error) {
	g, r := cfg.GuestChat, cfg.Retention
	d := privacyData{
		Authority: cfg.Authority.Name,
		SessionDE: durationDE(g.SessionLifetime), AbandonDE: durationDE(r.AbandonAfter),
		ResolvedDE: durationDE(r.CloseResolvedAfter), KeepDE: durationDE(r.KeepClosed),
		SessionEN: durationEN(g.SessionLifetime), AbandonEN: durationEN(r.AbandonAfter),
		ResolvedEN: durationEN(r.CloseResolvedAfter), KeepEN: durationEN(r.KeepClosed),
		AfterEndDE: durationDE(g.SessionAfterCaseEnd), AfterEndEN: durationEN(g.SessionAfterCaseEnd),
		Attachments: g.MaxAttachmentBytes > 0 && len(g.AttachmentTypes) > 0,
		MaxSize:     fmt.Sprintf("%d MB", max(1, (g.MaxAttachmentBytes+(1<<20)-1)>>20)),
	}
	var kinds []string
	for _, t := range g.AttachmentTypes {
		kind, ok := typeNames[t]
		if !ok {
			kind = t
		}
		kinds = append(kinds, kind)
	}
	d.TypesDE = joinWords(kinds, "und")
	d.TypesEN = joinWords(kinds, "and")
	var buf bytes.Buffer
	if err := privacyTemplate.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("failed to render the privacy page: %w", err)
	}
	return buf.Bytes(), nil
}

// typeNames are the names people know the attachment types by.
var typeNames = map[string]string{"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP",
	"application/pdf": "PDF"}

// joinWords lists words as prose: "a, b und c".
func joinWords(words []string, and string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}

// durationDE says d in German words: "30 Tage", "1 Stunde", "90 Minuten".
func durationDE(d time.Duration) string {
	return durationWords(d, [3][2]string{{"Tag", "Tage"}, {"Stunde", "Stunden"}, {"Minute", "Minuten"}}, "Sekunden")
}

// durationEN says d in English words: "30 days", "1 hour".
func durationEN(d time.Duration) string {
	return durationWords(d, [3][2]string{{"day", "days"}, {"hour", "hours"}, {"minute", "minutes"}}, "seconds")
}

func durationWords(d time.Duration, units [3][2]string, seconds string) string {
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if d >= unit && d%unit == 0 {
			n := int64(d / unit)
			if n == 1 {
				return "1 " + units[i][0]
			}
			return fmt.Sprintf("%d %s", n, units[i][1])
		}
	}
	return fmt.Sprintf("%d %s", int64(d/time.Second), seconds)
}

// writePrivacyPage writes the demo's privacy notice into the state
// directory if the config serves it; a page of the operator's own under
// another name is left alone.
func writePrivacyPage(cfg *config.Config, l layout) error {
	if !cfg.GuestChat.Enabled || cfg.GuestChat.PrivacyPage != privacyPageFile {
		return nil
	}
	page, err := PrivacyPage(cfg)
	if err != nil {
		return err
	}
	path := filepath.Join(l.dir, privacyPageFile)
	if err := os.WriteFile(path, page, 0o644); err != nil { //nolint:gosec // a public page
		return fmt.Errorf("failed to write the privacy page %s: %w", path, err)
	}
	return nil
}

// upgradePrivacyNote heads a config.yaml that upgradeConfig gave the
// demo's privacy page.
const upgradePrivacyNote = `# Upgraded by rathaus-demo: a guest chat needs a privacy notice now, so
# guest_chat.privacy_page serves the demo's own. The previous file is
# config.yaml.old.
`

// needsPrivacyPage reports whether cfg, from an earlier demo, has a guest
// chat without any privacy notice: rathaus refuses that now, and
// upgradeConfig gives it the demo's page. A privacy URL or page of the
// operator's own, a chat that is off or the tests' opt-out need nothing.
func needsPrivacyPage(cfg *config.Config) bool {
	g := cfg.GuestChat
	return g.Enabled && cfg.Authority.PrivacyURL == "" && g.PrivacyPage == "" && !g.AllowMissingPrivacyNotice
}

// withoutPrivacyProblem drops the missing privacy notice from the problems
// of a config that upgradeConfig will give the demo's page, so that such
// a file gets as far as the upgrade.
func withoutPrivacyProblem(cfg *config.Config, problems config.ValidationErrors) config.ValidationErrors {
	if cfg == nil || !needsPrivacyPage(cfg) {
		return problems
	}
	var rest config.ValidationErrors
	for _, p := range problems {
		if p.Key != "authority.privacy_url" {
			rest = append(rest, p)
		}
	}
	return rest
}

// setGuestChatKey sets guest_chat.<key> in a config text, keeping every
// line: a key that is there gets the value in place, a missing guest_chat section is appended, a block
// section gets the key as its first line, any other shape goes through
// editConfig, which re-encodes.
func setGuestChatKey(src []byte, key, value string) ([]byte, error) {
	root, err := parseRoot(src)
	if err != nil {
		return nil, err
	}
	if lookup(root, []string{"guest_chat", key}) != nil {
		return editConfig(src, []demoSetting{{"guest_chat." + key, value}}, nil)
	}
	k, section := entry(root, "guest_chat")
	if section == nil {
		out := bytes.Clone(src)
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		return fmt.Appendf(out, "\n# The citizens' guest chat (docs/guest-chat.md), added by rathaus-demo.\nguest_chat:\n  %s: %s\n", key, value), nil
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	if section.Kind == yaml.MappingNode && section.Style&yaml.FlowStyle == 0 && len(section.Content) > 0 &&
		section.Line > k.Line && section.Line <= len(lines) {
		at := section.Line - 1
		pad := strings.Repeat(" ", indentation(lines[at]))
		edited := slices.Concat(lines[:at], [][]byte{[]byte(pad + key + ": " + value + "\n")}, lines[at:])
		return bytes.Join(edited, nil), nil
	}
	return editConfig(src, []demoSetting{{"guest_chat." + key, value}}, nil)
}
