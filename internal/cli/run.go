package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/bridge"
	"github.com/rathaus-de/rathaus/config"
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

// newLogger builds the process logger from the logging config.
func newLogger(cfg config.LoggingConfig, w io.Writer) zerolog.Logger {
	if cfg.Format == config.LogFormatConsole {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.DateTime, NoColor: !isTerminal(w)}
	}
	return zerolog.New(w).Level(cfg.Level.Zerolog()).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
