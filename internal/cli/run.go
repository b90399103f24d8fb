package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/bridge"
)

func runCommand(args []string, _, stderr io.Writer) int {
	fs := newFlags("run", stderr)
	path := fs.String("c", "", "path to the config file")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	cfg, problems, ok := loadConfig(*path, stderr)
	if !ok {
		return ExitInvalidConfig
	}
	if len(problems) > 0 {
		printProblems(stderr, *path, problems)
		return ExitInvalidConfig
	}
	log := newLogger(cfg.Logging, stderr)
	log.Info().Str("version", rathaus.Version).Msg("Starting rathaus")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := bridge.New(bridge.Options{Config: cfg, Log: log})
	if err == nil {
		err = b.Start(ctx)
	}
	if err != nil {
		log.Error().Err(err).Msg("Failed to start rathaus")
		return ExitFailure
	}
	<-ctx.Done()
	log.Info().Msg("Stopping rathaus")
	b.Stop()
	log.Info().Msg("Stopped")
	return ExitOK
}
