package livekittest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/modroot"
)

// EnvPeerBin names the environment variable that points at the lkpeer
// binary; without it, <module root>/.cache/bin/lkpeer (what `make lkpeer`
// builds from tests/lkpeer) is used.
const EnvPeerBin = "RATHAUS_LKPEER_BIN"

// PeerBinary returns the lkpeer binary to run.
func PeerBinary() (string, error) {
	if env := os.Getenv(EnvPeerBin); env != "" {
		if err := checkExecutable(env); err != nil {
			return "", fmt.Errorf("%s: %w", EnvPeerBin, err)
		}
		return env, nil
	}
	root, err := modroot.Find()
	if err != nil {
		return "", fmt.Errorf("%w (or set %s)", err, EnvPeerBin)
	}
	path := filepath.Join(root, ".cache", "bin", "lkpeer")
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("no lkpeer at %s: run `make lkpeer` (or set %s): %w", path, EnvPeerBin, err)
	}
	return path, nil
}

// PeerEvent is one line of the peer's report.
type PeerEvent struct {
	Event    string `json:"event"`
	Identity string `json:"identity,omitempty"`
	Room     string `json:"room,omitempty"`
	From     string `json:"from,omitempty"`
	Kind     string `json:"kind,omitempty"`
	N        int64  `json:"n,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// IDs, Taken and At are a committee listener's "videos" report: the
	// publishers whose camera packets arrive, the most cameras it took at
	// once so far, and when (Unix ms).
	IDs   []string `json:"ids,omitempty"`
	Taken int      `json:"taken,omitempty"`
	At    int64    `json:"at,omitempty"`
}

// Peer is a running lkpeer: a LiveKit participant in its own process.
type Peer struct {
	tb     testing.TB
	cmd    *exec.Cmd
	mu     sync.Mutex // guards stdin's writes
	stdin  io.WriteCloser
	events chan PeerEvent
	done   chan struct{}
	once   sync.Once
}

// PeerOptions configure a peer.
type PeerOptions struct {
	// Publish sends a synthetic VP8 camera track.
	Publish bool
	// Audio sends a microphone of silence whose audio level Speak sets
	// (quiet at first): what LiveKit's speaker detection reads.
	Audio bool
	// FPS is the video's frames a second (three packets each; 0: 30),
	// AudioFrame the length of an audio packet (0: 20 ms): less of both
	// keeps a test of many listeners on two cores.
	FPS        int
	AudioFrame time.Duration
	// Videos makes the peer a committee call's listener that takes the
	// camera video of this many publishers, the last speakers' and then
	// those of Order (lkpeer's committee.go; the page's rule).
	Videos int
	Order  []string
}

// Join starts a peer that joins url (ws://) with token; it leaves at the
// test's end or on Leave.
func Join(tb testing.TB, url, token string, opts PeerOptions) *Peer {
	tb.Helper()
	bin, err := PeerBinary()
	if err != nil {
		tb.Fatalf("livekittest: %v", err)
	}
	args := []string{"-url", url, "-token", token}
	if opts.Publish {
		args = append(args, "-publish")
	}
	if opts.Audio {
		args = append(args, "-audio")
	}
	if opts.Videos > 0 {
		args = append(args, "-videos", strconv.Itoa(opts.Videos), "-order", strings.Join(opts.Order, ","))
	}
	if opts.FPS > 0 {
		args = append(args, "-fps", strconv.Itoa(opts.FPS))
	}
	if opts.AudioFrame > 0 {
		args = append(args, "-audio-frame", opts.AudioFrame.String())
	}
	cmd := exec.Command(bin, args...) //nolint:noctx // stopped by Leave, gently
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("livekittest: starting lkpeer: %v", err)
	}
	p := &Peer{tb: tb, cmd: cmd, stdin: stdin, events: make(chan PeerEvent, 256), done: make(chan struct{})}
	go func() {
		defer close(p.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev PeerEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				select {
				case p.events <- ev:
				default: // nobody reads packet counts: drop, never block the peer
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.Leave)
	return p
}

// Await returns the first event of kind within d, or fails the test.
// Events of other kinds before it are skipped.
func (p *Peer) Await(kind string, d time.Duration) PeerEvent {
	p.tb.Helper()
	ev, ok := p.Next(kind, d)
	if !ok {
		p.tb.Fatalf("livekittest: no %q event from the peer within %s", kind, d)
	}
	return ev
}

// Next is Await without failing: ok is false when no event of kind came
// within d (or the peer ended).
func (p *Peer) Next(kind string, d time.Duration) (PeerEvent, bool) {
	timeout := time.After(d)
	for {
		select {
		case ev, open := <-p.events:
			if !open {
				return PeerEvent{}, false
			}
			if ev.Event == kind || (ev.Event == "failed" && kind != "failed") {
				return ev, ev.Event == kind
			}
		case <-timeout:
			return PeerEvent{}, false
		}
	}
}

// Speak makes a peer started with Audio sound like speaking (true) or
// quiet (false).
func (p *Peer) Speak(on bool) {
	p.tb.Helper()
	line := "quiet\n"
	if on {
		line = "speak\n"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, line); err != nil {
		p.tb.Errorf("livekittest: telling the peer to %s: %v", line[:len(line)-1], err)
	}
}

// Leave disconnects the peer and waits for its process to end.
func (p *Peer) Leave() {
	p.once.Do(func() {
		p.mu.Lock()
		_ = p.stdin.Close()
		p.mu.Unlock()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Events are the peer's reports, for a test that follows them all
// (instead of Await and Next; not both).
func (p *Peer) Events() <-chan PeerEvent { return p.events }

// Exited is closed when the peer's process has ended.
func (p *Peer) Exited() <-chan struct{} { return p.done }
