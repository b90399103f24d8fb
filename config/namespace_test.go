package config

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

func namespaceConfig(serverName, template string) *Config {
	cfg := Default()
	cfg.Homeserver.ServerName = serverName
	if template != "" {
		cfg.AppService.GhostUsernameTemplate = template
	}
	return cfg
}

func TestNamespaceRegexes(t *testing.T) {
	tests := []struct {
		name, server, template string
		bot, users, aliases    string
	}{
		{"defaults", "stadt.example", "",
			`^@rathaus:stadt\.example$`, `^@_rathaus_.+:stadt\.example$`, `^#_rathaus_.+:stadt\.example$`},
		{"ip and port", "127.0.0.1:8448", "",
			`^@rathaus:127\.0\.0\.1:8448$`, `^@_rathaus_.+:127\.0\.0\.1:8448$`, `^#_rathaus_.+:127\.0\.0\.1:8448$`},
		{"ipv6", "[::1]:8448", "",
			`^@rathaus:\[::1\]:8448$`, `^@_rathaus_.+:\[::1\]:8448$`, `^#_rathaus_.+:\[::1\]:8448$`},
		{"template with suffix and metacharacters", "stadt.example", "rh.{{.}}+x",
			`^@rathaus:stadt\.example$`, `^@rh\..+\+x:stadt\.example$`, `^#rh\..+\+x:stadt\.example$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := namespaceConfig(tc.server, tc.template)
			assert.Equal(t, tc.bot, cfg.BotNamespaceRegex())
			assert.Equal(t, tc.users, cfg.UserNamespaceRegex())
			assert.Equal(t, tc.aliases, cfg.AliasNamespaceRegex())
		})
	}
}

func TestGhostIDs(t *testing.T) {
	cfg := namespaceConfig("stadt.example", "")
	assert.Equal(t, id.UserID("@rathaus:stadt.example"), cfg.BotUserID())
	assert.Equal(t, id.UserID("@_rathaus_guest_ab12:stadt.example"), cfg.GhostUserID("guest_ab12"))
	assert.Equal(t, id.RoomAlias("#_rathaus_bauamt:stadt.example"), cfg.GhostAlias("bauamt"))

	name, ok := cfg.GhostName("@_rathaus_guest_ab12:stadt.example")
	assert.True(t, ok)
	assert.Equal(t, "guest_ab12", name)
	_, ok = cfg.GhostName("@rathaus:stadt.example")
	assert.False(t, ok)

	suffixed := namespaceConfig("stadt.example", "rh_{{.}}_gast")
	assert.Equal(t, id.UserID("@rh_42_gast:stadt.example"), suffixed.GhostUserID("42"))
	name, ok = suffixed.GhostName(suffixed.GhostUserID("42"))
	assert.True(t, ok)
	assert.Equal(t, "42", name)
}

func TestIsOurUser(t *testing.T) {
	tests := []struct {
		name   string
		server string
		user   id.UserID
		ours   bool
	}{
		{"bot", "stadt.example", "@rathaus:stadt.example", true},
		{"ghost", "stadt.example", "@_rathaus_guest_ab12:stadt.example", true},
		{"one-character ghost", "stadt.example", "@_rathaus_x:stadt.example", true},
		{"bare prefix", "stadt.example", "@_rathaus_:stadt.example", false},
		{"bot on other server", "stadt.example", "@rathaus:nachbar.example", false},
		{"ghost on other server", "stadt.example", "@_rathaus_x:nachbar.example", false},
		{"dot is not a wildcard", "stadt.example", "@_rathaus_x:stadtXexample", false},
		{"server suffix only", "stadt.example", "@_rathaus_x:altstadt.example", false},
		{"ordinary user", "stadt.example", "@anna.schmidt:stadt.example", false},
		{"prefix not at start", "stadt.example", "@x_rathaus_y:stadt.example", false},
		{"room alias sigil", "stadt.example", "#_rathaus_x:stadt.example", false},
		{"newline in localpart", "stadt.example", "@_rathaus_a\nb:stadt.example", false},
		{"empty", "stadt.example", "", false},
		{"ip server bot", "127.0.0.1:8448", "@rathaus:127.0.0.1:8448", true},
		{"ip server ghost", "127.0.0.1:8448", "@_rathaus_g:127.0.0.1:8448", true},
		{"ip dots are literal", "127.0.0.1:8448", "@_rathaus_g:127x0x0x1:8448", false},
		{"ip other port", "127.0.0.1:8448", "@_rathaus_g:127.0.0.1:8449", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := namespaceConfig(tc.server, "")
			assert.Equal(t, tc.ours, cfg.IsOurUser(tc.user))

			// The fast string check must agree with the regexes the
			// homeserver enforces.
			bot := regexp.MustCompile(cfg.BotNamespaceRegex())
			ghosts := regexp.MustCompile(cfg.UserNamespaceRegex())
			s := string(tc.user)
			assert.Equal(t, bot.MatchString(s) || ghosts.MatchString(s), cfg.IsOurUser(tc.user))
		})
	}
}

func TestIsOurAlias(t *testing.T) {
	cfg := namespaceConfig("stadt.example", "")
	aliases := regexp.MustCompile(cfg.AliasNamespaceRegex())
	for _, tc := range []struct {
		alias id.RoomAlias
		ours  bool
	}{
		{"#_rathaus_bauamt:stadt.example", true},
		{"#bauamt:stadt.example", false},
		{"#_rathaus_bauamt:nachbar.example", false},
		{"@_rathaus_bauamt:stadt.example", false},
		{"#_rathaus_:stadt.example", false},
	} {
		t.Run(string(tc.alias), func(t *testing.T) {
			assert.Equal(t, tc.ours, cfg.IsOurAlias(tc.alias))
			assert.Equal(t, aliases.MatchString(string(tc.alias)), cfg.IsOurAlias(tc.alias))
		})
	}
}

func TestRegistration(t *testing.T) {
	cfg := mustParse(t, minimalYAML)
	reg := cfg.Registration()
	assert.Equal(t, "rathaus", reg.ID)
	assert.Equal(t, "http://127.0.0.1:29330", reg.URL)
	assert.Equal(t, testASToken, reg.AppToken)
	assert.Equal(t, testHSToken, reg.ServerToken)
	assert.Equal(t, "rathaus", reg.SenderLocalpart)
	require.NotNil(t, reg.RateLimited)
	assert.False(t, *reg.RateLimited)
	require.Len(t, reg.Namespaces.UserIDs, 2)
	assert.Equal(t, `^@rathaus:bad-beispielheim\.de$`, reg.Namespaces.UserIDs[0].Regex)
	assert.Equal(t, `^@_rathaus_.+:bad-beispielheim\.de$`, reg.Namespaces.UserIDs[1].Regex)
	require.Len(t, reg.Namespaces.RoomAliases, 1)
	assert.Equal(t, `^#_rathaus_.+:bad-beispielheim\.de$`, reg.Namespaces.RoomAliases[0].Regex)
	assert.Empty(t, reg.Namespaces.RoomIDs)
	for _, ns := range append(reg.Namespaces.UserIDs, reg.Namespaces.RoomAliases...) {
		assert.True(t, ns.Exclusive, ns.Regex)
	}

	out, err := reg.YAML()
	require.NoError(t, err)
	assert.Contains(t, out, "rate_limited: false")
}
