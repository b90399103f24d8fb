package livekit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
}

// Claims are a LiveKit token's claims.
type Claims struct {
	Issuer    string     `json:"iss"`
	Subject   string     `json:"sub,omitempty"`
	Name      string     `json:"name,omitempty"`
	NotBefore int64      `json:"nbf"`
	Expires   int64      `json:"exp"`
	Video     VideoGrant `json:"video"`
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
	TTL       time.Duration
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
	return mint(c, Claims{Subject: r.Identity, Name: r.Name, Video: VideoGrant{Room: r.Room, RoomJoin: true,
		CanPublish: &r.Publish, CanSubscribe: &r.Subscribe, CanPublishData: &r.Data}}, r.TTL, now)
}

// AdminToken mints a short-lived token for rathaus's own calls to
// LiveKit's room service: create, list and delete rooms, and administer
// them (list and remove participants). It never joins a room.
func AdminToken(c Credentials, now time.Time) (string, error) {
	return mint(c, Claims{Video: VideoGrant{RoomCreate: true, RoomList: true, RoomAdmin: true}}, time.Minute, now)
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
