package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
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
	// State is InboxPending for events to dispatch. SaveTransaction also
	// takes InboxDone, for events known to need no handler: they are
	// stored (for de-duplication) as done, without their payload.
	State InboxState
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
	// Pending is how many of the new events wait for the dispatcher.
	Pending int
}

const (
	insertTxnQuery = `
		INSERT INTO as_transaction (txn_id, received_at, event_count) VALUES ($1, $2, $3)
		ON CONFLICT (txn_id) DO NOTHING`
	// Sequences reserved for a transaction's events: PostgreSQL hands out
	// values of the identity's sequence (in no documented order, so they
	// are sorted); SQLite continues after the highest seq ever used
	// (AUTOINCREMENT's record included), under the writer's lock.
	reserveSeqsPostgres = `
		SELECT nextval(pg_get_serial_sequence('inbox_event', 'seq')) FROM generate_series(1, $1)`
	maxSeqSQLite = `
		SELECT MAX(s) FROM (
			SELECT COALESCE(MAX(seq), 0) AS s FROM inbox_event
			UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'inbox_event'
		) AS seqs`
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
	insertTxn, batch, startBatch, markDone, refund, recordFailure, park, reserve *sql.Stmt
	// insertPending[k] and insertDone[k] insert 2^k events in one
	// statement.
	insertPending, insertDone [insertChunks]*sql.Stmt
}

// insertChunks is how many multi-row INSERTs are prepared: for 1, 2, 4, …
// 64 rows; a transaction's events are inserted in chunks of these sizes.
const insertChunks = 7

// insertEventsQuery inserts n events with explicit seqs, seven
// parameters a row: pending ones with their payload, done ones without
// it. It is the one query written in each dialect's own placeholders:
// SQLite looks up numbered parameters (?NNN) by name for every value
// bound, which costs a multi-row INSERT more than its rows.
func insertEventsQuery(dialect dbutil.Dialect, n int, done bool) string {
	var b strings.Builder
	if done {
		b.WriteString("INSERT INTO inbox_event (seq, event_id, room_id, event_type, txn_id, received_at, finished_at, state) VALUES ")
	} else {
		b.WriteString("INSERT INTO inbox_event (seq, event_id, room_id, event_type, txn_id, received_at, payload) VALUES ")
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if dialect == dbutil.Postgres {
			p := 1 + 7*i
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d", p, p+1, p+2, p+3, p+4, p+5, p+6)
		} else {
			b.WriteString("(?, ?, ?, ?, ?, ?, ?")
		}
		if done {
			b.WriteString(", 'done'")
		}
		b.WriteString(")")
	}
	b.WriteString(" ON CONFLICT (event_id) DO NOTHING")
	return b.String()
}

func (st *inboxStmts) queries(dialect dbutil.Dialect) map[*(*sql.Stmt)]string {
	q := map[*(*sql.Stmt)]string{
		&st.insertTxn: insertTxnQuery, &st.batch: batchQuery,
		&st.startBatch: startBatchQuery, &st.markDone: markDoneQuery, &st.refund: refundQuery,
		&st.recordFailure: recordFailureQuery, &st.park: parkQuery,
		&st.reserve: maxSeqSQLite,
	}
	if dialect == dbutil.Postgres {
		q[&st.reserve] = reserveSeqsPostgres
	}
	for k := range insertChunks {
		q[&st.insertPending[k]] = insertEventsQuery(dialect, 1<<k, false)
		q[&st.insertDone[k]] = insertEventsQuery(dialect, 1<<k, true)
	}
	return q
}

func (st *inboxStmts) close() {
	for stmt := range st.queries(dbutil.SQLite) {
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
		res.Stored, res.Pending, err = s.insertEvents(ctx, tx, txnID, now, events)
		return err
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("failed to save transaction: %w", err)
	}
	return res, nil
}

// insertEvents inserts a transaction's events with seqs in their order, in
// multi-row statements, and returns how many were new and how many of
// those are pending. The seqs are explicit, so the order does not rest on
// the order in which a database assigns identity values to the rows of
// one statement.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, txnID string, now int64, events []InboxEvent) (stored, pending int, err error) {
	if len(events) == 0 {
		return 0, 0, nil
	}
	seqs, err := s.reserveSeqs(ctx, tx, len(events))
	if err != nil {
		return 0, 0, err
	}
	var todo, done []InboxEvent
	for _, evt := range events {
		if evt.State == InboxDone {
			done = append(done, evt)
		} else {
			todo = append(todo, evt)
		}
	}
	if pending, err = s.insertChunked(ctx, tx, &s.inbox.insertPending, seqs[:len(todo)], todo, func(evt InboxEvent) any {
		return string(evt.Payload)
	}, txnID, now); err != nil {
		return 0, 0, err
	}
	skipped, err := s.insertChunked(ctx, tx, &s.inbox.insertDone, seqs[len(todo):], done, func(InboxEvent) any {
		return now // finished_at
	}, txnID, now)
	return pending + skipped, pending, err
}

// insertChunked inserts events in chunks of 64, 32, … 1 rows with the
// statements of stmts; last gives each row's seventh value.
func (s *Store) insertChunked(ctx context.Context, tx *sql.Tx, stmts *[insertChunks]*sql.Stmt, seqs []int64,
	events []InboxEvent, last func(InboxEvent) any, txnID string, now int64,
) (int, error) {
	stored := 0
	args := make([]any, 0, 7*(1<<(insertChunks-1)))
	for len(events) > 0 {
		k := min(bits.Len(uint(len(events)))-1, insertChunks-1)
		n := 1 << k
		args = args[:0]
		for i, evt := range events[:n] {
			args = append(args, seqs[i], evt.EventID, evt.RoomID, evt.Type, txnID, now, last(evt))
		}
		r, err := tx.StmtContext(ctx, stmts[k]).ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("failed to insert events: %w", err)
		}
		added, _ := r.RowsAffected()
		stored += int(added)
		events, seqs = events[n:], seqs[n:]
	}
	return stored, nil
}

// reserveSeqs returns n ascending seqs for new events.
func (s *Store) reserveSeqs(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	seqs := make([]int64, 0, n)
	if s.DB.Dialect != dbutil.Postgres {
		var last int64
		if err := tx.StmtContext(ctx, s.inbox.reserve).QueryRowContext(ctx).Scan(&last); err != nil {
			return nil, fmt.Errorf("failed to read the last seq: %w", err)
		}
		for i := range n {
			seqs = append(seqs, last+1+int64(i))
		}
		return seqs, nil
	}
	rows, err := tx.StmtContext(ctx, s.inbox.reserve).QueryContext(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("failed to reserve seqs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err = rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("failed to reserve seqs: %w", err)
		}
		seqs = append(seqs, seq)
	}
	if err = rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to reserve seqs: %w", err)
	}
	slices.Sort(seqs)
	return seqs, nil
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
