package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// RoomKind names a kind of room rathaus manages.
type RoomKind string

const (
	RoomAuthoritySpace  RoomKind = "authority_space"
	RoomDepartmentSpace RoomKind = "department_space"
	RoomStaff           RoomKind = "staff_room"
)

// Valid reports whether k is a known kind.
func (k RoomKind) Valid() bool {
	return k == RoomAuthoritySpace || k == RoomDepartmentSpace || k == RoomStaff
}

// ManagedRoom maps a kind and key (department id) to its Matrix room.
type ManagedRoom struct {
	Kind       RoomKind
	Key        string
	RoomID     id.RoomID
	ArchivedAt time.Time // zero while active
}

const (
	getManagedRoomQuery = `
		SELECT kind, key, room_id, COALESCE(archived_at, 0) FROM managed_room WHERE kind = $1 AND key = $2`
	listManagedRoomsQuery = `
		SELECT kind, key, room_id, COALESCE(archived_at, 0) FROM managed_room ORDER BY kind, key`
	putManagedRoomQuery = `
		INSERT INTO managed_room (kind, key, room_id) VALUES ($1, $2, $3)
		ON CONFLICT (kind, key) DO UPDATE SET room_id = excluded.room_id, archived_at = NULL`
	setArchivedQuery = `
		UPDATE managed_room SET archived_at = $3 WHERE kind = $1 AND key = $2`
)

func scanManagedRoom(row interface{ Scan(...any) error }) (*ManagedRoom, error) {
	var r ManagedRoom
	var archived int64
	if err := row.Scan(&r.Kind, &r.Key, &r.RoomID, &archived); err != nil {
		return nil, err
	}
	if archived > 0 {
		r.ArchivedAt = time.UnixMilli(archived)
	}
	return &r, nil
}

// GetManagedRoom returns the room of a kind and key, or nil.
func (s *Store) GetManagedRoom(ctx context.Context, kind RoomKind, key string) (*ManagedRoom, error) {
	r, err := scanManagedRoom(s.DB.QueryRow(ctx, getManagedRoomQuery, kind, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to query managed room: %w", err)
	}
	return r, nil
}

// ListManagedRooms returns every managed room.
func (s *Store) ListManagedRooms(ctx context.Context) ([]ManagedRoom, error) {
	rows, err := s.DB.Query(ctx, listManagedRoomsQuery)
	if err != nil {
		return nil, fmt.Errorf("failed to list managed rooms: %w", err)
	}
	defer rows.Close()
	var out []ManagedRoom
	for rows.Next() {
		r, err := scanManagedRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("failed to scan managed room: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// PutManagedRoom records (or replaces) the room of a kind and key, active.
func (s *Store) PutManagedRoom(ctx context.Context, kind RoomKind, key string, room id.RoomID) error {
	if _, err := s.DB.Exec(ctx, putManagedRoomQuery, kind, key, room); err != nil {
		return fmt.Errorf("failed to store managed room: %w", err)
	}
	return nil
}

// SetManagedRoomArchived marks a room archived (at != zero) or active.
func (s *Store) SetManagedRoomArchived(ctx context.Context, kind RoomKind, key string, at time.Time) error {
	var v any
	if !at.IsZero() {
		v = at.UnixMilli()
	}
	if _, err := s.DB.Exec(ctx, setArchivedQuery, kind, key, v); err != nil {
		return fmt.Errorf("failed to update managed room: %w", err)
	}
	return nil
}
