package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ParseOrigin returns the origin (scheme://host[:port]) of an absolute URL
// such as a configured public URL.
func ParseOrigin(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidOrigin, rawURL, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%w %q: scheme and host are required", ErrInvalidOrigin, rawURL)
	}
	return u.Scheme + "://" + u.Host, nil
}

// SameOrigin reports whether a browser could have sent r from origin: it
// refuses an Origin header naming another origin (or "null", as sandboxed
// frames and some redirects send) and a Sec-Fetch-Site other than
// same-origin or none. Requests without these headers (clients that are
// not browsers) pass.
//
// It is a CSRF defence, never authentication: any client other than a
// browser can send whatever Origin it likes, so state-changing requests
// still need a CSRF token and a session.
func SameOrigin(r *http.Request, origin string) bool {
	switch o := r.Header.Get("Origin"); {
	case o == "null":
		return false
	case o != "" && !strings.EqualFold(o, origin):
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}
