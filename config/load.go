package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/protocol"
)

// Load reads the configuration file at path and parses it with Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config file: %w", err)
	}
	return Parse(data)
}

// Parse turns the YAML in data into a Config in three steps: defaults, strict
// decoding (unknown keys are errors) and Validate.
//
// Outcomes:
//   - (cfg, nil): the configuration is usable.
//   - (cfg, ValidationErrors): every problem, each with its dotted key
//     (decoding problems first, then validation problems). cfg holds what
//     could be decoded, so a caller may still print or inspect it, but must
//     not run with it.
//   - (nil, other error): the data is not YAML, is empty (ErrEmptyConfig),
//     or is not a mapping (ErrNotMapping).
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("failed to parse config YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(resolveAlias(doc.Content[0])) {
		return nil, ErrEmptyConfig
	}
	root := resolveAlias(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w (found %s at line %d)", ErrNotMapping, root.ShortTag(), root.Line)
	}

	var errs ValidationErrors
	checkKeys(root, reflect.TypeFor[Config](), "", &errs)
	if dropDuplicateKeys(&doc) {
		// Decode what remains, so a duplicate is reported once and not
		// again as every key of its section "required".
		cleaned, err := yaml.Marshal(&doc)
		if err != nil {
			return nil, fmt.Errorf("failed to decode config: %w", err)
		}
		data = cleaned
	}

	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	var typeErr *yaml.TypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		// yaml.v3 keeps decoding past type errors; checkKeys has already
		// reported each of them with its dotted key. Should it have missed
		// one, report the decoder's own words rather than nothing.
		if len(errs) == 0 {
			errs.add("", err.Error())
		}
	case errors.Is(err, io.EOF):
		return nil, ErrEmptyConfig
	default:
		return nil, fmt.Errorf("failed to decode config: %w", err)
	}

	cfg.applyDerived()
	var verrs ValidationErrors
	if errors.As(cfg.Validate(), &verrs) {
		errs = append(errs, verrs...)
	}
	return cfg, errs.errOrNil()
}

// applyDerived fills defaults that depend on other keys. It runs after
// decoding, so an explicit value always wins.
func (c *Config) applyDerived() {
	if c.AppService.PublicURL == "" {
		c.AppService.PublicURL = derivePublicURL(c.AppService.Listen)
	}
	if c.Database.URI == "" && c.Database.Type == DatabaseSQLite {
		c.Database.URI = DefaultSQLiteURI
	}
	if c.GuestChat.PublicURL == "" {
		c.GuestChat.PublicURL = deriveGuestPublicURL(c.GuestChat.Listen)
	}
	if c.Authority.PrivacyURL == "" {
		c.Authority.PrivacyURL = deriveGuestPrivacyURL(c.GuestChat)
	}
	if c.Authority.ShortName == "" {
		c.Authority.ShortName = c.Authority.Name
	}
	for i := range c.Departments {
		if c.Departments[i].TimeZone == "" {
			c.Departments[i].TimeZone = DefaultTimeZone
		}

	}
}

// derivePublicURL returns "http://"+listen when listen is valid and names
// one specific host. For a wildcard or empty host the homeserver could not
// use the address, so it returns "" and Validate asks for public_url; for an
// invalid listen it returns "" so that only appservice.listen is reported.
func derivePublicURL(listen string) string {
	if checkListen(listen) != "" {
		return ""
	}
	host, _, _ := net.SplitHostPort(listen)
	if isWildcardHost(host) {
		return ""
	}
	return "http://" + listen
}

// isWildcardHost reports whether host binds every interface.
func isWildcardHost(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// defaultReferencePrefix is the first three letters or digits of the
// department id, upper-cased: bauamt → BAU.
func defaultReferencePrefix(id protocol.DepartmentID) string {
	var out []rune
	for _, r := range strings.ToUpper(string(id)) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		}
		if len(out) == 3 {
			break
		}
	}
	return string(out)
}
