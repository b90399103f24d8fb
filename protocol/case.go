package protocol

import (
	"reflect"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// CaseEventType is state "" in a case room.
var CaseEventType = event.Type{Type: "de.rathaus.case", Class: event.StateEventType}

// CaseStatus is where a citizen's case stands.
//
//	queued → active ⇄ awaiting_citizen → resolved → closed
//
// with the side exits abandoned (the citizen left), transferred (handed
// to another authority) and, after the retention period, purged.
type CaseStatus string

const (
	CaseQueued          CaseStatus = "queued"
	CaseActive          CaseStatus = "active"
	CaseAwaitingCitizen CaseStatus = "awaiting_citizen"
	CaseResolved        CaseStatus = "resolved"
	CaseClosed          CaseStatus = "closed"
	CaseAbandoned       CaseStatus = "abandoned"
	CaseTransferred     CaseStatus = "transferred"
	CasePurged          CaseStatus = "purged"
)

// Valid reports whether s is a known status.
func (s CaseStatus) Valid() bool {
	switch s {
	case CaseQueued, CaseActive, CaseAwaitingCitizen, CaseResolved, CaseClosed, CaseAbandoned, CaseTransferred, CasePurged:
		return true
	}
	return false
}

// Open reports whether the citizen and staff can still talk in the case.
func (s CaseStatus) Open() bool {
	return s == CaseQueued || s == CaseActive || s == CaseAwaitingCitizen
}

// CaseContent describes a case. It never holds what the citizen wrote or
// any form contents: only what staff need to find and handle the case.
type CaseContent struct {
	ID         CaseID       `json:"id"`
	Reference  string       `json:"reference"`
	Status     CaseStatus   `json:"status"`
	Department DepartmentID `json:"department"`
	Assignees  []id.UserID  `json:"assignees"`
	TicketRef  string       `json:"ticket_ref,omitempty"`
	// RetainUntil is when the case's room is purged (Unix milliseconds);
	// 0 while the case is open.
	RetainUntil int64 `json:"retain_until,omitempty"`
}

func init() {
	event.TypeMap[CaseEventType] = reflect.TypeOf(CaseContent{})
}
