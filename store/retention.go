package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rathaus-de/rathaus/protocol"
)

// Retention works on the citizen_case row: when a case ended, which cases
// are idle or due for purging, and the purge itself. The statuses are the
// strings of protocol.CaseStatus, spelled out in SQL like the rest of the
// store.

// endedStatuses are the statuses a case rests in until it is purged.
var endedStatuses = []protocol.CaseStatus{protocol.CaseClosed, protocol.CaseAbandoned, protocol.CaseTransferred}

const (
	// endTimesOnStatus is the SET clause every status change carries
	// ($3 = new status, $4 = now): entering an ended status starts the
	// retention clock, purging keeps it, anything else (a reopen, a
	// transfer inside the authority) stops it. retain_until is set by the
	// cases package afterwards (RetainClosedCase), because only it knows
	// retention.keep_closed.
	endTimesOnStatus = `
		closed_at = CASE WHEN $3 IN ('closed', 'abandoned', 'transferred') THEN $4
		                 WHEN $3 = 'purged' THEN closed_at END,
		retain_until = CASE WHEN $3 = 'purged' THEN retain_until END`
	idleCasesQuery = `
		SELECT id FROM citizen_case
		WHERE status IN ('queued', 'active', 'awaiting_citizen') AND COALESCE(last_citizen_at, created_at) < $1
		ORDER BY created_at, id LIMIT $2`
	// updated_at of a resolved case is when it was resolved: only status
	// changes (and transfers, which leave resolved) write it.
	resolvedCasesQuery = `
		SELECT id FROM citizen_case
		WHERE status = 'resolved' AND updated_at < $1
		ORDER BY updated_at, id LIMIT $2`
	// Cases that ended before schema v8 have no closed_at; their last
	// status change is when they ended.
	purgeDueQuery = `
		SELECT id FROM citizen_case
		WHERE status IN ('closed', 'abandoned', 'transferred') AND COALESCE(closed_at, updated_at) <= $1
		ORDER BY COALESCE(closed_at, updated_at), id LIMIT $2`
	retainClosedQuery = `
		UPDATE citizen_case SET retain_until = closed_at + $2
		WHERE id = $1 AND closed_at IS NOT NULL AND status IN ('closed', 'abandoned', 'transferred')
		RETURNING retain_until`
	purgeCaseQuery = `
		UPDATE citizen_case SET status = 'purged', updated_at = $3, room_id = NULL WHERE id = $1 AND status = $2`
	purgeEventsQuery     = `DELETE FROM case_event WHERE case_id = $1`
	purgeSessionsQuery   = `DELETE FROM guest_session WHERE case_id = $1`
	purgeAssigneesQuery  = `DELETE FROM case_assignee WHERE case_id = $1`
	purgeTicketQuery     = `DELETE FROM ozg_ticket WHERE case_id = $1`
	purgeSubmissionQuery = `DELETE FROM ozg_submission_event WHERE case_id = $1`
)

// IdleCases returns up to limit open cases (queued, active,
// awaiting_citizen) whose citizen was last active before the cutoff,
// oldest first. A case the citizen never wrote in counts from its opening.
func (s *Store) IdleCases(ctx context.Context, before time.Time, limit int) ([]protocol.CaseID, error) {
	return s.caseIDs(ctx, idleCasesQuery, before.UnixMilli(), limit)
}

// ResolvedCases returns up to limit cases that have been resolved since
// before the cutoff (now minus retention.close_resolved_after), longest
// resolved first.
func (s *Store) ResolvedCases(ctx context.Context, before time.Time, limit int) ([]protocol.CaseID, error) {
	return s.caseIDs(ctx, resolvedCasesQuery, before.UnixMilli(), limit)
}

// CasesDueForPurge returns up to limit ended cases (closed, abandoned,
// transferred) that ended at or before endedBefore (now minus
// retention.keep_closed), longest ended first.
func (s *Store) CasesDueForPurge(ctx context.Context, endedBefore time.Time, limit int) ([]protocol.CaseID, error) {
	return s.caseIDs(ctx, purgeDueQuery, endedBefore.UnixMilli(), limit)
}

func (s *Store) caseIDs(ctx context.Context, query string, cutoff int64, limit int) ([]protocol.CaseID, error) {
	rows, err := s.DB.Query(ctx, query, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to query cases: %w", err)
	}
	defer rows.Close()
	var out []protocol.CaseID
	for rows.Next() {
		var caseID protocol.CaseID
		if err = rows.Scan(&caseID); err != nil {
			return nil, fmt.Errorf("failed to scan case id: %w", err)
		}
		out = append(out, caseID)
	}
	return out, rows.Err()
}

// RetainClosedCase sets an ended case's retain_until to its end plus keep
// and returns it; the zero time if the case has not ended.
func (s *Store) RetainClosedCase(ctx context.Context, caseID protocol.CaseID, keep time.Duration) (time.Time, error) {
	var until int64
	err := s.DB.QueryRow(ctx, retainClosedQuery, caseID, keep.Milliseconds()).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("failed to store case retention: %w", err)
	}
	return time.UnixMilli(until), nil
}

// PurgeResult counts what a purge deleted.
type PurgeResult struct {
	Events, Sessions int64
}

// PurgeCase ends a case's retention in one transaction: its timeline
// (case_event), its guest sessions and its caseworkers are deleted, the
// room is forgotten, and the case becomes purged with a transition row.
// The row keeps its id, reference, department, status and times (and the
// random ghost id, which the schema requires). from must be an ended
// status (else ErrInvalidValue); if the case is no longer in it,
// ErrConflict and nothing changes.
func (s *Store) PurgeCase(ctx context.Context, caseID protocol.CaseID, from protocol.CaseStatus, actor string) (PurgeResult, error) {
	var res PurgeResult
	if !slices.Contains(endedStatuses, from) {
		return res, fmt.Errorf("%w: a %q case cannot be purged", ErrInvalidValue, from)
	}
	now := time.Now().UnixMilli()
	err := s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		r, err := s.DB.Exec(ctx, purgeCaseQuery, caseID, from, now)
		if err != nil {
			return fmt.Errorf("failed to purge case: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrConflict
		}
		if r, err = s.DB.Exec(ctx, purgeEventsQuery, caseID); err != nil {
			return fmt.Errorf("failed to delete case timeline: %w", err)
		}
		res.Events, _ = r.RowsAffected()
		if r, err = s.DB.Exec(ctx, purgeSessionsQuery, caseID); err != nil {
			return fmt.Errorf("failed to delete guest sessions: %w", err)
		}
		res.Sessions, _ = r.RowsAffected()
		if _, err = s.DB.Exec(ctx, purgeAssigneesQuery, caseID); err != nil {
			return fmt.Errorf("failed to delete case assignees: %w", err)
		}
		if _, err = s.DB.Exec(ctx, purgeSubmissionQuery, caseID); err != nil {
			return fmt.Errorf("failed to delete the submission's history: %w", err)
		}
		if _, err = s.DB.Exec(ctx, purgeTicketQuery, caseID); err != nil {
			return fmt.Errorf("failed to delete the case's ticket: %w", err)
		}
		if _, err = s.DB.Exec(ctx, insertTransitionQuery, caseID, from, protocol.CasePurged, "purge", actor, now); err != nil {
			return fmt.Errorf("failed to record case transition: %w", err)
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, err
	}
	return res, nil
}
