// Package bridge is the domain side of rathaus: it turns Matrix events into
// actions (for now the bot and its commands) and owns the lifecycle of a
// running rathaus: database, appservice API, dispatcher, metrics.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// InboxRetention is how long handled inbox rows and outbox rows (ids only,
// no content) are kept to recognise a redelivered transaction or event and
// a replayed send.
const InboxRetention = 7 * 24 * time.Hour

// Options configure New.
type Options struct {
	// Config must be valid (config.Validate returned nil).
	Config *config.Config
	Log    zerolog.Logger
	// Listener for the appservice API; if nil, appservice.listen is used.
	Listener net.Listener
	// Registry receives the metrics; if nil a new one is made.
	Registry *prometheus.Registry
	// GuestListener for the guest chat; if nil, guest_chat.listen is used
	// (when the guest chat is enabled).
	GuestListener net.Listener
	// LoadConfig reads the config file again for SIGHUP and `!rathaus
	// sync`; if nil, those reuse the config rathaus runs with.
	LoadConfig func() (*config.Config, error)
}

// Bridge is one running rathaus.
type Bridge struct {
	// cfg is the config rathaus started with; its homeserver, appservice and
	// database sections need a restart to change. current is the config of
	// the last (re)load, used for everything else.
	cfg         *config.Config
	current     atomic.Pointer[config.Config]
	loadConfig  func() (*config.Config, error)
	reconcileMu sync.Mutex
	// managedRoomIDs are the rooms in managed_room at the start of the
	// current reconciliation (guarded by reconcileMu).
	managedRoomIDs map[string]bool
	log            zerolog.Logger
	listener       net.Listener
	guestListener  net.Listener
	registry       *prometheus.Registry

	store      *store.Store
	as         *mauas.AppService
	dispatcher *appservice.Dispatcher
	sender     *appservice.Sender
	server     *appservice.Server
	httpServer *http.Server
	metricsSrv *http.Server
	guest      *guestchat.Server
	guestSrv   *http.Server
	cancel     context.CancelFunc
	background sync.WaitGroup
	failed     chan error
}

var (
	_ appservice.Handler      = (*Bridge)(nil)
	_ appservice.QueryHandler = (*Bridge)(nil)
)

// New checks the options. Nothing is opened until Start.
func New(opts Options) (*Bridge, error) {
	if opts.Config == nil {
		return nil, fmt.Errorf("%w: Config", ErrMissingOption)
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	b := &Bridge{cfg: opts.Config, loadConfig: opts.LoadConfig, log: opts.Log, listener: opts.Listener, guestListener: opts.GuestListener,
		registry: opts.Registry, failed: make(chan error, 2)}
	b.current.Store(opts.Config)
	return b, nil
}

// config returns the current config.
func (b *Bridge) config() *config.Config { return b.current.Load() }

// Start opens the database, starts serving the homeserver, waits for the
// homeserver, registers the bot and starts processing. It returns once
// rathaus is ready, or with the first fatal error.
func (b *Bridge) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			b.Stop()
		}
	}()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	runCtx = b.log.WithContext(runCtx)

	db := b.cfg.Database
	b.store, err = store.Open(ctx, store.Options{Type: string(db.Type), URI: db.URI,
		MaxOpenConns: db.MaxOpenConns, MaxIdleConns: db.MaxIdleConns, Log: b.log})
	if err != nil {
		return err
	}
	b.as, err = mauas.CreateFull(mauas.CreateOpts{
		Registration:     b.cfg.Registration(),
		HomeserverDomain: b.cfg.Homeserver.ServerName,
		HomeserverURL:    b.cfg.Homeserver.URL,
	})
	if err != nil {
		return fmt.Errorf("failed to create appservice client: %w", err)
	}
	b.as.Log = b.log.With().Str("component", "matrix").Logger()

	b.sender = &appservice.Sender{Outbox: b.store}
	metrics := appservice.NewMetrics(b.registry)
	b.dispatcher, err = appservice.NewDispatcher(appservice.DispatcherOptions{
		Log: b.log.With().Str("component", "dispatcher").Logger(), Inbox: b.store, Handler: b, Metrics: metrics,
	})
	if err != nil {
		return err
	}
	b.server, err = appservice.NewServer(appservice.ServerOptions{
		Log:        b.log.With().Str("component", "appservice").Logger(),
		HSToken:    b.cfg.AppService.HSToken,
		Inbox:      b.store,
		Dispatcher: b.dispatcher,
		Queries:    b,
		IsOurUser:  b.cfg.IsOurUser, IsOurAlias: b.cfg.IsOurAlias,
		MaxTransactionBytes: b.cfg.AppService.MaxTransactionBytes,
		Metrics:             metrics,
	})
	if err != nil {
		return err
	}
	if err = b.serve(); err != nil {
		return err
	}
	if err = b.serveMetrics(); err != nil {
		return err
	}
	// Transactions are stored from here on; they are processed once the bot
	// is registered and the dispatcher runs.
	if err = b.waitForHomeserver(ctx); err != nil {
		return err
	}
	if err = b.registerBot(ctx); err != nil {
		return err
	}
	b.dispatcher.Start(runCtx)
	if _, err = b.Reconcile(runCtx); err != nil {
		return fmt.Errorf("failed to reconcile rooms with the config: %w", err)
	}
	if err = b.serveGuestChat(); err != nil {
		return err
	}
	if b.guest != nil {
		b.background.Add(1)
		go b.ephemeralLoop(runCtx)
	}
	b.server.SetReady(true)
	b.background.Add(1)
	go b.pruneLoop(runCtx)
	b.background.Add(1)
	go b.retentionLoop(runCtx)
	b.log.Info().Stringer("bot", b.cfg.BotUserID()).Str("listen", b.listener.Addr().String()).Msg("rathaus is ready")
	return nil
}

// Stop stops serving and processing. Events not yet handled stay in the
// inbox for the next start.
func (b *Bridge) Stop() {
	if b.server != nil {
		b.server.SetReady(false)
	}
	shutdown := func(srv *http.Server) {
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	if b.guest != nil {
		b.guest.Close() // ends the live streams, which never go idle
	}
	shutdown(b.guestSrv)
	shutdown(b.httpServer)
	shutdown(b.metricsSrv)
	if b.dispatcher != nil {
		b.dispatcher.Stop()
	}
	if b.cancel != nil {
		b.cancel()
	}
	b.background.Wait()
	if b.store != nil {
		if err := b.store.Close(); err != nil {
			b.log.Warn().Err(err).Msg("Failed to close database")
		}
		b.store = nil
	}
}

// Failed delivers an error if a listener of a running rathaus died; the
// process should then stop, because the homeserver can no longer reach it.
func (b *Bridge) Failed() <-chan error { return b.failed }

// fail reports a fatal error of a background server.
func (b *Bridge) fail(err error) {
	b.server.SetReady(false)
	select {
	case b.failed <- err:
	default:
	}
}

// serveGuestChat starts the citizens' web chat on its own listener.
func (b *Bridge) serveGuestChat() error {
	g := b.cfg.GuestChat
	if !g.Enabled {
		return nil
	}
	var err error
	b.guest, err = guestchat.New(guestchat.Options{Config: g, Retention: b.cfg.Retention,
		Secret: []byte(b.cfg.AppService.ASToken), Backend: &guestBackend{b: b}, Store: b.store,
		Log: b.log.With().Str("component", "guestchat").Logger(), Version: rathaus.Version})
	if err != nil {
		return err
	}
	if b.guestListener == nil {
		if b.guestListener, err = net.Listen("tcp", g.Listen); err != nil {
			return fmt.Errorf("failed to listen on guest_chat.listen %s: %w", g.Listen, err)
		}
	}
	b.guestSrv = &http.Server{Handler: b.guest, ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server, l net.Listener) {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error().Err(err).Msg("Guest chat listener failed")
			b.fail(fmt.Errorf("guest chat listener failed: %w", err))
		}
	}(b.guestSrv, b.guestListener)
	b.log.Info().Str("listen", b.guestListener.Addr().String()).Str("public_url", g.PublicURL).Msg("Guest chat is served")
	return nil
}

// GuestChat returns the guest chat's handler, or nil if it is disabled.
func (b *Bridge) GuestChat() *guestchat.Server { return b.guest }

// Handler returns the appservice HTTP handler (for tests and embedding).
func (b *Bridge) Handler() http.Handler { return b.server }

// Store returns the database (for tests and operator tooling).
func (b *Bridge) Store() *store.Store { return b.store }

// AppService returns the mautrix appservice used to act as the bot and
// ghosts.
func (b *Bridge) AppService() *mauas.AppService { return b.as }

func (b *Bridge) serve() error {
	if b.listener == nil {
		l, err := net.Listen("tcp", b.cfg.AppService.Listen)
		if err != nil {
			return fmt.Errorf("failed to listen on appservice.listen %s: %w", b.cfg.AppService.Listen, err)
		}
		b.listener = l
	}
	b.httpServer = &http.Server{Handler: b.server, ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server, l net.Listener) {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error().Err(err).Msg("Appservice listener failed")
			b.fail(fmt.Errorf("appservice listener failed: %w", err))
		}
	}(b.httpServer, b.listener)
	return nil
}

// QueryUser implements appservice.QueryHandler. The bot exists; citizen
// ghosts are created by rathaus itself when a case opens, so a query for any
// other id in our namespace is answered "no such user".
func (b *Bridge) QueryUser(ctx context.Context, userID id.UserID) (bool, error) {
	if userID != b.cfg.BotUserID() {
		return false, nil
	}
	if err := b.as.BotIntent().EnsureRegistered(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// QueryAlias implements appservice.QueryHandler. rathaus creates its rooms
// with their aliases itself and never on demand.
func (b *Bridge) QueryAlias(context.Context, id.RoomAlias) (bool, error) {
	return false, nil
}

// pruneLoop forgets old inbox and outbox rows every hour and truncates
// SQLite's write-ahead log, so erased payloads do not linger on disk.
func (b *Bridge) pruneLoop(ctx context.Context) {
	defer b.background.Done()
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		before := time.Now().Add(-InboxRetention)
		if err := b.store.PruneInbox(ctx, before); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Failed to prune inbox")
		}
		if err := b.store.PruneOutbox(ctx, before); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Failed to prune outbox")
		}
		if err := b.store.PruneGuestSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Failed to prune guest sessions")
		}
		if err := b.store.PrunePowSpent(ctx, time.Now()); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Failed to prune spent challenges")
		}
		if err := b.store.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Failed to checkpoint the database log")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
