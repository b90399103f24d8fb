package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals []float64
		want spread
	}{
		{name: "none", want: spread{}},
		{name: "one", vals: []float64{5}, want: spread{Median: 5, Min: 5, Max: 5, N: 1}},
		{name: "odd", vals: []float64{9, 1, 5}, want: spread{Median: 5, Min: 1, Max: 9, N: 3}},
		{name: "even", vals: []float64{4, 1, 2, 3}, want: spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, summarize(tc.vals))
		})
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"thousands big", thousands(42371.6), "42,372"},
		{"thousands exact", thousands(1000), "1,000"},
		{"thousands small", thousands(45.26), "45.3"},
		{"thousands 100", thousands(100), "100"},
		{"sig small", sig(0.031234, 3), "0.0312"},
		{"sig big", sig(154.4, 3), "154"},
		{"sig zero", sig(0, 3), "0"},
		{"ratio small", ratio(0.01234), "0.012×"},
		{"ratio big", ratio(35.4), "35×"},
		{"ratio huge", ratio(1234), "1,234×"},
		{"count", count(7), "7"},
		{"count big", count(12345), "12,345"},
		{"mib", mib(50 << 20), "50"},
		{"spread one", spread{Median: 3, Min: 3, Max: 3, N: 1}.format(sig3), "3.00"},
		{"spread range", spread{Median: 3, Min: 2, Max: 4, N: 3}.format(sig3), "3.00 (2.00–4.00)"},
		{"spread same", spread{Median: 3, Min: 3, Max: 3, N: 3}.format(sig3), "3.00"},
		{"spread none", spread{}.format(sig3), "–"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond
	}
	assert.Equal(t, 50*time.Millisecond, percentile(ds, 0.5))
	assert.Equal(t, 99*time.Millisecond, percentile(ds, 0.99))
	assert.Equal(t, 100*time.Millisecond, percentile(ds, 1))
	assert.Equal(t, 7*time.Millisecond, percentile([]time.Duration{7 * time.Millisecond}, 0.99))
	assert.Zero(t, percentile(nil, 0.5))
	assert.Equal(t, 100*time.Millisecond, ds[0], "the input is not sorted in place")
}
