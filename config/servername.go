package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ValidateServerName checks name against the Matrix server-name grammar
// (https://spec.matrix.org/latest/appendices/#server-name):
//
//	server_name = hostname [ ":" port ]
//	hostname    = IPv4address / "[" IPv6address "]" / dns-name
//
// It is somewhat stricter than the grammar where the grammar admits strings
// that can never work: the port must be 1–65535, an IPv4 address must have
// octets up to 255 (so "999.1.1.1" is refused rather than read as a DNS
// name), an IPv6 address must parse and carry no zone, and a DNS name must
// consist of labels of 1–63 letters, digits and inner hyphens (no empty
// label, so no leading or trailing dot).
func ValidateServerName(name string) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	if len(name) > 255 {
		return errors.New("must be at most 255 characters")
	}
	host, port, hasPort := splitServerName(name)
	if hasPort {
		if err := validatePort(port); err != nil {
			return err
		}
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return errors.New("IPv6 address is missing its closing \"]\"")
		}
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
		return nil
	}
	if looksLikeIPv4(host) {
		if addr, err := netip.ParseAddr(host); err != nil || !addr.Is4() {
			return fmt.Errorf("%q is not an IPv4 address", host)
		}
		return nil
	}
	return validateDNSName(host)
}

// splitServerName splits off a ":port" suffix. A bracketed IPv6 host keeps
// its colons; any other host cannot contain one.
func splitServerName(name string) (host, port string, hasPort bool) {
	if strings.HasPrefix(name, "[") {
		end := strings.IndexByte(name, ']')
		if end < 0 {
			return name, "", false
		}
		rest := name[end+1:]
		if strings.HasPrefix(rest, ":") {
			return name[:end+1], rest[1:], true
		}
		// Nothing, or garbage, after "]": the IPv6 check reports the latter.
		return name, "", false
	}
	host, port, hasPort = strings.Cut(name, ":")
	return host, port, hasPort
}

func validatePort(port string) error {
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("port %q must be a number from 1 to 65535", port)
	}
	n, _ := strconv.Atoi(port)
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %q must be a number from 1 to 65535", port)
	}
	return nil
}

// looksLikeIPv4 reports whether host consists only of digits and dots with
// a digit at the end; no DNS top-level label is all digits, so such a host
// is meant as an IPv4 address.
func looksLikeIPv4(host string) bool {
	return host != "" && strings.Trim(host, "0123456789.") == "" &&
		host[len(host)-1] != '.'
}

func validateDNSName(host string) error {
	if host == "" {
		return errors.New("host name must not be empty")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return fmt.Errorf("host name %q has an empty label (leading, trailing or doubled dot)", host)
		}
		if len(label) > 63 {
			return fmt.Errorf("host name %q has a label longer than 63 characters", host)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host name %q has a label starting or ending with \"-\"", host)
		}
		for _, r := range label {
			if !isDNSChar(r) {
				return fmt.Errorf("host name %q contains %q; only letters, digits, \"-\" and \".\" are allowed", host, r)
			}
		}
	}
	return nil
}

func isDNSChar(r rune) bool {
	return r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// exampleDomains are the names RFC 2606 reserves for documentation: the
// "example" top-level domain and three second-level domains.
var exampleDomains = []string{"example", "example.com", "example.net", "example.org"}

// isExampleHost reports whether host is, or lies under, a domain that RFC
// 2606 reserves for documentation. No real server or web page can have such
// a name, so example-config.yaml uses them for its placeholders
// ("stadt.example", "@anna:stadt.example") and Validate refuses them
// wherever a host appears: one rule for every example value.
func isExampleHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range exampleDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// isExampleServerName reports whether a server name ("host[:port]") is on
// a documentation domain (see isExampleHost).
func isExampleServerName(name string) bool {
	host, _, _ := splitServerName(name)
	return isExampleHost(host)
}
