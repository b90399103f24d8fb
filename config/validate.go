package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/id"
)

// Placeholders used in example-config.yaml. Validate refuses them so that
// nobody runs the example unchanged.
const (
	// PlaceholderToken stands for a token `rathaus generate-registration`
	// fills in.
	PlaceholderToken = "generate"
	// PlaceholderAuthorityName is the example's authority name. Validate
	// refuses any name containing "Musterstadt", the customary German
	// placeholder town.
	PlaceholderAuthorityName = "Stadt Musterstadt (bitte ändern)"
)

// MinTokenLength is the shortest as_token or hs_token Validate accepts.
const MinTokenLength = 32

var appServiceIDRegex = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// Validate checks the whole configuration and returns every problem found as
// ValidationErrors, or nil if there is none. It does not fill defaults; Parse
// does that before calling it. It does fill each department's Schedule from
// its time zone, office hours and closed dates (as far as they are valid), so
// it must not run concurrently with readers of the config.
func (c *Config) Validate() error {
	var errs ValidationErrors
	c.validateHomeserver(&errs)
	c.validateAppService(&errs)
	c.validateDatabase(&errs)
	if !c.Logging.Level.Valid() {
		errs.add("logging.level", fmt.Sprintf("%q is not one of trace, debug, info, warn, error", c.Logging.Level))
	}
	if !c.Logging.Format.Valid() {
		errs.add("logging.format", fmt.Sprintf("%q is not one of console, json", c.Logging.Format))
	}
	if c.Metrics.Enabled {
		if msg := checkListen(c.Metrics.Listen); msg != "" {
			errs.add("metrics.listen", msg)
		} else if c.Metrics.Listen == c.AppService.Listen {
			errs.add("metrics.listen", "must differ from appservice.listen")
		}
	}
	c.validateAuthority(&errs)
	c.validateDepartments(&errs)
	c.validateGuestChat(&errs)
	c.validateRetention(&errs)
	c.validateOZG(&errs)
	c.validateWidgets(&errs)
	c.validateVideo(&errs)
	return errs.errOrNil()
}

func (c *Config) validateHomeserver(errs *ValidationErrors) {
	if c.Homeserver.URL == "" {
		errs.add("homeserver.url", "required; the client-server API URL of your homeserver, e.g. https://matrix.your-town.de")
	} else if u, msg := checkHTTPURL(c.Homeserver.URL); msg != "" {
		errs.add("homeserver.url", msg)
	} else if isExampleHost(u.Hostname()) {
		errs.add("homeserver.url", fmt.Sprintf("still the placeholder host %q; set the client-server API URL of your homeserver", u.Hostname()))
	} else if i := strings.Index(u.Path, "/_matrix"); i >= 0 {
		errs.add("homeserver.url", fmt.Sprintf("must be the homeserver's base URL, without %q: use %s", u.Path[i:],
			strings.TrimSuffix(c.Homeserver.URL, u.Path[i:])))
	}

	if p := c.Homeserver.PublicURL; p != "" {
		if u, msg := checkHTTPURL(p); msg != "" {
			errs.add("homeserver.public_url", msg)
		} else if u.Scheme != "https" && !IsLoopbackHost(u.Hostname()) {
			errs.add("homeserver.public_url", "must use https:// (plain http:// only on loopback, for tests)")
		} else if isExampleHost(u.Hostname()) {
			errs.add("homeserver.public_url", fmt.Sprintf("still the placeholder host %q; set the URL browsers reach your homeserver at", u.Hostname()))
		} else if strings.Contains(u.Path, "/_matrix") {
			errs.add("homeserver.public_url", "must be the homeserver's base URL, without /_matrix/…")
		}
	}

	if c.Homeserver.ServerName == "" {
		errs.add("homeserver.server_name", "required; the server name in your users' IDs (@user:server_name)")
	} else if err := ValidateServerName(c.Homeserver.ServerName); err != nil {
		errs.add("homeserver.server_name", fmt.Sprintf("%q is not a valid Matrix server name: %v", c.Homeserver.ServerName, err))
	} else if isExampleServerName(c.Homeserver.ServerName) {
		errs.add("homeserver.server_name", fmt.Sprintf("still the placeholder %q; set your homeserver's server name", c.Homeserver.ServerName))
	}
}

func (c *Config) validateAppService(errs *ValidationErrors) {
	as := &c.AppService
	if !appServiceIDRegex.MatchString(as.ID) {
		errs.add("appservice.id", fmt.Sprintf("%q must be non-empty and use only a-z, 0-9, \"_\", \".\", \"-\"", as.ID))
	}
	listenMsg := checkListen(as.Listen)
	if listenMsg != "" {
		errs.add("appservice.listen", listenMsg)
	}
	if as.PublicURL == "" {
		if listenMsg == "" {
			errs.add("appservice.public_url", "required when appservice.listen binds every interface; set the URL your homeserver reaches rathaus at")
		}
	} else if u, msg := checkHTTPURL(as.PublicURL); msg != "" {
		errs.add("appservice.public_url", msg)
	} else if isExampleHost(u.Hostname()) {
		errs.add("appservice.public_url", fmt.Sprintf("still the placeholder host %q; set the URL your homeserver reaches rathaus at", u.Hostname()))
	}

	asOK := checkToken(errs, "appservice.as_token", as.ASToken)
	hsOK := checkToken(errs, "appservice.hs_token", as.HSToken)
	if asOK && hsOK && as.ASToken == as.HSToken {
		errs.add("appservice.hs_token", "must differ from appservice.as_token")
	}

	if as.MaxTransactionBytes < MinMaxTransactionBytes {
		errs.add("appservice.max_transaction_bytes", fmt.Sprintf("%d is too small; at least %d", as.MaxTransactionBytes, MinMaxTransactionBytes))
	}

	if as.MaxPendingEvents < 1 {
		errs.add("appservice.max_pending_events", fmt.Sprintf("%d must be at least 1", as.MaxPendingEvents))
	}

	prefix, suffix, ok := splitTemplate(as.GhostUsernameTemplate)
	switch {
	case !ok:
		errs.add("appservice.ghost_username_template", fmt.Sprintf("%q must contain %q exactly once", as.GhostUsernameTemplate, templatePlaceholder))
	case prefix == "":
		errs.add("appservice.ghost_username_template", "must have a prefix before \"{{.}}\", so ghosts cannot take over ordinary user names")
	case !id.ValidLocalpartRegex.MatchString(prefix) || (suffix != "" && !id.ValidLocalpartRegex.MatchString(suffix)):
		errs.add("appservice.ghost_username_template", fmt.Sprintf("%q may contain only a-z, 0-9 and . _ = - / + around \"{{.}}\"", as.GhostUsernameTemplate))
	}

	bot := as.Bot.Localpart
	if err := id.ValidateUserLocalpart(bot); err != nil {
		errs.add("appservice.bot.localpart", fmt.Sprintf("%q is not a valid localpart: use only a-z, 0-9 and . _ = - / +", bot))
	} else if ok && len(bot) > len(prefix)+len(suffix) && strings.HasPrefix(bot, prefix) && strings.HasSuffix(bot, suffix) {
		errs.add("appservice.bot.localpart", fmt.Sprintf("%q lies inside the ghost namespace %q; choose a localpart outside it", bot, as.GhostUsernameTemplate))
	} else if len(c.BotUserID()) > id.UserIDMaxLength {
		errs.add("appservice.bot.localpart", "makes the bot's user ID longer than 255 characters")
	}
	if strings.TrimSpace(as.Bot.Displayname) == "" {
		errs.add("appservice.bot.displayname", "must not be empty")
	}
}

func (c *Config) validateDatabase(errs *ValidationErrors) {
	db := &c.Database
	switch db.Type {
	case DatabaseSQLite:
		if db.URI == "" {
			errs.add("database.uri", "required; the SQLite file path, e.g. rathaus.db")
		} else if strings.HasPrefix(db.URI, "postgres://") || strings.HasPrefix(db.URI, "postgresql://") {
			errs.add("database.uri", "is a PostgreSQL URI but database.type is sqlite; set database.type: postgres")
		} else if problem := sqliteDirProblem(db.URI); problem != "" {
			errs.add("database.uri", problem)
		}
	case DatabasePostgres:
		if db.URI == "" {
			errs.add("database.uri", "required for postgres; e.g. postgres://rathaus:secret@localhost/rathaus?sslmode=disable")
		} else if u, err := url.Parse(db.URI); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			// Never echo the URI: it usually holds the password.
			errs.add("database.uri", "must be a postgres://user:password@host/dbname URI")
		}
	default:
		errs.add("database.type", fmt.Sprintf("%q is not one of sqlite, postgres", db.Type))
	}
	if db.MaxOpenConns < 1 {
		errs.add("database.max_open_conns", fmt.Sprintf("%d must be at least 1", db.MaxOpenConns))
	}
	if db.MaxIdleConns < 0 {
		errs.add("database.max_idle_conns", fmt.Sprintf("%d must not be negative", db.MaxIdleConns))
	} else if db.MaxOpenConns >= 1 && db.MaxIdleConns > db.MaxOpenConns {
		errs.add("database.max_idle_conns", fmt.Sprintf("%d must not exceed database.max_open_conns (%d)", db.MaxIdleConns, db.MaxOpenConns))
	}
}

// sqliteDirProblem says why SQLite cannot create or open a database file at
// path (a file path, optionally file: with a query), or "". Only the
// directory is checked: SQLite creates the file itself.
func sqliteDirProblem(path string) string {
	file, _, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	if file == "" || file == ":memory:" {
		return ""
	}
	dir := filepath.Dir(file)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("the directory %s does not exist; create it (rathaus creates only the file %s)", dir, filepath.Base(file))
	case err != nil:
		return fmt.Sprintf("cannot check the directory %s: %v", dir, err)
	case !info.IsDir():
		return fmt.Sprintf("%s is not a directory", dir)
	}
	return ""
}

// checkToken reports problems with one appservice token and returns whether
// it is usable.
func checkToken(errs *ValidationErrors, key, token string) bool {
	switch msg := tokenProblem(token); {
	case token == PlaceholderToken:
		errs.add(key, fmt.Sprintf("still the placeholder %q; run `rathaus generate-registration`", PlaceholderToken))
	case token == "":
		errs.add(key, "required; run `rathaus generate-registration`")
	case msg != "":
		errs.add(key, msg)
	default:
		return true
	}
	return false
}

// tokenProblem says what is wrong with a non-empty token, or "" if nothing.
// Tokens travel in HTTP Authorization headers, hence visible ASCII only.
func tokenProblem(token string) string {
	if len(token) < MinTokenLength {
		return fmt.Sprintf("must be at least %d characters (is %d); run `rathaus generate-registration`", MinTokenLength, len(token))
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] > '~' {
			return "may contain only visible ASCII characters (no spaces)"
		}
	}
	return ""
}

// checkHTTPURL parses an absolute http(s) URL and returns a message if it is
// not one.
func checkHTTPURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("%q is not a valid URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Sprintf("%q must start with http:// or https://", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Sprintf("%q has no host", raw)
	case u.User != nil:
		return nil, "must not contain user credentials"
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Sprintf("%q must not have a query or fragment", raw)
	}
	if p := u.Port(); p != "" {
		if err := validatePort(p); err != nil {
			return nil, err.Error()
		}
	}
	return u, ""
}

// checkListen returns a message unless addr is host:port with a port from 1
// to 65535. The host may be empty or a wildcard to listen everywhere.
func checkListen(addr string) string {
	if addr == "" {
		return "required; host:port, e.g. 127.0.0.1:29330"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q must be host:port, e.g. 127.0.0.1:29330 or [::1]:29330", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q: port must be a number from 1 to 65535", addr)
	}
	return ""
}
