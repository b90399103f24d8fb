package officehours

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummary(t *testing.T) {
	tests := []struct {
		name   string
		weekly map[time.Weekday][]string
		want   string
	}{
		{"none", nil, NoOfficeHours},
		{"grouped with breaks", map[time.Weekday][]string{
			time.Monday:    {"08:00-12:00", "13:00-15:30"},
			time.Tuesday:   {"08:00-12:00", "13:00-15:30"},
			time.Wednesday: {"08:00-12:00", "13:00-15:30"},
			time.Thursday:  {"08:00-18:00"},
			time.Friday:    {"08:00-12:00"},
		}, "Mo–Mi 08:00–12:00, 13:00–15:30 · Do 08:00–18:00 · Fr 08:00–12:00"},
		{"whole week", map[time.Weekday][]string{
			time.Monday: {"09:00-17:00"}, time.Tuesday: {"09:00-17:00"}, time.Wednesday: {"09:00-17:00"},
			time.Thursday: {"09:00-17:00"}, time.Friday: {"09:00-17:00"}, time.Saturday: {"09:00-17:00"},
			time.Sunday: {"09:00-17:00"},
		}, "Mo–So 09:00–17:00"},
		{"weekend pair", map[time.Weekday][]string{
			time.Saturday: {"10:00-14:00"}, time.Sunday: {"10:00-14:00"},
		}, "Sa–So 10:00–14:00"},
		{"same hours on days that are not consecutive", map[time.Weekday][]string{
			time.Monday: {"08:00-12:00"}, time.Wednesday: {"08:00-12:00"},
		}, "Mo 08:00–12:00 · Mi 08:00–12:00"},
		{"unsorted ranges, until midnight", map[time.Weekday][]string{
			time.Friday: {"20:00-24:00", "08:00-12:00"},
		}, "Fr 08:00–12:00, 20:00–24:00"},
		{"sunday does not wrap to monday", map[time.Weekday][]string{
			time.Sunday: {"10:00-12:00"}, time.Monday: {"10:00-12:00"},
		}, "Mo 10:00–12:00 · So 10:00–12:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := schedule(t, "Europe/Berlin", tc.weekly)
			assert.Equal(t, tc.want, s.Summary())
		})
	}
	assert.Equal(t, NoOfficeHours, Schedule{}.Summary())
}
