package devhs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/syncbuf"
)

func TestProcess(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   string
		stop     bool
		wantErr  error  // nil: Stop/Err must return nil
		wantText string // in the error
		wantLog  string
	}{
		{name: "clean exit", script: "echo hallo; exit 0", wantLog: "hallo"},
		{name: "failure", script: "echo kaputt >&2; exit 3", wantErr: devhs.ErrExited, wantText: "exit status 3", wantLog: "kaputt"},
		{name: "stops on SIGTERM", script: "trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.05; done", stop: true, wantLog: "bye"},
		{name: "killed after grace", script: "trap '' TERM; echo up; while :; do sleep 0.05; done", stop: true, wantText: "was killed", wantLog: "up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncbuf.Buffer
			logFile := filepath.Join(t.TempDir(), "logs", "child.log")
			p, err := devhs.StartProcess(devhs.ProcessOptions{
				Name: "child", Path: "/bin/sh", Args: []string{"-c", tc.script},
				LogFile: logFile, Output: &out,
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = p.Stop(time.Second) })
			if tc.stop {
				// The trap must be in place before the signal arrives.
				require.Eventually(t, func() bool { return bytes.Contains([]byte(p.LogTail(1)), []byte("up")) },
					10*time.Second, 10*time.Millisecond, "the child to start")
				err = p.Stop(500 * time.Millisecond)
			} else {
				select {
				case <-p.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("the child did not exit")
				}
				err = p.Err()
				assert.Equal(t, err, p.Stop(time.Second), "Stop after the exit returns how it ended")
			}
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.wantText == "":
				require.NoError(t, err)
			}
			if tc.wantText != "" {
				require.ErrorContains(t, err, tc.wantText)
			}
			assert.True(t, p.Exited())
			assert.Contains(t, p.LogTail(10), tc.wantLog)
			assert.Contains(t, out.String(), tc.wantLog, "Output gets a copy")
		})
	}
}

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	require.NoError(t, writeFile(path, "a\nb\nc\n"))
	assert.Equal(t, "b\nc", devhs.TailFile(path, 2))
	assert.Equal(t, "a\nb\nc", devhs.TailFile(path, 0))
	assert.Contains(t, devhs.TailFile(path+"-missing", 2), "no log")
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}
