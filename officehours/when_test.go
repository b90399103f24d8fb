package officehours

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWhen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	s := Schedule{Location: berlin}
	// Friday 2026-11-27, 23:30 in Berlin: 22:30 UTC.
	now := time.Date(2026, 11, 27, 23, 30, 0, 0, berlin)
	for _, tc := range []struct {
		name   string
		t      time.Time
		de, en string
	}{
		{"today, no leading zero", time.Date(2026, 11, 27, 9, 5, 0, 0, berlin), "heute, 9:05 Uhr", "today 9:05"},
		{"tomorrow", time.Date(2026, 11, 28, 9, 0, 0, 0, berlin), "morgen, 9:00 Uhr", "tomorrow 9:00"},
		{"yesterday", time.Date(2026, 11, 26, 14, 30, 0, 0, berlin), "gestern, 14:30 Uhr", "yesterday 14:30"},
		{"next week", time.Date(2026, 11, 30, 8, 0, 0, 0, berlin), "Mo 30.11., 8:00 Uhr", "Mon 30 Nov 8:00"},
		{"in the schedule's zone, not UTC", time.Date(2026, 11, 27, 23, 15, 0, 0, time.UTC), "morgen, 0:15 Uhr", "tomorrow 0:15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de, en := s.When(tc.t, now.UTC())
			assert.Equal(t, tc.de, de)
			assert.Equal(t, tc.en, en)
		})
	}
}
