package protocol

import (
	"reflect"

	"maunium.net/go/mautrix/event"
)

// TicketEventType is state in a case room, keyed by the ticket id: the
// summary of an OZG hand-over. It never holds form contents, only what
// tells staff where the citizen got stuck.
var TicketEventType = event.Type{Type: "de.rathaus.ticket", Class: event.StateEventType}

// TicketID names a ticket in its case room (the state key).
type TicketID string

// String returns the id as it is written.
func (t TicketID) String() string { return string(t) }

// TrustLevel is the trust level (Vertrauensniveau) of the citizen's
// sign-in at the online service, as eIDAS and the BundID name them.
type TrustLevel string

const (
	TrustNone         TrustLevel = "none"
	TrustBasis        TrustLevel = "basis"
	TrustSubstanziell TrustLevel = "substanziell"
	TrustHoch         TrustLevel = "hoch"
)

// Valid reports whether t is a known trust level.
func (t TrustLevel) Valid() bool {
	return t == TrustNone || t == TrustBasis || t == TrustSubstanziell || t == TrustHoch
}

// TicketStatus is where the ticket stands.
type TicketStatus string

const (
	// TicketOpen: the hand-over opened a case that is being handled.
	TicketOpen TicketStatus = "open"
)

// Valid reports whether s is a known ticket status.
func (s TicketStatus) Valid() bool { return s == TicketOpen }

// TicketService is the online service a ticket came from.
type TicketService struct {
	// ID is the service's id in rathaus's config (ozg.services[].id).
	ID string `json:"id"`
	// Name is the service as staff and citizens know it.
	Name string `json:"name"`
	// Version is the version the service reported, or "".
	Version string `json:"version,omitempty"`
}

// FITConnectIDs are the ids of a FIT-Connect submission the online service
// reported (UUIDs), each "" if not known.
type FITConnectIDs struct {
	Submission  string `json:"submission,omitempty"`
	Destination string `json:"destination,omitempty"`
	Case        string `json:"case,omitempty"`
}

// TicketContent is the de.rathaus.ticket state of a case room.
type TicketContent struct {
	ID TicketID `json:"id"`
	// Service is the online service; empty for an unverified hand-over.
	Service TicketService `json:"service"`
	// Leika is the service's key in the Leistungskatalog (14 digits).
	Leika string `json:"leika,omitempty"`
	// ARS is the Amtlicher Regionalschlüssel (12 digits) of the
	// municipality the service is for, or "".
	ARS string `json:"ars,omitempty"`
	// Step is the step of the online service where the citizen asked for
	// help, in the service's words.
	Step string `json:"step,omitempty"`
	// ErrorCode is the service's code of the error the citizen saw, or "".
	ErrorCode string `json:"error_code,omitempty"`
	// Trust is the trust level of the citizen's sign-in at the service.
	Trust TrustLevel `json:"trust,omitempty"`
	// Lang is the language of the citizen's page, "de" or "en".
	Lang       string        `json:"lang,omitempty"`
	FITConnect FITConnectIDs `json:"fit_connect"`
	Status     TicketStatus  `json:"status"`
	// Verified is true when the online service's signature was checked;
	// false for a hand-over page opened without a (valid) context.
	Verified bool `json:"verified"`
	// IssuedAt is when the service signed the context (Unix ms), or 0.
	IssuedAt int64 `json:"issued_at,omitempty"`
	// SubmissionStatus is the FIT-Connect submission's last status a
	// verified callback reported, or "" before the first.
	SubmissionStatus SubmissionStatus `json:"submission_status,omitempty"`
	// ExternalRef is the number of the ticket in the authority's own
	// ticket system that staff linked (widget or !rathaus ticket link), or "".
	ExternalRef string `json:"external_ref,omitempty"`
}

func init() {
	event.TypeMap[TicketEventType] = reflect.TypeOf(TicketContent{})
}
