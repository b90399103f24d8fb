package app

import (
	"context"
	"reflect"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
)

// Reload reads the config again (if rathaus was given a loader), makes it
// the running config and reconciles the rooms with it. An invalid config
// is refused and the running one kept. Sections that are only read at
// start (listeners, tokens, database, logging, metrics, the guest chat's
// listener and limits, the widgets) keep their start values until a restart; a change
// to them is reported, not applied.
func (a *App) Reload(ctx context.Context) (departments.Report, error) {
	if a.opts.LoadConfig != nil {
		next, err := a.opts.LoadConfig()
		if err != nil {
			return departments.Report{}, err
		}
		if restartOnly := restartOnlyChanges(a.start, next); len(restartOnly) > 0 {
			zerolog.Ctx(ctx).Warn().Strs("sections", restartOnly).
				Msg("Config sections changed that only take effect after a restart")
		}
		keepStartOnly(a.start, next)
		a.current.Store(next)
	}
	return a.departments.Reconcile(ctx)
}

// startOnly are the config sections read only at start.
func startOnly(c *config.Config) map[string]any {
	return map[string]any{
		"homeserver": c.Homeserver,
		"appservice": c.AppService,
		"database":   c.Database,
		"logging":    c.Logging,
		"metrics":    c.Metrics,
		"guest_chat": c.GuestChat,
		"widgets":    c.Widgets,
	}
}

// restartOnlyChanges lists the config sections that differ but are only
// read at start.
func restartOnlyChanges(old, next *config.Config) []string {
	var out []string
	nextSections := startOnly(next)
	for name, section := range startOnly(old) {
		if !reflect.DeepEqual(section, nextSections[name]) {
			out = append(out, name)
		}
	}
	return out
}

// keepStartOnly copies the sections read only at start from the start
// config into next, so that everything reading the running config sees
// what rathaus actually runs with.
func keepStartOnly(start, next *config.Config) {
	next.Homeserver = start.Homeserver
	next.AppService = start.AppService
	next.Database = start.Database
	next.Logging = start.Logging
	next.Metrics = start.Metrics
	next.GuestChat = start.GuestChat
	next.Widgets = start.Widgets
}
