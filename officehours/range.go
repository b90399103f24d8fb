package officehours

import (
	"fmt"
	"strings"
)

// MinutesPerDay is the End of a range that runs until midnight ("24:00").
const MinutesPerDay = 24 * 60

// Range is an opening interval within one day in minutes since local
// midnight, wall-clock time: Start is included, End is not, and End > Start.
// "08:00-12:00" is Range{480, 720}; an End of MinutesPerDay means "until
// midnight".
type Range struct{ Start, End int }

// ParseRange parses "HH:MM-HH:MM" (two digits each; "–", the en dash that
// String writes, is accepted as the separator too). Hours run from 00 to 23,
// and 24:00 is allowed as the end only. The end must come after the start:
// a range cannot run past midnight; split it into two days instead.
func ParseRange(s string) (Range, error) {
	text := strings.TrimSpace(s)
	from, to, ok := strings.Cut(text, "-")
	if !ok {
		from, to, ok = strings.Cut(text, "–")
	}
	if !ok {
		return Range{}, fmt.Errorf("%w %q: want HH:MM-HH:MM, e.g. 08:00-12:00", ErrInvalidRange, s)
	}
	start, err := parseClock(strings.TrimSpace(from), false)
	if err != nil {
		return Range{}, fmt.Errorf("%w %q: start %w", ErrInvalidRange, s, err)
	}
	end, err := parseClock(strings.TrimSpace(to), true)
	if err != nil {
		return Range{}, fmt.Errorf("%w %q: end %w", ErrInvalidRange, s, err)
	}
	if end <= start {
		return Range{}, fmt.Errorf("%w %q: the end must be after the start (a range cannot run past midnight; use 24:00 and the next day's 00:00)", ErrInvalidRange, s)
	}
	return Range{Start: start, End: end}, nil
}

// parseClock parses "HH:MM" into minutes since midnight. 24:00 is accepted
// only when allow24 is set.
func parseClock(s string, allow24 bool) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("%q is not HH:MM (two digits each, e.g. 08:00)", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case m > 59:
		return 0, fmt.Errorf("%q has minute %02d; minutes run from 00 to 59", s, m)
	case h == 24 && m == 0 && allow24:
		return MinutesPerDay, nil
	case h == 24 && m == 0:
		return 0, fmt.Errorf("%q: 24:00 is allowed only as the end of a range; use 00:00", s)
	case h > 23:
		return 0, fmt.Errorf("%q has hour %02d; hours run from 00 to 23 (24:00 only as an end)", s, h)
	}
	return h*60 + m, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String returns the range as people read it, "08:00–12:00", with an en
// dash. ParseRange accepts this form too.
func (r Range) String() string {
	return clock(r.Start) + "–" + clock(r.End)
}

func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// overlaps reports whether r and o share at least one minute; ranges that
// only touch (08:00–12:00 and 12:00–13:00) do not overlap.
func (r Range) overlaps(o Range) bool {
	return r.Start < o.End && o.Start < r.End
}

// DayOverlaps describes every pair of ranges in day that share time, e.g.
// "08:00–12:00 overlaps 11:00–14:00", earlier range first, in the order of
// the ranges' starts. Ranges that only touch are fine. It returns nil if
// nothing overlaps.
func DayOverlaps(day []Range) []string {
	sorted := sortedRanges(day)
	var out []string
	for i, a := range sorted {
		for _, b := range sorted[i+1:] {
			if a.overlaps(b) {
				out = append(out, a.String()+" overlaps "+b.String())
			}
		}
	}
	return out
}
