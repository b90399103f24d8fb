// Package store owns the rathaus database: opening SQLite or PostgreSQL with
// the settings durability needs, running the embedded migrations, and the
// queries of every table (one file per table).
package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	// Database drivers: pure-Go SQLite keeps the binary static; lib/pq is the
	// PostgreSQL driver for larger deployments.
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/rathaus-de/rathaus/store/upgrades"
)

// Dialect names accepted by Options.Type.
const (
	TypeSQLite   = "sqlite"
	TypePostgres = "postgres"
)

// Options configure Open. Type and URI are required.
type Options struct {
	// Type is TypeSQLite or TypePostgres.
	Type string
	// URI is a file path (or file: URI) for SQLite, a postgres:// URI for
	// PostgreSQL.
	URI          string
	MaxOpenConns int
	MaxIdleConns int
	Log          zerolog.Logger
}

// Store is the rathaus database.
type Store struct {
	DB  *dbutil.Database
	log zerolog.Logger

	// writer and inbox carry the inbox's writes (group commit, prepared
	// statements).
	writer *groupWriter
	inbox  inboxStmts
	// checkpoints keeps SQLite's log short off the writer's path (nil on
	// PostgreSQL).
	checkpoints *checkpointer
}

// Open connects to the database and brings its schema to the latest
// version. It refuses a database written by a newer rathaus.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URI == "" {
		return nil, fmt.Errorf("%w: database URI is empty", ErrBadOptions)
	}
	driver, uri, err := driverURI(opts.Type, opts.URI)
	if err != nil {
		return nil, err
	}
	where := describeDatabase(opts.Type, opts.URI)
	db, err := dbutil.NewWithDialect(uri, driver)
	if err != nil {
		return nil, fmt.Errorf("failed to open database %s: %w", where, err)
	}
	db.Owner = "rathaus"
	db.VersionTable = "rathaus_version"
	db.UpgradeTable = upgrades.Table
	db.Log = dbutil.ZeroLogger(opts.Log.With().Str("component", "database").Logger())
	// A bounded pool whose connections are kept: idle connections beyond
	// MaxIdleConns would be closed and opened again under load (PostgreSQL
	// forks a backend for each), so by default every open connection may
	// idle, and none expires.
	maxOpen, maxIdle := opts.MaxOpenConns, opts.MaxIdleConns
	if maxOpen <= 0 {
		maxOpen = DefaultMaxOpenConns
	}
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	if err = db.Configure(dbutil.Config{PoolConfig: dbutil.PoolConfig{MaxOpenConns: maxOpen, MaxIdleConns: maxIdle}}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("failed to configure database pool: %w", err)
	}
	if err = db.RawDB.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("failed to connect to database %s: %w", where, err)
	}
	if err = db.Upgrade(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("failed to upgrade the schema of database %s: %w", where, err)
	}
	s := &Store{DB: db, log: opts.Log}
	if err = prepare(ctx, db, s.inbox.queries(db.Dialect)); err != nil {
		s.inbox.close()
		_ = db.Close()
		return nil, err
	}
	if db.Dialect == dbutil.SQLite {
		s.checkpoints = newCheckpointer(db.RawDB, opts.Log)
	}
	s.writer = newGroupWriter(db.RawDB, s.checkpoints.committed)
	return s, nil
}

// DefaultMaxOpenConns is the connection pool's bound when Options leave it
// unset.
const DefaultMaxOpenConns = 5

// Checkpoint truncates SQLite's write-ahead log, so that erased payloads
// do not linger there either. On PostgreSQL it does nothing: dead rows are
// removed by (auto)vacuum.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.DB.Dialect != dbutil.SQLite {
		return nil
	}
	if _, err := s.DB.Exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("failed to checkpoint the write-ahead log: %w", err)
	}
	return nil
}

// Close finishes the queued inbox writes and closes the database.
func (s *Store) Close() error {
	s.writer.close()
	s.checkpoints.close()
	s.inbox.close()
	return s.DB.Close()
}

// sqlitePragmas are applied to every SQLite connection. WAL lets readers
// run beside the writer; synchronous=FULL makes a committed transaction
// survive a power cut, which the inbox promises the homeserver before it
// answers 200; busy_timeout waits for the writer instead of failing;
// secure_delete overwrites erased content (handled events' payloads) instead
// of leaving it in free pages; temp_store keeps statement journals (which
// multi-row INSERTs need) in memory instead of temporary files;
// checkpoints run in the background (see checkpointer).
var sqlitePragmas = []string{
	"foreign_keys(1)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"busy_timeout(10000)",
	"secure_delete(1)",
	"temp_store(2)",
}

// driverURI returns the database/sql driver name and the connection string.
func driverURI(typ, uri string) (driver, dsn string, err error) {
	switch typ {
	case TypeSQLite, "":
		return "sqlite", sqliteDSN(uri), nil
	case TypePostgres:
		if !strings.HasPrefix(uri, "postgres://") && !strings.HasPrefix(uri, "postgresql://") {
			return "", "", fmt.Errorf("%w: a postgres database needs a postgres:// URI", ErrBadOptions)
		}
		return "postgres", postgresDSN(uri), nil
	default:
		return "", "", fmt.Errorf("%w: unknown database type %q", ErrBadOptions, typ)
	}
}

func sqliteDSN(path string) string {
	base, query, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		q = url.Values{}
	}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	// Write transactions take the lock at BEGIN, so two writers never
	// deadlock while upgrading a read lock.
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return "file:" + base + "?" + q.Encode()
}

// postgresDSN names rathaus's connections in pg_stat_activity unless the
// URI names them already.
func postgresDSN(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri // lib/pq reports the error
	}
	q := u.Query()
	if q.Get("application_name") == "" {
		q.Set("application_name", "rathaus")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// describeDatabase names a database for an error message: the SQLite file,
// or PostgreSQL's host and database name (never its password).
func describeDatabase(typ, uri string) string {
	if typ == TypePostgres {
		if u, err := url.Parse(uri); err == nil {
			return fmt.Sprintf("%q on %s", strings.TrimPrefix(u.Path, "/"), u.Host)
		}
		return "(unparsable PostgreSQL URI)"
	}
	file, _, _ := strings.Cut(strings.TrimPrefix(uri, "file:"), "?")
	return fmt.Sprintf("%q", file)
}
