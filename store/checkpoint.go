package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// checkpointEvery is how often the background checkpointer copies SQLite's
// write-ahead log into the database while writes come in.
const checkpointEvery = 200 * time.Millisecond

// checkpointer runs PASSIVE checkpoints beside the writer: they copy
// committed pages from the log into the database file (and fsync it)
// without blocking the writer. SQLite's own checkpoint (when a commit
// takes the log past 1,000 pages) runs inside that commit, where the
// homeserver waits for its 200; it stays as the safety net, and finds
// little left to do.
type checkpointer struct {
	db   *sql.DB
	log  zerolog.Logger
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// last is the outcome of the last checkpoint: the log's frames and
	// how many of them are in the database file.
	last atomic.Pointer[[2]int]
}

func newCheckpointer(db *sql.DB, log zerolog.Logger) *checkpointer {
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer that the log grew.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	dirty, idleTicks := false, 0
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			dirty = true
		case <-tick.C:
			// Other writers (cases, guest chat) do not kick: look anyway
			// every few ticks; a checkpoint of an empty log is cheap.
			if idleTicks++; dirty || idleTicks >= 5 {
				dirty, idleTicks = false, 0
				c.checkpoint()
			}
		}
	}
}

func (c *checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logFrames, done int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil {
		c.log.Warn().Err(err).Msg("Background checkpoint of the database log failed")
		return
	}
	c.last.Store(&[2]int{logFrames, done})
}
