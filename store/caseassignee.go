package store

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
)

const (
	addAssigneeQuery = `
		INSERT INTO case_assignee (case_id, user_id, assigned_at) VALUES ($1, $2, $3)
		ON CONFLICT (case_id, user_id) DO NOTHING`
	listAssigneesQuery = `SELECT user_id FROM case_assignee WHERE case_id = $1 ORDER BY assigned_at, user_id`
	openCasesOfQuery   = `
		SELECT COUNT(*) FROM case_assignee a JOIN citizen_case c ON c.id = a.case_id
		WHERE a.user_id = $1 AND c.status IN ('active', 'awaiting_citizen')`
)

// AddCaseAssignee records that a caseworker works on a case (idempotent).
func (s *Store) AddCaseAssignee(ctx context.Context, caseID protocol.CaseID, user id.UserID) error {
	if _, err := s.DB.Exec(ctx, addAssigneeQuery, caseID, user, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("failed to add case assignee: %w", err)
	}
	return nil
}

// CaseAssignees returns a case's caseworkers in the order they joined.
func (s *Store) CaseAssignees(ctx context.Context, caseID protocol.CaseID) ([]id.UserID, error) {
	rows, err := s.DB.Query(ctx, listAssigneesQuery, caseID)
	if err != nil {
		return nil, fmt.Errorf("failed to list case assignees: %w", err)
	}
	defer rows.Close()
	out := []id.UserID{}
	for rows.Next() {
		var u id.UserID
		if err = rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("failed to scan case assignee: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// OpenCasesOf counts the active cases a caseworker is assigned to.
func (s *Store) OpenCasesOf(ctx context.Context, user id.UserID) (int, error) {
	var n int
	if err := s.DB.QueryRow(ctx, openCasesOfQuery, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("failed to count open cases: %w", err)
	}
	return n, nil
}
