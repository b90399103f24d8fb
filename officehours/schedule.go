// Package officehours owns the arithmetic of a department's office hours
// (Sprechzeiten): weekly opening ranges in local wall-clock time with breaks
// between them, closed dates (public holidays, one-off closures), and the
// questions asked of them — is it open now, when does it open next, when
// does it close, and a one-line German summary for room topics.
//
// Everything here is pure: no I/O and no clock. The caller passes the
// instant; the schedule's time zone decides what wall-clock time and date
// that instant is. The package embeds the IANA time zone database
// (time/tzdata), so a static binary on a host without /usr/share/zoneinfo
// still knows Europe/Berlin.
//
// Daylight saving time: ranges are wall-clock times, so an instant is open
// when the clock on the wall reads a time inside a range. On the
// spring-forward night (2026-03-29 in Europe/Berlin) the clock jumps from
// 02:00 to 03:00, so a range 01:00–04:00 is open for two real hours and a
// range 02:00–02:45 not at all that night. On the autumn night (2026-10-25)
// the clock shows 02:00–03:00 twice, so a range 01:00–04:00 is open for four
// real hours and a range 02:00–02:30 opens twice.
package officehours

import (
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Berlin must load even without a system zoneinfo.
)

// MaxSearchDays bounds how far NextOpening and NextClosing look ahead.
const MaxSearchDays = 400

// Schedule is a department's office hours.
type Schedule struct {
	// Location is the time zone the ranges and dates are meant in. It is
	// required; a nil Location is read as UTC so that the zero Schedule is
	// usable (and never open).
	Location *time.Location
	// Weekly holds the opening ranges per weekday, indexed by time.Weekday
	// (Weekly[time.Monday]). The gaps between ranges are breaks. Ranges
	// should be sorted by start and must not overlap (see Overlaps); the
	// methods sort a copy when they are not.
	Weekly [7][]Range
	// Closed lists whole days on which the office stays closed whatever
	// Weekly says: public holidays, one-off closures.
	Closed []DateRange
}

func (s Schedule) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// ClosedOn reports whether d lies in one of the closed date ranges.
func (s Schedule) ClosedOn(d Date) bool {
	for _, r := range s.Closed {
		if r.Contains(d) {
			return true
		}
	}
	return false
}

// rangesOn returns the opening ranges of the given date, sorted by start, or
// nil if the date is closed.
func (s Schedule) rangesOn(d Date, wd time.Weekday) []Range {
	if s.ClosedOn(d) {
		return nil
	}
	return sortedRanges(s.Weekly[wd])
}

// sortedRanges returns day sorted by start (then end), copying only if it is
// not sorted already.
func sortedRanges(day []Range) []Range {
	if slices.IsSortedFunc(day, compareRanges) {
		return day
	}
	return slices.SortedFunc(slices.Values(day), compareRanges)
}

func compareRanges(a, b Range) int {
	if a.Start != b.Start {
		return a.Start - b.Start
	}
	return a.End - b.End
}

// IsOpen reports whether the office is open at t: the wall clock in
// Location shows a time inside one of the day's ranges (start included, end
// excluded) and the day is not a closed date. t may be in any location.
func (s Schedule) IsOpen(t time.Time) bool {
	local := t.In(s.location())
	sinceMidnight := time.Duration(local.Hour())*time.Hour +
		time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second +
		time.Duration(local.Nanosecond())
	for _, r := range s.rangesOn(DateOf(local), local.Weekday()) {
		if sinceMidnight >= minutes(r.Start) && sinceMidnight < minutes(r.End) {
			return true
		}
	}
	return false
}

// NextOpening returns t itself if the office is open at t, and otherwise the
// first instant after t at which it opens. It looks MaxSearchDays ahead and
// returns false if the office does not open within them. The result is in
// Location.
func (s Schedule) NextOpening(t time.Time) (time.Time, bool) {
	return s.next(t, true)
}

// NextClosing returns the instant at which the open period around t ends,
// and false if the office is closed at t. Ranges that touch or overlap, also
// across midnight (24:00 followed by the next day's 00:00), form one open
// period; a closed date ends it at midnight. It also returns false if the
// office stays open for longer than MaxSearchDays. The result is in
// Location.
func (s Schedule) NextClosing(t time.Time) (time.Time, bool) {
	if !s.IsOpen(t) {
		return time.Time{}, false
	}
	return s.next(t, false)
}

// next returns the first instant at or after t at which the office is open
// (wantOpen) or closed (!wantOpen).
//
// It walks the time between t and the search limit in segments of constant
// UTC offset (time.Time.ZoneBounds). Within a segment, wall-clock time is
// the instant plus a fixed offset, so the day's ranges map to instants by
// plain arithmetic. That handles both DST switches without special cases:
// the skipped hour belongs to no segment, and the repeated hour belongs to
// two, each searched in turn.
func (s Schedule) next(t time.Time, wantOpen bool) (time.Time, bool) {
	loc := s.location()
	limit := t.Add(MaxSearchDays * 24 * time.Hour)
	for cur := t; !cur.After(limit); {
		local := cur.In(loc)
		_, offsetSeconds := local.Zone()
		offset := time.Duration(offsetSeconds) * time.Second
		_, end := local.ZoneBounds()
		last := end.IsZero() || end.After(limit)
		if last {
			end = limit
		}
		// wall(x) is the wall-clock reading at instant x as a UTC time, valid
		// within this segment.
		wallCur, wallEnd := cur.UTC().Add(offset), end.UTC().Add(offset)
		for day := midnight(wallCur); day.Before(wallEnd); day = day.AddDate(0, 0, 1) {
			ranges := s.rangesOn(DateOf(day), day.Weekday())
			var found time.Time
			if wantOpen {
				found = firstOpen(day, ranges, wallCur, wallEnd)
			} else {
				found = firstClosed(day, ranges, wallCur, wallEnd)
			}
			if !found.IsZero() {
				return found.Add(-offset).In(loc), true
			}
		}
		if last || !end.After(cur) {
			break
		}
		cur = end
	}
	return time.Time{}, false
}

// firstOpen returns the earliest wall-clock time in [from, until) that lies
// in one of day's ranges, or the zero Time. ranges are sorted by start, so
// the first range that intersects the window gives the earliest time.
func firstOpen(day time.Time, ranges []Range, from, until time.Time) time.Time {
	for _, r := range ranges {
		lo := later(day.Add(minutes(r.Start)), from)
		hi := earlier(day.Add(minutes(r.End)), until)
		if lo.Before(hi) {
			return lo
		}
	}
	return time.Time{}
}

// firstClosed returns the earliest wall-clock time in [from, until) on day
// that lies in none of day's ranges, or the zero Time if the rest of the day
// within the window is open.
func firstClosed(day time.Time, ranges []Range, from, until time.Time) time.Time {
	p := later(day, from)
	for _, r := range ranges {
		if p.Before(day.Add(minutes(r.Start))) {
			break
		}
		if end := day.Add(minutes(r.End)); p.Before(end) {
			p = end
		}
	}
	if p.Before(day.Add(24*time.Hour)) && p.Before(until) {
		return p
	}
	return time.Time{}
}

func minutes(m int) time.Duration { return time.Duration(m) * time.Minute }

// midnight returns the start of t's day; t is a wall-clock time in UTC.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// weekOrder lists the weekdays as a German week runs, Monday first.
var weekOrder = [7]time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday,
	time.Friday, time.Saturday, time.Sunday,
}

// WeekdayName returns the lowercase English name of wd ("monday"), the key
// used for it in configuration files.
func WeekdayName(wd time.Weekday) string {
	return strings.ToLower(wd.String())
}

// Overlaps describes every pair of overlapping ranges, weekday by weekday
// from Monday, e.g. "monday: 08:00–12:00 overlaps 11:00–14:00". Ranges that
// only touch (08:00–12:00 and 12:00–13:00) are fine. It returns nil if
// nothing overlaps.
func (s Schedule) Overlaps() []string {
	var out []string
	for _, wd := range weekOrder {
		for _, o := range DayOverlaps(s.Weekly[wd]) {
			out = append(out, WeekdayName(wd)+": "+o)
		}
	}
	return out
}
