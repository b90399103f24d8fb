package officehours

import (
	"go/parser"
	"go/token"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// at parses an RFC 3339 instant; tests write instants with an explicit
// offset or "Z" so that the expected UTC instant is visible.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

func schedule(t *testing.T, loc string, weekly map[time.Weekday][]string, closed ...string) Schedule {
	t.Helper()
	s := Schedule{Location: zone(t, loc)}
	for wd, ranges := range weekly {
		s.Weekly[wd] = mustRanges(t, ranges...)
	}
	for _, c := range closed {
		r, err := ParseDateRange(c)
		require.NoError(t, err)
		s.Closed = append(s.Closed, r)
	}
	return s
}

// berlinOffice is a typical town hall: a lunch break Monday to Friday except
// Thursday, a long Thursday, Christmas and New Year closed.
func berlinOffice(t *testing.T) Schedule {
	t.Helper()
	return schedule(t, "Europe/Berlin", map[time.Weekday][]string{
		time.Monday:    {"08:00-12:00", "13:00-16:00"},
		time.Tuesday:   {"08:00-12:00", "13:00-16:00"},
		time.Wednesday: {"08:00-12:00", "13:00-16:00"},
		time.Thursday:  {"08:00-18:00"},
		time.Friday:    {"08:00-12:00"},
	}, "2026-12-24..2026-12-26", "2026-12-31..2027-01-01")
}

func TestIsOpen(t *testing.T) {
	berlin := berlinOffice(t)
	// Sunday 01:00–04:00 spans the hour that is skipped in spring and
	// repeated in autumn.
	night := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"01:00-04:00"}})
	newYork := schedule(t, "America/New_York", map[time.Weekday][]string{
		time.Monday: {"09:00-17:00"}, time.Friday: {"09:00-17:00"},
	})
	tokyo := schedule(t, "Asia/Tokyo", map[time.Weekday][]string{time.Monday: {"09:00-17:00"}})
	late := schedule(t, "Europe/Berlin", map[time.Weekday][]string{
		time.Friday: {"20:00-24:00"}, time.Saturday: {"00:00-02:00"},
	})

	tests := []struct {
		name string
		s    Schedule
		at   string
		want bool
	}{
		{"morning", berlin, "2026-06-15T10:00:00+02:00", true},
		{"before opening", berlin, "2026-06-15T07:59:59+02:00", false},
		{"opening minute", berlin, "2026-06-15T08:00:00+02:00", true},
		{"last nanosecond before the break", berlin, "2026-06-15T11:59:59.999999999+02:00", true},
		{"break starts: end is exclusive", berlin, "2026-06-15T12:00:00+02:00", false},
		{"in the break", berlin, "2026-06-15T12:30:00+02:00", false},
		{"after the break", berlin, "2026-06-15T13:00:00+02:00", true},
		{"closing time", berlin, "2026-06-15T16:00:00+02:00", false},
		{"long thursday", berlin, "2026-06-18T17:30:00+02:00", true},
		{"saturday", berlin, "2026-06-20T10:00:00+02:00", false},
		{"summer instant in UTC", berlin, "2026-06-15T06:00:00Z", true},
		{"summer instant in UTC, one minute early", berlin, "2026-06-15T05:59:00Z", false},
		{"winter instant in UTC", berlin, "2027-01-11T07:00:00Z", true},
		{"winter instant in UTC, summer offset would be wrong", berlin, "2027-01-11T06:30:00Z", false},
		{"holiday thursday", berlin, "2026-12-24T10:00:00+01:00", false},
		{"holiday range middle", berlin, "2026-12-25T10:00:00+01:00", false},
		{"day before holidays", berlin, "2026-12-23T10:00:00+01:00", true},
		{"between the holidays", berlin, "2026-12-30T10:00:00+01:00", true},
		{"new year's eve", berlin, "2026-12-31T10:00:00+01:00", false},
		{"new year's day, across the year boundary", berlin, "2027-01-01T10:00:00+01:00", false},
		{"first day after the closure", berlin, "2027-01-04T10:00:00+01:00", true},

		{"spring: 01:30 CET", night, "2026-03-29T00:30:00Z", true},
		{"spring: 03:00 CEST right after the jump", night, "2026-03-29T01:00:00Z", true},
		{"spring: 03:59 CEST", night, "2026-03-29T01:59:00Z", true},
		{"spring: 04:00 CEST closes", night, "2026-03-29T02:00:00Z", false},
		{"autumn: 01:00 CEST opens", night, "2026-10-24T23:00:00Z", true},
		{"autumn: first 02:30 (CEST)", night, "2026-10-25T00:30:00Z", true},
		{"autumn: second 02:30 (CET)", night, "2026-10-25T01:30:00Z", true},
		{"autumn: 03:59 CET", night, "2026-10-25T02:59:00Z", true},
		{"autumn: 04:00 CET closes", night, "2026-10-25T03:00:00Z", false},

		{"new york EDT 09:00 given in UTC", newYork, "2026-03-09T13:00:00Z", true},
		{"new york EST 08:00 given in UTC", newYork, "2026-03-06T13:00:00Z", false},
		{"new york EST 09:00 given in UTC", newYork, "2026-03-06T14:00:00Z", true},
		{"tokyo monday morning is sunday in UTC", tokyo, "2026-06-15T00:30:00Z", true},
		{"tokyo 17:30 is monday morning in UTC", tokyo, "2026-06-15T08:30:00Z", false},
		{"tokyo, instant given in berlin time", tokyo, "2026-06-15T02:30:00+02:00", true},

		{"until 24:00: last nanosecond", late, "2026-06-19T23:59:59.999999999+02:00", true},
		{"until 24:00: midnight belongs to the next day", late, "2026-06-20T00:00:00+02:00", true},
		{"until 24:00: after", late, "2026-06-20T02:00:00+02:00", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.s.IsOpen(at(t, tc.at)))
		})
	}
}

func TestNextOpening(t *testing.T) {
	berlin := berlinOffice(t)
	night := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"01:00-04:00"}})
	// 02:00–02:45 does not exist on the spring night and exists twice on
	// the autumn night; 02:00–02:30 likewise.
	gap := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"02:00-02:45"}})
	repeat := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"02:00-02:30"}})
	newYork := schedule(t, "America/New_York", map[time.Weekday][]string{
		time.Monday: {"09:00-17:00"}, time.Friday: {"09:00-17:00"},
	})
	tokyo := schedule(t, "Asia/Tokyo", map[time.Weekday][]string{time.Monday: {"09:00-17:00"}})

	tests := []struct {
		name string
		s    Schedule
		from string
		want string // "" means never
	}{
		{"open now: t itself", berlin, "2026-06-15T10:11:12.5+02:00", "2026-06-15T10:11:12.5+02:00"},
		{"in the break", berlin, "2026-06-15T12:30:00+02:00", "2026-06-15T13:00:00+02:00"},
		{"at the start of the break", berlin, "2026-06-15T12:00:00+02:00", "2026-06-15T13:00:00+02:00"},
		{"early morning", berlin, "2026-06-15T03:00:00+02:00", "2026-06-15T08:00:00+02:00"},
		{"friday afternoon to monday", berlin, "2026-06-19T12:00:00+02:00", "2026-06-22T08:00:00+02:00"},
		{"skips christmas", berlin, "2026-12-23T17:00:00+01:00", "2026-12-28T08:00:00+01:00"},
		{"skips new year across the year boundary", berlin, "2026-12-30T17:00:00+01:00", "2027-01-04T08:00:00+01:00"},
		{"from inside a closed day", berlin, "2026-12-24T09:00:00+01:00", "2026-12-28T08:00:00+01:00"},
		{"saturday evening across spring forward", berlin, "2026-03-28T20:00:00+01:00", "2026-03-30T06:00:00Z"},
		{"saturday evening across fall back", berlin, "2026-10-24T20:00:00+02:00", "2026-10-26T07:00:00Z"},
		{"spring night opens at 01:00 CET", night, "2026-03-28T23:00:00Z", "2026-03-29T00:00:00Z"},
		{"autumn night opens at 01:00 CEST", night, "2026-10-24T20:00:00Z", "2026-10-24T23:00:00Z"},
		{"range inside the skipped hour: next sunday", gap, "2026-03-28T12:00:00Z", "2026-04-05T00:00:00Z"},
		{"range in the repeated hour: first time", repeat, "2026-10-24T12:00:00Z", "2026-10-25T00:00:00Z"},
		{"range in the repeated hour: opens again", repeat, "2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z"},
		{"range in the repeated hour: then next sunday", repeat, "2026-10-25T01:30:00Z", "2026-11-01T01:00:00Z"},
		{"new york friday to monday across US DST, in UTC", newYork, "2026-03-06T22:00:00Z", "2026-03-09T13:00:00Z"},
		{"new york across the November switch", newYork, "2026-10-30T22:00:00Z", "2026-11-02T14:00:00Z"},
		{"tokyo: sunday UTC is already monday", tokyo, "2026-06-14T20:00:00Z", "2026-06-15T00:00:00Z"},
		{"tokyo: a week later", tokyo, "2026-06-15T08:00:00Z", "2026-06-22T00:00:00Z"},
		{"no hours at all", Schedule{Location: zone(t, "Europe/Berlin")}, "2026-06-15T10:00:00Z", ""},
		{"zero schedule", Schedule{}, "2026-06-15T10:00:00Z", ""},
		{"closed for longer than the search", schedule(t, "Europe/Berlin",
			map[time.Weekday][]string{time.Monday: {"08:00-12:00"}}, "2026-01-01..2028-12-31"),
			"2026-06-15T10:00:00Z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.s.NextOpening(at(t, tc.from))
			if tc.want == "" {
				assert.False(t, ok, "got %v", got)
				return
			}
			require.True(t, ok)
			want := at(t, tc.want)
			assert.True(t, want.Equal(got), "want %v (%v), got %v (%v)", want, want.UTC(), got, got.UTC())
			if tc.s.Location != nil {
				assert.Equal(t, tc.s.Location, got.Location(), "result is in the schedule's zone")
			}
			assert.True(t, tc.s.IsOpen(got), "open at the opening")
			assert.False(t, !got.Equal(at(t, tc.from)) && tc.s.IsOpen(got.Add(-time.Nanosecond)),
				"closed just before a later opening")
		})
	}
}

func TestNextClosing(t *testing.T) {
	berlin := berlinOffice(t)
	night := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"01:00-04:00"}})
	repeat := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Sunday: {"02:00-02:30"}})
	adjacent := schedule(t, "Europe/Berlin", map[time.Weekday][]string{time.Monday: {"08:00-12:00", "12:00-13:00"}})
	late := schedule(t, "Europe/Berlin", map[time.Weekday][]string{
		time.Friday: {"20:00-24:00"}, time.Saturday: {"00:00-02:00"},
	})
	lateHoliday := late
	lateHoliday.Closed = []DateRange{{Date{2026, time.June, 20}, Date{2026, time.June, 20}}}
	always := Schedule{Location: zone(t, "Asia/Tokyo")}
	for wd := range always.Weekly {
		always.Weekly[wd] = []Range{{0, MinutesPerDay}}
	}
	tokyo := schedule(t, "Asia/Tokyo", map[time.Weekday][]string{time.Monday: {"09:00-17:00"}})

	tests := []struct {
		name string
		s    Schedule
		from string
		want string // "" means false
	}{
		{"morning closes for lunch", berlin, "2026-06-15T10:00:00+02:00", "2026-06-15T12:00:00+02:00"},
		{"afternoon", berlin, "2026-06-15T13:00:00+02:00", "2026-06-15T16:00:00+02:00"},
		{"in the break: closed now", berlin, "2026-06-15T12:30:00+02:00", ""},
		{"at closing time: closed now", berlin, "2026-06-15T16:00:00+02:00", ""},
		{"on a holiday: closed now", berlin, "2026-12-24T10:00:00+01:00", ""},
		{"before the holidays", berlin, "2026-12-23T15:00:00+01:00", "2026-12-23T16:00:00+01:00"},
		{"instant in UTC", berlin, "2026-06-18T06:00:00Z", "2026-06-18T16:00:00Z"},
		{"adjacent ranges are one period", adjacent, "2026-06-15T09:00:00+02:00", "2026-06-15T13:00:00+02:00"},
		{"24:00 runs into the next day", late, "2026-06-19T21:00:00+02:00", "2026-06-20T02:00:00+02:00"},
		{"a closed next day ends at midnight", lateHoliday, "2026-06-19T21:00:00+02:00", "2026-06-20T00:00:00+02:00"},
		{"spring night: two real hours", night, "2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z"},
		{"autumn night: four real hours", night, "2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"},
		{"repeated hour, first pass", repeat, "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"},
		{"repeated hour, second pass", repeat, "2026-10-25T01:10:00Z", "2026-10-25T01:30:00Z"},
		{"tokyo, instant in UTC", tokyo, "2026-06-15T00:00:00Z", "2026-06-15T08:00:00Z"},
		{"never closes", always, "2026-06-15T00:00:00Z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.s.NextClosing(at(t, tc.from))
			if tc.want == "" {
				assert.False(t, ok, "got %v", got)
				return
			}
			require.True(t, ok)
			want := at(t, tc.want)
			assert.True(t, want.Equal(got), "want %v (%v), got %v (%v)", want, want.UTC(), got, got.UTC())
			assert.False(t, tc.s.IsOpen(got), "closed at the closing")
			assert.True(t, tc.s.IsOpen(got.Add(-time.Nanosecond)), "open just before")
		})
	}
}

func TestScheduleOverlaps(t *testing.T) {
	s := schedule(t, "Europe/Berlin", map[time.Weekday][]string{
		time.Sunday:  {"10:00-12:00", "11:00-13:00"},
		time.Monday:  {"08:00-12:00", "11:00-14:00"},
		time.Tuesday: {"08:00-12:00", "12:00-13:00"},
	})
	assert.Equal(t, []string{
		"monday: 08:00–12:00 overlaps 11:00–14:00",
		"sunday: 10:00–12:00 overlaps 11:00–13:00",
	}, s.Overlaps())
	assert.Nil(t, berlinOffice(t).Overlaps())
}

// A static binary may run where /usr/share/zoneinfo is missing, so the
// package must embed the zone database. LoadLocation would still find the
// host's files in a test, so check the import itself.
func TestZoneDatabaseIsEmbedded(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "schedule.go", nil, parser.ImportsOnly)
	require.NoError(t, err)
	var imports []string
	for _, imp := range f.Imports {
		imports = append(imports, imp.Path.Value)
	}
	assert.Contains(t, imports, `"time/tzdata"`)
}
