package config

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"
)

// MaxShortNameLength is the longest authority.short_name, in characters.
const MaxShortNameLength = 32

// isPlaceholderTown reports whether s names "Musterstadt", the customary
// German placeholder town the example uses.
func isPlaceholderTown(s string) bool {
	return strings.Contains(strings.ToLower(s), "musterstadt")
}

func (c *Config) validateAuthority(errs *ValidationErrors) {
	a := &c.Authority
	name := strings.TrimSpace(a.Name)
	switch {
	case name == "":
		errs.add("authority.name", "required; the authority's name as citizens know it, e.g. \"Stadt Bad Beispielheim\"")
	case isPlaceholderTown(name):
		errs.add("authority.name", fmt.Sprintf("still the placeholder %q; set your authority's name", a.Name))
	}

	// Parse copies the name into short_name when it is left out; only a
	// short name of its own is held to the short-name rules.
	if a.ShortName != a.Name {
		switch short := strings.TrimSpace(a.ShortName); {
		case short == "":
			errs.add("authority.short_name", "must not be blank; leave it out to use authority.name")
		case utf8.RuneCountInString(short) > MaxShortNameLength:
			errs.add("authority.short_name", fmt.Sprintf("is %d characters long; at most %d", utf8.RuneCountInString(short), MaxShortNameLength))
		case isPlaceholderTown(short):
			errs.add("authority.short_name", fmt.Sprintf("still the placeholder %q; set your authority's short name or leave it out", a.ShortName))
		}
	}

	agsOK := checkOfficialKey(errs, "authority.ags", a.AGS, 8, "08111000")
	arsOK := checkOfficialKey(errs, "authority.ars", a.ARS, 12, "081110000000")
	switch {
	case a.AGS == "" && a.ARS == "":
		errs.add("authority.ags", "required unless authority.ars is set; the Amtlicher Gemeindeschlüssel (8 digits) from the Gemeindeverzeichnis of Destatis")
	case agsOK && arsOK && a.AGS != a.ARS[:5]+a.ARS[9:]:
		// Both keys share Land (2 digits), Regierungsbezirk (1) and Kreis
		// (2); the ARS then inserts the Gemeindeverband (4) before the
		// Gemeinde (3) that ends both.
		errs.add("authority.ars", fmt.Sprintf("%q does not belong to authority.ags %q: the ARS must be the AGS with the 4-digit Gemeindeverband inserted after the Kreis, i.e. %s____%s", a.ARS, a.AGS, a.AGS[:5], a.AGS[5:]))
	}

	if a.Avatar != "" {
		if msg := checkMXC(string(a.Avatar)); msg != "" {
			errs.add("authority.avatar", msg)
		} else if server := a.Avatar.ParseOrIgnore().Homeserver; isExampleServerName(server) {
			errs.add("authority.avatar", fmt.Sprintf("still the placeholder server %q; upload the image to your homeserver and use the URI it returns", server))
		}
	}
	checkHTTPSURL(errs, "authority.contact_url", a.ContactURL)
	checkHTTPSURL(errs, "authority.privacy_url", a.PrivacyURL)
}

// checkOfficialKey checks an optional AGS or ARS: exactly digits digits,
// starting with a Land code 01–16. It returns whether key is set and valid.
func checkOfficialKey(errs *ValidationErrors, field, key string, digits int, example string) bool {
	switch {
	case key == "":
		return false
	case len(key) != digits || !isDigits(key):
		errs.add(field, fmt.Sprintf("%q must be exactly %d digits, e.g. %q (quote it, so a leading 0 is kept)", key, digits, example))
	case key[:2] < "01" || key[:2] > "16":
		errs.add(field, fmt.Sprintf("%q must start with a Land code from 01 to 16", key))
	default:
		return true
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkMXC returns a message unless uri is mxc://server/mediaid with a
// valid server name and media id.
func checkMXC(uri string) string {
	parsed, err := id.ParseContentURI(uri)
	if err != nil || !parsed.IsValid() || ValidateServerName(parsed.Homeserver) != nil {
		return fmt.Sprintf("%q is not an mxc:// URI (mxc://server/mediaid); upload the image to your homeserver and use the URI it returns", uri)
	}
	return ""
}

// checkHTTPSURL reports an optional URL that is not an absolute https://
// URL of a web page (http:// only on loopback, for tests and the demo).
// Unlike the API URLs, a query or fragment is fine.
func checkHTTPSURL(errs *ValidationErrors, key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		errs.add(key, fmt.Sprintf("%q is not a valid URL", raw))
	case u.Scheme != "https" && (u.Scheme != "http" || !IsLoopbackHost(u.Hostname())):
		errs.add(key, fmt.Sprintf("%q must start with https://; citizens open it", raw))
	case u.Hostname() == "":
		errs.add(key, fmt.Sprintf("%q has no host", raw))
	case u.User != nil:
		errs.add(key, "must not contain user credentials")
	case isExampleHost(u.Hostname()):
		errs.add(key, fmt.Sprintf("still the placeholder host %q; set your authority's own page or leave it out", u.Hostname()))
	}
}
