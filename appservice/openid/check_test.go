package openid

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
)

func TestValidateServerName(t *testing.T) {
	valid := []string{
		"example.org", "matrix.stadt-musterhausen.de", "example.org:8448", "1.2.3.4", "1.2.3.4:1",
		"[::1]", "[::1]:8448", "[2001:db8::1]:443", "localhost", "127.0.0.1:65535",
	}
	for _, s := range valid {
		assert.NoError(t, validateServerName(s), s)
	}
	invalid := []string{
		"", "exa mple.org", "example.org:", "example.org:0", "example.org:65536", "example.org:-1",
		"example.org:+80", "[::1", "::1", "[::1]:", "[example.org]", "@alice:example.org",
		"example.org/path", "999.1.1.1", "user@example.org", "example.org:80:80",
		string(make([]byte, 300)),
	}
	for _, s := range invalid {
		assert.ErrorIs(t, validateServerName(s), ErrInvalidServerName, "%q", s)
	}
}

func TestValidateToken(t *testing.T) {
	assert.NoError(t, validateToken("KsYzSgjDgneQxlFgaKYazxpa"))
	for _, tok := range []string{"", "a b", "a\nb", "ä", string(make([]byte, maxTokenLength+1))} {
		assert.ErrorIs(t, validateToken(tok), ErrInvalidToken, "%q", tok)
	}
}

func TestCheckSub(t *testing.T) {
	for _, tc := range []struct {
		sub, server string
		ok          bool
	}{
		{"@alice:example.org", "example.org", true},
		{"@Alice.historic=x:example.org", "example.org", true},
		{"@alice:127.0.0.1:8448", "127.0.0.1:8448", true},
		{"@alice:evil.example", "example.org", false}, // CVE-2023-38691
		{"@alice:example.org", "evil.example", false},
		{"@alice:Example.org", "example.org", false}, // exact, as Synapse compares
		{"@alice:example.org:8448", "example.org", false},
		{"@alice:example.org", "example.org:8448", false},
		{"alice", "example.org", false},
		{"", "example.org", false},
		{"@:example.org", "example.org", false},
		{"!room:example.org", "example.org", false},
		{"@al ice:example.org", "example.org", false},
	} {
		user, err := checkSub(tc.sub, tc.server)
		if tc.ok {
			assert.NoError(t, err, tc.sub)
			assert.Equal(t, id.UserID(tc.sub), user)
		} else {
			assert.ErrorIs(t, err, ErrSubMismatch, "%s on %s", tc.sub, tc.server)
		}
	}
}

func TestRedact(t *testing.T) {
	base := fmt.Errorf("%w: got tok/en+1 and tok%%2Fen%%2B1", ErrUnreachable)
	err := redact(base, "tok/en+1")
	assert.NotContains(t, err.Error(), "tok/en+1")
	assert.NotContains(t, err.Error(), "tok%2Fen%2B1")
	assert.ErrorIs(t, err, ErrUnreachable)
	plain := errors.New("nothing secret")
	assert.Same(t, plain, redact(plain, "tok"))
}

func TestCache(t *testing.T) {
	clock := fakeclock.New()
	c := newCache([]byte("k"), time.Minute, 3, clock.Now)
	k1 := c.key("a.example", "tok1")
	assert.NotEqual(t, k1, c.key("b.example", "tok1"), "the server name is part of the key")
	assert.NotContains(t, string(k1[:]), "tok1")
	c.put(k1, "@a:a.example")
	user, ok := c.get(k1)
	require.True(t, ok)
	assert.Equal(t, id.UserID("@a:a.example"), user)

	clock.Advance(time.Minute)
	_, ok = c.get(k1)
	assert.False(t, ok, "expired after the TTL")

	for i := range 10 {
		c.put(c.key("a.example", fmt.Sprint("t", i)), "@a:a.example")
	}
	assert.Equal(t, 3, c.len(), "capped")
	_, ok = c.get(c.key("a.example", "t9"))
	assert.True(t, ok, "the newest entry is kept")
}
