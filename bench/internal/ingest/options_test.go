package ingest

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, o Options)
	}{
		{name: "defaults", check: func(t *testing.T, o Options) {
			t.Helper()
			assert.Equal(t, 3, o.Reps)
			assert.Equal(t, 20000, o.Events)
			assert.Equal(t, 100000, o.Backlog)
			assert.Equal(t, workloadNames(), o.Workloads)
			assert.Equal(t, allTargets, o.Targets)
		}},
		{name: "choices", args: []string{"-reps", "1", "-workloads", "txn1x1, backlog", "-targets", "bare", "-events-txn1", "5000"},
			check: func(t *testing.T, o Options) {
				t.Helper()
				assert.Equal(t, []string{"txn1x1", "backlog"}, o.Workloads)
				assert.Equal(t, []string{"bare"}, o.Targets)
				txn1, _ := workloadByName("txn1x1")
				txn10, _ := workloadByName("txn10x8")
				assert.Equal(t, 5000, txn1.Events(o))
				assert.Equal(t, 20000, txn10.Events(o))
			}},
		{name: "unknown workload", args: []string{"-workloads", "txn2x2"}, wantErr: true},
		{name: "unknown target", args: []string{"-targets", "synapse"}, wantErr: true},
		{name: "before without rathaus", args: []string{"-targets", "bare", "-before", "HEAD~1"}, wantErr: true},
		{name: "no reps", args: []string{"-reps", "0"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args, io.Discard)
			if tc.wantErr {
				assert.ErrorIs(t, err, errUsage)
				return
			}
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
}
