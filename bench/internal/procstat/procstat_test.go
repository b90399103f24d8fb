package procstat_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/bench/internal/procstat"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       procstat.Stat
		wantErr    bool
	}{
		{
			name: "postgres backend",
			text: "4242 (postgres) S 4000 4000 4000 0 -1 4194624 1200 0 0 0 250 130 7 3 20 0 1 0 99999 220000000 3000 18446744073709551615",
			want: procstat.Stat{PPid: 4000, User: 2500 * time.Millisecond, System: 1300 * time.Millisecond,
				ChildUser: 70 * time.Millisecond, ChildSystem: 30 * time.Millisecond},
		},
		{
			name: "command name with spaces and parentheses",
			text: "17 (a (b) c) R 1 17 17 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 5 6 7",
			want: procstat.Stat{PPid: 1, User: 10 * time.Millisecond, System: 20 * time.Millisecond,
				ChildUser: 30 * time.Millisecond, ChildSystem: 40 * time.Millisecond},
		},
		{name: "no command", text: "17 R 1", wantErr: true},
		{name: "truncated", text: "17 (x) R 1 17 17 0 -1 0 0 0 0 0 1 2", wantErr: true},
		{name: "not a number", text: "17 (x) R 1 17 17 0 -1 0 0 0 0 0 1 x 3 4 20 0 1 0 5 6 7", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := procstat.ParseStat(tc.text)
			if tc.wantErr {
				assert.ErrorIs(t, err, procstat.ErrFormat)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       procstat.Memory
		wantErr    bool
	}{
		{
			name: "both",
			text: "Name:\trathaus\nVmPeak:\t 1000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n",
			want: procstat.Memory{RSS: 40 << 20, PeakRSS: 50 << 20},
		},
		{name: "missing", text: "Name:\tx\nVmRSS:\t 1 kB\n", wantErr: true},
		{name: "other unit", text: "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := procstat.ParseStatus(tc.text)
			if tc.wantErr {
				assert.ErrorIs(t, err, procstat.ErrFormat)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestTreeCPU: the CPU of a child that burned CPU and exited shows up in
// its parent's tree figure. The parent is this test process, the child a
// shell loop.
func TestTreeCPU(t *testing.T) {
	self := os.Getpid()
	before, err := procstat.TreeCPU(self)
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), "sh", "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	require.NoError(t, cmd.Run())
	after, err := procstat.TreeCPU(self)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, after-before, 50*time.Millisecond, "the exited child's CPU is counted")

	mem, err := procstat.ReadMemory(self)
	require.NoError(t, err)
	assert.Positive(t, mem.RSS)
	assert.GreaterOrEqual(t, mem.PeakRSS, mem.RSS)
}
