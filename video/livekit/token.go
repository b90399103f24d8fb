package livekit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinSecretLength is the shortest API secret rathaus accepts: an HS256
// key should be at least as long as the hash.
const MinSecretLength = 32

// MaxTokenTTL is the longest a join token may be valid.
const MaxTokenTTL = time.Hour

// Errors of Mint.
var (
	ErrShortSecret = fmt.Errorf("livekit: the API secret must be at least %d bytes", MinSecretLength)
	ErrNoKey       = errors.New("livekit: an API key is required")
	ErrTTL         = fmt.Errorf("livekit: a token must expire within %s", MaxTokenTTL)
	ErrNoRoom      = errors.New("livekit: a join token names its room")
	ErrNoIdentity  = errors.New("livekit: a join token names its identity")
)

// VideoGrant is the "video" claim of a LiveKit token: what its bearer may
// do. Field names are LiveKit's.
type VideoGrant struct {
	Room         string `json:"room,omitempty"`
	RoomJoin     bool   `json:"roomJoin,omitempty"`
	RoomCreate   bool   `json:"roomCreate"`
	RoomList     bool   `json:"roomList,omitempty"`
	RoomAdmin    bool   `json:"roomAdmin,omitempty"`
	CanPublish   *bool  `json:"canPublish,omitempty"`
	CanSubscribe *bool  `json:"canSubscribe,omitempty"`
	// CanPublishData lets the participant send data messages (Element
	// Call uses them for reactions and raised hands).
	CanPublishData *bool `json:"canPublishData,omitempty"`
	// CanPublishSources limits what may be published: "camera",
	// "microphone", "screen_share", "screen_share_audio" (all if empty).
	CanPublishSources []string `json:"canPublishSources,omitempty"`
}

// Claims are a LiveKit token's claims.
type Claims struct {
	Issuer    string     `json:"iss"`
	Subject   string     `json:"sub,omitempty"`
	Name      string     `json:"name,omitempty"`
	NotBefore int64      `json:"nbf"`
	Expires   int64      `json:"exp"`
	Video     VideoGrant `json:"video"`
	// Sha256 is set on webhooks: the base64 SHA-256 of the body.
	Sha256 string `json:"sha256,omitempty"`
}

// Credentials are LiveKit's API key and secret.
type Credentials struct {
	Key    string
	Secret []byte
}

// Check reports ErrNoKey or ErrShortSecret.
func (c Credentials) Check() error {
	if c.Key == "" {
		return ErrNoKey
	}
	if len(c.Secret) < MinSecretLength {
		return ErrShortSecret
	}
	return nil
}

// JoinRequest is what a join token allows: one identity in one room,
// publishing only if allowed, never creating rooms.
type JoinRequest struct {
	Room     string
	Identity string
	// Name is what the others see; never a person's name for a citizen.
	Name      string
	Publish   bool
	Subscribe bool
	Data      bool
	// ScreenShare allows the screen share sources besides camera and
	// microphone.
	ScreenShare bool
	TTL         time.Duration
}

// JoinToken mints a token to join one room.
func JoinToken(c Credentials, r JoinRequest, now time.Time) (string, error) {
	switch {
	case r.Room == "":
		return "", ErrNoRoom
	case r.Identity == "":
		return "", ErrNoIdentity
	case r.TTL <= 0 || r.TTL > MaxTokenTTL:
		return "", ErrTTL
	}
	sources := []string{"camera", "microphone"}
	if r.ScreenShare {
		sources = append(sources, "screen_share", "screen_share_audio")
	}
	return mint(c, Claims{Subject: r.Identity, Name: r.Name, Video: VideoGrant{Room: r.Room, RoomJoin: true,
		CanPublish: &r.Publish, CanSubscribe: &r.Subscribe, CanPublishData: &r.Data, CanPublishSources: sources}}, r.TTL, now)
}

// AdminToken mints a short-lived token for rathaus's own calls to
// LiveKit's room service: create, list and delete rooms, and, for room
// (LiveKit scopes administration to one room), list and remove its
// participants. It never joins a room.
func AdminToken(c Credentials, room string, now time.Time) (string, error) {
	return mint(c, Claims{Video: VideoGrant{Room: room, RoomCreate: true, RoomList: true, RoomAdmin: room != ""}}, time.Minute, now)
}

func mint(c Credentials, claims Claims, ttl time.Duration, now time.Time) (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	claims.Issuer = c.Key
	// A little slack for clocks: LiveKit checks nbf.
	claims.NotBefore = now.Add(-10 * time.Second).Unix()
	claims.Expires = now.Add(ttl).Unix()
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, c.Secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// Errors of Verify.
var (
	ErrMalformed = errors.New("livekit: not a well-formed HS256 token")
	ErrSignature = errors.New("livekit: the token's signature does not verify")
	ErrExpired   = errors.New("livekit: the token is expired or not yet valid")
	ErrIssuer    = errors.New("livekit: the token is from another API key")
)

// Verify checks a token signed with c (LiveKit's webhooks, or rathaus's
// own tokens in tests) and returns its claims.
func Verify(c Credentials, token string, now time.Time) (Claims, error) {
	var claims Claims
	if err := c.Check(); err != nil {
		return claims, err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims, ErrMalformed
	}
	enc := base64.RawURLEncoding
	head, err1 := enc.DecodeString(parts[0])
	body, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return claims, ErrMalformed
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(head, &h) != nil || h.Alg != "HS256" {
		return claims, ErrMalformed
	}
	mac := hmac.New(sha256.New, c.Secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return claims, ErrSignature
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return claims, ErrMalformed
	}
	const leeway = 10 // seconds, as LiveKit allows
	if t := now.Unix(); claims.Expires == 0 || t > claims.Expires+leeway || t+leeway < claims.NotBefore {
		return claims, ErrExpired
	}
	if claims.Issuer != c.Key {
		return claims, ErrIssuer
	}
	return claims, nil
}

// RoomAlias is the LiveKit room Element Call joins for a Matrix room and
// an RTC slot: the unpadded standard base64 of SHA-256 over the JSON array
// [roomID, slotID] as JavaScript's JSON.stringify writes it (no spaces, no
// escaping of <, > and &).
func RoomAlias(roomID, slotID string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode([]string{roomID, slotID}) // two strings always encode
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// Identity is a participant's LiveKit identity as Element Call sets it in
// compatibility mode: the Matrix user id and the device id.
func Identity(userID, deviceID string) string {
	return userID + ":" + deviceID
}
