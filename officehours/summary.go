package officehours

import (
	"slices"
	"strings"
)

// germanDayAbbrev is indexed by time.Weekday.
var germanDayAbbrev = [7]string{"So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"}

// NoOfficeHours is what Summary says when there are no opening ranges.
const NoOfficeHours = "keine Sprechzeiten"

// Summary returns the weekly hours as one German line for a room topic, e.g.
// "Mo–Mi 08:00–12:00, 13:00–15:30 · Do 08:00–18:00 · Fr 08:00–12:00".
// Consecutive days (Monday to Sunday) with the same ranges are grouped,
// days without ranges are left out, and closed dates are not mentioned.
// With no ranges at all it returns NoOfficeHours.
func (s Schedule) Summary() string {
	var groups []string
	for i := 0; i < len(weekOrder); {
		day := sortedRanges(s.Weekly[weekOrder[i]])
		j := i + 1
		for j < len(weekOrder) && slices.Equal(day, sortedRanges(s.Weekly[weekOrder[j]])) {
			j++
		}
		if len(day) > 0 {
			days := germanDayAbbrev[weekOrder[i]]
			if j-i > 1 {
				days += "–" + germanDayAbbrev[weekOrder[j-1]]
			}
			hours := make([]string, len(day))
			for k, r := range day {
				hours[k] = r.String()
			}
			groups = append(groups, days+" "+strings.Join(hours, ", "))
		}
		i = j
	}
	if len(groups) == 0 {
		return NoOfficeHours
	}
	return strings.Join(groups, " · ")
}
