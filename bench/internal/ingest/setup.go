package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/modroot"
	"github.com/rathaus-de/rathaus/internal/pgserver"
)

// setup builds the targets and starts what they share. cleanup is never
// nil and undoes whatever was done, also after an error.
func setup(ctx context.Context, opts Options, log zerolog.Logger) (e *env, targets []target, notes []string, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	e = &env{log: log, client: newClient(), serverName: "bench.invalid", dendrite: opts.Dendrite, progress: opts.Progress}
	if e.root, err = modroot.Find(); err != nil {
		return e, nil, nil, cleanup, err
	}
	if e.dendrite == "" {
		e.dendrite = filepath.Join(e.root, ".cache", "bin", "dendrite")
	}
	if e.bareToken, err = randomHex(32); err != nil {
		return e, nil, nil, cleanup, err
	}
	removeStaleWork()
	if e.work, err = os.MkdirTemp("", workPrefix); err != nil {
		return e, nil, nil, cleanup, err
	}
	undo = append(undo, func() {
		if opts.Keep {
			_ = os.Remove(filepath.Join(e.work, ownerFile)) // so no later run takes it for stale
		} else {
			_ = os.RemoveAll(e.work)
		}
	})
	if err = os.WriteFile(filepath.Join(e.work, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return e, nil, nil, cleanup, err
	}
	notes = append(notes, tempDirNote(e.work))
	bin := filepath.Join(e.work, "bin")

	withBare := slices.Contains(opts.Targets, TargetBare)
	kinds := []string{}
	for _, kind := range []string{dbSQLite, dbPostgres} {
		if slices.Contains(opts.Targets, "rathaus-"+kind) {
			kinds = append(kinds, kind)
		}
	}
	if withBare {
		log.Info().Msg("Building bench/bareas")
		b := filepath.Join(bin, "bareas")
		if err = goBuild(ctx, e.root, "./bench/bareas", b, "bench"); err != nil {
			return e, nil, nil, cleanup, err
		}
		targets = append(targets, target{name: TargetBare, bin: b})
		notes = append(notes, "bare: bench/bareas, "+mautrixVersion()+" appservice (its own HTTP handling), handler counts m.room.message events, run in order like mautrix's bridgev2 (ExecMode Sync)")
	}
	if len(kinds) == 0 {
		return e, targets, notes, cleanup, nil
	}

	version := describe(ctx, e.root)
	log.Info().Str("version", version).Msg("Building rathaus from the working tree")
	current := filepath.Join(bin, "rathaus")
	if err = goBuild(ctx, e.root, "./cmd/rathaus", current, version); err != nil {
		return e, nil, nil, cleanup, err
	}
	notes = append(notes, fmt.Sprintf("rathaus-*: the working tree (%s), built with CGO_ENABLED=0", version))
	var before string
	var beforeRev string
	if opts.Before != "" {
		log.Info().Str("revision", opts.Before).Msg("Building rathaus from the -before revision")
		before = filepath.Join(bin, "rathaus-before")
		if beforeRev, err = buildRevision(ctx, e.root, opts.Before, e.work, before); err != nil {
			return e, nil, nil, cleanup, err
		}
		notes = append(notes, fmt.Sprintf("rathaus@%s-*: git revision %s (%s), built the same way", beforeRev, opts.Before, beforeRev))
	}
	for _, kind := range kinds {
		targets = append(targets, target{name: "rathaus-" + kind, bin: current, db: kind})
		if before != "" {
			targets = append(targets, target{name: "rathaus@" + beforeRev + "-" + kind, bin: before, db: kind})
		}
	}
	notes = append(notes, "rathaus config: defaults (database pool, log level info as JSON) plus metrics on and guest chat off; "+
		"the events go to rooms rathaus does not manage, from a normal user; Dendrite delivers its own events (rathaus's start-up rooms) to a sink, not to rathaus")

	if e.sink, err = startSink(); err != nil {
		return e, nil, nil, cleanup, err
	}
	undo = append(undo, e.sink.close)
	if err = e.startHomeserver(ctx, current); err != nil {
		return e, nil, nil, cleanup, err
	}
	undo = append(undo, func() { _ = e.hs.Stop() })
	if slices.Contains(kinds, dbPostgres) {
		log.Info().Msg("Starting PostgreSQL 15 (durable defaults: fsync, synchronous_commit and full_page_writes on)")
		if e.pg, err = pgserver.Start(pgserver.Options{DirPrefix: "rathaus-bench-pg-"}); err != nil {
			return e, nil, nil, cleanup, err
		}
		undo = append(undo, func() { _ = e.pg.Stop() })
		notes = append(notes, "PostgreSQL 15 from Debian on loopback with its durable defaults (fsync, synchronous_commit, full_page_writes on), "+
			"shared by the runs, a fresh database and a CHECKPOINT before each run; its CPU is the postmaster's and its children's")
	}
	notes = append(notes, "SQLite: rathaus's own settings (WAL, synchronous=FULL), a fresh file per run")
	return e, targets, notes, cleanup, nil
}

// startHomeserver makes rathaus's registration with the real CLI and
// starts Dendrite with it. All rathaus runs share the tokens and the
// homeserver; the registration's URL is the sink's.
func (e *env) startHomeserver(ctx context.Context, rathaus string) error {
	dendrite := e.dendrite
	if err := devhs.CheckExecutable(dendrite); err != nil {
		return fmt.Errorf("no Dendrite binary (run `make dendrite` or pass -dendrite): %w", err)
	}
	dir := filepath.Join(e.work, "registration")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ports, err := devhs.FreePorts(2)
	if err != nil {
		return err
	}
	// The server name is the federation address, which devhs's Dendrite
	// answers to; the registration's namespaces hold it.
	serverName := fmt.Sprintf("127.0.0.1:%d", ports[1])
	cfg := filepath.Join(dir, "config.yaml")
	template := rathausConfig{
		HomeserverURL: "http://127.0.0.1:1", ServerName: serverName,
		Listen: "127.0.0.1:1", PublicURL: e.sink.url, Metrics: "127.0.0.1:2", ASToken: "generate", HSToken: "generate",
		DBType: dbSQLite, DBURI: filepath.Join(dir, "unused.db"),
	}
	if err := os.WriteFile(cfg, []byte(template.String()), 0o600); err != nil {
		return err
	}
	regPath := filepath.Join(dir, "registration.yaml")
	if out, err := exec.CommandContext(ctx, rathaus, "generate-registration", "-c", cfg, "-o", regPath).CombinedOutput(); err != nil {
		return fmt.Errorf("rathaus generate-registration: %w: %s", err, out)
	}
	reg, err := mauas.LoadRegistration(regPath)
	if err != nil {
		return fmt.Errorf("failed to read the registration: %w", err)
	}
	e.asToken, e.hsToken = reg.AppToken, reg.ServerToken

	e.log.Info().Str("binary", dendrite).Msg("Starting Dendrite for the bot's registration")
	for attempt := 1; ; attempt++ {
		hs, err := devhs.Start(ctx, devhs.Options{
			Kind:            devhs.Dendrite,
			Binary:          dendrite,
			Dir:             filepath.Join(e.work, "dendrite"),
			ClientAddr:      fmt.Sprintf("127.0.0.1:%d", ports[0]),
			FederationAddr:  serverName,
			AppserviceFiles: []string{regPath},
		})
		if errors.Is(err, devhs.ErrAddrInUse) && attempt < 3 {
			// The server name holds the port, so the registration stays
			// valid only with the same one: try the same ports again.
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			e.hs = nil
			return err
		}
		e.hs, e.serverName = hs, hs.ServerName
		return nil
	}
}

const (
	workPrefix = "rathaus-bench-ingest-"
	ownerFile  = "owner.pid" // pid of the benchmark owning a work directory
)

// removeStaleWork deletes the work directories of benchmarks that were
// killed (SIGKILL) before they could clean up; their processes died with
// them (parent-death signal).
func removeStaleWork() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workPrefix+"*"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or kept with -keep by an older version
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // still running
		}
		_ = os.RemoveAll(d)
	}
}
