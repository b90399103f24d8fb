package store

import (
	"context"
	"database/sql"
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
		SELECT e.room_id FROM inbox_event e JOIN (
			SELECT MIN(seq) AS seq FROM inbox_event WHERE state = 'pending' GROUP BY room_id
		) head ON e.seq = head.seq
		WHERE e.next_attempt_at <= $1`
	nextDueQuery = `
		SELECT MIN(next_attempt_at) FROM inbox_event WHERE state = 'pending' AND next_attempt_at > $1`
	batchQuery = `
		SELECT seq, event_id, txn_id, event_type, payload, attempts, next_attempt_at, received_at
		FROM inbox_event WHERE room_id = $1 AND state = 'pending' ORDER BY seq LIMIT $2`
	// The range queries below touch exactly a batch: a room's pending
	// events are read in seq order, one worker per room, and new events get
	// higher seqs.
	startBatchQuery = `
		UPDATE inbox_event SET attempts = attempts + 1
		WHERE room_id = $1 AND state = 'pending' AND seq BETWEEN $2 AND $3`
	markDoneQuery = `
		UPDATE inbox_event SET state = 'done', payload = NULL, last_error = NULL, finished_at = $4
		WHERE room_id = $1 AND state = 'pending' AND seq BETWEEN $2 AND $3`
	refundQuery = `
		UPDATE inbox_event SET attempts = attempts - 1
		WHERE room_id = $1 AND state = 'pending' AND seq BETWEEN $2 AND $3 AND attempts > 0`
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

// inboxStmts are the inbox's hot statements, prepared once.
type inboxStmts struct {
	insertTxn, insertEvent, batch, startBatch, markDone, refund, recordFailure, park *sql.Stmt
}

func (st *inboxStmts) queries() map[*(*sql.Stmt)]string {
	return map[*(*sql.Stmt)]string{
		&st.insertTxn: insertTxnQuery, &st.insertEvent: insertEventQuery, &st.batch: batchQuery,
		&st.startBatch: startBatchQuery, &st.markDone: markDoneQuery, &st.refund: refundQuery,
		&st.recordFailure: recordFailureQuery, &st.park: parkQuery,
	}
}

func (st *inboxStmts) close() {
	for stmt := range st.queries() {
		if *stmt != nil {
			_ = (*stmt).Close()
		}
	}
}

// SaveTransaction stores a homeserver transaction and its events, in order,
// in one database transaction, possibly shared with concurrent calls
// (group commit). It returns only after the commit, so the caller may
// acknowledge the transaction once it returns without error.
func (s *Store) SaveTransaction(ctx context.Context, txnID string, events []InboxEvent) (SaveResult, error) {
	var res SaveResult
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res = SaveResult{}
		now := time.Now().UnixMilli()
		r, err := tx.StmtContext(ctx, s.inbox.insertTxn).ExecContext(ctx, txnID, now, len(events))
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
		// One prepared statement, executed in order: the events' seqs
		// follow their order in the transaction on both dialects (a
		// multi-row INSERT would leave PostgreSQL's identity order
		// undocumented).
		insert := tx.StmtContext(ctx, s.inbox.insertEvent)
		for _, evt := range events {
			r, err = insert.ExecContext(ctx, evt.EventID, evt.RoomID, txnID, evt.Type, string(evt.Payload), now)
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

// NextBatch returns up to limit of a room's oldest pending events, in
// order. It returns none while the oldest waits for a retry (later events
// wait behind it), and only the oldest if it was attempted before: after a
// crash or a failure the suspect runs alone, so a crash loop is pinned on
// the event that causes it and the events behind it are not blamed.
func (s *Store) NextBatch(ctx context.Context, roomID id.RoomID, now time.Time, limit int) ([]InboxEvent, error) {
	rows, err := s.inbox.batch.QueryContext(ctx, roomID, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to query pending events: %w", err)
	}
	defer rows.Close()
	var batch []InboxEvent
	for rows.Next() {
		evt := InboxEvent{RoomID: roomID, State: InboxPending}
		var payload sql.NullString
		var received, next int64
		if err = rows.Scan(&evt.Seq, &evt.EventID, &evt.TxnID, &evt.Type, &payload, &evt.Attempts, &next, &received); err != nil {
			return nil, fmt.Errorf("failed to scan pending event: %w", err)
		}
		evt.Payload = []byte(payload.String)
		evt.ReceivedAt = time.UnixMilli(received)
		if next > 0 {
			evt.NextAttemptAt = time.UnixMilli(next)
		}
		if len(batch) == 0 && evt.NextAttemptAt.After(now) {
			return nil, rows.Err()
		}
		if len(batch) > 0 && evt.Attempts > 0 {
			break // a suspect heads its own batch
		}
		batch = append(batch, evt)
		if evt.Attempts > 0 {
			break
		}
	}
	return batch, rows.Err()
}

// SeqRange is the part of a room's batch from the event with seq From to
// the one with seq To, both included; the zero value is empty.
type SeqRange struct{ From, To int64 }

// Empty reports whether r holds no event.
func (r SeqRange) Empty() bool { return r.To == 0 || r.To < r.From }

// StartBatch counts an attempt for each event of a batch before its
// handlers run, in one statement, so an event that kills the process is
// not retried for ever.
func (s *Store) StartBatch(ctx context.Context, roomID id.RoomID, batch SeqRange) error {
	if batch.Empty() {
		return nil
	}
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.inbox.startBatch).ExecContext(ctx, roomID, batch.From, batch.To)
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to count attempts: %w", err)
	}
	return nil
}

// FailedEvent is an event whose handler attempt failed.
type FailedEvent struct {
	Seq    int64
	Reason string
	// Park gives up on the event; otherwise it runs again at NextAttempt.
	Park        bool
	NextAttempt time.Time
}

// BatchOutcome is what became of a batch of one room's events.
type BatchOutcome struct {
	RoomID id.RoomID
	// Done were handled (or needed no handler); their payloads are erased.
	Done SeqRange
	// Failed, if set, is the event that stopped the batch.
	Failed *FailedEvent
	// Unrun were counted by StartBatch but their handlers never ran; they
	// get the attempt back.
	Unrun SeqRange
}

// FinishBatch records a batch's outcome in one database transaction. It
// returns how many events it marked done.
func (s *Store) FinishBatch(ctx context.Context, out BatchOutcome) (int, error) {
	var done int
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		done = 0
		now := time.Now().UnixMilli()
		if !out.Done.Empty() {
			r, err := tx.StmtContext(ctx, s.inbox.markDone).ExecContext(ctx, out.RoomID, out.Done.From, out.Done.To, now)
			if err != nil {
				return fmt.Errorf("failed to mark events done: %w", err)
			}
			n, _ := r.RowsAffected()
			done = int(n)
		}
		if f := out.Failed; f != nil {
			var err error
			if f.Park {
				_, err = tx.StmtContext(ctx, s.inbox.park).ExecContext(ctx, f.Seq, f.Reason, now)
			} else {
				_, err = tx.StmtContext(ctx, s.inbox.recordFailure).ExecContext(ctx, f.Seq, f.Reason, f.NextAttempt.UnixMilli())
			}
			if err != nil {
				return fmt.Errorf("failed to record a failed attempt: %w", err)
			}
		}
		if !out.Unrun.Empty() {
			if _, err := tx.StmtContext(ctx, s.inbox.refund).ExecContext(ctx, out.RoomID, out.Unrun.From, out.Unrun.To); err != nil {
				return fmt.Errorf("failed to return unused attempts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failed to record batch outcome: %w", err)
	}
	return done, nil
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
