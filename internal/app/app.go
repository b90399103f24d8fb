// Package app is rathaus's composition root: it opens the database, builds
// the appservice and every capability from the config, wires them
// together through their small interfaces, owns the listeners and the
// background loops, and starts, stops and reloads a running rathaus. It
// holds the running config and hands every capability a getter for it,
// never a copy. Only internal/cli imports it.
package app

import (
	"context"
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

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/outbox"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
	"github.com/rathaus-de/rathaus/video/turn"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// InboxRetention is how long handled inbox rows and outbox rows (ids only,
// no content) are kept to recognise a redelivered transaction or event and
// a replayed send.
const InboxRetention = 7 * 24 * time.Hour

// StartupTimeout bounds how long Start waits for the homeserver.
var StartupTimeout = 2 * time.Minute

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
	// Outbox tunes the retries of webhooks; zero is the default.
	Outbox OutboxOptions
}

// App is one running rathaus.
type App struct {
	opts Options
	// start is the config rathaus started with; current is the running
	// one (see Reload), which capabilities read through config().
	start   *config.Config
	current atomic.Pointer[config.Config]
	log     zerolog.Logger

	store       *store.Store
	as          *mauas.AppService
	sender      *appservice.Sender
	caps        *appservice.Capabilities
	rooms       *bot.RoomIndex
	router      *bot.Router
	departments *departments.Service
	cases       *cases.Service
	tickets     *tickets.Service
	dispatcher  *appservice.Dispatcher
	server      *appservice.Server
	guest       *guestchat.Server
	// submissions takes FIT-Connect status callbacks.
	submissions *tickets.Submissions
	// public are the capabilities' routes on the guest chat's listener.
	public []publicRoute
	// videoBackend and calls are video consultations (nil when off).
	videoBackend mediaBackend
	leaves       *matrixrtc.Leaves
	calls        *calls.Service
	turn         *turn.Server

	// outbox runs the webhooks; stopOutboxWake ends its subscription to
	// case updates.
	outbox         *outbox.Worker
	stopOutboxWake func()

	servers    []*http.Server
	cancel     context.CancelFunc
	background sync.WaitGroup
	failed     chan error
}

// New checks the options. Nothing is opened until Start.
func New(opts Options) (*App, error) {
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
	a := &App{opts: opts, start: opts.Config, log: opts.Log, failed: make(chan error, 4)}
	a.current.Store(opts.Config)
	return a, nil
}

// config returns the running config.
func (a *App) config() *config.Config { return a.current.Load() }

// Start opens the database, starts serving the homeserver, waits for the
// homeserver, registers the bot and starts processing. It returns once
// rathaus is ready, or with the first fatal error.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			a.Stop()
		}
	}()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	runCtx = a.log.WithContext(runCtx)
	cfg := a.start

	if err = a.build(ctx); err != nil {
		return err
	}
	if err = a.serve("appservice", &a.opts.Listener, cfg.AppService.Listen, a.server); err != nil {
		return err
	}
	if cfg.Metrics.Enabled {
		if err = a.serve("metrics", nil, cfg.Metrics.Listen, metricsHandler(a.opts.Registry)); err != nil {
			return err
		}
	}
	// Transactions are stored from here on; they are processed once the bot
	// is registered and the dispatcher runs.
	if err = appservice.WaitForHomeserver(ctx, a.as, StartupTimeout, a.log); err != nil {
		return err
	}
	if err = appservice.EnsureBot(ctx, a.as, cfg.AppService.Bot.Displayname); err != nil {
		return err
	}
	if err = a.caps.Load(ctx, a.as.BotClient()); err != nil {
		return err
	}
	a.log.Info().Str("room_version", string(a.caps.DefaultRoomVersion())).Msg("New rooms get the homeserver's default room version")
	// The room index must know every managed room and case room before
	// the first event is routed.
	if err = a.departments.LoadRooms(ctx); err != nil {
		return err
	}
	if err = a.cases.LoadRooms(ctx); err != nil {
		return err
	}
	a.dispatcher.Start(runCtx)
	a.startOutbox(runCtx)
	if _, err = a.departments.Reconcile(runCtx); err != nil {
		return fmt.Errorf("failed to reconcile rooms with the config: %w", err)
	}
	if err = a.addIntakeRoutes(); err != nil {
		return err
	}
	if err = a.serveGuestChat(runCtx); err != nil {
		return err
	}
	a.server.SetReady(true)
	a.every(runCtx, "prune", func() time.Duration { return time.Hour }, a.prune)
	a.every(runCtx, "retention", func() time.Duration { return a.config().Retention.CheckInterval }, a.cases.CheckRetention)
	a.log.Info().Stringer("bot", cfg.BotUserID()).Str("listen", a.opts.Listener.Addr().String()).Msg("rathaus is ready")
	return nil
}

// build opens the database and makes the appservice and the capabilities.
func (a *App) build(ctx context.Context) (err error) {
	cfg := a.start
	db := cfg.Database
	a.store, err = store.Open(ctx, store.Options{Type: string(db.Type), URI: db.URI,
		MaxOpenConns: db.MaxOpenConns, MaxIdleConns: db.MaxIdleConns, Log: a.log})
	if err != nil {
		return err
	}
	a.as, err = mauas.CreateFull(mauas.CreateOpts{
		Registration:     cfg.Registration(),
		HomeserverDomain: cfg.Homeserver.ServerName,
		HomeserverURL:    cfg.Homeserver.URL,
	})
	if err != nil {
		return fmt.Errorf("failed to create appservice client: %w", err)
	}
	a.as.Log = a.log.With().Str("component", "matrix").Logger()
	a.sender = &appservice.Sender{Outbox: a.store}
	a.caps = &appservice.Capabilities{}
	a.rooms = bot.NewRoomIndex()

	a.departments, err = departments.New(departments.Options{Config: a.config, Store: a.store, AS: a.as, Sender: a.sender, Capabilities: a.caps,
		Rooms: a.rooms, Reload: a.Reload, Log: a.log.With().Str("component", "departments").Logger()})
	if err != nil {
		return err
	}
	a.cases, err = cases.New(cases.Options{Config: a.config, Store: a.store, AS: a.as, Sender: a.sender, Capabilities: a.caps,
		Rooms: a.rooms, Departments: a.departments, Log: a.log.With().Str("component", "cases").Logger()})
	if err != nil {
		return err
	}
	a.router, err = bot.New(bot.Options{AS: a.as, Sender: a.sender, Rooms: a.rooms, Roles: a.departments,
		IsOurUser: a.start.IsOurUser, Log: a.log.With().Str("component", "bot").Logger()})
	if err != nil {
		return err
	}
	if err = a.router.Register(a.departments.Commands()...); err != nil {
		return err
	}
	if err = a.cases.Register(a.router); err != nil {
		return err
	}
	if err = a.buildSubmissions(); err != nil {
		return err
	}
	a.tickets, err = tickets.New(tickets.Options{Config: a.config, Cases: a.cases, Store: a.store, AS: a.as, Sender: a.sender})
	if err != nil {
		return err
	}
	if err = a.router.Register(a.tickets.Commands()...); err != nil {
		return err
	}
	if err = a.addTicketWidget(); err != nil {
		return err
	}
	if err = a.addVideo(ctx); err != nil {
		return err
	}

	if err = a.buildOutbox(); err != nil {
		return err
	}
	metrics := appservice.NewMetrics(a.opts.Registry)
	a.dispatcher, err = appservice.NewDispatcher(appservice.DispatcherOptions{
		Log: a.log.With().Str("component", "dispatcher").Logger(), Inbox: a.store, Handler: a.router, Metrics: metrics,
	})
	if err != nil {
		return err
	}
	a.server, err = appservice.NewServer(appservice.ServerOptions{
		Log:        a.log.With().Str("component", "appservice").Logger(),
		HSToken:    cfg.AppService.HSToken,
		Inbox:      a.store,
		Dispatcher: a.dispatcher,
		Queries:    a.router,
		Ephemeral:  a.cases,
		IsOurUser:  cfg.IsOurUser, IsOurAlias: cfg.IsOurAlias,
		MaxTransactionBytes: cfg.AppService.MaxTransactionBytes,
		MaxPendingEvents:    cfg.AppService.MaxPendingEvents,
		Metrics:             metrics,
	})
	return err
}

// Stop stops serving and processing. Events not yet handled stay in the
// inbox for the next start.
func (a *App) Stop() {
	if a.server != nil {
		a.server.SetReady(false)
	}
	if a.guest != nil {
		a.guest.Close() // ends the live streams, which never go idle
	}
	for i := len(a.servers) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.servers[i].Shutdown(ctx)
		cancel()
	}
	a.servers = nil
	if a.dispatcher != nil {
		a.dispatcher.Stop()
	}
	a.stopOutbox()
	a.stopVideo()
	if a.cancel != nil {
		a.cancel()
	}
	a.background.Wait()
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn().Err(err).Msg("Failed to close database")
		}
		a.store = nil
	}
}

// Failed delivers an error if a listener of a running rathaus died; the
// process should then stop, because the homeserver can no longer reach it.
func (a *App) Failed() <-chan error { return a.failed }

// fail reports a fatal error of a background server.
func (a *App) fail(err error) {
	if a.server != nil {
		a.server.SetReady(false)
	}
	select {
	case a.failed <- err:
	default:
	}
}
