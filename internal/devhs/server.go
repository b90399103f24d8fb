package devhs

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"
)

// Defaults of Options.
const (
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 10 * time.Second

	// startErrLogLines is how much of the console log a start error holds.
	startErrLogLines = 40
)

// Options configure Start.
type Options struct {
	// Kind is the homeserver implementation. Default: Dendrite.
	Kind Kind
	// Binary is the Dendrite executable, or for Synapse the python of a
	// venv with Synapse installed. Required.
	Binary string
	// Dir is the state directory. Required; it is created if missing and
	// reused as it is if not (see the package documentation).
	Dir string
	// ClientAddr is the host:port of the plain-HTTP listener, which serves
	// the client-server API (and the federation API, for tools). Required.
	ClientAddr string
	// FederationAddr is the host:port of the HTTPS federation listener, with
	// a self-signed certificate. Required.
	FederationAddr string
	// ServerName is the server name in user IDs. Default: FederationAddr,
	// which lets other servers on this machine reach it without
	// .well-known or SRV.
	ServerName string
	// SharedSecret is the registration_shared_secret. Default: the one
	// recorded in Dir, or a new random one that is recorded there.
	SharedSecret string
	// AppserviceFiles are appservice registration files to load. Relative
	// paths are taken relative to the current directory.
	AppserviceFiles []string
	// RoomVersion is the version of rooms created without one
	// (room_server.default_room_version in Dendrite, default_room_version
	// in Synapse). Default: the homeserver's own default.
	RoomVersion string
	// RTCTransports are, for Synapse only, the MatrixRTC transports it
	// names to clients (matrix_rtc.transports, MSC4143): LiveKit services
	// by their livekit_service_url. Dendrite has no such setting.
	RTCTransports []string
	// DatabaseTemplate is, for Synapse only, a database made by
	// MigrateSynapseDatabase; it is copied into Dir on a start that finds
	// no database there, which saves the schema migration and the
	// background updates of a fresh one.
	DatabaseTemplate string
	// Output, if set, receives a copy of the homeserver's stdout and
	// stderr, which always go to logs/console.log in Dir.
	Output io.Writer
	// ReadyTimeout bounds the wait for the listeners. Default:
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before it kills.
	// Default: DefaultStopTimeout.
	StopTimeout time.Duration
}

// Server is one running homeserver instance.
type Server struct {
	// ServerName is the server name in user IDs.
	ServerName string
	// URL is the plain-HTTP client-server API base, e.g.
	// http://127.0.0.1:8008.
	URL string
	// FederationURL is the HTTPS federation base, e.g.
	// https://127.0.0.1:8448, with a self-signed certificate.
	FederationURL string
	// Dir is the state directory.
	Dir string
	// SharedSecret is the registration_shared_secret of the Synapse-style
	// /_synapse/admin/v1/register endpoint that RegisterUser uses.
	SharedSecret string
	// ConsoleLog is the file with the homeserver's stdout and stderr.
	ConsoleLog string
	// Kind is the homeserver implementation.
	Kind Kind

	proc        *Process
	stopTimeout time.Duration
}

// Start writes the configuration into opts.Dir, creating the keys and the
// shared secret if they are missing, launches the homeserver and waits
// until both listeners answer as ServerName. ctx bounds only the start; the
// process runs until Stop. A listener that cannot bind gives an error
// wrapping ErrAddrInUse. On any error nothing is left running, and an error
// after the launch ends with the last lines of the console log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Kind == "" {
		opts.Kind = Dendrite
	}
	if !opts.Kind.Valid() {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKind, opts.Kind)
	}
	for _, req := range [...]struct{ name, value string }{
		{"Binary", opts.Binary}, {"Dir", opts.Dir},
		{"ClientAddr", opts.ClientAddr}, {"FederationAddr", opts.FederationAddr},
	} {
		if req.value == "" {
			return nil, fmt.Errorf("%w: Options.%s", ErrMissingOption, req.name)
		}
	}
	for _, addr := range []string{opts.ClientAddr, opts.FederationAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("invalid listener address %q: %w", addr, err)
		}
	}
	if opts.ServerName == "" {
		opts.ServerName = opts.FederationAddr
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve state directory: %w", err)
	}
	files := newStateFiles(dir, opts.Kind)
	secret, err := files.prepare(opts.ServerName, opts.SharedSecret)
	if err != nil {
		return nil, err
	}
	asFiles := make([]string, 0, len(opts.AppserviceFiles))
	for _, f := range opts.AppserviceFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("failed to resolve appservice file %q: %w", f, err)
		}
		asFiles = append(asFiles, abs)
	}
	proc, err := prepareLaunch(opts, files, secret, asFiles)
	if err != nil {
		return nil, err
	}

	s := &Server{
		ServerName:    opts.ServerName,
		URL:           "http://" + opts.ClientAddr,
		FederationURL: "https://" + opts.FederationAddr,
		Dir:           dir,
		SharedSecret:  secret,
		ConsoleLog:    files.console,
		Kind:          opts.Kind,
		stopTimeout:   opts.StopTimeout,
	}
	// The console log is per start; Dendrite's own log file keeps history
	// (Synapse has none: it logs to stderr only).
	if err := truncate(files.console); err != nil {
		return nil, err
	}
	proc.Dir, proc.Env, proc.LogFile, proc.Output = dir, homeserverEnv(), files.console, opts.Output
	s.proc, err = StartProcess(proc)
	if err != nil {
		return nil, err
	}
	readyCtx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	if err := waitReady(readyCtx, s.proc, s.ServerName, s.URL, s.FederationURL); err != nil {
		_ = s.proc.Stop(s.stopTimeout)
		tail := s.LogTail(startErrLogLines)
		if isAddrInUse(s.LogTail(0)) {
			err = fmt.Errorf("%w: %w", ErrAddrInUse, err)
		}
		return nil, fmt.Errorf("failed to start %s in %s: %w\nlast lines of %s:\n%s", opts.Kind.title(), dir, err, files.console, tail)
	}
	return s, nil
}

// Stop shuts the homeserver down (SIGTERM, then SIGKILL after Options.StopTimeout)
// and returns once it has exited: nil if it stopped cleanly. It is safe to
// call more than once.
func (s *Server) Stop() error {
	return s.proc.Stop(s.stopTimeout)
}

// Done is closed when the homeserver has exited, whether through Stop or
// not.
func (s *Server) Done() <-chan struct{} { return s.proc.Done() }

// Err returns nil while the homeserver runs or if it exited with status 0, else
// an error wrapping ErrExited.
func (s *Server) Err() error { return s.proc.Err() }

// Pid returns the process id of the homeserver.
func (s *Server) Pid() int { return s.proc.Pid() }

// LogTail returns the last n lines the homeserver wrote to its console,
// which holds everything from info level up plus crashes.
func (s *Server) LogTail(n int) string { return TailFile(s.ConsoleLog, n) }
