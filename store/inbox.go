package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// InboxState is the processing state of one stored event.
type InboxState string

const (
	// InboxPending events wait for the dispatcher.
	InboxPending InboxState = "pending"
	// InboxDone events were handled; their payload is erased.
	InboxDone InboxState = "done"
	// InboxParked events failed every retry and wait for an operator.
	InboxParked InboxState = "parked"
)

// Valid reports whether s is a known state.
func (s InboxState) Valid() bool {
	switch s {
	case InboxPending, InboxDone, InboxParked:
		return true
	}
	return false
}

// InboxEvent is one room event received from the homeserver.
type InboxEvent struct {
	Seq     int64
	EventID id.EventID
	RoomID  id.RoomID
	TxnID   string
	Type    string
	Payload []byte
	State   InboxState
	// Attempts counts handler runs started, including one cut short by a
	// crash.
	Attempts int
	// NextAttemptAt is when a failed event may run again (zero: now).
	NextAttemptAt time.Time
	ReceivedAt    time.Time
}

// SaveResult says what SaveTransaction stored.
type SaveResult struct {
	// DuplicateTxn is true when the transaction id was seen before; nothing
	// was written.
	DuplicateTxn bool
	// Stored is the number of new events; events whose id was already
	// stored (in any transaction) are not counted and not stored again.
	Stored int
}

const (
	insertTxnQuery = `
		INSERT INTO as_transaction (txn_id, received_at, event_count) VALUES ($1, $2, $3)
		ON CONFLICT (txn_id) DO NOTHING`
	insertEventQuery = `
		INSERT INTO inbox_event (event_id, room_id, txn_id, event_type, payload, received_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (event_id) DO NOTHING`
	// A room is due when its oldest pending event is due: later events of
	// the room wait behind it, whatever their own state.
	pendingRoomsQuery = `
		SELECT e.room_id FROM inbox_event e
		WHERE e.state = 'pending' AND e.next_attempt_at <= $1 AND NOT EXISTS (
			SELECT 1 FROM inbox_event o WHERE o.room_id = e.room_id AND o.state = 'pending' AND o.seq < e.seq
		)`
	nextDueQuery = `
		SELECT MIN(next_attempt_at) FROM inbox_event WHERE state = 'pending' AND next_attempt_at > $1`
	nextPendingQuery = `
		SELECT seq, event_id, room_id, txn_id, event_type, payload, state, attempts, next_attempt_at, received_at
		FROM inbox_event WHERE room_id = $1 AND state = 'pending' ORDER BY seq LIMIT 1`
	startAttemptQuery = `
		UPDATE inbox_event SET attempts = attempts + 1 WHERE seq = $1 AND state = 'pending' RETURNING attempts`
	markDoneQuery = `
		UPDATE inbox_event SET state = 'done', payload = NULL, last_error = NULL, finished_at = $2
		WHERE seq = $1 AND state = 'pending'`
	recordFailureQuery = `
		UPDATE inbox_event SET last_error = $2, next_attempt_at = $3
		WHERE seq = $1 AND state = 'pending'`
	parkQuery = `
		UPDATE inbox_event SET state = 'parked', last_error = $2, finished_at = $3
		WHERE seq = $1 AND state = 'pending'`
	inboxStatsQuery = `
		SELECT COUNT(*), COALESCE(MIN(received_at), 0) FROM inbox_event WHERE state = 'pending'`
	parkedCountQuery = `
		SELECT COUNT(*) FROM inbox_event WHERE state = 'parked'`
	countByStateQuery = `
		SELECT COUNT(*) FROM inbox_event WHERE state = $1`
	pruneEventsQuery = `
		DELETE FROM inbox_event WHERE state <> 'pending' AND finished_at < $1`
	pruneTxnQuery = `
		DELETE FROM as_transaction WHERE received_at < $1`
)

// SaveTransaction stores a homeserver transaction and its events in one
// database transaction. It returns only after the commit, so the caller may
// acknowledge the transaction once it returns without error.
func (s *Store) SaveTransaction(ctx context.Context, txnID string, events []InboxEvent) (SaveResult, error) {
	var res SaveResult
	now := time.Now().UnixMilli()
	err := s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		res = SaveResult{}
		r, err := s.DB.Exec(ctx, insertTxnQuery, txnID, now, len(events))
		if err != nil {
			return fmt.Errorf("failed to insert transaction: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			// Normally a redelivery of the same events, which the event id
			// check below skips. A homeserver that reuses transaction ids
			// for new batches (Synapse on SQLite starts at 1 again after a
			// restart; Dendrite falls back to timestamp-based ids) loses
			// nothing either: its events are new by event id.
			res.DuplicateTxn = true
		}
		for _, evt := range events {
			r, err = s.DB.Exec(ctx, insertEventQuery, evt.EventID, evt.RoomID, txnID, evt.Type, string(evt.Payload), now)
			if err != nil {
				return fmt.Errorf("failed to insert event: %w", err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.Stored++
			}
		}
		return nil
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("failed to save transaction: %w", err)
	}
	return res, nil
}

// PendingRooms lists the rooms whose oldest pending event is due at now.
func (s *Store) PendingRooms(ctx context.Context, now time.Time) ([]id.RoomID, error) {
	rows, err := s.DB.Query(ctx, pendingRoomsQuery, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("failed to query pending rooms: %w", err)
	}
	defer rows.Close()
	var rooms []id.RoomID
	for rows.Next() {
		var room id.RoomID
		if err = rows.Scan(&room); err != nil {
			return nil, fmt.Errorf("failed to scan pending room: %w", err)
		}
		rooms = append(rooms, room)
	}
	return rooms, rows.Err()
}

// NextPending returns the oldest pending event of a room, or nil.
func (s *Store) NextPending(ctx context.Context, roomID id.RoomID) (*InboxEvent, error) {
	var evt InboxEvent
	var payload sql.NullString
	var received, next int64
	err := s.DB.QueryRow(ctx, nextPendingQuery, roomID).Scan(
		&evt.Seq, &evt.EventID, &evt.RoomID, &evt.TxnID, &evt.Type, &payload, &evt.State, &evt.Attempts, &next, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to query next pending event: %w", err)
	}
	evt.Payload = []byte(payload.String)
	evt.ReceivedAt = time.UnixMilli(received)
	if next > 0 {
		evt.NextAttemptAt = time.UnixMilli(next)
	}
	return &evt, nil
}

// NextDue returns the earliest time a waiting (failed) event becomes due
// after now, or zero if none waits.
func (s *Store) NextDue(ctx context.Context, now time.Time) (time.Time, error) {
	var next sql.NullInt64
	if err := s.DB.QueryRow(ctx, nextDueQuery, now.UnixMilli()).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("failed to query next due event: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(next.Int64), nil
}

// StartAttempt counts a handler run before it starts, so an event that
// crashes the process is not retried forever. It returns the new count.
func (s *Store) StartAttempt(ctx context.Context, seq int64) (int, error) {
	var attempts int
	err := s.DB.QueryRow(ctx, startAttemptQuery, seq).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotPending
	} else if err != nil {
		return 0, fmt.Errorf("failed to count attempt: %w", err)
	}
	return attempts, nil
}

// MarkDone records that an event was handled and erases its payload.
func (s *Store) MarkDone(ctx context.Context, seq int64) error {
	return s.finish(ctx, markDoneQuery, seq, time.Now().UnixMilli())
}

// RecordFailure records why an attempt failed and when to try again; the
// event stays pending and first in its room.
func (s *Store) RecordFailure(ctx context.Context, seq int64, reason string, next time.Time) error {
	return s.finish(ctx, recordFailureQuery, seq, reason, next.UnixMilli())
}

// Park gives up on an event after its last failed attempt. The payload is
// kept for an operator until PruneInbox removes the row.
func (s *Store) Park(ctx context.Context, seq int64, reason string) error {
	return s.finish(ctx, parkQuery, seq, reason, time.Now().UnixMilli())
}

func (s *Store) finish(ctx context.Context, query string, seq int64, args ...any) error {
	r, err := s.DB.Exec(ctx, query, append([]any{seq}, args...)...)
	if err != nil {
		return fmt.Errorf("failed to update inbox event: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotPending
	}
	return nil
}

// InboxStats describes the backlog.
type InboxStats struct {
	Pending       int
	OldestPending time.Time // zero if nothing is pending
	Parked        int
}

// InboxStats returns the size and age of the backlog.
func (s *Store) InboxStats(ctx context.Context) (InboxStats, error) {
	var st InboxStats
	var oldest int64
	if err := s.DB.QueryRow(ctx, inboxStatsQuery).Scan(&st.Pending, &oldest); err != nil {
		return st, fmt.Errorf("failed to query inbox stats: %w", err)
	}
	if err := s.DB.QueryRow(ctx, parkedCountQuery).Scan(&st.Parked); err != nil {
		return st, fmt.Errorf("failed to count parked events: %w", err)
	}
	if oldest > 0 {
		st.OldestPending = time.UnixMilli(oldest)
	}
	return st, nil
}

// CountInbox counts events in one state.
func (s *Store) CountInbox(ctx context.Context, state InboxState) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, countByStateQuery, state).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("failed to count inbox events: %w", err)
	}
	return n, nil
}

// PruneInbox forgets handled and parked events finished before `before`,
// and transactions received before it. The de-duplication window is the
// time between receipt and pruning.
func (s *Store) PruneInbox(ctx context.Context, before time.Time) error {
	ts := before.UnixMilli()
	return s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, q := range []string{pruneEventsQuery, pruneTxnQuery} {
			if _, err := s.DB.Exec(ctx, q, ts); err != nil {
				return fmt.Errorf("failed to prune inbox: %w", err)
			}
		}
		return nil
	})
}
