package cases

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Case is a citizen case as channels and commands see it.
type Case struct {
	ID protocol.CaseID
	// Reference is the human case reference (Aktenzeichen), e.g.
	// BAU-2026-00042.
	Reference  string
	Department protocol.DepartmentID
	Status     protocol.CaseStatus
	// Ghost is the appservice user that speaks for the citizen.
	Ghost id.UserID
	// RoomID is empty until the case room exists, and again after the
	// purge.
	RoomID    id.RoomID
	CreatedAt time.Time
	// UpdatedAt is the time of the last status change.
	UpdatedAt time.Time
	// RetainUntil is when an ended case is purged; zero while open.
	RetainUntil time.Time
	// LastCitizenAt is when the citizen last wrote or said they are still
	// there; zero if never since the case opened.
	LastCitizenAt time.Time
	// TicketRef is the id of the case's OZG ticket, or "".
	TicketRef protocol.TicketID
}

// AbandonAt is when an open case is abandoned if the citizen stays
// silent for abandonAfter (retention.abandon_after).
func (c *Case) AbandonAt(abandonAfter time.Duration) time.Time {
	last := c.CreatedAt
	if c.LastCitizenAt.After(last) {
		last = c.LastCitizenAt
	}
	return last.Add(abandonAfter)
}

// caseOf is the case of a database row (nil for nil).
func caseOf(row *store.Case) *Case {
	if row == nil {
		return nil
	}
	c := Case(*row)
	return &c
}

// Case returns a case by id, or nil if there is none.
func (s *Service) Case(ctx context.Context, caseID protocol.CaseID) (*Case, error) {
	row, err := s.opts.Store.GetCase(ctx, caseID)
	return caseOf(row), err
}

// caseByReference returns a case by its reference, or nil.
func (s *Service) caseByReference(ctx context.Context, ref string) (*Case, error) {
	row, err := s.opts.Store.GetCaseByReference(ctx, ref)
	return caseOf(row), err
}

// QueuePosition returns a queued case's place in its department's queue
// (1 is next).
func (s *Service) QueuePosition(ctx context.Context, caseID protocol.CaseID) (int, error) {
	return s.opts.Store.QueuePosition(ctx, caseID)
}

// TouchCitizen records that the citizen is still there (their page is
// open), which keeps the case from being abandoned.
func (s *Service) TouchCitizen(ctx context.Context, caseID protocol.CaseID, at time.Time) error {
	return s.opts.Store.TouchCitizen(ctx, caseID, at)
}
