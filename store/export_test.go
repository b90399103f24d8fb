package store

import (
	"context"
	"database/sql"

	"go.mau.fi/util/dbutil"

	"github.com/rathaus-de/rathaus/store/upgrades"
)

// HoldWriter makes the inbox's writer wait inside a write until release is
// called, so that tests can queue writes behind it.
func HoldWriter(s *Store) (release func()) {
	held, started := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.writer.do(context.Background(), func(context.Context, *sql.Tx) error {
			close(started)
			<-held
			return nil
		})
	}()
	<-started
	return func() { close(held) }
}

// QueuedWrites is how many writes wait for the writer.
func QueuedWrites(s *Store) int { return len(s.writer.queue) }

// FailingWrite queues a write whose statement the database refuses and
// returns its outcome.
func FailingWrite(s *Store) <-chan error {
	out := make(chan error, 1)
	go func() {
		out <- s.writer.do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)")
			return err
		})
	}()
	return out
}

// LastCheckpoint is the outcome of the background checkpointer's last
// run: the log's frames and how many are in the database file.
func LastCheckpoint(s *Store) (logFrames, done int, ok bool) {
	last := s.checkpoints.last.Load()
	if last == nil {
		return 0, 0, false
	}
	return last[0], last[1], true
}

// OpenAtVersion opens the database with the migrations up to version only,
// so a test can write rows as an older rathaus did before Open upgrades
// them. The caller closes it.
func OpenAtVersion(ctx context.Context, typ, uri string, version int) (*dbutil.Database, error) {
	driver, dsn, err := driverURI(typ, uri)
	if err != nil {
		return nil, err
	}
	db, err := dbutil.NewWithDialect(dsn, driver)
	if err != nil {
		return nil, err
	}
	db.Owner, db.VersionTable, db.UpgradeTable = "rathaus", "rathaus_version", upgrades.Table[:version]
	if err = db.Upgrade(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
