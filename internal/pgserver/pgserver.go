// Package pgserver runs a throwaway local PostgreSQL 15 server: initdb into
// a temporary directory, a postmaster on a free loopback port (no Unix
// socket), databases created and dropped on request, and on Stop the
// server shut down and its directory removed.
//
// When the calling process runs as root the server runs as the postgres OS
// user, since initdb and postgres refuse to run as root. The postmaster
// gets a parent-death signal, so it shuts itself down if the calling
// process dies without calling Stop; Start removes directories such dead
// callers left behind.
//
// Settings are PostgreSQL's defaults apart from what Options.Settings
// adds: internal/testpg turns durability off for speed, the ingest
// benchmark (bench/ingest) keeps it on. pgserver knows nothing about
// testing.T.
package pgserver

import (
	"context"
	"database/sql"
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
	"syscall"
	"time"

	"github.com/lib/pq"
	"github.com/rathaus-de/rathaus/internal/devhs"
)

// BinDir is the directory holding initdb, pg_ctl and postgres.
const BinDir = "/usr/lib/postgresql/15/bin"

// DefaultDirPrefix is Options.DirPrefix when it is empty.
const DefaultDirPrefix = "rathaus-pg-"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	portAttempts = 3
	logTailBytes = 4096

	ownerFile = "owner.pid" // pid of the process owning a directory
)

// Options configure Start.
type Options struct {
	// Settings are extra server settings, each "name=value", passed as
	// `-c name=value` after pgserver's own (listen_addresses,
	// unix_socket_directories, max_connections=200), so they may override
	// them.
	Settings []string
	// DirPrefix starts the name of the temporary directory. Directories
	// with this prefix whose owner process is gone are removed by Start.
	// Default: DefaultDirPrefix.
	DirPrefix string
}

// Server is a running local PostgreSQL server.
type Server struct {
	adminURI *url.URL // connection to the maintenance database
	admin    *sql.DB

	dir     string // temporary directory, removed by Stop
	dataDir string
	logPath string
	cred    *syscall.Credential // nil if not running as root
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postmaster has exited
}

// Start initialises a data directory and starts the server; it returns
// once the server accepts connections. On error nothing is left running
// and the error ends with the tail of the server log.
func Start(opts Options) (*Server, error) {
	if opts.DirPrefix == "" {
		opts.DirPrefix = DefaultDirPrefix
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(BinDir, b)); err != nil {
			return nil, fmt.Errorf("%w (install postgresql-15): %w", ErrMissingBinary, err)
		}
	}

	s := &Server{}
	if os.Geteuid() == 0 {
		cred, err := postgresCred()
		if err != nil {
			return nil, err
		}
		s.cred = cred
	}

	base := tempBase(s.cred != nil)
	removeStale(base, opts.DirPrefix)
	dir, err := os.MkdirTemp(base, opts.DirPrefix)
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

	fail := func(err error) (*Server, error) {
		err = fmt.Errorf("%w%s", err, s.LogTail())
		_ = s.Stop() // the caller needs the start error, not the clean-up's
		return nil, err
	}

	if err := s.initdb(); err != nil {
		return fail(err)
	}
	for attempt := 1; ; attempt++ {
		err := s.startPostmaster(opts.Settings)
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

// URI returns the connection URI of database name, in the form
// postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable.
func (s *Server) URI(name string) string {
	u := *s.adminURI
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// AdminURI returns the URI of the maintenance database "postgres".
func (s *Server) AdminURI() *url.URL {
	u := *s.adminURI
	return &u
}

// Admin returns the connection pool to the maintenance database, for
// statements such as CREATE DATABASE. Stop closes it.
func (s *Server) Admin() *sql.DB { return s.admin }

// Pid returns the process id of the postmaster. Its children are the
// server's other processes (backends, checkpointer, WAL writer, ...).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// CreateDatabase creates an empty database and returns its URI.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	return CreateDatabase(ctx, s.admin, s.adminURI, name)
}

// DropDatabase drops a database, ending the connections still open to it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return DropDatabase(ctx, s.admin, name)
}

// DataDir returns the server's data directory, which Stop removes.
func (s *Server) DataDir() string { return s.dataDir }

// Exec runs a statement on the maintenance database (e.g. CHECKPOINT).
func (s *Server) Exec(ctx context.Context, query string) error {
	_, err := s.admin.ExecContext(ctx, query)
	return err
}

// CreateDatabase creates database name on the server that admin is
// connected to (adminURI) and returns the new database's URI.
func CreateDatabase(ctx context.Context, admin *sql.DB, adminURI *url.URL, name string) (string, error) {
	if _, err := admin.ExecContext(ctx,
		"CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("failed to create database %s: %w", name, err)
	}
	u := *adminURI
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// DropDatabase drops database name on the server that admin is connected
// to, ending the connections still open to it.
func DropDatabase(ctx context.Context, admin *sql.DB, name string) error {
	q := "DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name)
	if _, err := admin.ExecContext(ctx, q+" WITH (FORCE)"); err != nil {
		// Servers before 13 lack FORCE.
		if _, err2 := admin.ExecContext(ctx, q); err2 != nil {
			return fmt.Errorf("failed to drop database %s: %w", name, err)
		}
	}
	return nil
}

// OpenAdmin connects to the maintenance database at uri, retrying until
// timeout; exited, if not nil, reports a server that gave up meanwhile.
func OpenAdmin(uri *url.URL, timeout time.Duration, exited func() error) (*sql.DB, error) {
	db, err := sql.Open("postgres", uri.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(2)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if exited != nil {
			if exitErr := exited(); exitErr != nil {
				db.Close()
				return nil, fmt.Errorf("%w: %w", exitErr, err)
			}
		}
		if time.Now().After(deadline) {
			db.Close()
			return nil, fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// removeStale deletes directories left behind by processes that were
// killed before they could call Stop. Their servers are already gone
// thanks to the parent-death signal.
func removeStale(base, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
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
func (s *Server) command(name string, args ...string) *exec.Cmd {
	// Not bound to a context: the postmaster lives until Stop ends it, and
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

func (s *Server) initdb() error {
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
		// The data directory is thrown away with the server: syncing the
		// template files to disk would only slow the start.
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

func (s *Server) openLog() (*os.File, error) {
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

// freePort is a free loopback port below the kernel's ephemeral range, so
// no outgoing connection takes it before the postmaster binds it.
func freePort() (int, error) {
	ports, err := devhs.FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

func (s *Server) startPostmaster(settings []string) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("failed to pick a free port: %w", err)
	}
	logf, err := s.openLog()
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor

	args := []string{
		"-D", s.dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	cmd := s.command("postgres", args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group so the whole server can be killed at once, and an
	// immediate shutdown if the calling process dies without calling Stop.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start postgres: %w", err)
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
	s.admin, err = OpenAdmin(s.adminURI, startTimeout, func() error {
		if s.postmasterExited() {
			return fmt.Errorf("server exited during startup (%s)", s.cmd.ProcessState)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres did not become ready on port %d: %w", port, err)
	}
	return nil
}

func (s *Server) postmasterExited() bool {
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

// Stop shuts the server down (pg_ctl stop -m fast, falling back to killing
// its process group) and removes its directory. It may be called more
// than once.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close() // closing again is a no-op
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
		s.dir = ""
	}
	return errors.Join(errs...)
}

func (s *Server) readLog() string {
	if s.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	return string(b)
}

// LogTail returns the end of the server log, formatted for an error
// message: empty if there is no log.
func (s *Server) LogTail() string {
	log := s.readLog()
	if log == "" {
		return ""
	}
	if len(log) > logTailBytes {
		log = "..." + log[len(log)-logTailBytes:]
	}
	return "\n--- postgres log (tail) ---\n" + strings.TrimRight(log, "\n")
}
