package demo

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/syncbuf"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// fakeRathaus does what `rathaus generate-registration` does to the files
// and then fails on `run`, like a rathaus that cannot start.
const fakeRathaus = `#!/bin/sh
as=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
hs=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
case "$1" in
generate-registration)
	sed -i "s/as_token: generate/as_token: $as/; s/hs_token: generate/hs_token: $hs/" "$3"
	cat > "$5" <<EOF
id: rathaus
url: http://127.0.0.1:9
as_token: $as
hs_token: $hs
sender_localpart: rathaus
namespaces:
  users: [{exclusive: true, regex: '@_rathaus_.*'}]
EOF
	;;
run)
	if [ "$FAKE_RATHAUS_RUN" = hang ]; then
		trap 'echo stopped; exit 0' TERM
		echo "never ready"
		while :; do sleep 0.05; done
	fi
	echo "kaputt: fake rathaus cannot start" >&2
	exit 3
	;;
esac
`

// fakeOptions are Options for a demo with fakeRathaus and the real Dendrite.
func fakeOptions(t *testing.T, out io.Writer) Options {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rathaus")
	require.NoError(t, os.WriteFile(bin, []byte(fakeRathaus), 0o755))
	ports, err := devhs.FreePorts(4)
	require.NoError(t, err)
	return Options{
		Dir: t.TempDir(), HSPort: ports[0], FedPort: ports[1], ASPort: ports[2], ChatPort: ports[3],
		RathausBin: bin, DendriteBin: tesths.DendriteBinary(t), Quiet: true,
		Stdout: out, Stderr: out,
	}
}

// A rathaus that dies while starting makes Run stop Dendrite and report
// the death with rathaus's log; the first-run files are in place.
func TestRunStopsDendriteWhenRathausDies(t *testing.T) {
	var out syncbuf.Buffer
	opts := fakeOptions(t, &out)

	err := Run(context.Background(), opts)
	require.ErrorIs(t, err, ErrChildExited, "output:\n%s", out.String())
	assert.Contains(t, err.Error(), "rathaus exited: exit status 3")
	assert.Contains(t, err.Error(), "kaputt: fake rathaus cannot start", "the log tail is part of the error")
	assert.NotContains(t, out.String(), "DEMO READY")

	cfg, err := config.Load(filepath.Join(opts.Dir, "config.yaml"))
	require.NoError(t, err, "the config is complete after the first run")
	assert.Equal(t, AuthorityName, cfg.Authority.Name)
	assert.FileExists(t, filepath.Join(opts.Dir, "registration.yaml"))
	require.NoError(t, checkStaff(cfg, demoStaff(opts.ServerName())), "the example's departments have the demo's staff")
	for _, lp := range []string{StaffLocalpart, BauamtLeadLocalpart, BuergerbueroLocalpart} {
		pw, err := os.ReadFile(filepath.Join(opts.Dir, lp+".password"))
		require.NoError(t, err, "a password for every staff account")
		assert.NotContains(t, out.String(), strings.TrimSpace(string(pw)), "the output never shows a password")
	}

	assertNothingRunsIn(t, opts.Dir)
}

// An interrupted start stops what was started and counts as a clean stop,
// whenever the signal comes.
func TestRunInterruptedIsClean(t *testing.T) {
	t.Run("before anything started", func(t *testing.T) {
		var out syncbuf.Buffer
		opts := fakeOptions(t, &out)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.NoError(t, Run(ctx, opts), "output:\n%s", out.String())
	})
	t.Run("while waiting for rathaus", func(t *testing.T) {
		t.Setenv("FAKE_RATHAUS_RUN", "hang")
		var out syncbuf.Buffer
		opts := fakeOptions(t, &out)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- Run(ctx, opts) }()
		tesths.WaitFor(t, time.Minute, "rathaus to be started", func() error {
			if !strings.Contains(devhs.TailFile(filepath.Join(opts.Dir, "rathaus.log"), 0), "never ready") {
				return errors.New("not yet")
			}
			return nil
		})
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "output:\n%s", out.String())
		case <-time.After(time.Minute):
			t.Fatal("Run did not return after the interruption")
		}
		assert.Contains(t, out.String(), "Interrupted while starting")
		assert.Contains(t, devhs.TailFile(filepath.Join(opts.Dir, "rathaus.log"), 0), "stopped", "rathaus got SIGTERM")
		assertNothingRunsIn(t, opts.Dir)
	})
}

// assertNothingRunsIn checks that no process mentions dir on its command
// line: Dendrite and rathaus are gone.
func assertNothingRunsIn(t *testing.T, dir string) {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, path := range procs {
		cmdline, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(cmdline), dir) {
			t.Errorf("process %s still runs in the demo directory: %q", path, cmdline)
		}
	}
}
