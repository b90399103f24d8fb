package departments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/store"
)

// Commands are the departments' bot commands.
func (s *Service) Commands() []bot.Command {
	return []bot.Command{
		{Names: []string{"departments", "abteilungen"}, Permission: bot.Anyone,
			Help: "zeigt die Abteilungen: geöffnet oder geschlossen, wer verfügbar ist / shows the departments: open or closed, who is available",
			Run:  func(ctx context.Context, _ *bot.Request) string { return s.departmentsAnswer(ctx, time.Now()) }},
		{Names: []string{"status"}, Permission: bot.Staff, Args: "[verfügbar|beschäftigt|abwesend|offline]",
			Help: "zeigt oder setzt Ihren Status / shows or sets your status",
			Run:  func(ctx context.Context, req *bot.Request) string { return s.statusCommand(ctx, req.Sender, req.Args) }},
		{Names: []string{"sync"}, Permission: bot.Admin,
			Help: "gleicht die Räume mit der Konfiguration ab / converges the rooms to the configuration",
			Run:  func(ctx context.Context, _ *bot.Request) string { return s.syncCommand(ctx) }},
	}
}

// statusWords maps what staff may type (German first) to a status.
var statusWords = map[string]store.StaffStatus{
	"verfügbar": store.StatusAvailable, "verfuegbar": store.StatusAvailable, "available": store.StatusAvailable,
	"beschäftigt": store.StatusBusy, "beschaeftigt": store.StatusBusy, "busy": store.StatusBusy,
	"abwesend": store.StatusAway, "away": store.StatusAway,
	"offline": store.StatusOffline,
}

var statusNames = map[store.StaffStatus]string{
	store.StatusAvailable: "verfügbar / available",
	store.StatusBusy:      "beschäftigt / busy",
	store.StatusAway:      "abwesend / away",
	store.StatusOffline:   "offline",
}

const statusUsage = "Aufruf / usage: " + bot.Prefix + " status <verfügbar|beschäftigt|abwesend|offline>"

// statusCommand shows or sets the sender's staff status.
func (s *Service) statusCommand(ctx context.Context, sender id.UserID, args []string) string {
	if len(args) == 0 {
		statuses, err := s.opts.Store.StaffStatuses(ctx)
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to read staff status")
			return "Der Status konnte nicht gelesen werden. / Could not read the status."
		}
		current := statuses[sender]
		if current == "" {
			current = store.StatusOffline
		}
		return "Ihr Status / your status: " + statusNames[current] + "\n" + statusUsage
	}
	status, ok := statusWords[strings.ToLower(args[0])]
	if !ok || len(args) > 1 {
		return statusUsage
	}
	if err := s.opts.Store.SetStaffStatus(ctx, sender, status); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to store staff status")
		return "Der Status konnte nicht gespeichert werden. / Could not store the status."
	}
	answer := "Status gesetzt / status set: " + statusNames[status]
	if status == store.StatusAvailable {
		answer += "\nAußerhalb der Sprechzeiten gelten Sie nicht als verfügbar. / Outside office hours you do not count as available."
	}
	return answer
}

// syncCommand reloads the config and converges the rooms.
func (s *Service) syncCommand(ctx context.Context) string {
	reload := s.opts.Reload
	if reload == nil {
		reload = s.Reconcile
	}
	report, err := reload(ctx)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Sync failed")
		return "Der Abgleich ist fehlgeschlagen. Die laufende Konfiguration bleibt aktiv. / Sync failed; the running configuration stays active.\n" + err.Error()
	}
	return "Abgleich abgeschlossen / sync done: " + report.String()
}

// departmentsAnswer lists every department with its availability.
func (s *Service) departmentsAnswer(ctx context.Context, now time.Time) string {
	all, err := s.Availabilities(ctx, now)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to compute availability")
		return "Die Verfügbarkeit konnte nicht ermittelt werden. / Could not determine availability."
	}
	if len(all) == 0 {
		return "Es sind keine Abteilungen konfiguriert. / No departments are configured."
	}
	lines := []string{"Abteilungen / departments:"}
	for _, a := range all {
		var sched officehours.Schedule
		if d := s.config().Department(a.Department); d != nil {
			sched = d.Schedule
		}
		lines = append(lines, availabilityLine(a, sched, now))
	}
	return strings.Join(lines, "\n")
}

// availabilityLine is a department's line in the departments answer; the
// next opening is said in the schedule's zone.
func availabilityLine(a Availability, sched officehours.Schedule, now time.Time) string {
	switch {
	case a.Open:
		return fmt.Sprintf("• %s: geöffnet, %d von %d verfügbar / open, %d of %d available", a.Name, a.Available, a.Staff, a.Available, a.Staff)
	case a.NextOpening.IsZero():
		return fmt.Sprintf("• %s: geschlossen, keine Sprechzeiten / closed, no office hours", a.Name)
	}
	de, en := sched.When(a.NextOpening, now)
	return fmt.Sprintf("• %s: geschlossen, öffnet %s / closed, opens %s", a.Name, de, en)
}
