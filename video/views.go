package video

import (
	"errors"
	"time"
)

// The views below are what the pages see of a call: the citizen's page
// through the guest chat API, the staff call page through its own API.
// They carry identities and states, never media or content.

// CitizenState is where the citizen stands in the case's call.
type CitizenState string

// The citizen's states. CitizenNone: no knock yet (or after hanging up);
// the others are the lobby's states, plus CitizenEnded when the call was
// ended for all while the citizen was in it or waiting.
const (
	CitizenNone     CitizenState = "none"
	CitizenWaiting  CitizenState = "waiting"
	CitizenAdmitted CitizenState = "admitted"
	CitizenDenied   CitizenState = "denied"
	CitizenExpired  CitizenState = "expired"
	CitizenEnded    CitizenState = "ended"
)

// CitizenView is the citizen's page's view of the case's call.
type CitizenView struct {
	State CitizenState `json:"state"`
	// Position is the place in the lobby (1 = next), 0 unless waiting.
	Position int `json:"position,omitempty"`
	// StaffPresent says whether a caseworker is in the call now.
	StaffPresent bool `json:"staff_present"`
	// Join is set only when admitted: where and with which grant to join.
	Join *JoinInfo `json:"join,omitempty"`
}

// StaffView is the staff call page's view of a case's call.
type StaffView struct {
	Call CallID
	// Running is true from the first `!rathaus video` (or staff join)
	// until the call is ended.
	Running bool
	Started time.Time
	// Waiting are the knocks waiting, longest waiting first.
	Waiting []Knock
	// Participants are in the media call now.
	Participants []Participant
}

// Refusals of the call service, for the pages and commands to word.
var (
	// ErrNotStaff: the actor is not staff of the case (not joined, power
	// level too low, or one of rathaus's own users).
	ErrNotStaff = errors.New("video: only the case's caseworkers may do this")
	// ErrNoCall: no call is running in the case.
	ErrNoCall = errors.New("video: no call is running in this case")
	// ErrCaseClosed: the case is closed; no call.
	ErrCaseClosed = errors.New("video: the case is closed")
	// ErrNotAdmitted: a grant was asked for before admission.
	ErrNotAdmitted = errors.New("video: not admitted to the call")
	// ErrVideoDisabled: video is not configured.
	ErrVideoDisabled = errors.New("video: video calls are not enabled")
)
