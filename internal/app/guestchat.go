package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// serveGuestChat starts the citizens' web chat on its own listener, with
// the typing/receipt sync it needs, and lets it follow the cases' feed.
func (a *App) serveGuestChat(ctx context.Context) error {
	g := a.start.GuestChat
	if !g.Enabled {
		return nil
	}
	var err error
	a.guest, err = guestchat.New(guestchat.Options{Config: g, Retention: a.config().Retention,
		Secret: []byte(a.start.AppService.ASToken), Backend: &guestBackend{departments: a.departments, cases: a.cases},
		Store: a.store, Log: a.log.With().Str("component", "guestchat").Logger(), Version: rathaus.Version})
	if err != nil {
		return err
	}
	unsubscribe := a.cases.Subscribe(func(u cases.Update) {
		switch u.Kind {
		case cases.TimelineChanged:
			a.guest.Notify(u.Case)
		case cases.StaffTyping:
			a.guest.StaffTyping(u.Case, u.TypingUntil)
		case cases.StaffRead:
			a.guest.StaffRead(u.Case, u.ReadSeq)
		}
	})
	sync, err := appservice.NewSyncLoop(appservice.SyncOptions{Client: a.as.BotClient(), Filter: cases.SyncFilter,
		Handler: a.cases, Log: a.log.With().Str("component", "ephemeral").Logger()})
	if err != nil {
		unsubscribe()
		return err
	}
	if err = a.serve("guest_chat", &a.opts.GuestListener, g.Listen, a.guest); err != nil {
		unsubscribe()
		return err
	}
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		defer unsubscribe()
		sync.Run(ctx)
	}()
	a.log.Info().Str("listen", a.opts.GuestListener.Addr().String()).Str("public_url", g.PublicURL).Msg("Guest chat is served")
	return nil
}

// guestBackend is the guest chat's view of departments and cases.
type guestBackend struct {
	departments *departments.Service
	cases       *cases.Service
}

var _ guestchat.Backend = (*guestBackend)(nil)

func (g *guestBackend) Department(depID string) (guestchat.Department, bool) {
	d, ok := g.departments.Department(protocol.DepartmentID(depID))
	if !ok {
		return guestchat.Department{}, false
	}
	return guestchat.Department{ID: string(d.ID), Name: d.Name, Description: d.Description,
		Open: d.Open, NextOpening: d.NextOpening, OfficeHours: d.OfficeHours}, true
}

func (g *guestBackend) DepartmentForService(key string) (string, bool) {
	d, ok := g.departments.DepartmentForService(key)
	return string(d.ID), ok
}

func (g *guestBackend) Authority() guestchat.Authority {
	a := g.departments.Authority()
	return guestchat.Authority{Name: a.Name, PrivacyURL: a.PrivacyURL, ContactURL: a.ContactURL}
}

func (g *guestBackend) OpenCase(ctx context.Context, req guestchat.OpenRequest) (*store.Case, bool, error) {
	c, created, err := g.cases.OpenForCitizen(ctx, cases.CitizenOpen{Session: req.SessionHash,
		Department: protocol.DepartmentID(req.Department), Service: req.Service, Name: req.Name,
		Question: req.Question, TxnID: req.TxnID})
	return c, created, guestError(err)
}

func (g *guestBackend) SendMessage(ctx context.Context, c *store.Case, txnID, body string) error {
	return guestError(g.cases.SendCitizenMessage(ctx, c, txnID, body))
}

func (g *guestBackend) SendAttachment(ctx context.Context, c *store.Case, txnID string, f guestchat.Attachment) error {
	return guestError(g.cases.SendCitizenFile(ctx, c, txnID, cases.File{Name: f.Name, Type: f.Type, Data: f.Data}))
}

func (g *guestBackend) CloseCase(ctx context.Context, c *store.Case) error {
	return guestError(g.cases.CloseByCitizen(ctx, c))
}

func (g *guestBackend) Typing(ctx context.Context, c *store.Case, typing bool) error {
	return g.cases.CitizenTyping(ctx, c, typing)
}

func (g *guestBackend) MarkRead(ctx context.Context, c *store.Case, evt id.EventID) error {
	return g.cases.CitizenRead(ctx, c, evt)
}

func (g *guestBackend) Media(ctx context.Context, uri id.ContentURIString) (io.ReadCloser, error) {
	return g.cases.Media(ctx, uri)
}

// guestError gives the guest chat its own sentinel errors.
func guestError(err error) error {
	switch {
	case errors.Is(err, cases.ErrCaseNotOpen):
		return fmt.Errorf("%w: %w", guestchat.ErrCaseNotOpen, err)
	case errors.Is(err, departments.ErrUnknownDepartment):
		return fmt.Errorf("%w: %w", guestchat.ErrUnknownDepartment, err)
	}
	return err
}
