package guestchat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpeningText(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// Friday, 27 November 2026, 20:15 in Berlin.
	now := time.Date(2026, time.November, 27, 20, 15, 0, 0, berlin)
	tests := []struct {
		name   string
		next   time.Time
		de, en string
	}{
		{"later today", time.Date(2026, 11, 27, 21, 0, 0, 0, berlin), "heute um 21:00 Uhr", "today at 21:00"},
		{"tomorrow", time.Date(2026, 11, 28, 9, 0, 0, 0, berlin), "morgen um 9:00 Uhr", "tomorrow at 9:00"},
		{"after the weekend", time.Date(2026, 11, 30, 9, 0, 0, 0, berlin),
			"am Montag, 30. November um 9:00 Uhr", "on Monday, 30 November at 9:00"},
		{"umlaut month", time.Date(2026, 12, 1, 13, 30, 0, 0, berlin),
			"am Dienstag, 1. Dezember um 13:30 Uhr", "on Tuesday, 1 December at 13:30"},
		{"next year", time.Date(2027, 1, 4, 8, 0, 0, 0, berlin),
			"am Montag, 4. Januar 2027 um 8:00 Uhr", "on Monday, 4 January 2027 at 8:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.de, openingText("de", tc.next, now))
			assert.Equal(t, tc.en, openingText("en", tc.next, now))
		})
	}

	// The office's wall clock counts, not the server's: 23:30 UTC on the
	// 27th is already the 28th in Berlin, so 9:00 on the 28th is "today".
	utcNow := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)
	assert.Equal(t, "heute um 9:00 Uhr", openingText("de", time.Date(2026, 11, 28, 9, 0, 0, 0, berlin), utcNow))
}
