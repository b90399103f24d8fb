package openid

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/federation"
	"maunium.net/go/mautrix/id"
)

// validateServerName checks the Matrix server name grammar (appendix
// "Server name"): a DNS name, an IPv4 literal or a bracketed IPv6 literal,
// optionally with a port of 1 to 65535.
func validateServerName(serverName string) error {
	host, port, ok := federation.ParseServerName(serverName)
	if !ok || host == "" {
		return fmt.Errorf("%w: %q", ErrInvalidServerName, truncate(serverName))
	}
	// mautrix reads "host:0" and "host:" as no port; both are malformed.
	if portPart, hasPort := serverNamePort(serverName); hasPort {
		n, err := strconv.ParseUint(portPart, 10, 16)
		if err != nil || n == 0 || port == 0 {
			return fmt.Errorf("%w: %q has a bad port", ErrInvalidServerName, truncate(serverName))
		}
	}
	// Four dotted numbers must be an IPv4 address (999.1.1.1 is not, and is
	// no DNS name either).
	if isDottedNumbers(host) && !isIPv4(host) {
		return fmt.Errorf("%w: %q is not an IPv4 address", ErrInvalidServerName, truncate(serverName))
	}
	return nil
}

// serverNamePort returns what follows the port colon of a server name, if
// it has one (the colon of an IPv6 literal is inside brackets).
func serverNamePort(serverName string) (string, bool) {
	i := strings.LastIndexByte(serverName, ':')
	if i < 0 || strings.LastIndexByte(serverName, ']') > i {
		return "", false
	}
	return serverName[i+1:], true
}

func isDottedNumbers(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func isIPv4(s string) bool {
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return false
		}
	}
	return true
}

// validateToken refuses what no homeserver issues, before it is sent
// anywhere: empty, overlong, or not printable ASCII.
func validateToken(token string) error {
	if token == "" || len(token) > maxTokenLength {
		return fmt.Errorf("%w: empty or longer than %d bytes", ErrInvalidToken, maxTokenLength)
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return fmt.Errorf("%w: not printable ASCII", ErrInvalidToken)
		}
	}
	return nil
}

// checkSub accepts the userinfo answer's sub only if it is a valid user id
// on exactly the server asked. This is the check of CVE-2023-38691: any
// homeserver can answer anything, so it may only speak for its own users.
func checkSub(sub, serverName string) (id.UserID, error) {
	user := id.UserID(sub)
	localpart, server, err := user.ParseAndValidateRelaxed()
	if err != nil || !validHistoricalLocalpart(localpart) {
		return "", fmt.Errorf("%w: sub %q is no valid user id", ErrSubMismatch, truncate(sub))
	}
	if server != serverName {
		return "", fmt.Errorf("%w: %s answered for %q", ErrSubMismatch, serverName, truncate(sub))
	}
	return user, nil
}

// validHistoricalLocalpart allows the historical user id grammar (printable
// ASCII except ':'), which real, old accounts still use.
func validHistoricalLocalpart(localpart string) bool {
	if localpart == "" {
		return false
	}
	for i := 0; i < len(localpart); i++ {
		if c := localpart[i]; c < 0x21 || c > 0x7e || c == ':' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	const max = 255
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// redactedError keeps the chain of an error whose text contained the token.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes the token, plain or URL-encoded, from err's text. The
// code above never puts it there (url.Error, which carries the request URL
// with the token, is unwrapped first); this is the belt to those braces.
func redact(err error, token string) error {
	if token == "" {
		return err
	}
	msg := err.Error()
	out := msg
	for _, t := range []string{token, url.QueryEscape(token)} {
		out = strings.ReplaceAll(out, t, "[redacted]")
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}
