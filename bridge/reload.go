package bridge

import (
	"context"
	"reflect"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
)

// Reload reads the config again (if rathaus was given a loader) and
// reconciles the rooms with it. An invalid config is refused and the
// running one kept. Sections that need a restart are reported, not applied.
func (b *Bridge) Reload(ctx context.Context) (ReconcileReport, error) {
	if b.loadConfig != nil {
		cfg, err := b.loadConfig()
		if err != nil {
			return ReconcileReport{}, err
		}
		if restartOnly := restartOnlyChanges(b.cfg, cfg); len(restartOnly) > 0 {
			zerolog.Ctx(ctx).Warn().Strs("sections", restartOnly).
				Msg("Config sections changed that only take effect after a restart")
		}
		b.current.Store(cfg)
	}
	return b.Reconcile(ctx)
}

// restartOnlyChanges lists the config sections that differ but are only
// read at start.
func restartOnlyChanges(old, next *config.Config) []string {
	var out []string
	for name, pair := range map[string][2]any{
		"homeserver": {old.Homeserver, next.Homeserver},
		"appservice": {old.AppService, next.AppService},
		"database":   {old.Database, next.Database},
		"logging":    {old.Logging, next.Logging},
		"metrics":    {old.Metrics, next.Metrics},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			out = append(out, name)
		}
	}
	return out
}
