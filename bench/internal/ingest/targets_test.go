package ingest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricValue(t *testing.T) {
	const exposition = `# HELP rathaus_appservice_events_processed_total Inbox events handled successfully.
# TYPE rathaus_appservice_events_processed_total counter
rathaus_appservice_events_processed_total_other 3
rathaus_appservice_events_processed_total 1.2345e+06
rathaus_appservice_inbox_pending 0
`
	for _, tc := range []struct {
		name, text string
		want       int64
		wantErr    bool
	}{
		{name: "found", text: exposition, want: 1234500},
		{name: "missing", text: "other_metric 1\n", wantErr: true},
		{name: "bad value", text: processedMetric + " x\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := metricValue(strings.NewReader(tc.text), processedMetric)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
