// Package livekittest runs a real LiveKit server (livekit-server v1.13.5,
// built from tools/livekit by `make livekit`) on loopback for tests and
// benchmarks, as internal/tesths runs the homeservers, and a LiveKit
// client process (tests/lkpeer) that joins it with a token.
//
// LiveKit is never linked into rathaus: it carries its own forks of pion.
// The server is a separate process; so is the peer, built from its own
// module with LiveKit's Go client SDK.
package livekittest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/modroot"
)

// EnvBin names the environment variable that points at livekit-server;
// without it, <module root>/.cache/bin/livekit-server (what `make livekit`
// builds) is used.
const EnvBin = "RATHAUS_LIVEKIT_BIN"

// The API key and secret every test server accepts (the secret is longer
// than rathaus's minimum of 32 bytes).
const (
	Key    = "APIrathaustest"
	Secret = "rathaus-test-secret-of-at-least-32-bytes"
)

// Options configure a server.
type Options struct {
	// WebhookURL, if set, receives LiveKit's signed webhooks (signed with
	// Key and Secret).
	WebhookURL string
	// SendSideBWE switches LiveKit to pion's send-side congestion
	// control (TWCC), the estimator the embedded server uses; LiveKit's
	// default takes the subscribers' REMB instead.
	SendSideBWE bool
	// AutoCreate lets joins create rooms (rathaus refuses to run with
	// it; only the check of that is tested with it on).
	AutoCreate bool
	// SpeakerUpdate is LiveKit's audio.update_interval, how often it
	// tells the clients who speaks (0: LiveKit's 400 ms); docs/video.md
	// recommends 200 ms for committee calls.
	SpeakerUpdate time.Duration
	// PLIThrottle is LiveKit's rtc.pli_throttle for every layer, the
	// least time between two keyframe requests to a publisher (0:
	// LiveKit's 500 ms for the lowest layer, 1 s above); docs/video.md
	// recommends 300 ms for committee calls.
	PLIThrottle time.Duration
	// Stderr receives the server's log (os.Stderr if nil); LogLevel is
	// LiveKit's (default warn).
	Stderr   *os.File
	LogLevel string
}

// Server is a running livekit-server.
type Server struct {
	// URL is the HTTP base URL of the API (Twirp) and the signalling;
	// WSURL is the same for clients (ws://).
	URL, WSURL string
	cmd        *exec.Cmd
	dir        string
	done       chan struct{}
}

// Binary returns the livekit-server to run: $RATHAUS_LIVEKIT_BIN, else
// the one `make livekit` builds.
func Binary() (string, error) {
	if env := os.Getenv(EnvBin); env != "" {
		if err := checkExecutable(env); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBin, err)
		}
		return env, nil
	}
	root, err := modroot.Find()
	if err != nil {
		return "", fmt.Errorf("%w (or set %s)", err, EnvBin)
	}
	path := filepath.Join(root, ".cache", "bin", "livekit-server")
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("no livekit-server at %s: run `make livekit` (or set %s): %w", path, EnvBin, err)
	}
	return path, nil
}

// Start runs a server for the test and stops it at the test's end. It
// fails the test if there is no binary or the server does not come up.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatalf("livekittest: %v", err)
	}
	s, err := StartServer(context.Background(), bin, opts)
	if err != nil {
		tb.Fatalf("livekittest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartServer runs bin on 127.0.0.1 only, with one UDP port for media,
// loopback candidates, no TURN, and rooms only through the API (unless
// opts.AutoCreate). Close stops it.
func StartServer(ctx context.Context, bin string, opts Options) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	// The UDP port comes from a TCP probe: the same number is usually free
	// for UDP too, and a clash makes the server fail to start, visibly.
	udp, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rathaus-livekit-")
	if err != nil {
		return nil, err
	}
	var extra strings.Builder
	if opts.SendSideBWE {
		extra.WriteString("  congestion_control:\n    use_send_side_bwe_interceptor: true\n")
	}
	if opts.PLIThrottle > 0 {
		fmt.Fprintf(&extra, "  pli_throttle:\n    low_quality: %[1]dms\n    mid_quality: %[1]dms\n    high_quality: %[1]dms\n",
			opts.PLIThrottle.Milliseconds())
	}
	audio := ""
	if opts.SpeakerUpdate > 0 {
		audio = fmt.Sprintf("audio:\n  update_interval: %d\n", opts.SpeakerUpdate.Milliseconds())
	}
	webhook := ""
	if opts.WebhookURL != "" {
		webhook = fmt.Sprintf("webhook:\n  api_key: %s\n  urls:\n    - %q\n", Key, opts.WebhookURL)
	}
	cfg := fmt.Sprintf(`port: %d
bind_addresses: ["127.0.0.1"]
rtc:
  udp_port: %d
  tcp_port: 0
  use_external_ip: false
  node_ip: 127.0.0.1
  enable_loopback_candidate: true
%skeys:
  %s: %s
room:
  auto_create: %t
%s%slogging:
  level: %s
`, port, udp, extra.String(), Key, Secret, opts.AutoCreate, audio, webhook, cmp.Or(opts.LogLevel, "warn"))
	path := filepath.Join(dir, "livekit.yaml")
	if err = os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// Not CommandContext: the server outlives ctx (the start-up
	// deadline) and is stopped by Close.
	cmd := exec.Command(bin, "--config", path) //nolint:noctx // stopped by Close, gently
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if opts.Stderr != nil {
		cmd.Stdout, cmd.Stderr = opts.Stderr, opts.Stderr
	}
	if err = cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		URL:   fmt.Sprintf("http://127.0.0.1:%d", port),
		WSURL: fmt.Sprintf("ws://127.0.0.1:%d", port),
		cmd:   cmd, dir: dir, done: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitUp(ctx, 30*time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitUp(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return errors.New("livekit-server exited at start (its log is above)")
		case <-ctx.Done():
			return fmt.Errorf("livekit-server did not answer at %s within %s", s.URL, within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the server's process id (for CPU and memory readings).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Close stops the server and removes its files. LiveKit drains its
// rooms on the first SIGINT and stops at once on the second, which
// follows after a second; SIGKILL after 10 s.
func (s *Server) Close() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(time.Second):
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	_ = os.RemoveAll(s.dir)
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
