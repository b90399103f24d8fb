package officehours

import (
	"fmt"
	"time"
)

// When says an instant the way staff read it in a chat line, in the
// schedule's time zone, German and English: "heute, 9:00 Uhr" / "today
// 9:00", "morgen, …" / "tomorrow …", "gestern, …" / "yesterday …", and
// otherwise the weekday and date, "Mo 1.12., 9:00 Uhr" / "Mon 1 Dec 9:00".
// now decides which day is today.
func (s Schedule) When(t, now time.Time) (de, en string) {
	loc := s.location()
	t, now = t.In(loc), now.In(loc)
	clockDE := fmt.Sprintf("%d:%02d Uhr", t.Hour(), t.Minute())
	clockEN := fmt.Sprintf("%d:%02d", t.Hour(), t.Minute())
	today := DateOf(now)
	switch DateOf(t) {
	case today:
		return "heute, " + clockDE, "today " + clockEN
	case DateOf(time.Date(today.Year, today.Month, today.Day+1, 12, 0, 0, 0, loc)):
		return "morgen, " + clockDE, "tomorrow " + clockEN
	case DateOf(time.Date(today.Year, today.Month, today.Day-1, 12, 0, 0, 0, loc)):
		return "gestern, " + clockDE, "yesterday " + clockEN
	}
	return fmt.Sprintf("%s %d.%d., %s", germanDayAbbrev[t.Weekday()], t.Day(), int(t.Month()), clockDE),
		fmt.Sprintf("%s %d %s %s", t.Format("Mon"), t.Day(), t.Format("Jan"), clockEN)
}
