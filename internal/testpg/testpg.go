// Package testpg starts a real, throwaway PostgreSQL 15 server for Go tests
// and hands out a fresh, empty database to every test that asks for one.
//
// The server is started lazily, at most once per test binary, on a free
// loopback port with its data directory in a temporary directory. It is
// shared by all tests of the process. Call it from TestMain like this so the
// server is stopped and its directory removed when the tests are done:
//
//	func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }
//
// As a safety net the postmaster is also started with a parent-death signal,
// so it shuts itself down if the test process dies without calling Shutdown
// (for example when it is killed or times out).
//
// If the environment variable RATHAUS_TEST_PG_URI is set (a postgres:// URI
// of a superuser or a role allowed to create databases), no server is
// started and the databases are created on that server instead.
//
// Missing binaries or a failed start make the calling test fail; testpg never
// skips.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/pgserver"
)

// EnvURI is the environment variable naming an existing server to use
// instead of starting one.
const EnvURI = "RATHAUS_TEST_PG_URI"

// BinDir is the directory holding initdb, pg_ctl and postgres.
const BinDir = pgserver.BinDir

const (
	connectTimeout = 60 * time.Second
	dirPrefix      = "rathaus-testpg-"
)

// settings trade durability for speed: a test database is thrown away.
var settings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off"}

var (
	mu       sync.Mutex
	once     sync.Once
	srv      *server
	startErr error
	shutDown bool
)

// server is either a local server started through pgserver or an external
// one named by EnvURI.
type server struct {
	adminURI *url.URL // connection to the maintenance database
	admin    *sql.DB
	local    *pgserver.Server // nil for an external server
}

// New returns the URI of a new, empty database unique to tb, in the form
// postgres://postgres@127.0.0.1:PORT/DBNAME?sslmode=disable. The shared
// server is started on first use. The database is dropped (best effort,
// terminating leftover connections) when tb finishes. Any failure is fatal
// for tb.
func New(tb testing.TB) string {
	tb.Helper()
	s, err := get()
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}

	name, err := dbName(tb.Name())
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	uri, err := pgserver.CreateDatabase(ctx, s.admin, s.adminURI, name)
	if err != nil {
		tb.Fatalf("testpg: %v%s", err, s.logTail())
	}
	tb.Cleanup(func() { s.dropDB(tb, name) })
	return uri
}

// Main runs the tests and then calls Shutdown. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }
func Main(m *testing.M) int {
	defer Shutdown()
	return m.Run()
}

// Shutdown stops the server started by New (pg_ctl stop, falling back to
// killing its process group) and removes its temporary directory. It is
// safe to call more than once and when no server was started. After
// Shutdown, New fails the calling test.
func Shutdown() {
	mu.Lock()
	defer mu.Unlock()
	shutDown = true
	if srv == nil {
		return
	}
	s := srv
	srv = nil
	if err := s.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testpg: shutdown: %v\n", err)
	}
}

func get() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shutDown {
		return nil, errors.New("New called after Shutdown")
	}
	once.Do(func() {
		srv, startErr = start()
	})
	if startErr != nil {
		return nil, startErr
	}
	return srv, nil
}

func start() (*server, error) {
	if v := os.Getenv(EnvURI); v != "" {
		return external(v)
	}
	local, err := pgserver.Start(pgserver.Options{Settings: settings, DirPrefix: dirPrefix})
	if errors.Is(err, pgserver.ErrMissingBinary) {
		return nil, fmt.Errorf("%w; or set %s", err, EnvURI)
	} else if err != nil {
		return nil, err
	}
	return &server{adminURI: local.AdminURI(), admin: local.Admin(), local: local}, nil
}

// external connects to the server named by EnvURI.
func external(raw string) (*server, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URI, got %q", EnvURI, raw)
	}
	admin, err := pgserver.OpenAdmin(u, 10*time.Second, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", EnvURI, err)
	}
	return &server{adminURI: u, admin: admin}, nil
}

// stop closes the connection and, for a local server, shuts it down and
// removes its directory.
func (s *server) stop() error {
	if s.local != nil {
		return s.local.Stop() // closes admin too
	}
	if s.admin != nil {
		s.admin.Close()
	}
	return nil
}

func (s *server) dropDB(tb testing.TB, name string) {
	tb.Helper()
	mu.Lock()
	alive := srv == s
	mu.Unlock()
	if !alive {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pgserver.DropDatabase(ctx, s.admin, name); err != nil {
		tb.Logf("testpg: %v", err)
	}
}

// logTail returns the end of a local server's log, formatted for an error
// message.
func (s *server) logTail() string {
	if s.local == nil {
		return ""
	}
	return s.local.LogTail()
}

// dbName derives a unique, valid database name from a test name.
func dbName(testName string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	slug := b.String()
	if len(slug) > 32 {
		slug = slug[:32]
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("t_%s_%s", slug, hex.EncodeToString(rnd[:])), nil
}
