package app

import (
	"context"
	"time"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// serveGuestChat starts the citizens' web chat on its own listener, with
// the typing/receipt/redaction sync its cases need.
func (a *App) serveGuestChat(ctx context.Context) error {
	g := a.start.GuestChat
	if !g.Enabled {
		return nil
	}
	sync, err := appservice.NewSyncLoop(appservice.SyncOptions{Client: a.as.BotClient(), Filter: cases.SyncFilter,
		Handler: a.cases, Log: a.log.With().Str("component", "ephemeral").Logger()})
	if err != nil {
		return err
	}
	handOvers, err := a.newHandOvers()
	if err != nil {
		return err
	}
	var calls guestchat.Video
	if a.calls != nil {
		calls = a.calls
	}
	a.guest, err = guestchat.New(guestchat.Options{Config: a.config, Secret: []byte(a.start.AppService.ASToken), Video: calls,
		Directory: a.departments, Cases: a.cases, Sessions: sessions{a.store}, Spent: a.store, HandOvers: handOvers,
		Log: a.log.With().Str("component", "guestchat").Logger(), Version: rathaus.Version, Registry: a.opts.Registry})
	if err != nil {
		return err
	}
	if err = a.serve("guest_chat", &a.opts.GuestListener, g.Listen, newPublicHandler(a.guest, a.public)); err != nil {
		return err
	}
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		sync.Run(ctx)
	}()
	a.log.Info().Str("listen", a.opts.GuestListener.Addr().String()).Str("public_url", g.PublicURL).Msg("Guest chat is served")
	return nil
}

// sessions keeps the guest chat's sessions in the database.
type sessions struct{ store *store.Store }

var (
	_ guestchat.Directory = (*departments.Service)(nil)
	_ guestchat.Cases     = (*cases.Service)(nil)
	_ guestchat.Sessions  = sessions{}
)

func (x sessions) CreateSession(ctx context.Context, tokenHash string, expires time.Time) error {
	return x.store.CreateGuestSession(ctx, tokenHash, expires)
}

func (x sessions) Session(ctx context.Context, tokenHash string) (*guestchat.Session, error) {
	gs, err := x.store.GetGuestSession(ctx, tokenHash)
	if err != nil || gs == nil {
		return nil, err
	}
	return &guestchat.Session{TokenHash: gs.TokenHash, CaseID: gs.CaseID, LastSeen: gs.LastSeen, ExpiresAt: gs.ExpiresAt}, nil
}

func (x sessions) TouchSession(ctx context.Context, tokenHash string, expires time.Time) error {
	return x.store.TouchGuestSession(ctx, tokenHash, expires)
}

func (x sessions) DeleteSession(ctx context.Context, tokenHash string) error {
	return x.store.DeleteGuestSession(ctx, tokenHash)
}

// The guest chat bounds its own listener's timeouts.
var _ serverConfigurer = (*guestchat.Server)(nil)
