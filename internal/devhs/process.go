package devhs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessOptions describe a child process for StartProcess.
type ProcessOptions struct {
	// Name says what the process is in errors ("dendrite", "rathaus").
	Name string
	// Path is the executable. Required.
	Path string
	// Args are the arguments after the program name.
	Args []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Env is the environment; nil means the current one.
	Env []string
	// LogFile receives stdout and stderr, appended. Required.
	LogFile string
	// Output, if set, receives a copy of stdout and stderr. Write errors on
	// it are ignored, so a closed terminal never stalls the child.
	Output io.Writer
}

// Process is a child process started by StartProcess: in a process group of
// its own (a Ctrl-C for the parent does not reach it), killed by the kernel
// if the parent dies (Linux), and stopped with SIGTERM, then SIGKILL.
type Process struct {
	name    string
	logFile string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid once done is closed

	stopOnce sync.Once
	stopErr  error
}

// StartProcess starts a child process. Its life is not bound to a context:
// end it with Stop.
func StartProcess(opts ProcessOptions) (*Process, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("%w: ProcessOptions.Path", ErrMissingOption)
	}
	if opts.LogFile == "" {
		return nil, fmt.Errorf("%w: ProcessOptions.LogFile", ErrMissingOption)
	}
	name := opts.Name
	if name == "" {
		name = filepath.Base(opts.Path)
	}
	if err := os.MkdirAll(filepath.Dir(opts.LogFile), 0o700); err != nil {
		return nil, fmt.Errorf("failed to create log directory of %s: %w", name, err)
	}
	logFile, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open log file of %s: %w", name, err)
	}
	// Not bound to a context on purpose: Stop ends the process, with
	// SIGTERM first, which a cancelled context (SIGKILL) would skip.
	cmd := exec.CommandContext(context.Background(), opts.Path, opts.Args...)
	cmd.Dir = opts.Dir
	cmd.Env = opts.Env
	var out io.Writer = logFile
	if opts.Output != nil {
		out = teeWriter{file: logFile, copy: opts.Output}
		// A grandchild holding the pipe open must not block Wait forever.
		cmd.WaitDelay = 2 * time.Second
	}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &Process{name: name, logFile: opts.LogFile, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited, for whatever reason.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns nil while the process runs and after it exited with status 0;
// otherwise an error wrapping ErrExited that says how it ended.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s %w: %w", p.name, ErrExited, p.waitErr)
	}
	return nil
}

// exitError says how the process ended, once it has: its wait error, or
// "exit status 0", which is still news for a server that should not exit.
func (p *Process) exitError() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// Stop sends SIGTERM to the process group and, if the process has not
// exited after grace, SIGKILL. It returns once the process is gone: nil if it exited with status
// 0, else an error saying how it ended. Calling it again returns the same.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	if p.Exited() {
		return p.Err()
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.Err()
	case <-time.After(grace):
	}
	p.signal(syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", p.name, grace)
}

// signal sends sig to the process group the child leads (sysProcAttr), so
// that whatever it started goes with it; to the child alone if that fails.
func (p *Process) signal(sig syscall.Signal) {
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// LogFile returns the path of the file holding stdout and stderr.
func (p *Process) LogFile() string { return p.logFile }

// LogTail returns the last n lines of the process's log file.
func (p *Process) LogTail(n int) string { return TailFile(p.logFile, n) }

// TailFile returns the last n lines of the file at path, or a note saying
// why there are none.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return tail(string(data), n)
}

// tail returns the last n lines of text, all of them if n <= 0.
func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// teeWriter writes to file and, ignoring errors, to copy.
type teeWriter struct {
	file io.Writer
	copy io.Writer
}

func (t teeWriter) Write(b []byte) (int, error) {
	_, _ = t.copy.Write(b)
	return t.file.Write(b)
}

// isAddrInUse reports whether a log says a listener could not bind:
// "bind: address already in use" (Go), "[Errno 98] Address already in use"
// (Python).
func isAddrInUse(log string) bool {
	return strings.Contains(strings.ToLower(log), "address already in use")
}

// CheckExecutable reports whether path is an executable file.
func CheckExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
