package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// ParkedEvent is an inbox event that failed every retry and waits for an
// operator: what it was, where, and why it failed, never its content.
type ParkedEvent struct {
	Seq       int64
	EventID   id.EventID
	RoomID    id.RoomID
	Type      string
	Attempts  int
	LastError string
	ParkedAt  time.Time
}

const (
	parkedEventsQuery = `
		SELECT seq, event_id, room_id, event_type, attempts, COALESCE(last_error, ''), COALESCE(finished_at, 0)
		FROM inbox_event WHERE state = 'parked' ORDER BY seq LIMIT $1`
	// A requeued event starts afresh: no attempts, due now. Its payload was
	// kept when it was parked.
	requeueParkedQuery = `
		UPDATE inbox_event SET state = 'pending', attempts = 0, next_attempt_at = $2, last_error = NULL, finished_at = NULL
		WHERE state = 'parked' AND seq = $1 AND payload IS NOT NULL`
	requeueAllParkedQuery = `
		UPDATE inbox_event SET state = 'pending', attempts = 0, next_attempt_at = $1, last_error = NULL, finished_at = NULL
		WHERE state = 'parked' AND payload IS NOT NULL`
)

// ParkedEvents lists up to limit parked inbox events, oldest first.
func (s *Store) ParkedEvents(ctx context.Context, limit int) ([]ParkedEvent, error) {
	rows, err := s.DB.Query(ctx, parkedEventsQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to list parked events: %w", err)
	}
	defer rows.Close()
	var out []ParkedEvent
	for rows.Next() {
		var p ParkedEvent
		var parkedAt int64
		if err := rows.Scan(&p.Seq, &p.EventID, &p.RoomID, &p.Type, &p.Attempts, &p.LastError, &parkedAt); err != nil {
			return nil, fmt.Errorf("failed to read a parked event: %w", err)
		}
		if parkedAt > 0 {
			p.ParkedAt = time.UnixMilli(parkedAt)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to list parked events: %w", err)
	}
	return out, nil
}

// RequeueParked gives parked events (by seq; all of them if seqs is empty)
// back to the dispatcher, as if they had just arrived: no attempts, due
// now. A running rathaus picks them up with its next scan of the inbox
// (at most 10 s); one that is stopped, at its start. It returns how many
// were requeued; a seq that is not parked is not counted.
//
// A requeued event is handled after the later events of its room that
// were handled while it was parked: the operator decides that it still
// makes sense.
func (s *Store) RequeueParked(ctx context.Context, seqs []int64) (int, error) {
	n, err := s.requeue(ctx, requeueParkedQuery, requeueAllParkedQuery, seqs)
	if err != nil {
		return 0, fmt.Errorf("failed to requeue parked events: %w", err)
	}
	return n, nil
}

// requeue runs one for each id ($1 the id, $2 now), or all ($1 now) if
// ids is empty, in one transaction, and returns the rows changed.
func (s *Store) requeue(ctx context.Context, one, all string, ids []int64) (int, error) {
	var n int64
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		now := time.Now().UnixMilli()
		if len(ids) == 0 {
			r, err := tx.ExecContext(ctx, rebind(s.DB.Dialect, all), now)
			if err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			return nil
		}
		for _, id := range ids {
			r, err := tx.ExecContext(ctx, rebind(s.DB.Dialect, one), id, now)
			if err != nil {
				return err
			}
			k, _ := r.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}
