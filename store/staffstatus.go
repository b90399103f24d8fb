package store

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// StaffStatus is what a staff member says about their availability.
type StaffStatus string

const (
	StatusAvailable StaffStatus = "available"
	StatusBusy      StaffStatus = "busy"
	StatusAway      StaffStatus = "away"
	StatusOffline   StaffStatus = "offline"
)

// Valid reports whether s is a known status.
func (s StaffStatus) Valid() bool {
	switch s {
	case StatusAvailable, StatusBusy, StatusAway, StatusOffline:
		return true
	}
	return false
}

const (
	setStaffStatusQuery = `
		INSERT INTO staff_status (user_id, status, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`
	listStaffStatusQuery = `SELECT user_id, status FROM staff_status`
)

// SetStaffStatus stores a staff member's status.
func (s *Store) SetStaffStatus(ctx context.Context, user id.UserID, status StaffStatus) error {
	if !status.Valid() {
		return fmt.Errorf("%w: unknown staff status %q", ErrInvalidValue, status)
	}
	if _, err := s.DB.Exec(ctx, setStaffStatusQuery, user, status, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("failed to store staff status: %w", err)
	}
	return nil
}

// StaffStatuses returns every stored status. Staff without a row are
// offline.
func (s *Store) StaffStatuses(ctx context.Context) (map[id.UserID]StaffStatus, error) {
	rows, err := s.DB.Query(ctx, listStaffStatusQuery)
	if err != nil {
		return nil, fmt.Errorf("failed to list staff status: %w", err)
	}
	defer rows.Close()
	out := map[id.UserID]StaffStatus{}
	for rows.Next() {
		var u id.UserID
		var st StaffStatus
		if err = rows.Scan(&u, &st); err != nil {
			return nil, fmt.Errorf("failed to scan staff status: %w", err)
		}
		out[u] = st
	}
	return out, rows.Err()
}
