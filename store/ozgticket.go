package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rathaus-de/rathaus/protocol"
)

// The OZG ticket of a case (table ozg_ticket): which online service the
// case came from, the FIT-Connect submission it names, the submission's
// last reported status and an external ticket number. Every status change
// of a case with a verified ticket also stores an outbox job of kind
// JobKindTicketStatus in the same transaction, so the online service's
// status webhook can neither be lost by a crash nor sent twice under two
// delivery ids.

// JobKindTicketStatus is the outbox job kind stored for each status change
// of a case whose ticket names a service. Its payload is a TicketStatusJob.
const JobKindTicketStatus = "ticket-status"

// NewTicket is the ticket a case opens with (NewCase.Ticket).
type NewTicket struct {
	ID protocol.TicketID
	// Service is ozg.services[].id of a verified hand-over, "" otherwise.
	Service string
	// Submission is the FIT-Connect submission id, or "".
	Submission string
}

// Ticket is a case's row of ozg_ticket.
type Ticket struct {
	CaseID           protocol.CaseID
	ID               protocol.TicketID
	Service          string
	Submission       string
	SubmissionStatus string
	ExternalRef      string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TicketStatusJob is the payload of a JobKindTicketStatus job: everything
// a status webhook reports, fixed when the status changed (the case may
// be purged before the job runs). No message text, no form contents.
type TicketStatusJob struct {
	CaseID     protocol.CaseID     `json:"case_id"`
	Reference  string              `json:"reference"`
	TicketID   protocol.TicketID   `json:"ticket_id"`
	Service    string              `json:"service_id"`
	Submission string              `json:"submission_id,omitempty"`
	From       protocol.CaseStatus `json:"from,omitempty"`
	To         protocol.CaseStatus `json:"to"`
	// Action is the case action (claim, resolve, transfer:<dept>, ...).
	Action string `json:"action"`
	// At is when the status changed (Unix ms).
	At int64 `json:"at"`
	// Seq counts the case's status changes, 1 for the opening.
	Seq int `json:"seq"`
}

// TicketStatusDeliveryID is the delivery id of a case's seq-th status
// change: the same change always has the same id.
func TicketStatusDeliveryID(caseID protocol.CaseID, seq int) string {
	return fmt.Sprintf("%s.%d", caseID, seq)
}

const (
	insertTicketQuery = `
		INSERT INTO ozg_ticket (case_id, ticket_id, service_id, submission_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)`
	ticketColumns     = `case_id, ticket_id, service_id, submission_id, submission_status, external_ref, created_at, updated_at`
	ticketByCaseQuery = `SELECT ` + ticketColumns + ` FROM ozg_ticket WHERE case_id = $1`
	ticketBySubQuery  = `SELECT ` + ticketColumns + ` FROM ozg_ticket WHERE submission_id = $1 AND submission_id <> '' ORDER BY created_at DESC LIMIT 1`
	ticketExtRefQuery = `UPDATE ozg_ticket SET external_ref = $2, updated_at = $3 WHERE case_id = $1`
	ticketSubStQuery  = `UPDATE ozg_ticket SET submission_status = $2, updated_at = $3 WHERE case_id = $1`
	subEventQuery     = `INSERT INTO ozg_submission_event (case_id, status, at) VALUES ($1, $2, $3)`
	// Steps learnt in the same millisecond keep the submission's course
	// (submitted, forwarded, then accepted or rejected), not the
	// alphabet's.
	subHistoryQuery = `SELECT status, at FROM ozg_submission_event WHERE case_id = $1 ORDER BY at,
		CASE status WHEN 'submitted' THEN 0 WHEN 'forwarded' THEN 1 ELSE 2 END, status`
	ticketJobQuery = `
		SELECT t.ticket_id, t.service_id, t.submission_id, c.reference,
			(SELECT COUNT(*) FROM case_transition x WHERE x.case_id = t.case_id)
		FROM ozg_ticket t JOIN citizen_case c ON c.id = t.case_id WHERE t.case_id = $1`
)

// recordTransition stores a status change of a case (inside the caller's
// transaction) and, if the case's ticket names a service, the status
// webhook's outbox job.
func (s *Store) recordTransition(ctx context.Context, caseID protocol.CaseID, from, to protocol.CaseStatus, action, actor string, now int64) error {
	if _, err := s.DB.Exec(ctx, insertTransitionQuery, caseID, from, to, action, actor, now); err != nil {
		return fmt.Errorf("failed to record case transition: %w", err)
	}
	job := TicketStatusJob{CaseID: caseID, From: from, To: to, Action: action, At: now}
	err := s.DB.QueryRow(ctx, ticketJobQuery, caseID).Scan(&job.TicketID, &job.Service, &job.Submission, &job.Reference, &job.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("failed to read the case's ticket: %w", err)
	}
	if job.Service == "" {
		return nil
	}
	payload, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if _, err = s.DB.Exec(ctx, enqueueJobQuery, JobKindTicketStatus, TicketStatusDeliveryID(caseID, job.Seq), string(payload), now); err != nil {
		return fmt.Errorf("failed to enqueue the ticket's status job: %w", err)
	}
	return nil
}

// Ticket returns the case's ticket, or nil if it has none.
func (s *Store) Ticket(ctx context.Context, caseID protocol.CaseID) (*Ticket, error) {
	return s.getTicket(ctx, ticketByCaseQuery, caseID)
}

// TicketBySubmission returns the ticket that names a FIT-Connect
// submission (the newest, if several do), or nil.
func (s *Store) TicketBySubmission(ctx context.Context, submission string) (*Ticket, error) {
	if submission == "" {
		return nil, nil
	}
	return s.getTicket(ctx, ticketBySubQuery, submission)
}

func (s *Store) getTicket(ctx context.Context, query string, arg any) (*Ticket, error) {
	var t Ticket
	var created, updated int64
	err := s.DB.QueryRow(ctx, query, arg).Scan(&t.CaseID, &t.ID, &t.Service, &t.Submission, &t.SubmissionStatus, &t.ExternalRef, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to get ticket: %w", err)
	}
	t.CreatedAt, t.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return &t, nil
}

// SetTicketExternalRef records (or, with "", clears) the external ticket
// number of a case's ticket. It returns ErrNotFound if the case has no
// ticket.
func (s *Store) SetTicketExternalRef(ctx context.Context, caseID protocol.CaseID, ref string) error {
	return s.updateTicket(ctx, ticketExtRefQuery, caseID, ref)
}

// SetTicketSubmissionStatus records the submission status a verified
// FIT-Connect callback reported, as the ticket's status and a step of its
// SubmissionHistory, in one transaction. It returns ErrNotFound if the
// case has no ticket.
func (s *Store) SetTicketSubmissionStatus(ctx context.Context, caseID protocol.CaseID, status string) error {
	return s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		now := time.Now().UnixMilli()
		if err := s.updateTicket(ctx, ticketSubStQuery, caseID, status); err != nil {
			return err
		}
		if _, err := s.DB.Exec(ctx, subEventQuery, caseID, status, now); err != nil {
			return fmt.Errorf("failed to record the submission status: %w", err)
		}
		return nil
	})
}

// SubmissionStep is a status a FIT-Connect callback reported for a
// ticket's submission, and when.
type SubmissionStep struct {
	Status string
	At     time.Time
}

// SubmissionHistory returns the statuses reported for the case's
// submission, oldest first.
func (s *Store) SubmissionHistory(ctx context.Context, caseID protocol.CaseID) ([]SubmissionStep, error) {
	rows, err := s.DB.Query(ctx, subHistoryQuery, caseID)
	if err != nil {
		return nil, fmt.Errorf("failed to query the submission's history: %w", err)
	}
	defer rows.Close()
	var steps []SubmissionStep
	for rows.Next() {
		var st SubmissionStep
		var at int64
		if err = rows.Scan(&st.Status, &at); err != nil {
			return nil, fmt.Errorf("failed to read the submission's history: %w", err)
		}
		st.At = time.UnixMilli(at)
		steps = append(steps, st)
	}
	return steps, rows.Err()
}

func (s *Store) updateTicket(ctx context.Context, query string, caseID protocol.CaseID, value string) error {
	r, err := s.DB.Exec(ctx, query, caseID, value, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("failed to update ticket: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
