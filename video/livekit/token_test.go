package livekit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var creds = Credentials{Key: "rathaus", Secret: []byte("0123456789abcdef0123456789abcdef")}

// decode checks a token's signature with creds and returns its header and
// claims as generic JSON, so the test sees exactly what LiveKit reads.
func decode(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	mac := hmac.New(sha256.New, creds.Secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.True(t, hmac.Equal(mac.Sum(nil), sig), "HS256 signature")
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, into))
	}
	return header, claims
}

// The test vector: what Element Call computes for this room and
// slot.
func TestRoomAliasAsElementCallComputesIt(t *testing.T) {
	assert.Equal(t, "O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc", RoomAlias("!roomid:example.com", "slot1234"))
	assert.NotEqual(t, RoomAlias("!roomid:example.com", "slot1234"), RoomAlias("!roomid:example.com", "slot1235"))
	assert.Equal(t, "@anna:pruefheim.de:DEVICE", Identity("@anna:pruefheim.de", "DEVICE"))
}

func TestJoinToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok, err := JoinToken(creds, JoinRequest{Room: "O8437W3", Identity: "@anna:pruefheim.de:DEV", Name: "Sachbearbeitung",
		Subscribe: true, TTL: 10 * time.Minute}, now)
	require.NoError(t, err)
	header, claims := decode(t, tok)
	assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT"}, header)
	assert.Equal(t, "rathaus", claims["iss"])
	assert.Equal(t, "@anna:pruefheim.de:DEV", claims["sub"])
	assert.InDelta(t, now.Add(10*time.Minute).Unix(), claims["exp"], 0)
	assert.LessOrEqual(t, claims["nbf"], float64(now.Unix()))
	assert.Equal(t, map[string]any{"room": "O8437W3", "roomJoin": true, "roomCreate": false,
		"canPublish": false, "canSubscribe": true, "canPublishData": false,
		"canPublishSources": []any{"camera", "microphone"}}, claims["video"],
		"no room creation, and publishing only where granted, both said explicitly")
}

func TestTokensAreRefused(t *testing.T) {
	now := time.Now()
	ok := JoinRequest{Room: "r", Identity: "i", TTL: time.Minute}
	for name, tc := range map[string]struct {
		c   Credentials
		r   func(JoinRequest) JoinRequest
		err error
	}{
		"short secret":    {Credentials{Key: "k", Secret: []byte("too short")}, func(r JoinRequest) JoinRequest { return r }, ErrShortSecret},
		"no key":          {Credentials{Secret: creds.Secret}, func(r JoinRequest) JoinRequest { return r }, ErrNoKey},
		"longer than 1 h": {creds, func(r JoinRequest) JoinRequest { r.TTL = time.Hour + time.Second; return r }, ErrTTL},
		"no expiry":       {creds, func(r JoinRequest) JoinRequest { r.TTL = 0; return r }, ErrTTL},
		"no room":         {creds, func(r JoinRequest) JoinRequest { r.Room = ""; return r }, ErrNoRoom},
		"no identity":     {creds, func(r JoinRequest) JoinRequest { r.Identity = ""; return r }, ErrNoIdentity},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := JoinToken(tc.c, tc.r(ok), now)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func TestAdminTokenJoinsNothing(t *testing.T) {
	now := time.Now()
	tok, err := AdminToken(creds, "", now)
	require.NoError(t, err)
	_, claims := decode(t, tok)
	assert.Equal(t, map[string]any{"roomCreate": true, "roomList": true}, claims["video"])
	tok, err = AdminToken(creds, "case-1", now)
	require.NoError(t, err)
	_, claims = decode(t, tok)
	assert.Equal(t, map[string]any{"room": "case-1", "roomCreate": true, "roomList": true, "roomAdmin": true}, claims["video"],
		"LiveKit scopes administration to one room")
	assert.NotContains(t, claims, "sub")
	assert.LessOrEqual(t, claims["exp"], float64(now.Add(time.Minute).Unix()))
}
