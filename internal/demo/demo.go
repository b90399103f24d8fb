package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

// Exit codes of Main.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

const (
	startTimeout     = 2 * time.Minute
	rathausStopGrace = 15 * time.Second
	dendriteStopWait = 15 * time.Second
	// logTailLines is how much of a dead child's log the demo prints.
	logTailLines = 40
)

// Main runs the demo until a signal or a failure and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "rathaus-demo: %v\n", err)
		return ExitUsage
	}
	// Ctrl-C reaches make and the demo; the children run in process groups
	// of their own, so the demo alone decides the order of shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	code := ExitOK
	if err := Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "rathaus-demo: %v\n", err)
		code = ExitFailure
	}
	fmt.Fprintf(stdout, "DEMO STOPPED exit=%d\n", code)
	return code
}

// Run starts Dendrite and rathaus, announces them and supervises them until
// ctx ends (nil: a requested stop that went cleanly, also during the start)
// or a child dies (ErrChildExited). Both children are stopped before it
// returns, rathaus first, so that it never sees its homeserver vanish.
func Run(ctx context.Context, opts Options) (err error) {
	if err := opts.validate(); err != nil {
		return err
	}
	out := newConsole(opts.Stdout)
	l, err := newLayout(opts.Dir)
	if err != nil {
		return err
	}
	// The children run in the state directory: relative paths would break.
	for _, bin := range []struct {
		what string
		path *string
		hint string
	}{
		{"rathaus", &opts.RathausBin, "build it with `make build` or pass -rathaus"},
		{"Dendrite", &opts.DendriteBin, "build it with `make dendrite` or pass -dendrite"},
		{"LiveKit", &opts.LiveKitBin, "build it with `make livekit` or leave out -livekit"},
	} {
		if *bin.path == "" && bin.what == "LiveKit" {
			continue
		}
		abs, err := filepath.Abs(*bin.path)
		if err == nil {
			err = devhs.CheckExecutable(abs)
		}
		if err != nil {
			return fmt.Errorf("no %s binary: %w; %s", bin.what, err, bin.hint)
		}
		*bin.path = abs
	}
	if opts.Fresh {
		backup, err := l.moveAside(time.Now())
		if err != nil {
			return err
		}
		if backup != "" {
			out.Printf("Moved the previous demo directory to %s; starting a new demo.\n", out.Path(backup))
		}
	}
	unlock, err := l.lockDir()
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkPortsFree(opts, exists(l.config)); err != nil {
		return err
	}

	var kids children
	defer func() {
		if stopErr := kids.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("failed to stop cleanly: %w", stopErr)
		}
	}()
	// A signal during the start makes the current step fail; that is a
	// requested stop, not an error.
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			out.Printf("Interrupted while starting.\n")
			return nil
		}
		return err
	}

	cfg, err := prepareConfig(ctx, opts, l, out)
	if err != nil {
		return interrupted(err)
	}
	if err := writePrivacyPage(cfg, l); err != nil {
		return err
	}
	accounts, err := demoAccounts(cfg, l)
	if err != nil {
		return err
	}
	if foreign := foreignStaff(cfg); len(foreign) > 0 {
		out.Printf("Note: %s lists staff of other servers (%s); the demo homeserver cannot invite them.\n",
			out.Path(l.config), joinUsers(foreign))
	}

	out.Printf("Starting Dendrite %s (log: %s)…\n", opts.ServerName(), out.Path(filepath.Join(l.dendriteDir, "logs", "console.log")))
	kids.dendrite, err = devhs.Start(ctx, devhs.Options{
		Binary:          opts.DendriteBin,
		Dir:             l.dendriteDir,
		ClientAddr:      "127.0.0.1:" + strconv.Itoa(opts.HSPort),
		FederationAddr:  "127.0.0.1:" + strconv.Itoa(opts.FedPort),
		ServerName:      opts.ServerName(),
		AppserviceFiles: []string{l.registration},
		ReadyTimeout:    startTimeout,
		StopTimeout:     dendriteStopWait,
	})
	if errors.Is(err, devhs.ErrServerNameChanged) {
		return fmt.Errorf("%w: %w. Either set %s as on the first run; or start a new demo and keep this one as a backup: %s=1 (or -fresh) moves %s to %s.old-<time>; or move it aside yourself: mv %s %s.old",
			ErrConfigMismatch, err, EnvFedPort, EnvFresh, l.dir, l.dir, l.dir, l.dir)
	}
	if err != nil {
		return interrupted(err)
	}
	// rathaus invites the staff as it starts: their accounts come first.
	if err := ensureAccounts(ctx, kids.dendrite, accounts, l); err != nil {
		return interrupted(err)
	}

	// Each run gets a fresh log, so a failure shows this run's lines; the
	// previous run's log is kept beside it.
	if err := os.Rename(l.rathausLog, l.rathausLog+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to keep the previous rathaus log: %w", err)
	}
	rathausConfig := l.config
	if opts.LiveKitBin != "" {
		out.Printf("Starting LiveKit (log: %s)…\n", out.Path(filepath.Join(l.dir, "livekit.log")))
		if kids.livekit, err = startLiveKit(ctx, opts, l); err != nil {
			return interrupted(err)
		}
		if rathausConfig, err = writeLiveKitConfig(l, kids.livekit.URL); err != nil {
			return err
		}
		out.Printf("Calls run on LiveKit at %s; rathaus runs with %s.\n", kids.livekit.WSURL, out.Path(rathausConfig))
	}
	out.Printf("Starting rathaus (log: %s)…\n", out.Path(l.rathausLog))
	var echo io.Writer
	if !opts.Quiet {
		echo = out.Prefixed("rathaus | ")
	}
	kids.rathaus, err = devhs.StartProcess(devhs.ProcessOptions{
		Name:    "rathaus",
		Path:    opts.RathausBin,
		Args:    []string{"run", "-c", rathausConfig},
		Dir:     l.dir,
		LogFile: l.rathausLog,
		Output:  echo,
	})
	if err != nil {
		return err
	}
	if err := kids.waitRathausReady(ctx, cfg.AppService.Listen); err != nil {
		return interrupted(err)
	}

	out.Printf("%s", announcement{
		opts: opts, cfg: cfg, accounts: accounts,
		config: out.Path(l.config), dir: out.Path(l.dir),
		rathausLog: out.Path(l.rathausLog), dendriteLog: out.Path(kids.dendrite.ConsoleLog),
		rathausPid: kids.rathaus.Pid(), dendritePid: kids.dendrite.Pid(),
		path: out.Path,
	}.text())

	select {
	case <-ctx.Done():
		out.Printf("Stopping rathaus, then Dendrite…\n")
		return nil
	case <-kids.rathaus.Done():
		return kids.rathausDied()
	case <-kids.dendrite.Done():
		return kids.dendriteDied()
	}
}

// checkPortsFree tries each port before anything starts, so a port held by
// another program is named up front rather than found in a log. existing
// says whether the state directory holds an earlier demo, which can follow
// every port but the federation port (see portMoves).
func checkPortsFree(opts Options, existing bool) error {
	for _, p := range []struct {
		env  string
		port int
	}{{EnvHSPort, opts.HSPort}, {EnvFedPort, opts.FedPort}, {EnvASPort, opts.ASPort}, {EnvChatPort, opts.ChatPort}} {
		// A bind on loopback does not block: there is nothing to cancel.
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
		if err != nil {
			hint := ""
			if existing && p.env == EnvFedPort {
				hint = fmt.Sprintf(" (the server name follows it, so this starts a new demo: add %s=1 to keep the old directory as a backup)", EnvFresh)
			}
			return fmt.Errorf("port %d (%s) is %w by another program: %w; choose another with %s=…%s", p.port, p.env, ErrBusy, err, p.env, hint)
		}
		l.Close()
	}
	return nil
}
