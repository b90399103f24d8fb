package officehours

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
	}{
		{"08:00-12:00", Range{8 * 60, 12 * 60}},
		{"13:00-15:30", Range{13 * 60, 15*60 + 30}},
		{"00:00-24:00", Range{0, MinutesPerDay}},
		{"20:00-24:00", Range{20 * 60, MinutesPerDay}},
		{"08:00–12:00", Range{8 * 60, 12 * 60}}, // en dash, as String writes it
		{" 08:00 - 12:00 ", Range{8 * 60, 12 * 60}},
		{"23:59-24:00", Range{23*60 + 59, MinutesPerDay}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRange(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "want HH:MM-HH:MM"},
		{"08:00", "want HH:MM-HH:MM"},
		{"8:00-12:00", "start \"8:00\" is not HH:MM"},
		{"08:00-12", "end \"12\" is not HH:MM"},
		{"08h00-12h00", "is not HH:MM"},
		{"08:00-12:00-13:00", "end \"12:00-13:00\" is not HH:MM"},
		{"08:60-09:00", "minute 60"},
		{"25:00-26:00", "hour 25"},
		{"08:00-24:01", "hour 24"},
		{"24:00-24:00", "24:00 is allowed only as the end"},
		{"08:00-08:00", "end must be after the start"},
		{"22:00-02:00", "cannot run past midnight"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseRange(tc.in)
			require.ErrorIs(t, err, ErrInvalidRange)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), "\""+tc.in+"\"", "names the input")
		})
	}
}

func TestRangeString(t *testing.T) {
	assert.Equal(t, "08:00–12:00", Range{480, 720}.String())
	assert.Equal(t, "00:05–24:00", Range{5, MinutesPerDay}.String())
	r, err := ParseRange(Range{13*60 + 15, 15*60 + 30}.String())
	require.NoError(t, err, "String round-trips through ParseRange")
	assert.Equal(t, Range{13*60 + 15, 15*60 + 30}, r)
}

func TestDayOverlaps(t *testing.T) {
	tests := []struct {
		name string
		day  []string
		want []string
	}{
		{"none", nil, nil},
		{"break between", []string{"08:00-12:00", "13:00-16:00"}, nil},
		{"adjacent is fine", []string{"08:00-12:00", "12:00-13:00"}, nil},
		{"overlap", []string{"08:00-12:00", "11:00-14:00"}, []string{"08:00–12:00 overlaps 11:00–14:00"}},
		{"unsorted input", []string{"11:00-14:00", "08:00-12:00"}, []string{"08:00–12:00 overlaps 11:00–14:00"}},
		{"identical", []string{"08:00-12:00", "08:00-12:00"}, []string{"08:00–12:00 overlaps 08:00–12:00"}},
		{"nested and chained", []string{"08:00-18:00", "09:00-10:00", "17:00-20:00"}, []string{
			"08:00–18:00 overlaps 09:00–10:00",
			"08:00–18:00 overlaps 17:00–20:00",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, DayOverlaps(mustRanges(t, tc.day...)))
		})
	}
}

func mustRanges(t *testing.T, ss ...string) []Range {
	t.Helper()
	var out []Range
	for _, s := range ss {
		r, err := ParseRange(s)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}
