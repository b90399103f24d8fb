package officehours

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDateRange(t *testing.T) {
	tests := []struct {
		in   string
		want DateRange
	}{
		{"2026-12-24", DateRange{Date{2026, time.December, 24}, Date{2026, time.December, 24}}},
		{"2026-12-31..2027-01-01", DateRange{Date{2026, time.December, 31}, Date{2027, time.January, 1}}},
		{"2028-02-29", DateRange{Date{2028, time.February, 29}, Date{2028, time.February, 29}}},
		{"2026-05-01..2026-05-01", DateRange{Date{2026, time.May, 1}, Date{2026, time.May, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDateRange(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := ParseDateRange(got.String())
			require.NoError(t, err, "String round-trips")
			assert.Equal(t, got, again)
		})
	}
}

func TestParseDateRangeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "YYYY-MM-DD"},
		{"24.12.2026", "YYYY-MM-DD"},
		{"2026-02-30", "YYYY-MM-DD"},
		{"2026-2-3", "YYYY-MM-DD"},
		{"2026-12-24..", "YYYY-MM-DD..YYYY-MM-DD"},
		{"2026-12-24...2026-12-26", "YYYY-MM-DD..YYYY-MM-DD"},
		{"2027-01-01..2026-12-31", "ends before it starts"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseDateRange(tc.in)
			require.ErrorIs(t, err, ErrInvalidDate)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestDateRangeContains(t *testing.T) {
	r := DateRange{Date{2026, time.December, 31}, Date{2027, time.January, 1}}
	assert.False(t, r.Contains(Date{2026, time.December, 30}))
	assert.True(t, r.Contains(Date{2026, time.December, 31}))
	assert.True(t, r.Contains(Date{2027, time.January, 1}))
	assert.False(t, r.Contains(Date{2027, time.January, 2}))
	assert.Equal(t, "2026-12-31..2027-01-01", r.String())
}

func TestDateOfUsesTheTimesLocation(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	utc := time.Date(2026, time.June, 14, 20, 0, 0, 0, time.UTC)
	assert.Equal(t, Date{2026, time.June, 14}, DateOf(utc))
	assert.Equal(t, Date{2026, time.June, 15}, DateOf(utc.In(tokyo)))
}
