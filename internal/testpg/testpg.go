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
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// EnvURI is the environment variable naming an existing server to use
// instead of starting one.
const EnvURI = "RATHAUS_TEST_PG_URI"

// BinDir is the directory holding initdb, pg_ctl and postgres.
const BinDir = "/usr/lib/postgresql/15/bin"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	portAttempts = 3
	logTailBytes = 4096

	dirPrefix = "rathaus-testpg-"
	ownerFile = "owner.pid" // pid of the test process owning a directory
)

var (
	mu       sync.Mutex
	once     sync.Once
	srv      *server
	startErr error
	shutDown bool
)

// server is either a local server started by this package or an external
// one named by EnvURI.
type server struct {
	adminURI *url.URL // connection to the maintenance database
	admin    *sql.DB

	// Set only for a local server.
	dir     string // temporary directory, removed on shutdown
	dataDir string
	logPath string
	cred    *syscall.Credential // nil if not running as root
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postmaster has exited
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
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx,
		"CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE template0"); err != nil {
		tb.Fatalf("testpg: create database %s: %v%s", name, err, s.logTail())
	}
	tb.Cleanup(func() { s.dropDB(tb, name) })

	u := *s.adminURI
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
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
	return startLocal()
}

// external connects to the server named by EnvURI.
func external(raw string) (*server, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URI, got %q", EnvURI, raw)
	}
	s := &server{adminURI: u}
	if err := s.openAdmin(10 * time.Second); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", EnvURI, err)
	}
	return s, nil
}

func startLocal() (*server, error) {
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(BinDir, b)); err != nil {
			return nil, fmt.Errorf("PostgreSQL binary missing (install postgresql-15 or set %s): %w", EnvURI, err)
		}
	}

	s := &server{}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		cred, err := postgresCred()
		if err != nil {
			return nil, err
		}
		s.cred = cred
	}

	base := tempBase(s.cred != nil)
	removeStale(base)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if err := os.WriteFile(filepath.Join(dir, ownerFile),
		[]byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.dataDir = filepath.Join(dir, "data")
	s.logPath = filepath.Join(dir, "postgres.log")

	fail := func(err error) (*server, error) {
		err = fmt.Errorf("%w%s", err, s.logTail())
		_ = s.stop() // the caller needs the start error, not the clean-up's
		return nil, err
	}

	if err := s.initdb(); err != nil {
		return fail(err)
	}
	for attempt := 1; ; attempt++ {
		err := s.startPostmaster()
		if err == nil {
			break
		}
		// The chosen port may have been grabbed by someone else between
		// picking and binding it; try again with another one.
		if attempt < portAttempts && s.postmasterExited() &&
			strings.Contains(s.readLog(), "could not bind") {
			continue
		}
		return fail(err)
	}
	return s, nil
}

func postgresCred() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// tempBase returns the directory to create the temporary directory in. When
// the server runs as another user, that user must be able to reach it.
func tempBase(otherUser bool) string {
	base := os.TempDir()
	if !otherUser {
		return base
	}
	for d := base; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return base
		}
	}
}

// removeStale deletes directories left behind by test processes that were
// killed before they could call Shutdown. Their servers are already gone
// thanks to the parent-death signal.
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(pm), "\n")
			if p, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && processAlive(p) {
				continue // server somehow still running; leave it alone
			}
		}
		_ = os.RemoveAll(d)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// command builds a command running as the postgres user if needed.
func (s *server) command(name string, args ...string) *exec.Cmd {
	// Not bound to a context: the postmaster lives until stop ends it, and
	// the short commands (initdb, pg_ctl) have no caller's context to honour.
	cmd := exec.CommandContext(context.Background(), filepath.Join(BinDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s.cred != nil {
		cmd.SysProcAttr.Credential = s.cred
	}
	return cmd
}

func (s *server) initdb() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	logf, err := s.openLog()
	if err != nil {
		return err
	}
	defer logf.Close()

	cmd := s.command("initdb",
		"-D", s.dataDir,
		"-U", "postgres",
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
		"--no-instructions",
	)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb failed: %w", err)
	}
	return nil
}

func (s *server) openLog() (*os.File, error) {
	f, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if s.cred != nil {
		// Let the postgres user (e.g. pg_ctl) append too.
		_ = f.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	return f, nil
}

func freePort() (int, error) {
	// A bind on loopback does not block: there is nothing to cancel.
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) startPostmaster() error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("pick free port: %w", err)
	}
	logf, err := s.openLog()
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor

	cmd := s.command("postgres",
		"-D", s.dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
	)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group so the whole server can be killed at once, and an
	// immediate shutdown if the test process dies without calling Shutdown.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	s.adminURI = &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	if err := s.openAdmin(startTimeout); err != nil {
		return fmt.Errorf("postgres did not become ready on port %d: %w", port, err)
	}
	return nil
}

// openAdmin connects to the maintenance database, retrying until timeout.
func (s *server) openAdmin(timeout time.Duration) error {
	db, err := sql.Open("postgres", s.adminURI.String())
	if err != nil {
		return err
	}
	db.SetMaxIdleConns(2)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			s.admin = db
			return nil
		}
		if s.postmasterExited() {
			db.Close()
			return fmt.Errorf("server exited during startup (%s): %w", s.cmd.ProcessState, err)
		}
		if time.Now().After(deadline) {
			db.Close()
			return fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) postmasterExited() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// stop shuts a local server down and removes its directory. For an
// external server it only closes the connection.
func (s *server) stop() error {
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	var errs []error
	if s.cmd != nil && !s.postmasterExited() {
		cmd := s.command("pg_ctl", "stop", "-D", s.dataDir, "-m", "fast",
			"-w", "-t", strconv.Itoa(int(stopTimeout/time.Second)))
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out))))
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
		}
		if !s.postmasterExited() {
			// Kill the whole process group, backends included.
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
	q := "DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name)
	if _, err := s.admin.ExecContext(ctx, q+" WITH (FORCE)"); err != nil {
		// Servers before 13 lack FORCE.
		if _, err2 := s.admin.ExecContext(ctx, q); err2 != nil {
			tb.Logf("testpg: drop database %s: %v", name, err)
		}
	}
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

func (s *server) readLog() string {
	if s.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	return string(b)
}

// logTail returns the end of the server log, formatted for an error message.
func (s *server) logTail() string {
	log := s.readLog()
	if log == "" {
		return ""
	}
	if len(log) > logTailBytes {
		log = "..." + log[len(log)-logTailBytes:]
	}
	return "\n--- postgres log (tail) ---\n" + strings.TrimRight(log, "\n")
}
