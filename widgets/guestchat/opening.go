package guestchat

import (
	"fmt"
	"time"
)

// The server-rendered index names when a closed department opens again.
// The chat page does the same in its scripts (i18n.js); this is the
// server's own wording, in the department's time zone (the zone next is
// in), so "9:00 Uhr" is the office's wall clock whatever the server's zone.

var (
	germanWeekdays = [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
	germanMonths   = [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
		"Oktober", "November", "Dezember"}
)

// openingText says when next is, seen at now, for "we open again …":
// "heute um 9:00 Uhr", "morgen um 13:30 Uhr", "am Montag, 30. November um
// 9:00 Uhr" (with the year if it is not this year's); in English "today at
// 9:00", "tomorrow at 13:30", "on Monday, 30 November at 9:00". lang is
// "de" or "en".
func openingText(lang string, next, now time.Time) string {
	now = now.In(next.Location())
	clock := fmt.Sprintf("%d:%02d", next.Hour(), next.Minute())
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	day := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, next.Location())
	year := ""
	if next.Year() != now.Year() {
		year = fmt.Sprintf(" %d", next.Year())
	}
	en := lang == "en"
	switch {
	case day.Equal(today) && en:
		return "today at " + clock
	case day.Equal(today):
		return "heute um " + clock + " Uhr"
	case day.Equal(today.AddDate(0, 0, 1)) && en:
		return "tomorrow at " + clock
	case day.Equal(today.AddDate(0, 0, 1)):
		return "morgen um " + clock + " Uhr"
	case en:
		return fmt.Sprintf("on %s, %d %s%s at %s", next.Weekday(), next.Day(), next.Month(), year, clock)
	default:
		return fmt.Sprintf("am %s, %d. %s%s um %s Uhr", germanWeekdays[next.Weekday()], next.Day(),
			germanMonths[next.Month()-1], year, clock)
	}
}
