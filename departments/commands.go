package departments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/store"
)

// Commands are the departments' bot commands.
func (s *Service) Commands() []bot.Command {
	return []bot.Command{
		{Names: []string{"departments", "abteilungen"}, Permission: bot.Anyone,
			Help: "Abteilungen: geöffnet?, wer ist verfügbar / departments: open?, who is available",
			Run:  func(ctx context.Context, _ *bot.Request) string { return s.departmentsAnswer(ctx, time.Now()) }},
		{Names: []string{"status"}, Permission: bot.Staff, Args: "[verfügbar|beschäftigt|abwesend|offline]",
			Help: "eigener Status / your status",
			Run:  func(ctx context.Context, req *bot.Request) string { return s.statusCommand(ctx, req.Sender, req.Args) }},
		{Names: []string{"sync"}, Permission: bot.Admin,
			Help: "Räume mit der Konfiguration abgleichen / converge rooms to the config",
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
		return "Dein Status / your status: " + statusNames[current] + "\n" + statusUsage
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
		answer += ". Außerhalb der Sprechzeiten zählst du nicht als verfügbar. / Outside office hours you do not count as available."
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
		return "Abgleich fehlgeschlagen, die laufende Konfiguration bleibt aktiv / sync failed, the running config stays active:\n" + err.Error()
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
		var line string
		switch {
		case a.Open:
			line = fmt.Sprintf("• %s: geöffnet, %d von %d verfügbar / open, %d of %d available", a.Name, a.Available, a.Staff, a.Available, a.Staff)
		case a.NextOpening.IsZero():
			line = fmt.Sprintf("• %s: geschlossen, keine Sprechzeiten / closed, no office hours", a.Name)
		default:
			line = fmt.Sprintf("• %s: geschlossen, öffnet %s / closed, opens %s", a.Name,
				formatOpening(a.NextOpening), a.NextOpening.Format("Mon 2 Jan 15:04"))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

var germanWeekdays = [7]string{"So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"}

// formatOpening prints a time in the department's zone, German style.
func formatOpening(t time.Time) string {
	return fmt.Sprintf("%s %s", germanWeekdays[t.Weekday()], t.Format("02.01. 15:04"))
}
