package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi"
)

var csrfKey = []byte("0123456789abcdef0123456789abcdef")

func TestNewCSRFRejectsShortKeys(t *testing.T) {
	_, err := httpapi.NewCSRF(csrfKey[:31])
	require.ErrorIs(t, err, httpapi.ErrWeakKey)
	_, err = httpapi.NewCSRF(nil)
	require.ErrorIs(t, err, httpapi.ErrWeakKey)
}

// The token is base64url(HMAC-SHA256(key, "csrf|" + binding)). Pages keep
// a token across a restart or an upgrade, so the derivation must never
// change: this vector pins it.
func TestCSRFTokenIsStable(t *testing.T) {
	c, err := httpapi.NewCSRF(csrfKey)
	require.NoError(t, err)
	assert.Equal(t, "ACLxHkGQftdtmtZoMXPMls9OlVZCrWozNwkmk31vgOY", c.Token("abc"))
	assert.NotEqual(t, c.Token("abc"), c.Token("abd"))
}

func TestCSRFCheck(t *testing.T) {
	c, err := httpapi.NewCSRF(csrfKey)
	require.NoError(t, err)
	other, err := httpapi.NewCSRF([]byte("another key that is long enough!"))
	require.NoError(t, err)
	const session = "5f2b…session hash"
	good := c.Token(session)
	tests := []struct {
		name    string
		header  string
		binding string
		want    bool
	}{
		{name: "right token", header: good, binding: session, want: true},
		{name: "no header", header: "", binding: session},
		{name: "token of another session", header: c.Token("other session"), binding: session},
		{name: "token under another key", header: other.Token(session), binding: session},
		{name: "truncated", header: good[:len(good)-1], binding: session},
		{name: "extended", header: good + "A", binding: session},
		{name: "one character changed", header: "B" + good[1:], binding: session},
		{name: "empty binding", header: c.Token(""), binding: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", nil)
			if tc.header != "" {
				r.Header.Set(httpapi.CSRFHeader, tc.header)
			}
			assert.Equal(t, tc.want, c.Check(r, tc.binding))
			assert.Equal(t, tc.want, c.Valid(tc.header, tc.binding))
		})
	}
	assert.Equal(t, "X-Rathaus-CSRF", httpapi.CSRFHeader, "the page sends this header")
}
