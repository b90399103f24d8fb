package ozg

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// memJTIs is an in-memory JTIStore that records every row.
type memJTIs struct {
	mu   sync.Mutex
	rows map[string]string
}

func (m *memJTIs) BindContextJTI(_ context.Context, serviceID, jti, binding string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]string{}
	}
	k := serviceID + "|" + jti
	if _, ok := m.rows[k]; !ok {
		m.rows[k] = binding
	}
	return m.rows[k] == binding, nil
}

func (m *memJTIs) PruneContextJTIs(context.Context, time.Time) error { return nil }

func (m *memJTIs) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows)
}

// testKeys are one service's keys of each type.
type testKeys struct {
	ed   ed25519.PrivateKey
	ec   *ecdsa.PrivateKey
	hmac []byte
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return testKeys{ed: ed, ec: ec, hmac: []byte(strings.Repeat("s", 32))}
}

func (k testKeys) edConfig() config.ContextKeyConfig {
	return config.ContextKeyConfig{Ed25519: base64.StdEncoding.EncodeToString(k.ed.Public().(ed25519.PublicKey))}
}

func (k testKeys) ecConfig(t *testing.T) config.ContextKeyConfig {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.ec.PublicKey)
	require.NoError(t, err)
	return config.ContextKeyConfig{ES256: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// sign makes a compact JWS of claims with the header given (alg decides
// the key; "none" gives an empty signature).
func (k testKeys) sign(t *testing.T, hdr map[string]any, claims any) string {
	t.Helper()
	enc := func(v any) string {
		var b []byte
		if s, ok := v.(string); ok {
			b = []byte(s)
		} else {
			var err error
			b, err = json.Marshal(v)
			require.NoError(t, err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(claims)
	var sig []byte
	switch hdr["alg"] {
	case "EdDSA":
		sig = ed25519.Sign(k.ed, []byte(input))
	case "ES256":
		d := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, d[:])
		require.NoError(t, err)
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "HS256":
		mac := hmac.New(sha256.New, k.hmac)
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func validClaims() map[string]any {
	return map[string]any{
		"leika": "99108008000000", "ars": "081110000000",
		"svc":  map[string]any{"id": "bauantrag", "version": "2.4.1"},
		"step": "Angaben zum Grundstück", "err": "E-FLURSTUECK-404", "lang": "de", "trust": "substanziell",
		"submission": "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11",
		"iat":        testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(4 * time.Minute).Unix(),
		"jti": "0123456789abcdef-jti",
	}
}

type fixture struct {
	keys  testKeys
	other testKeys
	jtis  *memJTIs
	v     *Verifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{keys: newTestKeys(t), other: newTestKeys(t), jtis: &memJTIs{}}
	cfg := &config.Config{OZG: config.OZGConfig{Services: []config.OZGServiceConfig{
		{ID: "bauantrag", Name: "Bauantrag online", Origins: []string{"https://portal.example.de"}, ContextKey: f.keys.edConfig()},
		{ID: "parken", Name: "Bewohnerparkausweis", Origins: []string{"https://parken.example.de"}, ContextKey: f.keys.ecConfig(t)},
		{ID: "melde", Name: "Wohnsitzanmeldung", Origins: []string{"https://melde.example.de"},
			ContextKey:         config.ContextKeyConfig{HMACSecret: string(f.keys.hmac)},
			PreviousContextKey: f.other.edConfig()},
	}}}
	var err error
	f.v, err = NewVerifier(Options{Config: func() *config.Config { return cfg }, JTIs: f.jtis, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	return f
}

func claimsFor(svc string, change func(map[string]any)) map[string]any {
	c := validClaims()
	c["svc"] = map[string]any{"id": svc, "version": "1"}
	if change != nil {
		change(c)
	}
	return c
}

func TestVerifyValid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, svc string
		keys      testKeys
		alg       string
	}{
		{"EdDSA", "bauantrag", f.keys, "EdDSA"},
		{"ES256", "parken", f.keys, "ES256"},
		{"HS256", "melde", f.keys, "HS256"},
		{"previous key during rotation", "melde", f.other, "EdDSA"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := claimsFor(tc.svc, func(c map[string]any) { c["jti"] = strings.Repeat("j", 16) + string(rune('a'+i)) })
			tok := tc.keys.sign(t, map[string]any{"alg": tc.alg, "kid": tc.svc, "typ": "JWT"}, c)
			h, err := f.v.Verify(ctx, Request{Token: tok, Binding: "session-1"})
			require.NoError(t, err)
			assert.Equal(t, tc.svc, h.Claims.ServiceID)
			assert.Equal(t, "99108008000000", h.Claims.Leika)
			assert.Equal(t, protocol.TrustSubstanziell, h.Claims.Trust)
		})
	}

	tok := f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "bauantrag"}, validClaims())
	h, err := f.v.Verify(ctx, Request{Token: tok, Binding: "s", Origin: "https://portal.example.de"})
	require.NoError(t, err)
	ticket := h.Ticket()
	assert.Equal(t, protocol.TicketContent{ID: "bauantrag.0123456789abcdef-jti",
		Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag online", Version: "2.4.1"},
		Leika:   "99108008000000", ARS: "081110000000", Step: "Angaben zum Grundstück", ErrorCode: "E-FLURSTUECK-404",
		Trust: protocol.TrustSubstanziell, Lang: "de",
		FITConnect: protocol.FITConnectIDs{Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"},
		Status:     protocol.TicketOpen, Verified: true, IssuedAt: testNow.Add(-time.Minute).UnixMilli()}, ticket)

	_, err = f.v.Verify(ctx, Request{Token: tok, Binding: "s"})
	require.NoError(t, err, "the same session may verify its context again (a reload)")
	_, err = f.v.Verify(ctx, Request{Token: tok, Binding: "another"})
	require.ErrorIs(t, err, ErrReplayed, "another session may not")

	// Defaults: lang de, trust none; unknown claims are ignored.
	tok = f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "bauantrag"}, claimsFor("bauantrag", func(c map[string]any) {
		delete(c, "lang")
		delete(c, "trust")
		c["jti"] = "defaults-jti-0000"
		c["formular"] = map[string]any{"ignored": true}
	}))
	h, err = f.v.Verify(ctx, Request{Token: tok, Binding: "s"})
	require.NoError(t, err)
	assert.Equal(t, "de", h.Claims.Lang)
	assert.Equal(t, protocol.TrustNone, h.Claims.Trust)
}

// Every bad context is refused with its error and leaves no jti behind.
func TestVerifyRefuses(t *testing.T) {
	ed := map[string]any{"alg": "EdDSA", "kid": "bauantrag"}
	with := func(change func(map[string]any)) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string {
			t.Helper()
			t.Helper()
			return f.keys.sign(t, ed, claimsFor("bauantrag", change))
		}
	}
	tests := []struct {
		name  string
		token func(t *testing.T, f *fixture) string
		want  error
	}{
		{"wrong key", func(t *testing.T, f *fixture) string { t.Helper(); return f.other.sign(t, ed, validClaims()) }, ErrSignature},
		{"changed claims", func(t *testing.T, f *fixture) string {
			t.Helper()
			parts := strings.Split(f.keys.sign(t, ed, validClaims()), ".")
			c := validClaims()
			c["leika"] = "99102001000000"
			b, _ := json.Marshal(c)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		}, ErrSignature},
		{"alg none", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "none", "kid": "bauantrag"}, validClaims())
		}, ErrAlgorithm},
		{"alg None", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "None", "kid": "bauantrag"}, validClaims())
		}, ErrAlgorithm},
		{"alg HS256 for an Ed25519 service (key confusion)", func(t *testing.T, f *fixture) string {
			t.Helper()
			k := f.keys
			k.hmac = f.keys.ed.Public().(ed25519.PublicKey)
			return k.sign(t, map[string]any{"alg": "HS256", "kid": "bauantrag"}, validClaims())
		}, ErrAlgorithm},
		{"alg ES256 for an HMAC service", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "ES256", "kid": "melde"}, claimsFor("melde", nil))
		}, ErrAlgorithm},
		{"alg RS256", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "RS256", "kid": "bauantrag"}, validClaims())
		}, ErrAlgorithm},
		{"unknown service", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "unbekannt"}, claimsFor("unbekannt", nil))
		}, ErrUnknownService},
		{"no kid", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "EdDSA"}, validClaims())
		}, ErrUnknownService},
		{"svc.id is not kid", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, ed, claimsFor("parken", nil))
		}, ErrMalformed},
		{"crit header", func(t *testing.T, f *fixture) string {
			t.Helper()
			return f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "bauantrag", "crit": []string{"x"}}, validClaims())
		}, ErrMalformed},
		{"expired", with(func(c map[string]any) {
			c["iat"] = testNow.Add(-10 * time.Minute).Unix()
			c["exp"] = testNow.Add(-2 * time.Minute).Unix()
		}), ErrExpired},
		{"issued in the future", with(func(c map[string]any) {
			c["iat"] = testNow.Add(5 * time.Minute).Unix()
			c["exp"] = testNow.Add(10 * time.Minute).Unix()
		}), ErrExpired},
		{"lifetime over 10 minutes", with(func(c map[string]any) { c["exp"] = testNow.Add(10 * time.Minute).Unix() }), ErrMalformed},
		{"exp before iat", with(func(c map[string]any) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() }), ErrMalformed},
		{"huge exp", with(func(c map[string]any) { c["exp"] = int64(1) << 62 }), ErrMalformed},
		{"iat as a string", with(func(c map[string]any) { c["iat"] = "1" }), ErrMalformed},
		{"no leika", with(func(c map[string]any) { delete(c, "leika") }), ErrMalformed},
		{"leika over its length", with(func(c map[string]any) { c["leika"] = "991080080000001" }), ErrMalformed},
		{"leika with letters", with(func(c map[string]any) { c["leika"] = "9910800800000A" }), ErrMalformed},
		{"ars over its length", with(func(c map[string]any) { c["ars"] = "0811100000001" }), ErrMalformed},
		{"step over its length", with(func(c map[string]any) { c["step"] = strings.Repeat("ä", MaxStepLength+1) }), ErrMalformed},
		{"err over its length", with(func(c map[string]any) { c["err"] = strings.Repeat("E", 33) }), ErrMalformed},
		{"err with spaces", with(func(c map[string]any) { c["err"] = "Name: Erika Mustermann" }), ErrMalformed},
		{"jti over its length", with(func(c map[string]any) { c["jti"] = strings.Repeat("j", 65) }), ErrMalformed},
		{"jti too short", with(func(c map[string]any) { c["jti"] = "123" }), ErrMalformed},
		{"no jti", with(func(c map[string]any) { delete(c, "jti") }), ErrMalformed},
		{"version over its length", with(func(c map[string]any) {
			c["svc"] = map[string]any{"id": "bauantrag", "version": strings.Repeat("1", 33)}
		}), ErrMalformed},
		{"svc as a string", with(func(c map[string]any) { c["svc"] = "bauantrag@1" }), ErrMalformed},
		{"lang fr", with(func(c map[string]any) { c["lang"] = "fr" }), ErrMalformed},
		{"trust unknown", with(func(c map[string]any) { c["trust"] = "mittel" }), ErrMalformed},
		{"submission not a UUID", with(func(c map[string]any) { c["submission"] = "Antrag-4711" }), ErrMalformed},
		{"whole context over its length", with(func(c map[string]any) { c["extra"] = strings.Repeat("x", MaxContextLength) }), ErrMalformed},
		{"duplicate claim", func(t *testing.T, f *fixture) string {
			t.Helper()
			b, _ := json.Marshal(validClaims())
			return f.keys.sign(t, ed, `{"leika":"99102001000000",`+string(b[1:]))
		}, ErrMalformed},
		{"claim in other case", func(t *testing.T, f *fixture) string {
			t.Helper()
			c := validClaims()
			delete(c, "leika")
			c["LEIKA"] = "99108008000000"
			return f.keys.sign(t, ed, c)
		}, ErrMalformed},
		{"not a JWS", func(*testing.T, *fixture) string { return "ctx" }, ErrMalformed},
		{"padded base64", func(t *testing.T, f *fixture) string { t.Helper(); return f.keys.sign(t, ed, validClaims()) + "==" }, ErrMalformed},
		{"foreign origin", nil, ErrOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			req := Request{Binding: "session-1"}
			if tc.token != nil {
				req.Token = tc.token(t, f)
			} else {
				req.Token = f.keys.sign(t, ed, validClaims())
				req.Origin = "https://evil.example.de"
			}
			h, err := f.v.Verify(context.Background(), req)
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, h)
			assert.Zero(t, f.jtis.count(), "a refused context stores nothing")
		})
	}
}

// A replayed context is refused, and the first session's row stays.
func TestVerifyReplayed(t *testing.T) {
	f := newFixture(t)
	tok := f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "bauantrag"}, validClaims())
	_, err := f.v.Verify(context.Background(), Request{Token: tok, Binding: "first"})
	require.NoError(t, err)
	_, err = f.v.Verify(context.Background(), Request{Token: tok, Binding: "second"})
	require.ErrorIs(t, err, ErrReplayed)
	assert.Equal(t, 1, f.jtis.count())
}

// A refusal is logged with the service id and the reason, never with a
// claim's value.
func TestVerifyLogsRefusalWithoutClaims(t *testing.T) {
	f := newFixture(t)
	var buf strings.Builder
	ctx := zerolog.New(&buf).WithContext(context.Background())
	tok := f.keys.sign(t, map[string]any{"alg": "EdDSA", "kid": "bauantrag"}, claimsFor("bauantrag", func(c map[string]any) {
		c["iat"] = testNow.Add(-10 * time.Minute).Unix()
		c["exp"] = testNow.Add(-5 * time.Minute).Unix()
	}))
	_, err := f.v.Verify(ctx, Request{Token: tok, Binding: "s"})
	require.ErrorIs(t, err, ErrExpired)
	logged := buf.String()
	assert.Contains(t, logged, `"message":"Refused a hand-over context"`)
	assert.Contains(t, logged, `"ozg_service":"bauantrag"`)
	for _, value := range []string{"99108008000000", "081110000000", "Grundstück", "E-FLURSTUECK-404", "5f6b7ac5"} {
		assert.NotContains(t, logged, value)
	}
}
