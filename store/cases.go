package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
)

// Case is one citizen case as the database keeps it. Statuses are the
// strings of protocol.CaseStatus; the rules for changing them live in the
// cases package.
type Case struct {
	ID          protocol.CaseID
	Reference   string
	Department  protocol.DepartmentID
	Status      protocol.CaseStatus
	Ghost       id.UserID
	RoomID      id.RoomID // empty until the case room exists
	CreatedAt   time.Time
	UpdatedAt   time.Time
	RetainUntil time.Time // zero while open
	// LastCitizenAt is when the citizen last wrote or said they are still
	// there; zero if never since the case opened.
	LastCitizenAt time.Time
	// TicketRef is the id of the case's OZG ticket (de.rathaus.ticket
	// state key), or "".
	TicketRef protocol.TicketID
}

// NewCase is what CreateCase needs.
type NewCase struct {
	ID         protocol.CaseID
	Department protocol.DepartmentID
	Status     protocol.CaseStatus
	Ghost      id.UserID
	Actor      string
	// Session, if set, is the token hash of the guest session opening the
	// case. The case is bound to it in the same transaction; if the
	// session already has a case (or expired), CreateCase returns
	// ErrConflict and creates nothing.
	Session string
	// TicketRef is the id of the ticket the case opens with, or "".
	TicketRef protocol.TicketID
	// Ticket, if set, is stored as the case's ozg_ticket row (its ID is
	// TicketRef).
	Ticket *NewTicket
	// Reference formats the department's next running number for the year.
	Reference func(year, seq int) string
}

const (
	nextSequenceQuery = `
		INSERT INTO case_sequence (department, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (department, year) DO UPDATE SET last = case_sequence.last + 1
		RETURNING last`
	insertCaseQuery = `
		INSERT INTO citizen_case (id, reference, department, status, ghost_user_id, created_at, updated_at, ticket_ref)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`
	insertTransitionQuery = `
		INSERT INTO case_transition (case_id, from_status, to_status, action, actor, at) VALUES ($1, $2, $3, $4, $5, $6)`
	caseColumns   = `id, reference, department, status, ghost_user_id, COALESCE(room_id, ''), created_at, updated_at, COALESCE(retain_until, 0), COALESCE(last_citizen_at, 0), ticket_ref`
	getCaseQuery  = `SELECT ` + caseColumns + ` FROM citizen_case WHERE id = $1`
	updateStatus  = `UPDATE citizen_case SET status = $3, updated_at = $4, ` + endTimesOnStatus + ` WHERE id = $1 AND status = $2`
	setRoomQuery  = `UPDATE citizen_case SET room_id = $2 WHERE id = $1 AND room_id IS NULL`
	historyQuery  = `SELECT from_status, to_status, action, actor, at FROM case_transition WHERE case_id = $1 ORDER BY at, to_status`
	retainQuery   = `UPDATE citizen_case SET retain_until = $2 WHERE id = $1`
	caseByRefQry  = `SELECT ` + caseColumns + ` FROM citizen_case WHERE reference = $1`
	caseByRoomQry = `SELECT ` + caseColumns + ` FROM citizen_case WHERE room_id = $1`
	caseRoomsQry  = `SELECT room_id, id FROM citizen_case WHERE room_id IS NOT NULL`
)

// CreateCase allocates the department's next reference for the current
// year and stores the case with its first transition, in one transaction.
func (s *Store) CreateCase(ctx context.Context, nc NewCase) (*Case, error) {
	now := time.Now()
	var c *Case
	err := s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		var seq int
		if err := s.DB.QueryRow(ctx, nextSequenceQuery, nc.Department, now.Year()).Scan(&seq); err != nil {
			return fmt.Errorf("failed to allocate case reference: %w", err)
		}
		ref := nc.Reference(now.Year(), seq)
		if _, err := s.DB.Exec(ctx, insertCaseQuery, nc.ID, ref, nc.Department, nc.Status, nc.Ghost, now.UnixMilli(), nc.TicketRef); err != nil {
			return fmt.Errorf("failed to insert case: %w", err)
		}
		if nc.Ticket != nil {
			if _, err := s.DB.Exec(ctx, insertTicketQuery, nc.ID, nc.TicketRef, nc.Ticket.Service, nc.Ticket.Submission, now.UnixMilli()); err != nil {
				return fmt.Errorf("failed to insert the case's ticket: %w", err)
			}
		}
		if err := s.recordTransition(ctx, nc.ID, "", nc.Status, "open", nc.Actor, now.UnixMilli()); err != nil {
			return err
		}
		if nc.Session != "" {
			r, err := s.DB.Exec(ctx, bindSessionQuery, nc.Session, nc.ID, now.UnixMilli())
			if err != nil {
				return fmt.Errorf("failed to bind the session to the case: %w", err)
			} else if n, _ := r.RowsAffected(); n == 0 {
				return ErrConflict
			}
		}
		c = &Case{ID: nc.ID, Reference: ref, Department: nc.Department, Status: nc.Status, Ghost: nc.Ghost, TicketRef: nc.TicketRef,
			CreatedAt: time.UnixMilli(now.UnixMilli()), UpdatedAt: time.UnixMilli(now.UnixMilli())}
		return nil
	})
	return c, err
}

// TransitionCase changes a case's status from `from` to `to` and records
// who did it. If the status is no longer `from` (someone else was faster),
// it returns ErrConflict and changes nothing. Entering an ended status
// (closed, abandoned, transferred) sets closed_at; any other status but
// purged clears closed_at and retain_until.
func (s *Store) TransitionCase(ctx context.Context, caseID protocol.CaseID, from, to protocol.CaseStatus, action, actor string) error {
	now := time.Now().UnixMilli()
	return s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		r, err := s.DB.Exec(ctx, updateStatus, caseID, from, to, now)
		if err != nil {
			return fmt.Errorf("failed to update case status: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return s.recordTransition(ctx, caseID, from, to, action, actor, now)
	})
}

// SetCaseRoom records the case room once; a second call is a no-op.
func (s *Store) SetCaseRoom(ctx context.Context, caseID protocol.CaseID, room id.RoomID) error {
	if _, err := s.DB.Exec(ctx, setRoomQuery, caseID, room); err != nil {
		return fmt.Errorf("failed to store case room: %w", err)
	}
	return nil
}

// SetCaseRetention sets when the case is purged.
func (s *Store) SetCaseRetention(ctx context.Context, caseID protocol.CaseID, until time.Time) error {
	if _, err := s.DB.Exec(ctx, retainQuery, caseID, until.UnixMilli()); err != nil {
		return fmt.Errorf("failed to store case retention: %w", err)
	}
	return nil
}

// GetCase returns a case by id, or nil.
func (s *Store) GetCase(ctx context.Context, caseID protocol.CaseID) (*Case, error) {
	return s.getCase(ctx, getCaseQuery, caseID)
}

// GetCaseByReference returns a case by its reference, or nil.
func (s *Store) GetCaseByReference(ctx context.Context, ref string) (*Case, error) {
	return s.getCase(ctx, caseByRefQry, ref)
}

// GetCaseByRoom returns the case of a room, or nil.
func (s *Store) GetCaseByRoom(ctx context.Context, room id.RoomID) (*Case, error) {
	return s.getCase(ctx, caseByRoomQry, room)
}

// CaseRooms returns every case room with its case id. The purge clears a
// case's room, so purged cases are not among them.
func (s *Store) CaseRooms(ctx context.Context) (map[id.RoomID]protocol.CaseID, error) {
	rows, err := s.DB.Query(ctx, caseRoomsQry)
	if err != nil {
		return nil, fmt.Errorf("failed to query case rooms: %w", err)
	}
	defer rows.Close()
	out := map[id.RoomID]protocol.CaseID{}
	for rows.Next() {
		var room id.RoomID
		var caseID protocol.CaseID
		if err = rows.Scan(&room, &caseID); err != nil {
			return nil, fmt.Errorf("failed to scan case room: %w", err)
		}
		out[room] = caseID
	}
	return out, rows.Err()
}

func (s *Store) getCase(ctx context.Context, query string, arg any) (*Case, error) {
	var c Case
	var created, updated, retain, citizen int64
	err := s.DB.QueryRow(ctx, query, arg).Scan(&c.ID, &c.Reference, &c.Department, &c.Status, &c.Ghost, &c.RoomID, &created, &updated, &retain, &citizen, &c.TicketRef)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to query case: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	if retain > 0 {
		c.RetainUntil = time.UnixMilli(retain)
	}
	if citizen > 0 {
		c.LastCitizenAt = time.UnixMilli(citizen)
	}
	return &c, nil
}

// CaseTransition is one recorded status change.
type CaseTransition struct {
	From, To      protocol.CaseStatus
	Action, Actor string
	At            time.Time
}

// CaseHistory returns a case's transitions, oldest first.
func (s *Store) CaseHistory(ctx context.Context, caseID protocol.CaseID) ([]CaseTransition, error) {
	rows, err := s.DB.Query(ctx, historyQuery, caseID)
	if err != nil {
		return nil, fmt.Errorf("failed to query case history: %w", err)
	}
	defer rows.Close()
	var out []CaseTransition
	for rows.Next() {
		var t CaseTransition
		var at int64
		if err = rows.Scan(&t.From, &t.To, &t.Action, &t.Actor, &at); err != nil {
			return nil, fmt.Errorf("failed to scan case transition: %w", err)
		}
		t.At = time.UnixMilli(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

const (
	transferCaseQuery = `
		UPDATE citizen_case SET status = $3, department = $5, updated_at = $4, ` + endTimesOnStatus + `
		WHERE id = $1 AND status = $2`
	clearAssigneesQuery = `DELETE FROM case_assignee WHERE case_id = $1`
)

// TransferCase moves a case to another department with a new status,
// records the transition and forgets the old caseworkers, in one
// transaction; end times follow the new status as in TransitionCase.
// ErrConflict if the status changed meanwhile.
func (s *Store) TransferCase(ctx context.Context, caseID protocol.CaseID, from, to protocol.CaseStatus, department protocol.DepartmentID, actor string) error {
	now := time.Now().UnixMilli()
	return s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		r, err := s.DB.Exec(ctx, transferCaseQuery, caseID, from, to, now, department)
		if err != nil {
			return fmt.Errorf("failed to transfer case: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrConflict
		}
		if _, err = s.DB.Exec(ctx, clearAssigneesQuery, caseID); err != nil {
			return fmt.Errorf("failed to clear case assignees: %w", err)
		}
		return s.recordTransition(ctx, caseID, from, to, "transfer:"+string(department), actor, now)
	})
}
