package video

import (
	"context"
	"time"
)

// CallID names a call; one case room has at most one call at a time.
type CallID string

// Identity names a participant of a call: a staff member's Matrix user id
// or the citizen's guest identity. It is never a display name.
type Identity string

// Rights are what a participant may do in a call.
type Rights struct {
	Publish     bool `json:"pub,omitempty"`
	Subscribe   bool `json:"sub,omitempty"`
	ScreenShare bool `json:"screen,omitempty"`
	// Role is what the others see of the participant: "staff" or
	// "citizen", never a name.
	Role string `json:"role,omitempty"`
}

// Limits bound a call; a join beyond them is refused with a clear error.
type Limits struct {
	MaxParticipants int
	MaxPublishers   int
	// MaxBitrate bounds one publisher's sending rate in bits per second.
	MaxBitrate int
	// ListenerVideos, if > 0, makes a committee call: participants who
	// may not publish (listeners) get everyone's audio but the camera
	// video of only this many publishers, the last active speakers.
	ListenerVideos int
}

// GrantRequest asks a backend to let one identity into one call.
type GrantRequest struct {
	Call     CallID
	Identity Identity
	Rights   Rights
	// TTL is how long the grant may be used to join; the backend may
	// shorten it, never lengthen it.
	TTL time.Duration
}

// JoinInfo is what a participant's page needs to join: the signalling
// URL of the backend and the signed grant (and, for the embedded backend,
// the TURN credentials that go with it).
type JoinInfo struct {
	// Backend is the media server the page talks to: "" for the
	// embedded one, "livekit" for LiveKit (with livekit-client).
	Backend string      `json:"backend,omitempty"`
	URL     string      `json:"url"`
	Token   string      `json:"token"`
	Expires time.Time   `json:"expires_at"`
	TURN    []ICEServer `json:"ice_servers"`
	// ListenerVideos is set for a listener of a committee call on a
	// backend where the page picks the videos it takes (LiveKit): the
	// number of camera videos to take, the last active speakers'. The
	// embedded server picks them itself.
	ListenerVideos int `json:"listener_videos,omitempty"`
}

// ICEServer is a STUN or TURN server with its short-lived credentials.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Participant is someone in a call now.
type Participant struct {
	Identity   Identity
	Rights     Rights
	JoinedAt   time.Time
	Publishing bool
	// Quality is how the participant's connection does now; nil when
	// the backend cannot tell yet.
	Quality *Quality
}

// Quality is a participant's connection as the media server sees it.
type Quality struct {
	// RTT is the round-trip time between the server and the participant.
	RTT time.Duration
	// ReceiveLoss is the share of packets lost on the way to the
	// participant (its latest reports, the worst of its tracks);
	// SendLoss the share of its packets lost on the way to the server
	// over the last second (the worst of its tracks), after resends.
	ReceiveLoss, SendLoss float64
}

// Poor says whether the connection is bad enough that the picture or
// sound suffers: more than 5 % loss either way, or a round trip over
// 400 ms.
func (q Quality) Poor() bool {
	return q.ReceiveLoss > 0.05 || q.SendLoss > 0.05 || q.RTT > 400*time.Millisecond
}

// EventKind says what happened in a call.
type EventKind string

// The events of a call.
const (
	EventJoined   EventKind = "joined"
	EventLeft     EventKind = "left"
	EventSpeaking EventKind = "speaking"
	EventKicked   EventKind = "kicked"
	EventEnded    EventKind = "ended"
)

// Event is a change in a call: who and when, never media or content.
type Event struct {
	Kind     EventKind
	Call     CallID
	Identity Identity
	At       time.Time
}

// Backend is the media side of calls: the embedded pion SFU by default,
// LiveKit at scale. The lobby (who is admitted) is not the backend's
// business: rathaus asks for a grant only after admission.
type Backend interface {
	// EnsureCall makes the call exist with limits, or updates its limits;
	// calling it again for a running call is fine.
	EnsureCall(ctx context.Context, call CallID, limits Limits) error
	// Grant lets one identity into one call for a while. The returned
	// token is valid for that call and identity only.
	Grant(ctx context.Context, req GrantRequest) (JoinInfo, error)
	// Kick disconnects an identity from a call within seconds; its grant
	// stops working. Kicking someone not in the call is not an error.
	Kick(ctx context.Context, call CallID, who Identity) error
	// Participants lists who is in the call now.
	Participants(ctx context.Context, call CallID) ([]Participant, error)
	// EndCall disconnects everyone and forgets the call.
	EndCall(ctx context.Context, call CallID) error
	// Subscribe calls fn for every event of every call, in order per call,
	// until unsubscribe is called. fn must not block.
	Subscribe(fn func(Event)) (unsubscribe func())
}
