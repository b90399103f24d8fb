package video_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
)

var (
	key     = []byte("0123456789abcdef0123456789abcdef")
	oldKey  = []byte("fedcba9876543210fedcba9876543210")
	t0      = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	citizen = video.Identity("guest:5f6b7ac5")
)

func TestGrantVerifies(t *testing.T) {
	token, claims, err := video.MintGrant(key, "call-a", citizen, video.Rights{Publish: true, Subscribe: true}, t0, 10*time.Minute)
	require.NoError(t, err)
	got, err := video.VerifyGrant([][]byte{key}, token, "call-a", t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, claims, got)
	assert.Equal(t, citizen, got.Identity)
	assert.True(t, got.Rights.Publish)
	assert.Equal(t, t0.Add(10*time.Minute).Unix(), got.Expires)

	again, _, err := video.MintGrant(key, "call-a", citizen, video.Rights{}, t0, 10*time.Minute)
	require.NoError(t, err)
	assert.NotEqual(t, token, again, "every grant has its own id")

	// A key being rotated out still verifies while it is configured.
	old, _, err := video.MintGrant(oldKey, "call-a", citizen, video.Rights{}, t0, time.Minute)
	require.NoError(t, err)
	_, err = video.VerifyGrant([][]byte{key, oldKey}, old, "call-a", t0)
	require.NoError(t, err)
	_, err = video.VerifyGrant([][]byte{key}, old, "call-a", t0)
	assert.ErrorIs(t, err, video.ErrGrantSignature, "once the old key is gone")

	// The longest grant is MaxGrantTTL, whatever is asked for.
	long, c, err := video.MintGrant(key, "call-a", citizen, video.Rights{}, t0, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(video.MaxGrantTTL).Unix(), c.Expires)
	_, err = video.VerifyGrant([][]byte{key}, long, "call-a", t0.Add(video.MaxGrantTTL))
	assert.ErrorIs(t, err, video.ErrGrantExpired)
}

func TestGrantRefusals(t *testing.T) {
	token, _, err := video.MintGrant(key, "call-a", citizen, video.Rights{Subscribe: true}, t0, 10*time.Minute)
	require.NoError(t, err)
	payload, sig, _ := strings.Cut(token, ".")
	// A claims part that says "call-b", signed by nobody.
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "call-a", "call-b", 1))) + "." + sig
	flipped := []byte(token)
	// Another valid base64url character in the signature's last full
	// sextet (XOR could make one that is not base64url: "malformed").
	if flipped[len(flipped)-2] == 'A' {
		flipped[len(flipped)-2] = 'B'
	} else {
		flipped[len(flipped)-2] = 'A'
	}

	tests := []struct {
		name  string
		token string
		call  video.CallID
		now   time.Time
		keys  [][]byte
		want  error
	}{
		{"a grant for call A on call B", token, "call-b", t0, nil, video.ErrGrantWrongCall},
		{"expired", token, "call-a", t0.Add(10 * time.Minute), nil, video.ErrGrantExpired},
		{"issued in the future", token, "call-a", t0.Add(-time.Minute), nil, video.ErrGrantNotYetValid},
		{"claims changed", forged, "call-b", t0, nil, video.ErrGrantSignature},
		{"signature changed", string(flipped), "call-a", t0, nil, video.ErrGrantSignature},
		{"wrong key", token, "call-a", t0, [][]byte{oldKey}, video.ErrGrantSignature},
		{"short key", token, "call-a", t0, [][]byte{[]byte("short")}, video.ErrGrantKey},
		{"empty", "", "call-a", t0, nil, video.ErrGrantMalformed},
		{"no signature", payload, "call-a", t0, nil, video.ErrGrantMalformed},
		{"three parts", token + ".x", "call-a", t0, nil, video.ErrGrantMalformed},
		{"too long", strings.Repeat("a", 5000) + "." + sig, "call-a", t0, nil, video.ErrGrantMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = [][]byte{key}
			}
			_, err := video.VerifyGrant(keys, tc.token, tc.call, tc.now)
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), sig, "the token is never in an error")
		})
	}

	_, _, err = video.MintGrant([]byte("short"), "call-a", citizen, video.Rights{}, t0, time.Minute)
	assert.ErrorIs(t, err, video.ErrGrantKey)
	_, _, err = video.MintGrant(key, "", citizen, video.Rights{}, t0, time.Minute)
	assert.ErrorIs(t, err, video.ErrGrantMalformed)
}

// FuzzVerifyGrant: whatever a participant sends as a grant, VerifyGrant
// answers without panicking, and accepts only what the key signed for the
// call.
func FuzzVerifyGrant(f *testing.F) {
	token, _, err := video.MintGrant(key, "call-a", citizen, video.Rights{Publish: true}, t0, time.Minute)
	require.NoError(f, err)
	f.Add(token)
	f.Add(token[:len(token)/2])
	f.Add("e30.AAAA")
	f.Add("." + strings.Repeat("A", 43))
	f.Add("eyJjYWxsIjoiY2FsbC1hIn0." + strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := video.VerifyGrant([][]byte{key}, s, "call-a", t0)
		if err != nil {
			return
		}
		// Accepted: it must be exactly a claims part and its MAC under
		// the key (no second spelling of either), for the call.
		payload, _, _ := strings.Cut(s, ".")
		m := hmac.New(sha256.New, key)
		m.Write([]byte("rathaus-video-grant.v1." + payload))
		if s != payload+"."+base64.RawURLEncoding.EncodeToString(m.Sum(nil)) || c.Call != "call-a" {
			t.Fatalf("accepted a token the key did not sign for the call: %q", s)
		}
	})
}
