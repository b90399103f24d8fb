// Package config owns rathaus's configuration file: the typed schema, its
// defaults, strict loading (unknown keys are errors), validation that reports
// every problem with its dotted key, the values derived from it (bot and
// ghost user IDs, namespace regexes, the appservice registration) and the
// in-place rewrite of the appservice tokens.
//
// The embedded example-config.yaml in the module root documents every key;
// a test keeps it and this package in step.
package config

import (
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// Config is the whole rathaus configuration file.
type Config struct {
	Homeserver HomeserverConfig `yaml:"homeserver"`
	AppService AppServiceConfig `yaml:"appservice"`
	Database   DatabaseConfig   `yaml:"database"`
	Logging    LoggingConfig    `yaml:"logging"`
	Metrics    MetricsConfig    `yaml:"metrics"`
	Authority  AuthorityConfig  `yaml:"authority"`
	// Departments are the authority's departments (Ämter), each with its
	// rooms, services, office hours and staff. May be empty.
	Departments []DepartmentConfig `yaml:"departments"`
	GuestChat   GuestChatConfig    `yaml:"guest_chat"`
	Retention   RetentionConfig    `yaml:"retention"`
	// OZG connects the OZG online services (docs/ozg.md).
	OZG OZGConfig `yaml:"ozg"`
	// Widgets are the room widgets rathaus serves (docs/ozg.md).
	Widgets WidgetsConfig `yaml:"widgets"`
	// Video is video consultations in case rooms (docs/video.md).
	Video VideoConfig `yaml:"video"`
}

// HomeserverConfig says which homeserver rathaus belongs to.
type HomeserverConfig struct {
	// URL is the client-server API base URL rathaus calls.
	URL string `yaml:"url"`
	// ServerName is the homeserver's server name, the part after the colon
	// in user IDs.
	ServerName string `yaml:"server_name"`
	// PublicURL is the client-server API URL as browsers reach it, for
	// the staff pages' sign-in outside a widget host (see BrowserURL).
	PublicURL string `yaml:"public_url"`
}

// BrowserURL is where staff members' browsers reach the homeserver's
// client-server API: public_url, or url when that is https:// or on a
// loopback host (browsers reach neither an internal http:// address nor
// one behind it), else "".
func (h HomeserverConfig) BrowserURL() string {
	if h.PublicURL != "" {
		return strings.TrimSuffix(h.PublicURL, "/")
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "https" && !IsLoopbackHost(u.Hostname())) {
		return ""
	}
	return strings.TrimSuffix(h.URL, "/")
}

// AppServiceConfig is rathaus's side of the appservice registration.
type AppServiceConfig struct {
	ID                  string `yaml:"id"`
	Listen              string `yaml:"listen"`
	PublicURL           string `yaml:"public_url"`
	ASToken             string `yaml:"as_token"`
	HSToken             string `yaml:"hs_token"`
	MaxTransactionBytes int64  `yaml:"max_transaction_bytes"`
	// MaxPendingEvents bounds the inbox (see example-config.yaml).
	MaxPendingEvents int64     `yaml:"max_pending_events"`
	Bot              BotConfig `yaml:"bot"`
	// GhostUsernameTemplate turns a ghost name into a localpart; it contains
	// exactly one "{{.}}". Room aliases owned by rathaus use it as well.
	GhostUsernameTemplate string `yaml:"ghost_username_template"`
}

// BotConfig is the appservice's own user (the registration's sender).
type BotConfig struct {
	Localpart   string `yaml:"localpart"`
	Displayname string `yaml:"displayname"`
}

// DatabaseConfig selects the database engine and its connection pool.
type DatabaseConfig struct {
	Type DatabaseType `yaml:"type"`
	// URI is a file path for SQLite and a postgres:// URI for PostgreSQL.
	URI          string `yaml:"uri"`
	MaxOpenConns int    `yaml:"max_open_conns"`
	// MaxIdleConns is how many idle connections are kept; 0 keeps all.
	MaxIdleConns int `yaml:"max_idle_conns"`
}

// LoggingConfig controls the zerolog output.
type LoggingConfig struct {
	Level  LogLevel  `yaml:"level"`
	Format LogFormat `yaml:"format"`
}

// MetricsConfig controls the Prometheus endpoint.
type MetricsConfig struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
}

// AuthorityConfig describes the public authority this rathaus serves.
type AuthorityConfig struct {
	Name string `yaml:"name"`
	// ShortName is used where space is tight. Parse fills it with Name when
	// it is left out.
	ShortName string `yaml:"short_name"`
	// AGS is the Amtlicher Gemeindeschlüssel (8 digits), ARS the Amtlicher
	// Regionalschlüssel (12 digits). At least one is set; "" means unset.
	AGS string `yaml:"ags"`
	ARS string `yaml:"ars"`
	// Avatar is an mxc:// URI for the authority space's avatar, or "".
	Avatar id.ContentURIString `yaml:"avatar"`
	// ContactURL and PrivacyURL are https:// URLs or "". PrivacyURL is the
	// privacy notice (Datenschutzerklärung) shown to citizens.
	ContactURL string `yaml:"contact_url"`
	PrivacyURL string `yaml:"privacy_url"`
}

// DatabaseType is the database engine.
type DatabaseType string

// Database engines.
const (
	DatabaseSQLite   DatabaseType = "sqlite"
	DatabasePostgres DatabaseType = "postgres"
)

// Valid reports whether t is a known database engine.
func (t DatabaseType) Valid() bool {
	return t == DatabaseSQLite || t == DatabasePostgres
}

// LogLevel is the minimum level that is logged.
type LogLevel string

// Log levels, from most to least verbose.
const (
	LogTrace LogLevel = "trace"
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

var zerologLevels = map[LogLevel]zerolog.Level{
	LogTrace: zerolog.TraceLevel,
	LogDebug: zerolog.DebugLevel,
	LogInfo:  zerolog.InfoLevel,
	LogWarn:  zerolog.WarnLevel,
	LogError: zerolog.ErrorLevel,
}

// Valid reports whether l is a known log level.
func (l LogLevel) Valid() bool {
	_, ok := zerologLevels[l]
	return ok
}

// Zerolog returns the matching zerolog level; an invalid level yields
// zerolog.InfoLevel (Validate refuses invalid levels before this matters).
func (l LogLevel) Zerolog() zerolog.Level {
	if lvl, ok := zerologLevels[l]; ok {
		return lvl
	}
	return zerolog.InfoLevel
}

// LogFormat is the log output format.
type LogFormat string

// Log formats.
const (
	LogFormatConsole LogFormat = "console"
	LogFormatJSON    LogFormat = "json"
)

// Valid reports whether f is a known log format.
func (f LogFormat) Valid() bool {
	return f == LogFormatConsole || f == LogFormatJSON
}

// Defaults that example-config.yaml documents.
const (
	DefaultAppServiceID          = "rathaus"
	DefaultListen                = "127.0.0.1:29330"
	DefaultMaxTransactionBytes   = 10 << 20
	MinMaxTransactionBytes       = 1 << 20
	DefaultMaxPendingEvents      = 100_000
	DefaultBotLocalpart          = "rathaus"
	DefaultBotDisplayname        = "Rathaus"
	DefaultGhostUsernameTemplate = "_rathaus_{{.}}"
	DefaultSQLiteURI             = "rathaus.db"
	DefaultMaxOpenConns          = 5
	DefaultMaxIdleConns          = 0 // keep every open connection
	DefaultMetricsListen         = "127.0.0.1:29331"
	DefaultTimeZone              = "Europe/Berlin"
	DefaultMaxCases              = 5
	DefaultRole                  = RoleCaseworker
)

// Default returns a Config holding every default. Values that depend on
// other keys (appservice.public_url, database.uri for SQLite) are left empty
// here and filled by Parse after decoding; see (*Config).applyDerived.
func Default() *Config {
	return &Config{
		AppService: AppServiceConfig{
			ID:                  DefaultAppServiceID,
			Listen:              DefaultListen,
			MaxTransactionBytes: DefaultMaxTransactionBytes,
			MaxPendingEvents:    DefaultMaxPendingEvents,
			Bot: BotConfig{
				Localpart:   DefaultBotLocalpart,
				Displayname: DefaultBotDisplayname,
			},
			GhostUsernameTemplate: DefaultGhostUsernameTemplate,
		},
		Database: DatabaseConfig{
			Type:         DatabaseSQLite,
			MaxOpenConns: DefaultMaxOpenConns,
			MaxIdleConns: DefaultMaxIdleConns,
		},
		Logging: LoggingConfig{
			Level:  LogInfo,
			Format: LogFormatConsole,
		},
		Metrics: MetricsConfig{
			Listen: DefaultMetricsListen,
		},
		GuestChat: defaultGuestChat(),
		Retention: defaultRetention(),
		Widgets:   defaultWidgets(),
		Video:     defaultVideo(),
	}
}
