package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateSingleMistakes(t *testing.T) {
	tests := []struct {
		name    string
		overlay string
		key     string
		msg     string
	}{
		{"url without scheme", "homeserver:\n  url: matrix.bad-beispielheim.de", "homeserver.url", "http:// or https://"},
		{"url with credentials", "homeserver:\n  url: https://u:p@matrix.bad-beispielheim.de", "homeserver.url", "credentials"},
		{"url with bad port", "homeserver:\n  url: https://matrix.bad-beispielheim.de:99999", "homeserver.url", "port"},
		{"url placeholder", "homeserver:\n  url: https://matrix.stadt.example/", "homeserver.url", "placeholder"},
		{"server name missing", "homeserver:\n  server_name: ''", "homeserver.server_name", "required"},
		{"server name with scheme", "homeserver:\n  server_name: https://bad-beispielheim.de", "homeserver.server_name", "not a valid Matrix server name"},
		{"server name placeholder with port", "homeserver:\n  server_name: stadt.example:8448", "homeserver.server_name", "placeholder"},
		{"homeserver public url http", "homeserver:\n  public_url: http://matrix.bad-beispielheim.de", "homeserver.public_url", "https://"},
		{"homeserver public url with API path", "homeserver:\n  public_url: https://matrix.bad-beispielheim.de/_matrix/client", "homeserver.public_url", "without /_matrix"},
		{"homeserver public url placeholder", "homeserver:\n  public_url: https://matrix.stadt.example", "homeserver.public_url", "placeholder"},
		{"public url placeholder", "appservice:\n  public_url: https://rathaus.stadt.example", "appservice.public_url", `still the placeholder host "rathaus.stadt.example"`},
		{"guest chat public url placeholder", "guest_chat:\n  listen: 0.0.0.0:29332\n  public_url: https://chat.stadt.example", "guest_chat.public_url", `still the placeholder host "chat.stadt.example"`},
		{"embed origin placeholder", "guest_chat:\n  embed_origins: [https://portal.example.net]", "guest_chat.embed_origins[0]", `still the placeholder host "portal.example.net"`},
		{"appservice id uppercase", "appservice:\n  id: Rathaus", "appservice.id", "a-z"},
		{"listen without port", "appservice:\n  listen: 127.0.0.1", "appservice.listen", "host:port"},
		{"listen port zero", "appservice:\n  listen: 127.0.0.1:0", "appservice.listen", "1 to 65535"},
		{"public url not http", "appservice:\n  public_url: unix:///run/rathaus.sock", "appservice.public_url", "http://"},
		{"as_token missing", "appservice:\n  as_token: ''", "appservice.as_token", "required"},
		{"hs_token too short", "appservice:\n  hs_token: abc", "appservice.hs_token", "at least 32"},
		{"token with space", "appservice:\n  hs_token: '" + strings.Repeat("a", 20) + " " + strings.Repeat("b", 20) + "'", "appservice.hs_token", "visible ASCII"},
		{"tokens equal", "appservice:\n  hs_token: " + testASToken, "appservice.hs_token", "must differ"},
		{"transaction limit too small", "appservice:\n  max_transaction_bytes: 1024", "appservice.max_transaction_bytes", "at least 1048576"},
		{"inbox bound zero", "appservice:\n  max_pending_events: 0", "appservice.max_pending_events", "at least 1"},
		{"template without placeholder", "appservice:\n  ghost_username_template: rathaus_", "appservice.ghost_username_template", "exactly once"},
		{"template twice", "appservice:\n  ghost_username_template: '_r_{{.}}_{{.}}'", "appservice.ghost_username_template", "exactly once"},
		{"template without prefix", "appservice:\n  ghost_username_template: '{{.}}_rathaus'", "appservice.ghost_username_template", "prefix"},
		{"template uppercase", "appservice:\n  ghost_username_template: '_Rathaus_{{.}}'", "appservice.ghost_username_template", "a-z"},
		{"template other action", "appservice:\n  ghost_username_template: '_r_{{.Name}}'", "appservice.ghost_username_template", "exactly once"},
		{"bot localpart invalid", "appservice:\n  bot:\n    localpart: Rathaus", "appservice.bot.localpart", "not a valid localpart"},
		{"bot inside ghost namespace", "appservice:\n  bot:\n    localpart: _rathaus_bot", "appservice.bot.localpart", "ghost namespace"},
		{"bot displayname empty", "appservice:\n  bot:\n    displayname: ' '", "appservice.bot.displayname", "empty"},
		{"database type", "database:\n  type: mysql", "database.type", "sqlite, postgres"},
		{"sqlite given postgres uri", "database:\n  uri: postgres://db/rathaus", "database.uri", "database.type: postgres"},
		{"postgres bad uri", "database:\n  type: postgres\n  uri: mysql://u:secretpw@db/rathaus", "database.uri", "postgres://"},
		{"homeserver URL with the API path", "homeserver:\n  url: https://matrix.bad-beispielheim.de/_matrix/client/v3", "homeserver.url",
			`without "/_matrix/client/v3": use https://matrix.bad-beispielheim.de`},
		{"max_open_conns zero", "database:\n  max_open_conns: 0", "database.max_open_conns", "at least 1"},
		{"sqlite file in a missing directory", "database:\n  uri: /nonexistent-rathaus-dir/rathaus.db", "database.uri", "the directory /nonexistent-rathaus-dir does not exist; create it"},
		{"sqlite file: URI in a missing directory", "database:\n  uri: file:/nonexistent-rathaus-dir/r.db?_pragma=x", "database.uri", "/nonexistent-rathaus-dir does not exist"},
		{"max_idle_conns negative", "database:\n  max_idle_conns: -1", "database.max_idle_conns", "negative"},
		{"max_idle above max_open", "database:\n  max_open_conns: 1\n  max_idle_conns: 2", "database.max_idle_conns", "exceed"},
		{"log level", "logging:\n  level: verbose", "logging.level", "trace, debug"},
		{"log format", "logging:\n  format: text", "logging.format", "console, json"},
		{"metrics listen bad", "metrics:\n  enabled: true\n  listen: localhost", "metrics.listen", "host:port"},
		{"metrics listen clash", "metrics:\n  enabled: true\n  listen: 127.0.0.1:29330", "metrics.listen", "differ"},
		{"authority name empty", "authority:\n  name: ''", "authority.name", "required"},
		{"authority name placeholder", "authority:\n  name: Gemeinde Musterstadt", "authority.name", "placeholder"},
		{"retention keep_closed zero", "retention:\n  keep_closed: 0s", "retention.keep_closed", "at least 1s"},
		{"retention close_resolved_after zero", "retention:\n  close_resolved_after: 0s", "retention.close_resolved_after", "at least 1s"},
		{"session shorter than the abandonment", "guest_chat:\n  session_lifetime: 24h\nretention:\n  abandon_after: 48h", "guest_chat.session_lifetime", "retention.abandon_after"},
		{"session after case end zero", "guest_chat:\n  session_after_case_end: 0s", "guest_chat.session_after_case_end", "from 1s to 24h"},
		{"session after case end too long", "guest_chat:\n  session_after_case_end: 25h", "guest_chat.session_after_case_end", "from 1s to 24h"},
		{"retention idle warning too long", "retention:\n  abandon_after: 1h\n  idle_warning: 2h", "retention.idle_warning", "shorter than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, minimalYAML, tc.overlay))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

func TestValidateNeverEchoesDatabasePassword(t *testing.T) {
	_, ve := validationErrors(t, mergeYAML(t, minimalYAML, "database:\n  type: postgres\n  uri: mysql://u:secretpw@db/x"))
	assert.NotContains(t, ve.Error(), "secretpw")
}

func TestMetricsListenIgnoredWhenDisabled(t *testing.T) {
	mustParse(t, mergeYAML(t, minimalYAML, "metrics:\n  enabled: false\n  listen: nonsense"))
}

func TestValidateReturnsUntypedNil(t *testing.T) {
	cfg := mustParse(t, minimalYAML)
	err := cfg.Validate()
	assert.True(t, err == nil, "Validate must return a nil interface, got %#v", err)
}

func TestFieldErrorFormat(t *testing.T) {
	ve := ValidationErrors{
		{Key: "a.b", Message: "first"},
		{Key: "c", Message: "second"},
	}
	assert.Equal(t, "a.b: first\nc: second", ve.Error())
	assert.Equal(t, "a.b: first", ve[0].Error())
	assert.True(t, ve.Has("c"))
	assert.False(t, ve.Has("a"))
}

func TestEnums(t *testing.T) {
	assert.True(t, DatabasePostgres.Valid())
	assert.False(t, DatabaseType("mysql").Valid())
	assert.True(t, LogTrace.Valid())
	assert.False(t, LogLevel("fatal").Valid())
	assert.Equal(t, "debug", LogDebug.Zerolog().String())
	assert.True(t, LogFormatJSON.Valid())
	assert.False(t, LogFormat("text").Valid())
}

func TestHomeserverBrowserURL(t *testing.T) {
	for _, tc := range []struct{ url, public, want string }{
		{"https://matrix.pruefheim.de/", "", "https://matrix.pruefheim.de"},
		{"http://127.0.0.1:8008", "", "http://127.0.0.1:8008"},
		{"http://synapse:8008", "", ""},
		{"http://synapse:8008", "https://matrix.pruefheim.de/", "https://matrix.pruefheim.de"},
	} {
		assert.Equal(t, tc.want, HomeserverConfig{URL: tc.url, PublicURL: tc.public}.BrowserURL(), tc)
	}
}
