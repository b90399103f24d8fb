package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// stderrTailLines is how much of the script's stderr a failure repeats.
	stderrTailLines = 40
	// stopGrace is how long the cleanup lets the script take screenshots
	// and close Chromium before it kills everything.
	stopGrace = 10 * time.Second
	// drainGrace is how long to read stdout after the script exited, for
	// the {"fail"} line it wrote just before.
	drainGrace = 2 * time.Second
	// scanInterval is how often the process tree below the script is
	// recorded (see procTree).
	scanInterval = 250 * time.Millisecond
)

// Script is one running Node script. Its methods must be called from the
// test goroutine: they fail the test with t.Fatal.
type Script struct {
	t    testing.TB
	name string // path below tests/browser, for messages

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	stderr *os.File
	tree   *procTree

	events  chan event    // steps and failures; closed at stdout EOF
	quit    chan struct{} // closed by stop: nobody reads events anymore
	exited  chan struct{} // closed when the process has exited
	exitErr error         // valid after exited is closed
	readers sync.WaitGroup

	artifacts     string
	keepArtifacts bool

	pending string // the step the script waits at, "" if none

	mu       sync.Mutex
	tail     []string // last stderr lines
	logClose bool     // the test is over: stop logging
}

// message is one line the script writes to stdout.
type message struct {
	Step *string         `json:"step"`
	Data json.RawMessage `json:"data"`
	Log  *string         `json:"log"`
	Fail *string         `json:"fail"`
}

type event struct {
	step string
	data json.RawMessage
	fail string // the script's failure report
	bad  string // a line that is not part of the protocol
}

// Start runs `node tests/browser/<script>` with RATHAUS_CHROMIUM, the
// artifacts directory and env in its environment, and stops it (Chromium
// included) when the test ends. It fails the test if Node, the npm packages
// or Chromium are missing.
func Start(tb testing.TB, script string, env map[string]string) *Script {
	tb.Helper()
	st, err := findSetup()
	if err != nil {
		tb.Fatalf("browsertest: %v", err)
	}
	path := filepath.Join(st.dir, filepath.FromSlash(script))
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("browsertest: no script %s: %v", script, err)
	}
	s := &Script{
		t:      tb,
		name:   script,
		events: make(chan event, 64),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	s.artifacts, s.keepArtifacts = artifactsDir(tb)

	// Not bound to the test's context, which ends before the cleanup runs:
	// the cleanup stops the script itself (SIGTERM, or SIGUSR2 for
	// screenshots after a failure), and a cancelled context would SIGKILL it.
	cmd := exec.CommandContext(context.Background(), st.node, path)
	cmd.Dir = st.dir
	cmd.Env = append(os.Environ(), EnvChromium+"="+st.chromium, EnvArtifacts+"="+s.artifacts)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatalf("browsertest: %v", err)
	}
	// Own pipes instead of cmd.StdoutPipe, so that waiting for the process
	// does not depend on the readers, and the readers can be cut off.
	stdoutW, stderrW := s.pipe(&s.stdout), s.pipe(&s.stderr)
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	if err := cmd.Start(); err != nil {
		tb.Fatalf("browsertest: failed to start %s: %v", script, err)
	}
	stdoutW.Close()
	stderrW.Close()
	s.cmd = cmd
	s.tree = newProcTree(cmd.Process.Pid)
	tb.Cleanup(s.stop)

	s.readers.Add(2)
	go s.readStdout()
	go s.readStderr()
	go s.watch()
	return s
}

func (s *Script) pipe(reader **os.File) *os.File {
	r, w, err := os.Pipe()
	if err != nil {
		s.t.Fatalf("browsertest: %v", err)
	}
	*reader = r
	return w
}

// artifactsDir returns where the harness saves screenshots, and whether to
// keep it after a passing test.
func artifactsDir(tb testing.TB) (string, bool) {
	tb.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(tb.Name(), "_")
	if base := os.Getenv(EnvArtifacts); base != "" {
		dir := filepath.Join(base, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatalf("browsertest: failed to create the artifacts directory: %v", err)
		}
		return dir, true
	}
	// Not t.TempDir: that is gone by the time someone reads the log.
	dir, err := os.MkdirTemp("", "rathaus-browser-"+name+"-")
	if err != nil {
		tb.Fatalf("browsertest: failed to create the artifacts directory: %v", err)
	}
	return dir, false
}

// Expect waits until the script reaches step name and returns the step's
// data (nil for null). It fails the test if the script reports a failure,
// exits, reaches another step, or has not arrived within timeout.
func (s *Script) Expect(name string, timeout time.Duration) map[string]any {
	s.t.Helper()
	if s.pending != "" {
		s.t.Fatalf("browsertest: Expect(%q) while %s still waits at step %q: call Continue first", name, s.name, s.pending)
	}
	ev := s.next(fmt.Sprintf("step %q", name), timeout)
	if ev.step != name {
		s.fatalf("%s reached step %q, the test expected %q", s.name, ev.step, name)
	}
	s.pending = name
	if len(ev.data) == 0 || string(ev.data) == "null" {
		return nil
	}
	var data map[string]any
	if err := json.Unmarshal(ev.data, &data); err != nil {
		s.fatalf("data of step %q is not a JSON object: %s", name, ev.data)
	}
	return data
}

// Continue lets the script go on from step name; data (any JSON value, or
// nil) is what the script's step() resolves with.
func (s *Script) Continue(name string, data any) {
	s.t.Helper()
	if s.pending != name {
		s.t.Fatalf("browsertest: Continue(%q), but %s waits at %s", name, s.name, describeStep(s.pending))
	}
	line, err := json.Marshal(struct {
		Continue string `json:"continue"`
		Data     any    `json:"data"`
	}{name, data})
	if err != nil {
		s.t.Fatalf("browsertest: failed to encode the data of step %q: %v", name, err)
	}
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		s.fatalf("failed to continue step %q: %v", name, err)
	}
	s.pending = ""
}

// Wait waits until the script exits and fails the test unless it exited 0
// without reaching another step first.
func (s *Script) Wait(timeout time.Duration) {
	s.t.Helper()
	if s.pending != "" {
		s.t.Fatalf("browsertest: Wait while %s still waits at step %q: call Continue first", s.name, s.pending)
	}
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.waitExit(deadline)
				return
			}
			s.reportUnexpected(ev, "the end of the script")
		case <-s.exited:
			s.drain("the end of the script")
			s.waitExit(deadline)
			return
		case <-deadline:
			s.fatalf("%s did not exit within %s", s.name, timeout)
		}
	}
}

func (s *Script) waitExit(deadline <-chan time.Time) {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-deadline:
		s.fatalf("%s closed its stdout but did not exit", s.name)
	}
	if s.exitErr != nil {
		s.fatalf("%s exited with %v", s.name, s.exitErr)
	}
}

// next returns the next step; failures, protocol errors, exit and timeout
// fail the test.
func (s *Script) next(what string, timeout time.Duration) event {
	s.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.exitedEarly(what)
			}
			if ev.step != "" {
				return ev
			}
			s.reportUnexpected(ev, what)
		case <-s.exited:
			s.drain(what)
			s.exitedEarly(what)
		case <-timer.C:
			s.fatalf("timed out after %s waiting for %s of %s", timeout, what, s.name)
		}
	}
}

// drain reads what the script wrote before it exited.
func (s *Script) drain(what string) {
	s.t.Helper()
	timeout := time.After(drainGrace)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			s.reportUnexpected(ev, what)
		case <-timeout:
			return
		}
	}
}

func (s *Script) reportUnexpected(ev event, what string) {
	s.t.Helper()
	switch {
	case ev.fail != "":
		s.fatalf("%s failed while the test waited for %s:\n%s", s.name, what, ev.fail)
	case ev.bad != "":
		s.fatalf("%s wrote a line to stdout that is not part of the protocol (use console.error or log()): %s", s.name, ev.bad)
	default:
		s.fatalf("%s reached step %q while the test waited for %s", s.name, ev.step, what)
	}
}

func (s *Script) exitedEarly(what string) {
	s.t.Helper()
	<-s.exited
	s.fatalf("%s exited (%v) while the test waited for %s", s.name, exitStatus(s.exitErr), what)
}

func exitStatus(err error) string {
	if err == nil {
		return "exit code 0"
	}
	return err.Error()
}

func describeStep(step string) string {
	if step == "" {
		return "no step"
	}
	return fmt.Sprintf("step %q", step)
}

// fatalf fails the test with the tail of the script's stderr.
func (s *Script) fatalf(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	tail := strings.Join(s.tail, "\n")
	s.mu.Unlock()
	if tail != "" {
		msg += fmt.Sprintf("\nlast lines of %s's stderr:\n%s", s.name, tail)
	}
	s.t.Fatalf("browsertest: %s", msg)
}

func (s *Script) readStdout() {
	defer s.readers.Done()
	defer close(s.events)
	sc := bufio.NewScanner(s.stdout)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			s.send(event{bad: string(line)})
			continue
		}
		switch {
		case m.Log != nil:
			s.logf("%s: log: %s", s.name, *m.Log)
		case m.Fail != nil:
			s.send(event{fail: *m.Fail})
		case m.Step != nil && *m.Step != "":
			s.send(event{step: *m.Step, data: m.Data})
		default:
			s.send(event{bad: string(line)})
		}
	}
}

func (s *Script) send(ev event) {
	select {
	case s.events <- ev:
	case <-s.quit:
	}
}

func (s *Script) readStderr() {
	defer s.readers.Done()
	sc := bufio.NewScanner(s.stderr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.tail = append(s.tail, line)
		if len(s.tail) > stderrTailLines {
			s.tail = s.tail[len(s.tail)-stderrTailLines:]
		}
		s.mu.Unlock()
		s.logf("%s: %s", s.name, line)
	}
}

// logf logs unless the test is over (t.Log would panic then).
func (s *Script) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.logClose {
		s.t.Logf(format, args...)
	}
}

// watch records the process tree below the script until it exits.
func (s *Script) watch() {
	done := make(chan struct{})
	go func() {
		s.exitErr = s.cmd.Wait()
		close(done)
	}()
	ticker := time.NewTicker(scanInterval)
	defer ticker.Stop()
	for {
		s.tree.scan()
		select {
		case <-done:
			close(s.exited)
			return
		case <-ticker.C:
		}
	}
}

// stop ends the script and everything it started; it runs in t.Cleanup.
func (s *Script) stop() {
	if !s.hasExited() {
		s.tree.scan()
		// Ask first: the harness closes Chromium on SIGTERM, and on SIGUSR2
		// after screenshots of its pages, which tell why a test failed.
		sig := syscall.SIGTERM
		if s.t.Failed() {
			sig = syscall.SIGUSR2
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, sig)
		select {
		case <-s.exited:
		case <-time.After(stopGrace):
			s.logf("browsertest: %s did not stop within %s of SIGTERM, killing it", s.name, stopGrace)
			s.tree.scan()
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	_ = s.stdin.Close()
	// The script's group is gone; Chromium has a group of its own.
	s.tree.kill()
	deadline := time.Now().Add(stopGrace)
	for left := s.tree.alive(); len(left) > 0; left = s.tree.alive() {
		if time.Now().After(deadline) {
			s.t.Errorf("browsertest: %d processes of %s survived SIGKILL: %v", len(left), s.name, left)
			break
		}
		time.Sleep(20 * time.Millisecond)
		s.tree.kill()
	}

	// Nothing writes to the pipes anymore; cut off readers that are still
	// blocked (a grandchild holding the pipe would be killed by now anyway).
	close(s.quit)
	done := make(chan struct{})
	go func() { s.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainGrace):
		s.stdout.Close()
		s.stderr.Close()
		<-done
	}
	s.mu.Lock()
	s.logClose = true
	s.mu.Unlock()
	s.stdout.Close()
	s.stderr.Close()

	s.finishArtifacts()
}

func (s *Script) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

func (s *Script) finishArtifacts() {
	entries, _ := os.ReadDir(s.artifacts)
	if s.t.Failed() && len(entries) > 0 {
		s.t.Logf("browsertest: screenshots and page HTML of %s are in %s", s.name, s.artifacts)
		return
	}
	if !s.keepArtifacts {
		if err := os.RemoveAll(s.artifacts); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.t.Logf("browsertest: failed to remove %s: %v", s.artifacts, err)
		}
	}
}
