package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/util/dbutil"
)

// maxGroupOps bounds how many writes share one commit, so that one commit
// stays short even when a backlog floods the queue.
const maxGroupOps = 128

// groupTimeout bounds one group's database work, so that a hung database
// fails its callers instead of holding them for ever.
const groupTimeout = 30 * time.Second

// groupWriter runs the inbox's writes on one goroutine. Writes that arrive
// while a commit is under way wait and are then committed together (group
// commit): every caller returns only after the commit that holds its write,
// so nothing is acknowledged before it is durable, and callers that write
// at the same time share one commit (one fsync) instead of paying one each.
// With one writer, SQLite's writers never wait on each other's locks
// either.
type groupWriter struct {
	db    *sql.DB
	queue chan *writeOp

	mu     sync.RWMutex // held for reading while enqueueing
	closed bool
	stop   chan struct{}
	done   chan struct{}

	commits atomic.Uint64
	writes  atomic.Uint64
	// afterCommit is called after each commit.
	afterCommit func()
}

type writeOp struct {
	// fn runs inside the group's transaction. It may run twice (alone,
	// after its group failed), so it must reset whatever it reports.
	fn  func(ctx context.Context, tx *sql.Tx) error
	err chan error
}

func newGroupWriter(db *sql.DB, afterCommit func()) *groupWriter {
	w := &groupWriter{
		db:          db,
		afterCommit: afterCommit,
		queue:       make(chan *writeOp, maxGroupOps),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	go w.run()
	return w
}

// do runs fn in a database transaction and returns after its commit (or
// its failure). Once queued, the write is carried out even if ctx ends:
// the caller cannot know whether it committed, and waits to find out.
func (w *groupWriter) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	op := &writeOp{fn: fn, err: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-op.err
}

// close finishes the queued writes and stops the writer.
func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *groupWriter) run() {
	defer close(w.done)
	group := make([]*writeOp, 0, maxGroupOps)
	for {
		select {
		case op := <-w.queue:
			group = append(group[:0], op)
		case <-w.stop:
			// No one enqueues any more (close holds the lock): finish what
			// is queued.
			for {
				select {
				case op := <-w.queue:
					w.commit([]*writeOp{op})
				default:
					return
				}
			}
		}
	collect:
		for len(group) < maxGroupOps {
			select {
			case op := <-w.queue:
				group = append(group, op)
			default:
				break collect
			}
		}
		w.commit(group)
	}
}

// commit runs a group in one transaction. If any write fails, the group is
// rolled back and each write runs again alone, so one bad write fails only
// its own caller.
func (w *groupWriter) commit(group []*writeOp) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	err := w.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, op := range group {
			if err := op.fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 {
		w.writes.Add(uint64(len(group)))
		for _, op := range group {
			op.err <- err
		}
		return
	}
	for _, op := range group {
		w.writes.Add(1)
		op.err <- w.inTx(ctx, op.fn)
	}
}

func (w *groupWriter) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to begin transaction: %w", err)
	}
	if err = fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("failed to commit: %w", err)
	}
	w.commits.Add(1)
	w.afterCommit()
	return nil
}

// WriteStats counts the inbox's group commits.
type WriteStats struct {
	// Writes is the number of inbox writes (a stored transaction, a
	// dispatched batch's start or outcome) carried out.
	Writes uint64
	// Commits is the number of database commits they took; Writes/Commits
	// is how many writes shared a commit on average.
	Commits uint64
}

// InboxWriteStats returns the inbox's write and commit counts since Open.
func (s *Store) InboxWriteStats() WriteStats {
	return WriteStats{Writes: s.writer.writes.Load(), Commits: s.writer.commits.Load()}
}

// rebind turns PostgreSQL's $n parameters into SQLite's ?n, for statements
// prepared on the raw connection pool (dbutil does this for its own
// queries). Queries with plain ? are left alone.
func rebind(dialect dbutil.Dialect, query string) string {
	if dialect != dbutil.SQLite || !strings.Contains(query, "$") {
		return query
	}
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		if query[i] == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// prepare prepares the queries on the pool; each connection prepares a
// statement once, on first use, and keeps it.
func prepare(ctx context.Context, db *dbutil.Database, queries map[*(*sql.Stmt)]string) error {
	for dst, q := range queries {
		stmt, err := db.RawDB.PrepareContext(ctx, rebind(db.Dialect, q))
		if err != nil {
			return fmt.Errorf("failed to prepare %q: %w", firstWords(q), err)
		}
		*dst = stmt
	}
	return nil
}

func firstWords(q string) string {
	f := strings.Fields(q)
	return strings.Join(f[:min(len(f), 4)], " ") + " … (" + strconv.Itoa(len(q)) + " bytes)"
}
