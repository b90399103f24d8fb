// Package signal is the wire protocol of rathaus's embedded media server:
// small JSON messages over one WebSocket per participant
// (docs/video.md, "Signalling"). It knows no Matrix, no cases and no
// database; it only decodes, validates and encodes.
//
// The first message a client sends is join, with its grant. After that
// both sides exchange SDP and ICE candidates for one peer connection. The
// server is the impolite peer of "perfect negotiation" (RFC 8829 §3.5,
// the WebRTC spec's example): it offers whenever the tracks a participant
// receives change, and it ignores a client offer that collides with its
// own. The client is polite: it rolls its offer back, answers the server
// and offers again once stable (browsers do this by themselves through
// negotiationneeded).
package signal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxMessageSize bounds one message in either direction, before anything
// is decoded. An SDP offer with simulcast, audio, video and a screen share
// is well under 16 KiB.
const MaxMessageSize = 64 << 10

// Limits of single fields, checked by Decode.
const (
	maxSDP       = 60 << 10
	maxCandidate = 1024
	maxMid       = 64
	maxUfrag     = 256
	maxGrant     = 2048
	maxReason    = 200
)

// Type says what a message is.
type Type string

// Client to server.
const (
	// TypeJoin is the first message: the grant that lets the client in,
	// and the client's first offer if it publishes at once. An offer in
	// the join is answered before the server offers anything, so the
	// first negotiation never collides.
	TypeJoin Type = "join"
	// TypeSDP carries an offer or an answer (both directions).
	TypeSDP Type = "sdp"
	// TypeCandidate carries one trickled ICE candidate (both directions);
	// an empty candidate ends the client's gathering.
	TypeCandidate Type = "candidate"
	// TypeMute says the client muted or unmuted its own audio or video.
	TypeMute Type = "mute"
	// TypeLeave ends the client's participation; closing the socket does
	// the same.
	TypeLeave Type = "leave"
	// TypeScreen names the MediaStream id of the client's screen share,
	// before the offer that adds it (browsers choose stream ids
	// themselves); the server forwards it as "screen-N".
	TypeScreen Type = "screen"
	// TypePing keeps the socket alive through proxies; the server answers
	// TypePong.
	TypePing Type = "ping"
)

// Server to client.
const (
	// TypeJoined answers join: who the client is in the call and who is
	// already there.
	TypeJoined Type = "joined"
	// TypeParticipant says someone joined, left or changed (published,
	// muted).
	TypeParticipant Type = "participant"
	// TypeSpeakers lists the active speakers, loudest first.
	TypeSpeakers Type = "speakers"
	// TypeMuteRequest asks the client to mute its audio or video; the
	// client's user decides.
	TypeMuteRequest Type = "mute_request"
	// TypeClosed says the server ends the client's participation and why;
	// the socket closes after it.
	TypeClosed Type = "closed"
	// TypeError refuses one message; the socket stays open unless a
	// TypeClosed follows.
	TypeError Type = "error"
	// TypePong answers TypePing.
	TypePong Type = "pong"
)

// Message is one message in either direction. Only the fields of its Type
// are set; Decode refuses unknown fields and fields of another type.
type Message struct {
	Type Type `json:"type"`

	// join
	Grant string `json:"grant,omitempty"`

	// sdp
	Description *SessionDescription `json:"description,omitempty"`

	// candidate
	Candidate *Candidate `json:"candidate,omitempty"`

	// screen
	Stream string `json:"stream,omitempty"`

	// mute, mute_request
	Kind  MediaKind `json:"kind,omitempty"`
	Muted *bool     `json:"muted,omitempty"`

	// joined
	Self         *Participant  `json:"self,omitempty"`
	Participants []Participant `json:"participants,omitempty"`

	// participant
	Participant *Participant `json:"participant,omitempty"`
	Event       string       `json:"event,omitempty"`

	// speakers
	Speakers []string `json:"speakers,omitempty"`

	// closed, error
	Reason  Reason `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// SessionDescription is RTCSessionDescriptionInit.
type SessionDescription struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// Candidate is RTCIceCandidateInit.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// MediaKind is audio or video.
type MediaKind string

// The media kinds.
const (
	KindAudio MediaKind = "audio"
	KindVideo MediaKind = "video"
)

// Participant is someone in the call as the other participants see them.
// ID is the stream id of everything they publish: a client matches a
// remote track to a participant by MediaStream.id.
type Participant struct {
	ID         string `json:"id"`
	Role       string `json:"role"`
	Publishing bool   `json:"publishing,omitempty"`
	AudioMuted bool   `json:"audio_muted,omitempty"`
	VideoMuted bool   `json:"video_muted,omitempty"`
}

// The events of TypeParticipant.
const (
	EventJoined  = "joined"
	EventLeft    = "left"
	EventChanged = "changed"
)

// Reason says why the server refused a message or closed the
// participation. Clients show a text per reason; the reasons never carry
// personal data.
type Reason string

// The reasons.
const (
	ReasonBadMessage   Reason = "bad_message"
	ReasonGrantInvalid Reason = "grant_invalid"
	ReasonGrantExpired Reason = "grant_expired"
	ReasonCallFull     Reason = "call_full"
	ReasonTooManyPub   Reason = "too_many_publishers"
	ReasonNotAllowed   Reason = "not_allowed"
	ReasonKicked       Reason = "kicked"
	ReasonEnded        Reason = "ended"
	ReasonReplaced     Reason = "replaced"
	ReasonLeft         Reason = "left"
	ReasonTimeout      Reason = "timeout"
	ReasonRateLimited  Reason = "rate_limited"
	ReasonServerError  Reason = "server_error"
)

// ErrBadMessage wraps every refusal of Decode.
var ErrBadMessage = errors.New("signal: bad message")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadMessage}, args...)...)
}

// Decode reads one client message: at most MaxMessageSize bytes, one JSON
// object, no unknown fields, only the fields of its type, every field
// within its limit. It accepts only what clients send (TypeJoin, TypeSDP,
// TypeCandidate, TypeMute, TypeLeave, TypePing).
func Decode(raw []byte) (Message, error) {
	if len(raw) > MaxMessageSize {
		return Message{}, bad("longer than %d bytes", MaxMessageSize)
	}
	if !utf8.Valid(raw) {
		return Message{}, bad("not UTF-8")
	}
	var m Message
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, bad("not a message object")
	}
	if dec.More() {
		return Message{}, bad("more than one object")
	}
	if err := m.validateClient(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// DecodeServer reads one server message, with the same limits; clients
// written in Go (tests, the load tool) use it.
func DecodeServer(raw []byte) (Message, error) {
	if len(raw) > MaxMessageSize {
		return Message{}, bad("longer than %d bytes", MaxMessageSize)
	}
	var m Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return Message{}, bad("not a message object")
	}
	if m.Type == "" {
		return Message{}, bad("no type")
	}
	return m, nil
}

// Encode writes one message; it refuses a message over MaxMessageSize.
func Encode(m Message) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxMessageSize {
		return nil, fmt.Errorf("signal: a %s message of %d bytes is over the limit", m.Type, len(raw))
	}
	return raw, nil
}

// fields lists which optional fields a message has, to check that only
// those of its type are set.
func (m *Message) fields() []string {
	var f []string
	add := func(set bool, name string) {
		if set {
			f = append(f, name)
		}
	}
	add(m.Grant != "", "grant")
	add(m.Description != nil, "description")
	add(m.Candidate != nil, "candidate")
	add(m.Stream != "", "stream")
	add(m.Kind != "", "kind")
	add(m.Muted != nil, "muted")
	add(m.Self != nil, "self")
	add(m.Participants != nil, "participants")
	add(m.Participant != nil, "participant")
	add(m.Event != "", "event")
	add(m.Speakers != nil, "speakers")
	add(m.Reason != "", "reason")
	add(m.Message != "", "message")
	return f
}

func (m *Message) only(allowed ...string) error {
	for _, f := range m.fields() {
		ok := false
		for _, a := range allowed {
			ok = ok || a == f
		}
		if !ok {
			return bad("a %s message has no %s", m.Type, f)
		}
	}
	return nil
}

func (m *Message) validateClient() error {
	switch m.Type {
	case TypeJoin:
		if err := m.only("grant", "description"); err != nil {
			return err
		}
		if m.Grant == "" || len(m.Grant) > maxGrant {
			return bad("join needs a grant of at most %d bytes", maxGrant)
		}
		if d := m.Description; d != nil && (d.Type != "offer" || d.SDP == "" || len(d.SDP) > maxSDP || !strings.HasPrefix(d.SDP, "v=0")) {
			return bad("join may carry an offer of at most %d bytes", maxSDP)
		}
	case TypeSDP:
		if err := m.only("description"); err != nil {
			return err
		}
		d := m.Description
		if d == nil || (d.Type != "offer" && d.Type != "answer") {
			return bad("sdp needs an offer or an answer")
		}
		if d.SDP == "" || len(d.SDP) > maxSDP || !strings.HasPrefix(d.SDP, "v=0") {
			return bad("sdp needs a session description of at most %d bytes", maxSDP)
		}
	case TypeCandidate:
		if err := m.only("candidate"); err != nil {
			return err
		}
		c := m.Candidate
		if c == nil || len(c.Candidate) > maxCandidate {
			return bad("candidate needs a candidate of at most %d bytes", maxCandidate)
		}
		if c.Candidate != "" && !strings.HasPrefix(c.Candidate, "candidate:") {
			return bad("a candidate starts with \"candidate:\"")
		}
		if strings.ContainsAny(c.Candidate, "\r\n") {
			return bad("a candidate is one line")
		}
		if c.SDPMid != nil && len(*c.SDPMid) > maxMid {
			return bad("sdpMid is longer than %d bytes", maxMid)
		}
		if c.UsernameFragment != nil && len(*c.UsernameFragment) > maxUfrag {
			return bad("usernameFragment is longer than %d bytes", maxUfrag)
		}
		if c.SDPMid == nil && c.SDPMLineIndex == nil && c.Candidate != "" {
			return bad("a candidate needs sdpMid or sdpMLineIndex")
		}
	case TypeMute:
		if err := m.only("kind", "muted"); err != nil {
			return err
		}
		if (m.Kind != KindAudio && m.Kind != KindVideo) || m.Muted == nil {
			return bad("mute needs kind audio or video and muted")
		}
	case TypeScreen:
		if err := m.only("stream"); err != nil {
			return err
		}
		if m.Stream == "" || len(m.Stream) > maxMid || strings.ContainsAny(m.Stream, " \r\n\t") {
			return bad("screen needs a stream id of at most %d bytes", maxMid)
		}
	case TypeLeave, TypePing:
		if err := m.only(); err != nil {
			return err
		}
	case "":
		return bad("no type")
	default:
		return bad("unknown type")
	}
	return nil
}

// Closed builds the message that ends a participation.
func Closed(reason Reason) Message { return Message{Type: TypeClosed, Reason: reason} }

// Error builds a refusal of one message; message is for developers, in
// English, and never repeats what the client sent.
func Error(reason Reason, message string) Message {
	if len(message) > maxReason {
		message = message[:maxReason]
	}
	return Message{Type: TypeError, Reason: reason, Message: message}
}
