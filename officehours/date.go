package officehours

import (
	"fmt"
	"strings"
	"time"
)

// Date is a civil (calendar) date without a time of day or time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's own location; convert t with In first
// to get the date somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses "YYYY-MM-DD" and refuses dates that do not exist, such as
// 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%w %q: want an existing date YYYY-MM-DD, e.g. 2026-12-24", ErrInvalidDate, s)
	}
	return DateOf(t), nil
}

// String returns "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Compare returns -1 if d is before o, 0 if they are the same date, and +1
// if d is after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return sign(d.Year - o.Year)
	case d.Month != o.Month:
		return sign(int(d.Month) - int(o.Month))
	default:
		return sign(d.Day - o.Day)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// DateRange is a run of whole days from From to To, both included.
type DateRange struct{ From, To Date }

// ParseDateRange parses a single date "2026-12-24" (From == To) or an
// inclusive range "2026-12-24..2027-01-01". To must not be before From.
func ParseDateRange(s string) (DateRange, error) {
	from, to, isRange := strings.Cut(s, "..")
	first, err := ParseDate(from)
	if err != nil {
		return DateRange{}, fmt.Errorf("%w %q: want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, e.g. 2026-12-24..2027-01-01", ErrInvalidDate, s)
	}
	if !isRange {
		return DateRange{From: first, To: first}, nil
	}
	last, err := ParseDate(to)
	if err != nil {
		return DateRange{}, fmt.Errorf("%w %q: want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, e.g. 2026-12-24..2027-01-01", ErrInvalidDate, s)
	}
	if last.Compare(first) < 0 {
		return DateRange{}, fmt.Errorf("%w %q: the range ends before it starts", ErrInvalidDate, s)
	}
	return DateRange{From: first, To: last}, nil
}

// Contains reports whether d lies within r, ends included.
func (r DateRange) Contains(d Date) bool {
	return r.From.Compare(d) <= 0 && d.Compare(r.To) <= 0
}

// String returns "2026-12-24" for a single day and "2026-12-24..2027-01-01"
// otherwise, the form ParseDateRange reads.
func (r DateRange) String() string {
	if r.From == r.To {
		return r.From.String()
	}
	return r.From.String() + ".." + r.To.String()
}
