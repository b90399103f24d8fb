package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
)

func runCommand(args []string, _, stderr io.Writer) int {
	fs := newFlags("run", stderr)
	path := fs.String("c", "", "path to the config file")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	cfg, code := loadValidConfig(*path, stderr)
	if code != ExitOK {
		return code
	}
	log := newLogger(cfg.Logging, stderr)
	log.Info().Str("version", rathaus.Version).Msg("Starting rathaus")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	loadConfig := func() (*config.Config, error) {
		next, problems, ok := loadConfig(*path, io.Discard)
		if !ok {
			return nil, fmt.Errorf("cannot load %s", *path)
		} else if len(problems) > 0 {
			return nil, problems
		}
		return next, nil
	}
	b, err := app.New(app.Options{Config: cfg, Log: log, LoadConfig: loadConfig})
	if err == nil {
		err = b.Start(ctx)
	}
	if err != nil {
		log.Error().Err(err).Msg("Failed to start rathaus")
		return ExitFailure
	}
	go reloadOnHangup(ctx, b, log)
	select {
	case <-ctx.Done():
	case err = <-b.Failed():
		log.Error().Err(err).Msg("rathaus cannot go on")
		code = ExitFailure
	}
	log.Info().Msg("Stopping rathaus")
	b.Stop()
	log.Info().Msg("Stopped")
	return code
}

// reloadOnHangup reloads the config and reconciles the rooms on SIGHUP.
func reloadOnHangup(ctx context.Context, b *app.App, log zerolog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		log.Info().Msg("Reloading the config (SIGHUP)")
		report, err := b.Reload(log.WithContext(ctx))
		if err != nil {
			log.Error().Err(err).Msg("Reload failed; the running config stays active")
			continue
		}
		log.Info().Int("changes", report.Changes()).Int("failures", len(report.Failures)).Msg("Reload done")
	}
}
