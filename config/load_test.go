package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDefaults(t *testing.T) {
	cfg := mustParse(t, minimalYAML)

	assert.Equal(t, "rathaus", cfg.AppService.ID)
	assert.Equal(t, "127.0.0.1:29330", cfg.AppService.Listen)
	assert.Equal(t, "http://127.0.0.1:29330", cfg.AppService.PublicURL)
	assert.EqualValues(t, 10485760, cfg.AppService.MaxTransactionBytes)
	assert.EqualValues(t, 100000, cfg.AppService.MaxPendingEvents)
	assert.Equal(t, "rathaus", cfg.AppService.Bot.Localpart)
	assert.Equal(t, "Rathaus", cfg.AppService.Bot.Displayname)
	assert.Equal(t, "_rathaus_{{.}}", cfg.AppService.GhostUsernameTemplate)
	assert.Equal(t, DatabaseSQLite, cfg.Database.Type)
	assert.Equal(t, "rathaus.db", cfg.Database.URI)
	assert.Equal(t, 5, cfg.Database.MaxOpenConns)
	assert.Equal(t, 0, cfg.Database.MaxIdleConns, "0 keeps every open connection")
	assert.Equal(t, LogInfo, cfg.Logging.Level)
	assert.Equal(t, LogFormatConsole, cfg.Logging.Format)
	assert.False(t, cfg.Metrics.Enabled)
	assert.Equal(t, "127.0.0.1:29331", cfg.Metrics.Listen)
}

func TestParseDerivedDefaults(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		publicURL string
		dbURI     string
		errKeys   []string
	}{
		{name: "public_url from IPv6 listen", extra: "appservice:\n  listen: \"[::1]:8080\"\n",
			publicURL: "http://[::1]:8080", dbURI: "rathaus.db"},
		{name: "explicit public_url wins", extra: "appservice:\n  public_url: https://rathaus.internal:8443\n",
			publicURL: "https://rathaus.internal:8443", dbURI: "rathaus.db"},
		{name: "wildcard listen needs public_url", extra: "appservice:\n  listen: \":29330\"\n",
			errKeys: []string{"appservice.public_url"}},
		{name: "unspecified IP listen needs public_url", extra: "appservice:\n  listen: 0.0.0.0:29330\n",
			errKeys: []string{"appservice.public_url"}},
		{name: "postgres has no default uri", extra: "database:\n  type: postgres\n",
			errKeys: []string{"database.uri"}},
		{name: "postgres with uri", extra: "database:\n  type: postgres\n  uri: postgres://rathaus:pw@db/rathaus?sslmode=disable\n",
			publicURL: "http://127.0.0.1:29330", dbURI: "postgres://rathaus:pw@db/rathaus?sslmode=disable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := mergeYAML(t, minimalYAML, tc.extra)
			if tc.errKeys != nil {
				_, ve := validationErrors(t, doc)
				assert.Equal(t, tc.errKeys, ve.Keys())
				return
			}
			cfg := mustParse(t, doc)
			assert.Equal(t, tc.publicURL, cfg.AppService.PublicURL)
			assert.Equal(t, tc.dbURI, cfg.Database.URI)
		})
	}
}

func TestParseReportsEveryMistake(t *testing.T) {
	doc := mergeYAML(t, minimalYAML, `
homeserver:
  url: "matrix.bad-beispielheim.de"
appservice:
  bot:
    nmae: Rathaus
database:
  type: mysql
`)
	_, ve := validationErrors(t, doc)
	assert.ElementsMatch(t, []string{"homeserver.url", "appservice.bot.nmae", "database.type"}, ve.Keys(), "errors: %v", ve)
	assert.Contains(t, ve.Error(), "appservice.bot.nmae: unknown key")
	assert.Contains(t, ve.Error(), "database.type: \"mysql\" is not one of sqlite, postgres")
}

func TestParseDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		key  string
		msg  string
	}{
		{"unknown top-level key", "homeservr:\n  url: x\n", "homeservr", "unknown key"},
		{"unknown nested key", "appservice:\n  bot:\n    avatar: mxc://x/y\n", "appservice.bot.avatar", "unknown key"},
		{"wrong type", "database:\n  max_open_conns: many\n", "database.max_open_conns", "must be a whole number"},
		{"list for a scalar", "logging:\n  level: [info]\n", "logging.level", "must be a single value"},
		{"scalar for a section", "metrics: yes\n", "metrics", "must be a mapping"},
		{"duplicate key", "logging:\n  level: info\n  level: debug\n", "logging.level", "duplicate key"},
		{"a typo gets a suggestion and its line", "appservice:\n  bot:\n    dispalyname: Rathaus\n", "appservice.bot.dispalyname",
			`did you mean "displayname"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, minimalYAML, tc.doc))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

// TestParseDuplicateKeyOnce: a duplicate key is reported as duplicate, and
// the rest of its section still counts (not "required").
func TestParseDuplicateKeyOnce(t *testing.T) {
	_, err := Parse([]byte("homeserver:\n  url: https://matrix.bad-beispielheim.de\n  url: https://matrix2.bad-beispielheim.de\n  server_name: bad-beispielheim.de\nappservice:\n  bot:\n    dispalyname: x\n"))
	var ve ValidationErrors
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Error(), "homeserver.url: duplicate key (line 3, first at line 2)")
	assert.Contains(t, ve.Error(), `appservice.bot.dispalyname: unknown key (line 7); did you mean "displayname"?`)
	assert.NotContains(t, ve.Keys(), "homeserver.server_name", "decoded despite the duplicate beside it")
	for _, e := range ve {
		if e.Key == "homeserver.url" {
			assert.Contains(t, e.Message, "duplicate key", "reported once, as duplicate")
		}
	}
}

func TestParseRefusesNonConfigs(t *testing.T) {
	tests := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", ErrEmptyConfig},
		{"only comments", "# nothing here\n", ErrEmptyConfig},
		{"null", "~\n", ErrEmptyConfig},
		{"list", "- a\n- b\n", ErrNotMapping},
		{"string", "hello\n", ErrNotMapping},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.data))
			assert.ErrorIs(t, err, tc.want)
			assert.Nil(t, cfg)
		})
	}
	t.Run("syntax error", func(t *testing.T) {
		cfg, err := Parse([]byte("homeserver: [unclosed\n"))
		require.Error(t, err)
		assert.NotErrorAs(t, err, new(ValidationErrors))
		assert.Nil(t, cfg)
	})
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimalYAML), 0o600))
	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "Stadt Bad Beispielheim", cfg.Authority.Name)

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
